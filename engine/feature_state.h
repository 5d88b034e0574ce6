/* Per-key feature state: turns raw events into model feature rows, in place.
 *
 * Memory layout of one key's slot (one allocation when the key is first seen, never resized;
 * offsets computed once in kite_feature_state_new, slot size a multiple of 64 bytes):
 *
 *   offset            size                     what
 *   0                 sizeof(kf_key_head)      events pushed, last event time, key bytes
 *   acc_off           num_accs * 64            one kf_acc per rolling window (Kahan sum,
 *                                              Welford mean/M2, deque heads and tails)
 *   ring_off[r]       len_r * 8                ring r: the input's last len_r values (double,
 *                                              NaN = missing), value of event p at p & (len_r-1)
 *   dq_min_off[a]     dlen_a * 4               min deque of window a: event positions (uint32,
 *   dq_max_off[a]     dlen_a * 4               wrapping) whose values are increasing / decreasing
 *
 * Every event costs O(1) per feature (amortised O(1) for the deques: each position is pushed and
 * popped at most once) and allocates nothing once its key exists. See README.md "Feature specs"
 * for the semantics of windows, missing values, warm-up, gaps, duplicates and late events. */
#ifndef KITE_FEATURE_STATE_H
#define KITE_FEATURE_STATE_H

#include <stddef.h>

#include "feature_spec.h" /* needs only <stddef.h>: see features.h */
#include "kite_error.h"

typedef struct kite_feature_state kite_feature_state;   /* all per-key state, preallocated */

/* max_keys: how many stream keys the state may hold (0: the spec's "max_keys"). Policy when
 * full: an event of a new key is refused with KITE_ERR_LIMIT and a one-line reason (the caller
 * dead-letters it); known keys keep working. Nothing is evicted, so features never silently
 * restart from a cold state. */
kite_err kite_feature_state_new(const kite_feature_spec *spec, size_t max_keys,
                                kite_feature_state **out, char *errstr, size_t errstr_size);
void kite_feature_state_free(kite_feature_state *st);

typedef enum { KITE_FEATURES_READY = 0, KITE_FEATURES_WARMING_UP = 1 } kite_features_status;

/* Consumes one raw event (inputs[i] for spec input i), updates its key's state in place and
 * writes the model's feature row into out (num_outputs floats, NaN = missing). Returns non-OK
 * with a one-line reason for a bad event (the caller dead-letters it); state is unchanged then. */
kite_err kite_features_update(kite_feature_state *st, const kite_raw_value *inputs, float *out,
                              kite_features_status *status, char *errstr, size_t errstr_size);

/* Keys held now, and the bytes one key's slot takes (bounded memory: max_keys * this). */
size_t kite_features_num_keys(const kite_feature_state *st);
size_t kite_features_key_bytes(const kite_feature_state *st);

/* Longest stream key in bytes; a longer one is a bad event. */
#define KITE_FEATURES_KEY_MAX 120

#endif
