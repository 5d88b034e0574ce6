/* The per-event arithmetic of the feature state: appending an event to a key's rings and
 * windows, and computing the output row from them. The spec's features are compiled once
 * (kite__features_eval_build) into 16-byte ops so the event loop reads a dense array instead of the spec. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/event_time.h>
#include "features_int.h"
#include <kite/f32.h>

kite_err kite__features_eval_build(kite_feature_state *st, char *errstr, size_t errstr_size)
{
    const kite_feature_spec *s = st->kfs_spec;
    int nf = s->ksp_num_features, maxw = 1;
    for (int a = 0; a < s->ksp_num_accs; a++)
        if (s->ksp_accs[a].ksa_window > maxw) maxw = s->ksp_accs[a].ksa_window;
    st->kfs_ops = calloc((size_t)nf, sizeof *st->kfs_ops);
    st->kfs_post = calloc((size_t)nf * 3, sizeof *st->kfs_post);
    st->kfs_post_idx = calloc((size_t)nf, sizeof *st->kfs_post_idx);
    st->kfs_tmp = calloc((size_t)nf, sizeof *st->kfs_tmp);
    st->kfs_rptr = calloc((size_t)s->ksp_num_rings + 1, sizeof *st->kfs_rptr);
    st->kfs_accops = calloc((size_t)s->ksp_num_accs + 1, sizeof *st->kfs_accops);
    if (st->kfs_slot_bytes > UINT32_MAX)
        return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "key state of %zu bytes is over 4 GiB",
                         st->kfs_slot_bytes);
    st->kfs_inv = calloc((size_t)maxw + 2, sizeof *st->kfs_inv);
    if (!st->kfs_ops || !st->kfs_post || !st->kfs_post_idx || !st->kfs_tmp || !st->kfs_rptr || !st->kfs_accops ||
        !st->kfs_inv)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (int n = 1; n <= maxw + 1; n++) st->kfs_inv[n] = 1.0 / (double)n;
    int nops = 0;
    for (int kind = 0; kind <= KITE_FEAT_CYCLIC; kind++) {
        st->kfs_kind_begin[kind] = nops;
        for (int j = 0; j < nf; j++) {
            const kite_spec_feature *f = &s->ksp_features[j];
            if ((int)f->ksf_kind != kind) continue;
            kf_op *op = &st->kfs_ops[nops++];
            op->kfo_out = (uint32_t)j;
            op->kfo_kind = (uint16_t)kind;
            op->kfo_back = (uint32_t)f->ksf_lag;
            switch (f->ksf_kind) {
            case KITE_FEAT_LAG:
            case KITE_FEAT_DIFF:
            case KITE_FEAT_DIFF2: op->kfo_a = (uint32_t)s->ksp_inputs[f->ksf_input].ksi_ring; break;
            case KITE_FEAT_MEAN:
            case KITE_FEAT_STD:
            case KITE_FEAT_MIN:
            case KITE_FEAT_MAX:
            case KITE_FEAT_SUM:
            case KITE_FEAT_COUNT: op->kfo_a = (uint32_t)f->ksf_acc; break;
            case KITE_FEAT_CYCLIC:
                op->kfo_aux = (uint16_t)(f->ksf_unit * 2 + f->ksf_cos);
                st->kfs_has_cyclic = 1;
                break;
            default:
                op->kfo_a = (uint32_t)f->ksf_input;
                op->kfo_b = (uint32_t)(f->ksf_input_b >= 0 ? f->ksf_input_b : 0);
                break;
            }
        }
    }
    st->kfs_kind_begin[KITE_FEAT_CYCLIC + 1] = nops;
    for (int a = 0; a < s->ksp_num_accs; a++) {
        const kite_spec_acc *c = &s->ksp_accs[a];
        st->kfs_accops[a] = (kf_accop){(uint32_t)st->kfs_ring_off[c->ksa_ring],
                                       st->kfs_ring_mask[c->ksa_ring], (uint32_t)st->kfs_sfx_off[a],
                                       (uint32_t)c->ksa_window, (uint32_t)c->ksa_shift,
                                       (uint32_t)c->ksa_want_var};
    }
    for (int j = 0; j < nf; j++) {
        const kite_spec_feature *f = &s->ksp_features[j];
        if (!isnan(f->ksf_impute) || f->ksf_center != 0 || f->ksf_scale != 1)
            st->kfs_post_idx[st->kfs_num_post++] = (uint32_t)j;
        st->kfs_post[3 * j] = f->ksf_impute;
        st->kfs_post[3 * j + 1] = f->ksf_center;
        st->kfs_post[3 * j + 2] = f->ksf_scale;
    }
    return KITE_ERR_OK;
}

void kite__features_push(const kite_feature_state *st, unsigned char *slot, const double *vals)
{
    const kite_feature_spec *s = st->kfs_spec;
    kf_key_head *h = (kf_key_head *)slot;
    uint64_t p = h->kfh_events;
    for (int r = 0; r < s->ksp_num_rings; r++) {
        double *ring = (double *)(slot + st->kfs_ring_off[r]);
        ring[p & st->kfs_ring_mask[r]] = vals[s->ksp_rings[r].ksr_input];
    }
    kf_acc *accs = (kf_acc *)(slot + st->kfs_acc_off);
    const double *inv = st->kfs_inv;
    const kf_accop *ao = st->kfs_accops;
    for (int a = 0; a < s->ksp_num_accs; a++, ao++) {
        kf_acc *acc = &accs[a];
        const double *ring = (const double *)(slot + ao->kao_ring_off);
        uint64_t q = p - ao->kao_shift; /* wraps before the first events: NaN slots */
        double in = ring[q & ao->kao_rmask];
        kf_acc_step(acc, ring[(q - ao->kao_w) & ao->kao_rmask], in, inv, ao->kao_var);
        if (ao->kao_sfx_off)
            kf_minmax_step(acc, (double *)(slot + ao->kao_sfx_off), ring, ao->kao_rmask, q, ao->kao_w, in);
    }
    h->kfh_events = p + 1;
}

