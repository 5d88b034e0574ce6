/* Per-key feature state and the event update (see features.h for the slot layout and
 * features_window.h for the rolling-window arithmetic). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xxhash.h>

#include <kite/event_time.h>
#include "feature_spec_int.h"
#include <kite/feature_state.h>
#include "features_int.h"

static size_t kf_align64(size_t n) { return (n + 63) & ~(size_t)63; }

kite_err kite_feature_state_new(const kite_feature_spec *spec, size_t max_keys,
                                kite_feature_state **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!max_keys) max_keys = spec->ksp_max_keys;
    if (spec->ksp_key_input < 0) max_keys = 1;
    if (max_keys > 100000000)
        return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "max_keys %zu is over 100000000",
                         max_keys);
    kite_feature_state *st = calloc(1, sizeof *st);
    if (!st) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    st->kfs_spec = spec;
    st->kfs_max_keys = max_keys;
    size_t nr = (size_t)spec->ksp_num_rings, na = (size_t)spec->ksp_num_accs;
    st->kfs_ring_off = calloc(nr + 1, sizeof *st->kfs_ring_off);
    st->kfs_ring_mask = calloc(nr + 1, sizeof *st->kfs_ring_mask);
    st->kfs_sfx_off = calloc(na + 1, sizeof *st->kfs_sfx_off);
    st->kfs_vals = calloc((size_t)spec->ksp_num_inputs + 1, sizeof *st->kfs_vals);
    st->kfs_nan_vals = calloc((size_t)spec->ksp_num_inputs + 1, sizeof *st->kfs_nan_vals);
    size_t nb = 16;
    while (nb < max_keys * 2) nb <<= 1;
    st->kfs_bucket_mask = nb - 1;
    st->kfs_buckets = spec->ksp_key_input >= 0 ? calloc(nb, sizeof *st->kfs_buckets) : NULL;
    st->kfs_slots = calloc(max_keys, sizeof *st->kfs_slots);
    st->kfs_chunks = calloc(max_keys, sizeof *st->kfs_chunks);
    if (spec->ksp_evict && spec->ksp_key_input >= 0) {
        st->kfs_lru_prev = calloc(max_keys, sizeof *st->kfs_lru_prev);
        st->kfs_lru_next = calloc(max_keys, sizeof *st->kfs_lru_next);
        if (!st->kfs_lru_prev || !st->kfs_lru_next) {
            kite_feature_state_free(st);
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory for %zu keys", max_keys);
        }
    }
    if (!st->kfs_ring_off || !st->kfs_ring_mask || !st->kfs_sfx_off ||
        !st->kfs_vals || !st->kfs_nan_vals || !st->kfs_slots || !st->kfs_chunks ||
        (spec->ksp_key_input >= 0 && !st->kfs_buckets)) {
        kite_feature_state_free(st);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory for %zu keys", max_keys);
    }
    for (int i = 0; i < spec->ksp_num_inputs; i++) st->kfs_nan_vals[i] = NAN;
    /* Slot layout: head, accumulators, rings, min/max block suffixes (feature_state.h). */
    size_t off = kf_align64(sizeof(kf_key_head));
    st->kfs_acc_off = off;
    off += kf_align64(na * sizeof(kf_acc));
    for (size_t r = 0; r < nr; r++) {
        st->kfs_ring_off[r] = off;
        st->kfs_ring_mask[r] = spec->ksp_rings[r].ksr_len - 1;
        if (spec->ksp_rings[r].ksr_len > st->kfs_max_ring) st->kfs_max_ring = spec->ksp_rings[r].ksr_len;
        off += kf_align64(spec->ksp_rings[r].ksr_len * sizeof(double));
    }
    for (size_t a = 0; a < na; a++) {
        const kite_spec_acc *c = &spec->ksp_accs[a];
        if (c->ksa_want_min || c->ksa_want_max) {
            st->kfs_sfx_off[a] = off;
            off += kf_align64(((size_t)c->ksa_window + 1) * 2 * sizeof(double));
        }
    }
    st->kfs_slot_bytes = off;
    st->kfs_chunk_slots = off >= KF_CHUNK_BYTES ? 1 : KF_CHUNK_BYTES / off;
    kite_err err = kite__features_eval_build(st, errstr, errstr_size);
    if (err) {
        kite_feature_state_free(st);
        return err;
    }
    *out = st;
    return KITE_ERR_OK;
}

