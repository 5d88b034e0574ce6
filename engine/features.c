/* Per-key feature state and the event update (see features.h for the slot layout and
 * features_window.h for the rolling-window arithmetic). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "event_time.h"
#include "feature_spec_int.h"
#include "feature_state.h"
#include "features_window.h"

typedef struct kf_key_head {
    uint64_t kfh_events;   /* events pushed so far, gap fills included                        */
    int64_t kfh_last_ms;   /* latest event time seen (valid when kfh_has_time)                */
    uint8_t kfh_has_time;
    uint8_t kfh_key_len;
    char kfh_key[KITE_FEATURES_KEY_MAX];
} kf_key_head;

typedef struct kf_bucket {
    uint64_t kfb_hash;
    uint32_t kfb_slot;     /* 1 + index into kfs_slots; 0 = empty bucket                      */
} kf_bucket;

struct kite_feature_state {
    const kite_feature_spec *kfs_spec;
    size_t kfs_max_keys;
    size_t kfs_num_keys;
    size_t kfs_slot_bytes;
    size_t kfs_acc_off;
    size_t *kfs_ring_off;  /* per ring                                                        */
    uint32_t *kfs_ring_mask;
    size_t *kfs_dq_min_off; /* per accumulator (0: none)                                      */
    size_t *kfs_dq_max_off;
    uint32_t kfs_max_ring;  /* longest ring: a gap this long leaves every ring all-missing    */
    unsigned char **kfs_slots; /* kfs_num_keys slot pointers, kfs_max_keys capacity           */
    kf_bucket *kfs_buckets; /* open addressing, linear probing, capacity a power of two      */
    size_t kfs_bucket_mask;
    double *kfs_vals;       /* this event's inputs as numbers (scratch, num_inputs)          */
    double *kfs_nan_vals;   /* all-missing event used to fill gaps                           */
};

static size_t kf_align64(size_t n) { return (n + 63) & ~(size_t)63; }

kite_err kite_feature_state_new(const kite_feature_spec *spec, size_t max_keys,
                                kite_feature_state **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!max_keys) max_keys = spec->ks_max_keys;
    if (spec->ks_key_input < 0) max_keys = 1;
    if (max_keys > 100000000)
        return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "max_keys %zu is over 100000000",
                         max_keys);
    kite_feature_state *st = calloc(1, sizeof *st);
    if (!st) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    st->kfs_spec = spec;
    st->kfs_max_keys = max_keys;
    size_t nr = (size_t)spec->ks_num_rings, na = (size_t)spec->ks_num_accs;
    st->kfs_ring_off = calloc(nr + 1, sizeof *st->kfs_ring_off);
    st->kfs_ring_mask = calloc(nr + 1, sizeof *st->kfs_ring_mask);
    st->kfs_dq_min_off = calloc(na + 1, sizeof *st->kfs_dq_min_off);
    st->kfs_dq_max_off = calloc(na + 1, sizeof *st->kfs_dq_max_off);
    st->kfs_vals = calloc((size_t)spec->ks_num_inputs + 1, sizeof *st->kfs_vals);
    st->kfs_nan_vals = calloc((size_t)spec->ks_num_inputs + 1, sizeof *st->kfs_nan_vals);
    size_t nb = 16;
    while (nb < max_keys * 2) nb <<= 1;
    st->kfs_bucket_mask = nb - 1;
    st->kfs_buckets = spec->ks_key_input >= 0 ? calloc(nb, sizeof *st->kfs_buckets) : NULL;
    st->kfs_slots = calloc(max_keys, sizeof *st->kfs_slots);
    if (!st->kfs_ring_off || !st->kfs_ring_mask || !st->kfs_dq_min_off || !st->kfs_dq_max_off ||
        !st->kfs_vals || !st->kfs_nan_vals || !st->kfs_slots ||
        (spec->ks_key_input >= 0 && !st->kfs_buckets)) {
        kite_feature_state_free(st);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory for %zu keys", max_keys);
    }
    for (int i = 0; i < spec->ks_num_inputs; i++) st->kfs_nan_vals[i] = NAN;
    /* Slot layout: head, accumulators, rings, deques (features.h). */
    size_t off = kf_align64(sizeof(kf_key_head));
    st->kfs_acc_off = off;
    off += kf_align64(na * sizeof(kf_acc));
    for (size_t r = 0; r < nr; r++) {
        st->kfs_ring_off[r] = off;
        st->kfs_ring_mask[r] = spec->ks_rings[r].ksr_len - 1;
        if (spec->ks_rings[r].ksr_len > st->kfs_max_ring) st->kfs_max_ring = spec->ks_rings[r].ksr_len;
        off += kf_align64(spec->ks_rings[r].ksr_len * sizeof(double));
    }
    for (size_t a = 0; a < na; a++) {
        const kite_spec_acc *c = &spec->ks_accs[a];
        size_t dq = kf_align64(c->ksa_deque_len * sizeof(uint32_t));
        if (c->ksa_want_min) st->kfs_dq_min_off[a] = off, off += dq;
        if (c->ksa_want_max) st->kfs_dq_max_off[a] = off, off += dq;
    }
    st->kfs_slot_bytes = off;
    *out = st;
    return KITE_ERR_OK;
}