/* Issues a prefetch for every cache line the next event of this key touches (its windows,
 * the ring slots entering and leaving them, the lags), before touching any: with many keys
 * each line is a cache miss, and asking for all at once overlaps them instead of paying them
 * one after another. */
void kite__features_prefetch(const kite_feature_state *st, const unsigned char *slot)
{
    const kite_feature_spec *s = st->kfs_spec;
    uint64_t p = ((const kf_key_head *)slot)->kfh_events; /* the event about to be pushed */
    const unsigned char *acc0 = slot + st->kfs_acc_off;
    for (size_t off = 0; off < (size_t)s->ksp_num_accs * sizeof(kf_acc); off += 64)
        __builtin_prefetch(acc0 + off, 1);
    for (int r = 0; r < s->ksp_num_rings; r++)
        __builtin_prefetch(slot + st->kfs_ring_off[r] + (p & st->kfs_ring_mask[r]) * 8, 1);
    for (int a = 0; a < s->ksp_num_accs; a++) {
        const kite_spec_acc *c = &s->ksp_accs[a];
        const unsigned char *ring = slot + st->kfs_ring_off[c->ksa_ring];
        uint32_t m = st->kfs_ring_mask[c->ksa_ring];
        uint64_t q = p - (uint64_t)c->ksa_shift, w = (uint64_t)c->ksa_window;
        __builtin_prefetch(ring + (q & m) * 8);
        __builtin_prefetch(ring + ((q - w) & m) * 8);
        if (!st->kfs_sfx_off[a]) continue;
        /* The suffix pair read is at the window's block position, which is p mod w
         * (kfa_block advances with every event, jumps included). Computed here from p, with
         * a multiply instead of a division, rather than loaded: the load would be one more
         * miss to wait for before this prefetch could even start. */
        int64_t r = (int64_t)(p - (uint64_t)((double)p * st->kfs_inv[w]) * w);
        r += r < 0 ? (int64_t)w : 0;
        r -= r >= (int64_t)w ? (int64_t)w : 0;
        __builtin_prefetch(slot + st->kfs_sfx_off[a] + (size_t)(r + 1) * 16);
    }
    const kf_op *ops = st->kfs_ops;
    for (int i = st->kfs_kind_begin[KITE_FEAT_LAG]; i < st->kfs_kind_begin[KITE_FEAT_DIFF2 + 1]; i++) {
        uint32_t r = ops[i].kfo_a;
        __builtin_prefetch(slot + st->kfs_ring_off[r] + ((p - ops[i].kfo_back - 2) & st->kfs_ring_mask[r]) * 8);
        __builtin_prefetch(slot + st->kfs_ring_off[r] + ((p - ops[i].kfo_back) & st->kfs_ring_mask[r]) * 8);
    }
}

/* A gap of k missing steps: pushes min(k, longest ring) all-missing events (after that many
 * every ring and window is all-missing already) and counts the rest. */
void kite__features_fill_gap(const kite_feature_state *st, unsigned char *slot, uint64_t k)
{
    uint64_t pushed = k < st->kfs_max_ring ? k : st->kfs_max_ring;
    for (uint64_t i = 0; i < pushed; i++) kite__features_push(st, slot, st->kfs_nan_vals);
    if (k == pushed) return;
    /* Events jumped over still advance each window's block position (rare path: a division
     * per window). Every window is all-missing here, so prefixes and suffixes hold nothing. */
    const kite_feature_spec *s = st->kfs_spec;
    kf_acc *accs = (kf_acc *)(slot + st->kfs_acc_off);
    for (int a = 0; a < s->ksp_num_accs; a++) {
        uint32_t w = (uint32_t)s->ksp_accs[a].ksa_window;
        accs[a].kfa_block = (uint32_t)((accs[a].kfa_block + (k - pushed)) % w);
        if (!st->kfs_sfx_off[a]) continue;
        double *sfx = (double *)(slot + st->kfs_sfx_off[a]);
        for (uint32_t i = 0; i <= w; i++) sfx[2 * i] = INFINITY, sfx[2 * i + 1] = -INFINITY;
        accs[a].kfa_pmin = INFINITY;
        accs[a].kfa_pmax = -INFINITY;
    }
    ((kf_key_head *)slot)->kfh_events += k - pushed;
}