void kite_feature_state_free(kite_feature_state *st)
{
    if (!st) return;
    for (size_t c = 0; c < st->kfs_num_chunks; c++) free(st->kfs_chunks[c]);
    free(st->kfs_chunks);
    free(st->kfs_slots);
    free(st->kfs_buckets);
    free(st->kfs_ring_off);
    free(st->kfs_ring_mask);
    free(st->kfs_sfx_off);
    free(st->kfs_vals);
    free(st->kfs_nan_vals);
    free(st->kfs_ops);
    free(st->kfs_post);
    free(st->kfs_post_idx);
    free(st->kfs_tmp);
    free(st->kfs_rptr);
    free(st->kfs_accops);
    free(st->kfs_inv);
    free(st->kfs_lru_prev);
    free(st->kfs_lru_next);
    free(st);
}

size_t kite_features_num_keys(const kite_feature_state *st) { return st->kfs_num_keys; }
size_t kite_features_key_bytes(const kite_feature_state *st) { return st->kfs_slot_bytes; }
unsigned long long kite_features_evicted_count(const kite_feature_state *st) { return st->kfs_evicted; }

/* ---- input conversion ------------------------------------------------------------------ */

static kite_err kf_bad_field(const kite_feature_spec *s, int i, const kite_raw_value *rv,
                             const char *why, char *errstr, size_t size)
{
    return kite_errf(KITE_ERR_PARSE, errstr, size, "field \"%s\": \"%.*s\" %s",
                     s->ksp_inputs[i].ksi_name, (int)(rv->text_len > 60 ? 60 : rv->text_len),
                     rv->text, why);
}