void kite_feature_state_free(kite_feature_state *st)
{
    if (!st) return;
    for (size_t k = 0; k < st->kfs_num_keys; k++) free(st->kfs_slots[k]);
    free(st->kfs_slots);
    free(st->kfs_buckets);
    free(st->kfs_ring_off);
    free(st->kfs_ring_mask);
    free(st->kfs_dq_min_off);
    free(st->kfs_dq_max_off);
    free(st->kfs_vals);
    free(st->kfs_nan_vals);
    free(st);
}

size_t kite_features_num_keys(const kite_feature_state *st) { return st->kfs_num_keys; }
size_t kite_features_key_bytes(const kite_feature_state *st) { return st->kfs_slot_bytes; }

/* ---- input conversion ------------------------------------------------------------------ */

static kite_err kf_bad_field(const kite_feature_spec *s, int i, const kite_raw_value *rv,
                             const char *why, char *errstr, size_t size)
{
    return kite_errf(KITE_ERR_PARSE, errstr, size, "field \"%s\": \"%.*s\" %s",
                     s->ks_inputs[i].ksi_name, (int)(rv->text_len > 60 ? 60 : rv->text_len),
                     rv->text, why);
}

static kite_err kf_convert_inputs(const kite_feature_spec *s, const kite_raw_value *inputs,
                                  double *vals, char *errstr, size_t size)
{
    for (int i = 0; i < s->ks_num_inputs; i++) {
        const kite_spec_input *in = &s->ks_inputs[i];
        const kite_raw_value *rv = &inputs[i];
        double v = NAN;
        if (in->ksi_type == KITE_INPUT_TEXT) continue;
        if (rv->kind == KITE_RAW_NUMBER) {
            v = rv->number;
            if (kite_feature_spec_number_is_missing(s, v)) {
                v = NAN;
            } else if (in->ksi_type == KITE_INPUT_CATEGORY) {
                int k;
                for (k = 0; k < in->ksi_num_cats && in->ksi_cat_nums[k] != v; k++) {}
                v = k < in->ksi_num_cats ? in->ksi_cat_values[k] : in->ksi_unseen;
            } else if (!isfinite(v)) {
                return kite_errf(KITE_ERR_PARSE, errstr, size, "field \"%s\": %g is not finite",
                                 in->ksi_name, v);
            }
        } else if (rv->kind == KITE_RAW_TEXT && !kite_feature_spec_text_is_missing(s, rv->text, rv->text_len)) {
            if (in->ksi_type == KITE_INPUT_CATEGORY) {
                int k;
                for (k = 0; k < in->ksi_num_cats; k++)
                    if (in->ksi_cat_lens[k] == rv->text_len &&
                        !memcmp(in->ksi_cat_names[k], rv->text, rv->text_len))
                        break;
                v = k < in->ksi_num_cats ? in->ksi_cat_values[k] : in->ksi_unseen;
            } else if (kite_feature_spec_text_number(s, rv->text, rv->text_len, &v)) {
                return kf_bad_field(s, i, rv, "is not a number", errstr, size);
            } else if (kite_feature_spec_number_is_missing(s, v)) {
                v = NAN;
            }
        }
        vals[i] = v;
    }
    return KITE_ERR_OK;
}