/* The ops of one kind: for (op in kind k) { body } with op and tmp in scope. */
#define KF_EACH(k) for (const kf_op *op = ops + begin[k], *end_ = ops + begin[(k) + 1]; op < end_; op++)

void kite__features_compute(const kite_feature_state *st, const unsigned char *slot, const double *vals,
                int64_t ms, float *out)
{
    const kite_feature_spec *s = st->kfs_spec;
    uint64_t p = ((const kf_key_head *)slot)->kfh_events - 1; /* the event just pushed */
    const kf_acc *accs = (const kf_acc *)(slot + st->kfs_acc_off);
    const double *inv = st->kfs_inv;
    const kf_op *ops = st->kfs_ops;
    const int *begin = st->kfs_kind_begin;
    const uint32_t *mask = st->kfs_ring_mask;
    const double **rp = st->kfs_rptr;
    double *tmp = st->kfs_tmp;
    for (int r = 0; r < s->ksp_num_rings; r++) rp[r] = (const double *)(slot + st->kfs_ring_off[r]);

    KF_EACH(KITE_FEAT_VALUE) tmp[op->kfo_out] = vals[op->kfo_a];
    KF_EACH(KITE_FEAT_LAG) tmp[op->kfo_out] = rp[op->kfo_a][(p - op->kfo_back) & mask[op->kfo_a]];
    KF_EACH(KITE_FEAT_DIFF) {
        const double *ring = rp[op->kfo_a];
        uint64_t q = p - op->kfo_back, m = mask[op->kfo_a];
        tmp[op->kfo_out] = ring[q & m] - ring[(q - 1) & m];
    }
    KF_EACH(KITE_FEAT_DIFF2) {
        const double *ring = rp[op->kfo_a];
        uint64_t q = p - op->kfo_back, m = mask[op->kfo_a];
        double x0 = ring[q & m], x1 = ring[(q - 1) & m], x2 = ring[(q - 2) & m];
        tmp[op->kfo_out] = (x0 - x1) - (x1 - x2); /* pandas: diff().diff() */
    }
    KF_EACH(KITE_FEAT_MEAN) tmp[op->kfo_out] = kf_acc_mean(&accs[op->kfo_a], inv);
    KF_EACH(KITE_FEAT_STD) tmp[op->kfo_out] = kf_acc_std(&accs[op->kfo_a], inv);
    KF_EACH(KITE_FEAT_MIN) tmp[op->kfo_out] = accs[op->kfo_a].kfa_min;
    KF_EACH(KITE_FEAT_MAX) tmp[op->kfo_out] = accs[op->kfo_a].kfa_max;
    KF_EACH(KITE_FEAT_SUM) tmp[op->kfo_out] = accs[op->kfo_a].kfa_n ? accs[op->kfo_a].kfa_sum : NAN;
    KF_EACH(KITE_FEAT_COUNT) tmp[op->kfo_out] = (double)accs[op->kfo_a].kfa_n;
    KF_EACH(KITE_FEAT_RATIO) {
        double b = vals[op->kfo_b];
        tmp[op->kfo_out] = b != 0 ? vals[op->kfo_a] / b : NAN;
    }
    KF_EACH(KITE_FEAT_PRODUCT) tmp[op->kfo_out] = vals[op->kfo_a] * vals[op->kfo_b];
    if (st->kfs_has_cyclic) {
        /* Weekday and month change once a day: computed for a new day only (the civil-date
         * arithmetic costs more than the rest of the cyclic features together). */
        int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
        kite_feature_state *mst = (kite_feature_state *)st; /* the day cache: scratch, like kfs_tmp */
        if (!mst->kfs_day_valid || days != mst->kfs_day) {
            int hour;
            kite_time_fields(days * 86400000, &hour, &mst->kfs_day_weekday, &mst->kfs_day_month);
            mst->kfs_day = days;
            mst->kfs_day_valid = 1;
        }
        int tf[3] = {(int)((ms - days * 86400000) / 3600000), st->kfs_day_weekday, st->kfs_day_month};
        KF_EACH(KITE_FEAT_CYCLIC) {
            int u = op->kfo_aux >> 1;
            tmp[op->kfo_out] = s->ksp_cyc_table[u][op->kfo_aux & 1][tf[u]];
        }
    }
    for (int i = 0; i < st->kfs_num_post; i++) {
        uint32_t j = st->kfs_post_idx[i];
        const double *pp = &st->kfs_post[3 * j];
        double v = tmp[j];
        v = v != v ? pp[0] : v;
        tmp[j] = (v - pp[1]) / pp[2];
    }
    kite_f32_array(tmp, out, (size_t)s->ksp_num_features);
}
