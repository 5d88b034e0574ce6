/* Private to kite_features (engine/features/), not installed.
 * Internals of the feature state shared by engine/features/features.c (state, keys, inputs, the event
 * update) and engine/features/features_eval.c (the compiled per-event arithmetic). */
#ifndef KITE_FEATURES_INT_H
#define KITE_FEATURES_INT_H

#include <stdint.h>

#include "feature_spec_int.h"
#include <kite/feature_state.h>
#include "features_window.h"

/* One rolling window, compiled: everything kite__features_push needs in one 24-byte record. */
typedef struct kf_accop {
    uint32_t kao_ring_off;  /* byte offset of the input's ring in the slot                  */
    uint32_t kao_rmask;     /* ring length - 1                                              */
    uint32_t kao_sfx_off;   /* byte offset of the min/max suffix pairs; 0: no min/max       */
    uint32_t kao_w;         /* window                                                       */
    uint32_t kao_shift;
    uint32_t kao_var;       /* 1: a std feature uses it                                     */
} kf_accop;

#define KF_CHUNK_BYTES ((size_t)2 << 20) /* key slots come in huge-page chunks */
#define KF_PREFETCH_MIN_KEYS 64          /* fewer keys stay in cache: prefetching only costs */

/* One output feature, compiled: what to read and where the result goes. Ops are sorted by
 * kind (kfs_kind_begin), so each kind is one tight loop with no per-feature switch: an
 * indirect jump over 100 features in a row mispredicts often enough to dominate. */
typedef struct kf_op {
    uint32_t kfo_out;      /* output index j                                                 */
    uint16_t kfo_kind;     /* kite_feature_kind                                              */
    uint16_t kfo_aux;      /* cyclic: table row (unit * 2 + cos)                             */
    uint32_t kfo_a;        /* input index (value/ratio/product), ring (lag/diff), acc (rolling) */
    uint32_t kfo_b;        /* ratio/product: second input index                              */
    uint32_t kfo_back;     /* lag / shift                                                    */
} kf_op;

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
    size_t *kfs_sfx_off;    /* per accumulator: block suffix (min, max) pairs (0: none)       */
    uint32_t kfs_max_ring;  /* longest ring: a gap this long leaves every ring all-missing    */
    unsigned char **kfs_slots; /* kfs_num_keys slot pointers, kfs_max_keys capacity           */
    unsigned char **kfs_chunks; /* 2 MiB-aligned slot chunks (kf_slot_new)                   */
    size_t kfs_num_chunks;
    size_t kfs_chunk_slots;    /* slots per chunk                                          */
    kf_bucket *kfs_buckets; /* open addressing, linear probing, capacity a power of two      */
    size_t kfs_bucket_mask;
    /* "when_full": "evict" only: slots in a doubly linked list, most recently seen first
     * (indices + 1, 0 = none); a new key in a full table takes the tail's slot. */
    uint32_t *kfs_lru_prev, *kfs_lru_next;
    uint32_t kfs_lru_head, kfs_lru_tail;
    uint64_t kfs_evicted;   /* keys evicted so far                                           */
    double *kfs_vals;       /* this event's inputs as numbers (scratch, num_inputs)          */
    double *kfs_nan_vals;   /* all-missing event used to fill gaps                           */
    /* Compiled hot path (features_eval.c) */
    kf_op *kfs_ops;         /* one per output feature, sorted by kind                        */
    int kfs_kind_begin[KITE_FEAT_CYCLIC + 2]; /* ops of kind k: [begin[k], begin[k + 1])     */
    uint32_t *kfs_post_idx; /* outputs with impute / standardize                             */
    int kfs_num_post;
    double *kfs_post;       /* per output j: impute, center, scale (3 doubles)               */
    double *kfs_tmp;        /* the row in double before the float conversion (scratch)       */
    const double **kfs_rptr; /* this key's ring pointers (scratch, one per ring)             */
    kf_accop *kfs_accops;   /* one per rolling window                                        */
    double *kfs_inv;        /* kfs_inv[n] = 1/n for n <= longest window + 1; kfs_inv[0] = 0   */
    int kfs_has_cyclic;
    int kfs_day_valid;      /* cache of the last event's day: weekday and month              */
    int64_t kfs_day;
    int kfs_day_weekday, kfs_day_month;
};

/* features_eval.c */
kite_err kite__features_eval_build(kite_feature_state *st, char *errstr, size_t errstr_size);
void kite__features_prefetch(const kite_feature_state *st, const unsigned char *slot);
void kite__features_push(const kite_feature_state *st, unsigned char *slot, const double *vals);
void kite__features_fill_gap(const kite_feature_state *st, unsigned char *slot, uint64_t k);
void kite__features_compute(const kite_feature_state *st, const unsigned char *slot, const double *vals,
                int64_t ms, float *out);

#endif