static kite_err kf_event_time(const kite_feature_spec *s, const kite_raw_value *inputs,
                              int64_t *ms, char *errstr, size_t size)
{
    char buf[160];
    size_t n = 0;
    for (int k = 0; k < 2 && s->ks_time_inputs[k] >= 0; k++) {
        int i = s->ks_time_inputs[k];
        const kite_raw_value *rv = &inputs[i];
        if (rv->kind == KITE_RAW_NUMBER && s->ks_time_inputs[1] < 0 &&
            (s->ks_time_format == KITE_TIME_EPOCH || s->ks_time_format == KITE_TIME_EPOCH_MS)) {
            double v = rv->number * (s->ks_time_format == KITE_TIME_EPOCH ? 1000.0 : 1.0);
            if (!(v > -1e17 && v < 1e17))
                return kite_errf(KITE_ERR_PARSE, errstr, size,
                                 "event time field \"%s\": %g is out of range", s->ks_inputs[i].ksi_name,
                                 rv->number);
            *ms = (int64_t)llround(v);
            return KITE_ERR_OK;
        }
        if (rv->kind != KITE_RAW_TEXT || rv->text_len == 0)
            return kite_errf(KITE_ERR_PARSE, errstr, size, "event time field \"%s\" is missing",
                             s->ks_inputs[i].ksi_name);
        if (n + rv->text_len + 1 >= sizeof buf)
            return kf_bad_field(s, i, rv, "is too long for an event time", errstr, size);
        if (k) buf[n++] = ' ';
        memcpy(buf + n, rv->text, rv->text_len);
        n += rv->text_len;
    }
    const char *why = "";
    if (kite_event_time_parse(s->ks_time_format, s->ks_time_pattern, buf, n, ms, &why)) {
        const char *name = s->ks_inputs[s->ks_time_inputs[0]].ksi_name;
        const char *name2 = s->ks_time_inputs[1] >= 0 ? s->ks_inputs[s->ks_time_inputs[1]].ksi_name : NULL;
        return kite_errf(KITE_ERR_PARSE, errstr, size, "event time field%s \"%s\"%s%s%s: \"%.*s\" %s",
                         name2 ? "s" : "", name, name2 ? " + \"" : "", name2 ? name2 : "",
                         name2 ? "\"" : "", (int)(n > 60 ? 60 : n), buf, why);
    }
    return KITE_ERR_OK;
}

/* ---- key table --------------------------------------------------------------------------- */

static void kf_slot_init(const kite_feature_state *st, unsigned char *slot, const char *key,
                         size_t len)
{
    const kite_feature_spec *s = st->kfs_spec;
    memset(slot, 0, st->kfs_slot_bytes);
    kf_key_head *h = (kf_key_head *)slot;
    h->kfh_key_len = (uint8_t)len;
    memcpy(h->kfh_key, key, len);
    /* Rings start all-missing: a look-back before the first event reads NaN, as shift() does. */
    for (int r = 0; r < s->ks_num_rings; r++) {
        double *ring = (double *)(slot + st->kfs_ring_off[r]);
        for (uint32_t i = 0; i < s->ks_rings[r].ksr_len; i++) ring[i] = NAN;
    }
}

