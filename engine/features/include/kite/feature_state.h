/* Per-key feature state: turns raw events into model feature rows, in place.
 *
 * Memory layout of one key's slot (one allocation when the key is first seen, never resized;
 * offsets computed once in kite_feature_state_new, each part aligned to 64 bytes):
 *
 *   offset            size                     what
 *   0                 sizeof(kf_key_head)      events pushed, latest event time, key bytes
 *   acc_off           num_accs * sizeof(kf_acc) one per rolling window (Kahan sum, Welford
 *                                              mean/M2, block prefix min/max, current min/max)
 *   ring_off[r]       len_r * 8                ring r: the input's last len_r values (double,
 *                                              NaN = missing), value of event p at p & (len_r-1)
 *   sfx_off[a]        (w_a + 1) * 16           window a's (min, max) suffix pairs of the previous
 *                                              block of w_a events (features_window.h); pairs
 *                                              so one event reads one line, not two
 *
 * Every event costs O(1) per feature (amortised O(1) for min/max: w steps once every w events)
 * and allocates nothing once its key exists. See docs/feature-spec.md
 * for the semantics of windows, missing values, warm-up, gaps, duplicates and late events. */
#ifndef KITE_FEATURE_STATE_H
#define KITE_FEATURE_STATE_H

#include <stddef.h>

#include <kite/feature_spec.h>
#include <kite/error.h>

typedef struct kite_feature_state kite_feature_state;   /* all per-key state, preallocated */

/* max_keys: how many stream keys the state may hold (0: the spec's "max_keys"). Policy when
 * full, the spec's "when_full": "refuse" (default): an event of a new key is refused with
 * KITE_ERR_LIMIT and a one-line reason (the caller dead-letters it); known keys keep working.
 * "evict": the new key takes the slot of the least recently seen key (exact LRU order by
 * event), which is counted (kite_features_evicted) and warms up again if it comes back;
 * memory stays max_keys slots whatever the number of distinct keys. */
kite_err kite_feature_state_new(const kite_feature_spec *spec, size_t max_keys,
                                kite_feature_state **out, char *errstr, size_t errstr_size);
void kite_feature_state_free(kite_feature_state *st);

typedef enum { KITE_FEATURES_READY = 0, KITE_FEATURES_WARMING_UP = 1 } kite_features_status;

/* Consumes one raw event (inputs[i] for spec input i), updates its key's state in place and
 * writes the model's feature row into out (num_outputs floats, NaN = missing). Returns non-OK
 * with a one-line reason for a bad event (the caller dead-letters it); state is unchanged then. */
kite_err kite_features_update(kite_feature_state *st, const kite_raw_value *inputs, float *out,
                              kite_features_status *status, char *errstr, size_t errstr_size);

/* Optional hint for callers holding several events (a batch, a queue): asks the memory system
 * for the cache lines the event's key will touch, without changing anything. With thousands of
 * keys each event's state is a cache miss; calling this a few events ahead of
 * kite_features_update overlaps those misses (the bench uses 8 ahead). Cheap no-op for unknown
 * keys, one stream or few keys. */
void kite_features_prefetch(const kite_feature_state *st, const kite_raw_value *inputs);
/* First stage, for further ahead (the bench: 16 events): only the key's head and window
 * accumulators, found without reading the key's state, so it never waits for memory;
 * kite_features_prefetch then reads the head (cached by now) to find the ring lines. */
void kite_features_prefetch_key(const kite_feature_state *st, const kite_raw_value *inputs);

/* Keys held now, and the bytes one key's slot takes (bounded memory: max_keys * this). */
size_t kite_features_num_keys(const kite_feature_state *st);
size_t kite_features_key_bytes(const kite_feature_state *st);
/* Keys evicted so far ("when_full": "evict"; always 0 otherwise). */
unsigned long long kite_features_evicted_count(const kite_feature_state *st);

/* Longest stream key in bytes; a longer one is a bad event. */
#define KITE_FEATURES_KEY_MAX 120

#endif
