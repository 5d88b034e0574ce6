/* Private to kite_stream (engine/stream/), not installed.
 * kite_shadow: a candidate model scoring every event beside the serving one (shadow_model).
 *
 * The candidate is its own kite_model_swap (so a reload reloads it too, and its versions are
 * reclaimed the same way); it scores the batch's rows the serving version featurized, so it
 * must take the same feature count. Per worker, a cache-line-aligned block counts rows, rows
 * whose first outputs differ by more than shadow_tolerance, and a histogram of |candidate -
 * serving|; /metrics sums the blocks. With shadow_topic set, each event's shadow prediction is
 * produced there (counted in the event's offset window like an alert: at least once).
 * Promotion is a reload: point `model` (or its registry alias) at the candidate. */
#ifndef KITE_SHADOW_H
#define KITE_SHADOW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>
#include "model_swap.h"
#include <kite/prom.h>

#define KITE_SHADOW_BUCKETS 8 /* |diff| <= 1e-7, 1e-6, ..., 1e-1, 1, and above */

typedef struct kite_shadow_block {
    /* Written by one worker (relaxed), read by the renderer (relaxed): counters only. */
    _Atomic uint64_t sb_rows, sb_disagree;
    _Atomic uint64_t sb_buckets[KITE_SHADOW_BUCKETS + 1];
    _Atomic double sb_abs_sum, sb_sum; /* |diff| and signed diff (candidate - serving)      */
} __attribute__((aligned(64))) kite_shadow_block;

typedef struct kite_shadow {
    kite_model_swap *sh_swap;
    double sh_tolerance;
    int sh_nworkers;
    kite_shadow_block *sh_blocks;
} kite_shadow;

/* cfg: as the serving model's (ksc_required_features: the serving row width). */
kite_err kite__shadow_new(const kite_model_swap_config *cfg, double tolerance, int nworkers,
                         kite_shadow **out, char *errstr, size_t errstr_size);
void kite__shadow_free(kite_shadow *sh);
/* Worker: one row's first outputs compared. */
void kite__shadow_observe(kite_shadow *sh, int worker, float serving, float candidate);
void kite__shadow_render(kite_shadow *sh, kite_prom *p);

#endif