static kite_err kf_convert_inputs(const kite_feature_spec *s, const kite_raw_value *inputs,
                                  double *vals, char *errstr, size_t size)
{
    for (int i = 0; i < s->ksp_num_inputs; i++) {
        const kite_spec_input *in = &s->ksp_inputs[i];
        const kite_raw_value *rv = &inputs[i];
        double v = NAN;
        if (in->ksi_type == KITE_INPUT_TEXT) continue;
        if (rv->kind == KITE_RAW_NUMBER) {
            v = rv->number;
            if (kite_spec_number_missing(s, v)) {
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
            } else if (kite_spec_number_missing(s, v)) {
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
    for (int k = 0; k < 2 && s->ksp_time_inputs[k] >= 0; k++) {
        int i = s->ksp_time_inputs[k];
        const kite_raw_value *rv = &inputs[i];
        if (rv->kind == KITE_RAW_NUMBER && s->ksp_time_inputs[1] < 0 &&
            (s->ksp_time_format == KITE_TIME_EPOCH || s->ksp_time_format == KITE_TIME_EPOCH_MS)) {
            double v = rv->number * (s->ksp_time_format == KITE_TIME_EPOCH ? 1000.0 : 1.0);
            if (!(v > -1e17 && v < 1e17))
                return kite_errf(KITE_ERR_PARSE, errstr, size,
                                 "event time field \"%s\": %g is out of range", s->ksp_inputs[i].ksi_name,
                                 rv->number);
            *ms = (int64_t)llround(v);
            return KITE_ERR_OK;
        }
        if (rv->kind != KITE_RAW_TEXT || rv->text_len == 0)
            return kite_errf(KITE_ERR_PARSE, errstr, size, "event time field \"%s\" is missing",
                             s->ksp_inputs[i].ksi_name);
        if (n + rv->text_len + 1 >= sizeof buf)
            return kf_bad_field(s, i, rv, "is too long for an event time", errstr, size);
        if (k) buf[n++] = ' ';
        memcpy(buf + n, rv->text, rv->text_len);
        n += rv->text_len;
    }
    const char *why = "";
    if (kite_event_time_parse(s->ksp_time_format, s->ksp_time_pattern, buf, n, ms, &why)) {
        const char *name = s->ksp_inputs[s->ksp_time_inputs[0]].ksi_name;
        const char *name2 = s->ksp_time_inputs[1] >= 0 ? s->ksp_inputs[s->ksp_time_inputs[1]].ksi_name : NULL;
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
    for (int r = 0; r < s->ksp_num_rings; r++) {
        double *ring = (double *)(slot + st->kfs_ring_off[r]);
        for (uint32_t i = 0; i < s->ksp_rings[r].ksr_len; i++) ring[i] = NAN;
    }
}

/* A new key's slot, carved from 2 MiB chunks (one allocation per chunk, not per key) that ask
 * for transparent huge pages: with thousands of keys every event touches a few pages of its
 * key, and 4 KiB pages would make most of those touches TLB misses. */
static unsigned char *kf_slot_new(kite_feature_state *st)
{
    size_t k = st->kfs_num_keys, c = k / st->kfs_chunk_slots;
    if (c == st->kfs_num_chunks) {
        size_t bytes = (st->kfs_chunk_slots * st->kfs_slot_bytes + KF_CHUNK_BYTES - 1) &
                       ~(size_t)(KF_CHUNK_BYTES - 1);
        /* Not kite_mem_aligned: it zeroes, and touching the pages before the hugepage hint
         * below would fault them in as small pages (the slots are written before use). */
        unsigned char *chunk = aligned_alloc(KF_CHUNK_BYTES, bytes);
        if (!chunk) return NULL;
        madvise(chunk, bytes, MADV_HUGEPAGE); /* a hint: fine if refused */
        st->kfs_chunks[st->kfs_num_chunks++] = chunk;
    }
    return st->kfs_chunks[c] + (k % st->kfs_chunk_slots) * st->kfs_slot_bytes;
}

/* The slot of a known key, or NULL (read-only: no insertion). */
static unsigned char *kf_key_find(const kite_feature_state *st, const char *key, size_t len)
{
    if (!st->kfs_buckets) return st->kfs_num_keys ? st->kfs_slots[0] : NULL;
    uint64_t h = XXH3_64bits(key, len);
    for (size_t b = (size_t)h & st->kfs_bucket_mask;; b = (b + 1) & st->kfs_bucket_mask) {
        const kf_bucket *bk = &st->kfs_buckets[b];
        if (!bk->kfb_slot) return NULL;
        if (bk->kfb_hash != h) continue;
        unsigned char *p = st->kfs_slots[bk->kfb_slot - 1];
        const kf_key_head *kh = (const kf_key_head *)p;
        if (kh->kfh_key_len == len && !memcmp(kh->kfh_key, key, len)) return p;
    }
}

void kite_features_prefetch_key(const kite_feature_state *st, const kite_raw_value *inputs)
{
    const kite_feature_spec *s = st->kfs_spec;
    if (s->ksp_key_input < 0 || st->kfs_num_keys <= KF_PREFETCH_MIN_KEYS) return;
    const kite_raw_value *kv = &inputs[s->ksp_key_input];
    if (kv->kind != KITE_RAW_TEXT || !kv->text_len || kv->text_len > KITE_FEATURES_KEY_MAX) return;
    /* Matches on the hash alone and never reads the slot: a (2^-64) collision only prefetches
     * the wrong lines. */
    uint64_t h = XXH3_64bits(kv->text, kv->text_len);
    for (size_t b = (size_t)h & st->kfs_bucket_mask;; b = (b + 1) & st->kfs_bucket_mask) {
        const kf_bucket *bk = &st->kfs_buckets[b];
        if (!bk->kfb_slot) return;
        if (bk->kfb_hash != h) continue;
        const unsigned char *slot = st->kfs_slots[bk->kfb_slot - 1];
        for (size_t off = 0; off < st->kfs_acc_off + (size_t)s->ksp_num_accs * sizeof(kf_acc); off += 64)
            __builtin_prefetch(slot + off, 1);
        return;
    }
}

void kite_features_prefetch(const kite_feature_state *st, const kite_raw_value *inputs)
{
    const kite_feature_spec *s = st->kfs_spec;
    if (s->ksp_key_input < 0 || st->kfs_num_keys <= KF_PREFETCH_MIN_KEYS) return;
    const kite_raw_value *kv = &inputs[s->ksp_key_input];
    if (kv->kind != KITE_RAW_TEXT || !kv->text_len || kv->text_len > KITE_FEATURES_KEY_MAX) return;
    const unsigned char *slot = kf_key_find(st, kv->text, kv->text_len);
    if (slot) kite__features_prefetch(st, slot);
}

/* ---- eviction ("when_full": "evict") -------------------------------------------------------
 * Exact least-recently-seen order: a doubly linked list over slot indices, the event's key
 * moved to the front on every event (two index arrays, O(1)); the tail is the victim. */

static void kf_lru_unlink(kite_feature_state *st, uint32_t i)
{
    uint32_t p = st->kfs_lru_prev[i], n = st->kfs_lru_next[i];
    if (p) st->kfs_lru_next[p - 1] = n;
    else st->kfs_lru_head = n;
    if (n) st->kfs_lru_prev[n - 1] = p;
    else st->kfs_lru_tail = p;
}

static void kf_lru_front(kite_feature_state *st, uint32_t i)
{
    st->kfs_lru_prev[i] = 0;
    st->kfs_lru_next[i] = st->kfs_lru_head;
    if (st->kfs_lru_head) st->kfs_lru_prev[st->kfs_lru_head - 1] = i + 1;
    else st->kfs_lru_tail = i + 1;
    st->kfs_lru_head = i + 1;
}

static void kf_lru_touch(kite_feature_state *st, uint32_t i)
{
    if (st->kfs_lru_head == i + 1) return;
    kf_lru_unlink(st, i);
    kf_lru_front(st, i);
}

/* Removes slot index i's bucket with backward-shift deletion (linear probing keeps no
 * tombstones, so lookups never slow down however many keys pass through). */
static void kf_bucket_remove(kite_feature_state *st, uint32_t i)
{
    const kf_key_head *kh = (const kf_key_head *)st->kfs_slots[i];
    uint64_t h = XXH3_64bits(kh->kfh_key, kh->kfh_key_len);
    size_t mask = st->kfs_bucket_mask, b = (size_t)h & mask;
    while (st->kfs_buckets[b].kfb_slot != i + 1) b = (b + 1) & mask;
    for (size_t j = (b + 1) & mask; st->kfs_buckets[j].kfb_slot; j = (j + 1) & mask) {
        size_t home = (size_t)st->kfs_buckets[j].kfb_hash & mask;
        /* j's entry may move back to b when its home is not in the cyclic range (b, j]. */
        int in_range = b <= j ? (home > b && home <= j) : (home > b || home <= j);
        if (!in_range) {
            st->kfs_buckets[b] = st->kfs_buckets[j];
            b = j;
        }
    }
    st->kfs_buckets[b] = (kf_bucket){0, 0};
}

/* The slot of a key, created if new and there is room. */
static kite_err kf_key_slot(kite_feature_state *st, const char *key, size_t len,
                            unsigned char **slot, char *errstr, size_t size)
{
    if (!st->kfs_buckets) { /* one stream */
        if (!st->kfs_num_keys) {
            unsigned char *p = kf_slot_new(st);
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
            if (st->kfs_lru_prev) kf_lru_touch(st, bk->kfb_slot - 1);
            *slot = p;
            return KITE_ERR_OK;
        }
    }
    if (st->kfs_num_keys >= st->kfs_max_keys && st->kfs_lru_prev) {
        uint32_t v = st->kfs_lru_tail - 1; /* the least recently seen key gives up its slot */
        kf_bucket_remove(st, v);
        kf_lru_unlink(st, v);
        unsigned char *p = st->kfs_slots[v];
        kf_slot_init(st, p, key, len);
        /* The removal may have shifted entries: probe again for this key's empty bucket. */
        for (b = (size_t)h & st->kfs_bucket_mask; st->kfs_buckets[b].kfb_slot;
             b = (b + 1) & st->kfs_bucket_mask) {}
        st->kfs_buckets[b] = (kf_bucket){h, v + 1};
        kf_lru_front(st, v);
        st->kfs_evicted++;
        *slot = p;
        return KITE_ERR_OK;
    }
    if (st->kfs_num_keys >= st->kfs_max_keys)
        return kite_errf(KITE_ERR_LIMIT, errstr, size,
                         "key \"%.*s\": key table full (max_keys %zu); new keys are refused", (int)len,
                         key, st->kfs_max_keys);
    unsigned char *p = kf_slot_new(st);
    if (!p) return kite_errf(KITE_ERR_NOMEM, errstr, size, "key \"%.*s\": out of memory", (int)len, key);
    kf_slot_init(st, p, key, len);
    st->kfs_slots[st->kfs_num_keys++] = p;
    st->kfs_buckets[b].kfb_hash = h;
    st->kfs_buckets[b].kfb_slot = (uint32_t)st->kfs_num_keys;
    if (st->kfs_lru_prev) kf_lru_front(st, (uint32_t)st->kfs_num_keys - 1);
    *slot = p;
    return KITE_ERR_OK;
}

/* ---- the event update -------------------------------------------------------------------- */

static kite_err kf_update(kite_feature_state *st, const kite_raw_value *inputs, float *out,
                              kite_features_status *status, char *errstr, size_t errstr_size)
{
    const kite_feature_spec *s = st->kfs_spec;
    const char *key = "";
    size_t key_len = 0;
    char numkey[40];
    /* 1. Everything that can fail is checked before any state changes. */
    if (s->ksp_key_input >= 0) {
        const kite_raw_value *kv = &inputs[s->ksp_key_input];
        if (kv->kind == KITE_RAW_TEXT && kv->text_len) {
            key = kv->text;
            key_len = kv->text_len;
        } else if (kv->kind == KITE_RAW_NUMBER && isfinite(kv->number)) {
            key_len = (size_t)snprintf(numkey, sizeof numkey, "%.17g", kv->number);
            key = numkey;
        } else {
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "key field \"%s\" is missing",
                             s->ksp_inputs[s->ksp_key_input].ksi_name);
        }
        if (key_len > KITE_FEATURES_KEY_MAX)
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "key field \"%s\": key of %zu bytes is longer than %d",
                             s->ksp_inputs[s->ksp_key_input].ksi_name, key_len, KITE_FEATURES_KEY_MAX);
    }
    double *vals = st->kfs_vals;
    kite_err err = kf_convert_inputs(s, inputs, vals, errstr, errstr_size);
    int64_t ms = 0;
    if (!err && s->ksp_time_format != KITE_TIME_NONE) err = kf_event_time(s, inputs, &ms, errstr, errstr_size);
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
    if (st->kfs_num_keys > KF_PREFETCH_MIN_KEYS) kite__features_prefetch(st, slot); /* few keys: all cached */
    if (s->ksp_time_format != KITE_TIME_NONE && h->kfh_has_time) {
        int dup = ms == h->kfh_last_ms && s->ksp_on_duplicate == KITE_ORDER_REJECT;
        int late = ms < h->kfh_last_ms && s->ksp_on_out_of_order == KITE_ORDER_REJECT;
        if (dup || late) { /* error path only: formatting is fine here */
            char t[40], last[40], who[KITE_FEATURES_KEY_MAX + 16] = "";
            kite_time_format_iso(ms, t, sizeof t);
            kite_time_format_iso(h->kfh_last_ms, last, sizeof last);
            if (s->ksp_key_input >= 0) snprintf(who, sizeof who, "key \"%.*s\": ", (int)key_len, key);
            if (dup)
                return kite_errf(KITE_ERR_STATE, errstr, errstr_size,
                                 "%sduplicate event time %s (duplicates: reject)", who, t);
            return kite_errf(KITE_ERR_STATE, errstr, errstr_size,
                             "%sevent time %s is before the latest %s (out_of_order: reject)", who,
                             t, last);
        }
        /* 2. Gaps: k missing steps become k all-missing events, so lags and windows stay in
         *    steps of the series (a lag of 24 is 24 hours ago, not 24 events ago). */
        if (s->ksp_fill_gaps && ms > h->kfh_last_ms + s->ksp_step_ms) {
            uint64_t steps = (uint64_t)((ms - h->kfh_last_ms) / s->ksp_step_ms);
            if ((ms - h->kfh_last_ms) % s->ksp_step_ms == 0) steps--;
            kite__features_fill_gap(st, slot, steps);
        }
    }
    /* 3. Push and compute. */
    kite__features_push(st, slot, vals);
    if (s->ksp_time_format != KITE_TIME_NONE) {
        if (!h->kfh_has_time || ms > h->kfh_last_ms) h->kfh_last_ms = ms;
        h->kfh_has_time = 1;
    }
    kite__features_compute(st, slot, vals, ms, out);
    if (status)
        *status = h->kfh_events <= (uint64_t)s->ksp_warmup ? KITE_FEATURES_WARMING_UP : KITE_FEATURES_READY;
    return KITE_ERR_OK;
}

kite_err kite_features_update(kite_feature_state *st, const kite_raw_value *inputs, float *out,
                              kite_features_status *status, char *errstr, size_t errstr_size)
{
    kite_err err = kf_update(st, inputs, out, status, errstr, errstr_size);
    if (err && errstr_size) kite_spec_one_line(errstr);
    return err;
}