/* The slot of a key, created if new and there is room. */
static kite_err kf_key_slot(kite_feature_state *st, const char *key, size_t len,
                            unsigned char **slot, char *errstr, size_t size)
{
    if (!st->kfs_buckets) { /* one stream */
        if (!st->kfs_num_keys) {
            unsigned char *p = aligned_alloc(64, st->kfs_slot_bytes);
            if (!p) return kite_errf(KITE_ERR_NOMEM, errstr, size, "out of memory for the stream state");
            kf_slot_init(st, p, "", 0);
            st->kfs_slots[st->kfs_num_keys++] = p;
        }
        *slot = st->kfs_slots[0];
        return KITE_ERR_OK;
    }
    uint64_t h = XXH3_64bits(key, len);
    size_t b = (size_t)h & st->kfs_bucket_mask;
    for (;; b = (b + 1) & st->kfs_bucket_mask) {
        kf_bucket *bk = &st->kfs_buckets[b];
        if (!bk->kfb_slot) break;
        if (bk->kfb_hash != h) continue;
        unsigned char *p = st->kfs_slots[bk->kfb_slot - 1];
        const kf_key_head *kh = (const kf_key_head *)p;
        if (kh->kfh_key_len == len && !memcmp(kh->kfh_key, key, len)) {
            *slot = p;
            return KITE_ERR_OK;
        }
    }
    if (st->kfs_num_keys >= st->kfs_max_keys)
        return kite_errf(KITE_ERR_LIMIT, errstr, size,
                         "key \"%.*s\": key table full (max_keys %zu); new keys are refused", (int)len,
                         key, st->kfs_max_keys);
    unsigned char *p = aligned_alloc(64, st->kfs_slot_bytes);
    if (!p) return kite_errf(KITE_ERR_NOMEM, errstr, size, "key \"%.*s\": out of memory", (int)len, key);
    kf_slot_init(st, p, key, len);
    st->kfs_slots[st->kfs_num_keys++] = p;
    st->kfs_buckets[b].kfb_hash = h;
    st->kfs_buckets[b].kfb_slot = (uint32_t)st->kfs_num_keys;
    *slot = p;
    return KITE_ERR_OK;
}

/* ---- the event update -------------------------------------------------------------------- */

/* Appends one event's values to a key's rings and windows. */
static void kf_push(const kite_feature_state *st, unsigned char *slot, const double *vals)
{
    const kite_feature_spec *s = st->kfs_spec;
    kf_key_head *h = (kf_key_head *)slot;
    uint64_t p = h->kfh_events;
    for (int r = 0; r < s->ks_num_rings; r++) {
        double *ring = (double *)(slot + st->kfs_ring_off[r]);
        ring[p & st->kfs_ring_mask[r]] = vals[s->ks_rings[r].ksr_input];
    }
    kf_acc *accs = (kf_acc *)(slot + st->kfs_acc_off);
    for (int a = 0; a < s->ks_num_accs; a++) {
        const kite_spec_acc *c = &s->ks_accs[a];
        kf_acc *acc = &accs[a];
        const double *ring = (const double *)(slot + st->kfs_ring_off[c->ksa_ring]);
        uint32_t rmask = st->kfs_ring_mask[c->ksa_ring];
        uint64_t q = p - (uint64_t)c->ksa_shift; /* wraps before the first events: NaN slots */
        double in = ring[q & rmask];
        double old = ring[(q - (uint64_t)c->ksa_window) & rmask];
        if (old == old) kf_acc_remove(acc, old, c->ksa_want_var);
        if (in == in) kf_acc_add(acc, in, c->ksa_want_var);
        uint32_t w = (uint32_t)c->ksa_window, dmask = c->ksa_deque_len - 1;
        if (c->ksa_want_min)
            kf_deque_push((uint32_t *)(slot + st->kfs_dq_min_off[a]), dmask, &acc->kfa_min_head,
                          &acc->kfa_min_tail, ring, rmask, (uint32_t)q, w, in, 1);
        if (c->ksa_want_max)
            kf_deque_push((uint32_t *)(slot + st->kfs_dq_max_off[a]), dmask, &acc->kfa_max_head,
                          &acc->kfa_max_tail, ring, rmask, (uint32_t)q, w, in, 0);
    }
    h->kfh_events = p + 1;
}

/* A gap of k missing steps: pushes min(k, longest ring) all-missing events (after that many
 * every ring and window is all-missing already) and counts the rest. */
static void kf_fill_gap(const kite_feature_state *st, unsigned char *slot, uint64_t k)
{
    uint64_t pushed = k < st->kfs_max_ring ? k : st->kfs_max_ring;
    for (uint64_t i = 0; i < pushed; i++) kf_push(st, slot, st->kfs_nan_vals);
    ((kf_key_head *)slot)->kfh_events += k - pushed;
}

static double kf_ring_at(const kite_feature_state *st, const unsigned char *slot, int ring,
                         uint64_t p, int back)
{
    const double *r = (const double *)(slot + st->kfs_ring_off[ring]);
    return r[(p - (uint64_t)back) & st->kfs_ring_mask[ring]];
}

static void kf_compute(const kite_feature_state *st, const unsigned char *slot, const double *vals,
                       int64_t ms, float *out)
{
    const kite_feature_spec *s = st->kfs_spec;
    uint64_t p = ((const kf_key_head *)slot)->kfh_events - 1; /* the event just pushed */
    const kf_acc *accs = (const kf_acc *)(slot + st->kfs_acc_off);
    int tf[3] = {0, 0, 0};
    if (s->ks_time_format != KITE_TIME_NONE) kite_time_fields(ms, &tf[0], &tf[1], &tf[2]);
    for (int j = 0; j < s->ks_num_features; j++) {
        const kite_spec_feature *f = &s->ks_features[j];
        int ring = f->ksf_input >= 0 ? s->ks_inputs[f->ksf_input].ksi_ring : -1;
        double v;
        switch (f->ksf_kind) {
        case KITE_FEAT_VALUE: v = vals[f->ksf_input]; break;
        case KITE_FEAT_LAG: v = kf_ring_at(st, slot, ring, p, f->ksf_lag); break;
        case KITE_FEAT_DIFF:
            v = kf_ring_at(st, slot, ring, p, f->ksf_lag) - kf_ring_at(st, slot, ring, p, f->ksf_lag + 1);
            break;
        case KITE_FEAT_DIFF2: {
            double x0 = kf_ring_at(st, slot, ring, p, f->ksf_lag);
            double x1 = kf_ring_at(st, slot, ring, p, f->ksf_lag + 1);
            double x2 = kf_ring_at(st, slot, ring, p, f->ksf_lag + 2);
            v = (x0 - x1) - (x1 - x2);
            break;
        }
        case KITE_FEAT_MEAN: v = kf_acc_mean(&accs[f->ksf_acc]); break;
        case KITE_FEAT_STD: v = kf_acc_std(&accs[f->ksf_acc]); break;
        case KITE_FEAT_SUM: v = accs[f->ksf_acc].kfa_n ? accs[f->ksf_acc].kfa_sum : NAN; break;
        case KITE_FEAT_COUNT: v = (double)accs[f->ksf_acc].kfa_n; break;
        case KITE_FEAT_MIN:
        case KITE_FEAT_MAX: {
            const kite_spec_acc *c = &s->ks_accs[f->ksf_acc];
            const kf_acc *a = &accs[f->ksf_acc];
            int mn = f->ksf_kind == KITE_FEAT_MIN;
            const uint32_t *dq =
                (const uint32_t *)(slot + (mn ? st->kfs_dq_min_off : st->kfs_dq_max_off)[f->ksf_acc]);
            v = kf_deque_front(dq, c->ksa_deque_len - 1, mn ? a->kfa_min_head : a->kfa_max_head,
                               mn ? a->kfa_min_tail : a->kfa_max_tail,
                               (const double *)(slot + st->kfs_ring_off[c->ksa_ring]),
                               st->kfs_ring_mask[c->ksa_ring]);
            break;
        }
        case KITE_FEAT_RATIO: {
            double b = vals[f->ksf_input_b];
            v = b != 0 ? vals[f->ksf_input] / b : NAN;
            break;
        }
        case KITE_FEAT_PRODUCT: v = vals[f->ksf_input] * vals[f->ksf_input_b]; break;
        default: v = s->ks_cyc_table[f->ksf_unit][f->ksf_cos][tf[f->ksf_unit]]; break;
        }
        if (v != v) v = f->ksf_impute;
        if (f->ksf_scale != 1 || f->ksf_center != 0) v = (v - f->ksf_center) / f->ksf_scale;
        out[j] = (float)v;
    }
}

kite_err kite_features_update(kite_feature_state *st, const kite_raw_value *inputs, float *out,
                              kite_features_status *status, char *errstr, size_t errstr_size)
{
    const kite_feature_spec *s = st->kfs_spec;
    const char *key = "";
    size_t key_len = 0;
    char numkey[40];
    /* 1. Everything that can fail is checked before any state changes. */
    if (s->ks_key_input >= 0) {
        const kite_raw_value *kv = &inputs[s->ks_key_input];
        if (kv->kind == KITE_RAW_TEXT && kv->text_len) {
            key = kv->text;
            key_len = kv->text_len;
        } else if (kv->kind == KITE_RAW_NUMBER && isfinite(kv->number)) {
            key_len = (size_t)snprintf(numkey, sizeof numkey, "%.17g", kv->number);
            key = numkey;
        } else {
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "key field \"%s\" is missing",
                             s->ks_inputs[s->ks_key_input].ksi_name);
        }
        if (key_len > KITE_FEATURES_KEY_MAX)
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "key field \"%s\": key of %zu bytes is longer than %d",
                             s->ks_inputs[s->ks_key_input].ksi_name, key_len, KITE_FEATURES_KEY_MAX);
    }
    double *vals = st->kfs_vals;
    kite_err err = kf_convert_inputs(s, inputs, vals, errstr, errstr_size);
    int64_t ms = 0;
    if (!err && s->ks_time_format != KITE_TIME_NONE) err = kf_event_time(s, inputs, &ms, errstr, errstr_size);
    if (err) {
        if (key_len) { /* prefix the key: "key \"s1\": field ..." */
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", errstr ? errstr : "");
            kite_errf(err, errstr, errstr_size, "key \"%.*s\": %s", (int)key_len, key, tmp);
        }
        return err;
    }
    unsigned char *slot = NULL;
    KITE_TRY(kf_key_slot(st, key, key_len, &slot, errstr, errstr_size));
    kf_key_head *h = (kf_key_head *)slot;
    if (s->ks_time_format != KITE_TIME_NONE && h->kfh_has_time) {
        int dup = ms == h->kfh_last_ms && s->ks_on_duplicate == KITE_ORDER_REJECT;
        int late = ms < h->kfh_last_ms && s->ks_on_out_of_order == KITE_ORDER_REJECT;
        if (dup || late) { /* error path only: formatting is fine here */
            char t[40], last[40], who[KITE_FEATURES_KEY_MAX + 16] = "";
            kite_time_format_iso(ms, t, sizeof t);
            kite_time_format_iso(h->kfh_last_ms, last, sizeof last);
            if (s->ks_key_input >= 0) snprintf(who, sizeof who, "key \"%.*s\": ", (int)key_len, key);
            if (dup)
                return kite_errf(KITE_ERR_STATE, errstr, errstr_size,
                                 "%sduplicate event time %s (duplicates: reject)", who, t);
            return kite_errf(KITE_ERR_STATE, errstr, errstr_size,
                             "%sevent time %s is before the latest %s (out_of_order: reject)", who,
                             t, last);
        }
        /* 2. Gaps: k missing steps become k all-missing events, so lags and windows stay in
         *    steps of the series (a lag of 24 is 24 hours ago, not 24 events ago). */
        if (s->ks_fill_gaps && ms > h->kfh_last_ms + s->ks_step_ms) {
            uint64_t steps = (uint64_t)((ms - h->kfh_last_ms) / s->ks_step_ms);
            if ((ms - h->kfh_last_ms) % s->ks_step_ms == 0) steps--;
            kf_fill_gap(st, slot, steps);
        }
    }
    /* 3. Push and compute. */
    kf_push(st, slot, vals);
    if (s->ks_time_format != KITE_TIME_NONE) {
        if (!h->kfh_has_time || ms > h->kfh_last_ms) h->kfh_last_ms = ms;
        h->kfh_has_time = 1;
    }
    kf_compute(st, slot, vals, ms, out);
    if (status)
        *status = h->kfh_events <= (uint64_t)s->ks_warmup ? KITE_FEATURES_WARMING_UP : KITE_FEATURES_READY;
    return KITE_ERR_OK;
}
