/* Shadow scoring: the candidate's versions and the disagreement counters (shadow.h). */
#include <kite/mem.h>
#include "shadow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double shadow_bounds[KITE_SHADOW_BUCKETS] = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};

kite_err kite__shadow_new(const kite_model_swap_config *cfg, double tolerance, int nworkers,
                         kite_shadow **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_shadow *sh = calloc(1, sizeof *sh);
    if (!sh) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "shadow");
    sh->sh_tolerance = tolerance;
    sh->sh_nworkers = nworkers;
    sh->sh_blocks = kite_mem_aligned(64, sizeof *sh->sh_blocks * (size_t)nworkers);
    if (!sh->sh_blocks) {
        free(sh);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "shadow");
    }
    char inner[768];
    kite_err err = kite__model_swap_new(cfg, nworkers, &sh->sh_swap, inner, sizeof inner);
    if (err) {
        kite__shadow_free(sh);
        return kite_errf(err, errstr, errstr_size, "shadow_model: %s", inner);
    }
    *out = sh;
    return KITE_ERR_OK;
}

void kite__shadow_free(kite_shadow *sh)
{
    if (!sh) return;
    kite__model_swap_free(sh->sh_swap);
    free(sh->sh_blocks);
    free(sh);
}

static void shadow_add_double(_Atomic double *a, double v)
{
    /* One writer per block: a relaxed load and store, no read-modify-write needed. */
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + v, memory_order_relaxed);
}

void kite__shadow_observe(kite_shadow *sh, int worker, float serving, float candidate)
{
    kite_shadow_block *b = &sh->sh_blocks[worker];
    double diff = (double)candidate - (double)serving;
    double ad = fabs(diff);
    if (isnan(diff)) ad = INFINITY; /* one side missing: the largest disagreement */
    int k = 0;
    while (k < KITE_SHADOW_BUCKETS && !(ad <= shadow_bounds[k])) k++;
    /* Relaxed: counters, the renderer only sums them (one writer each). */
    atomic_store_explicit(&b->sb_rows, atomic_load_explicit(&b->sb_rows, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (ad > sh->sh_tolerance)
        atomic_store_explicit(&b->sb_disagree,
                              atomic_load_explicit(&b->sb_disagree, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    atomic_store_explicit(&b->sb_buckets[k], atomic_load_explicit(&b->sb_buckets[k], memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (isfinite(ad)) {
        shadow_add_double(&b->sb_abs_sum, ad);
        shadow_add_double(&b->sb_sum, diff);
    }
}

void kite__shadow_render(kite_shadow *sh, kite_prom *p)
{
    uint64_t rows = 0, dis = 0, buckets[KITE_SHADOW_BUCKETS + 1] = {0};
    double abs_sum = 0, sum = 0;
    for (int i = 0; i < sh->sh_nworkers; i++) {
        kite_shadow_block *b = &sh->sh_blocks[i];
        rows += atomic_load_explicit(&b->sb_rows, memory_order_relaxed);
        dis += atomic_load_explicit(&b->sb_disagree, memory_order_relaxed);
        for (int k = 0; k <= KITE_SHADOW_BUCKETS; k++)
            buckets[k] += atomic_load_explicit(&b->sb_buckets[k], memory_order_relaxed);
        abs_sum += atomic_load_explicit(&b->sb_abs_sum, memory_order_relaxed);
        sum += atomic_load_explicit(&b->sb_sum, memory_order_relaxed);
    }
    kite_prom_family(p, "kite_shadow_rows_total", "counter", "Events scored by the shadow model too.");
    kite_prom_sample(p, "kite_shadow_rows_total", NULL, (double)rows);
    kite_prom_family(p, "kite_shadow_disagreements_total", "counter",
                     "Events whose shadow prediction differs from the serving one by more than "
                     "shadow_tolerance.");
    kite_prom_sample(p, "kite_shadow_disagreements_total", NULL, (double)dis);
    kite_prom_family(p, "kite_shadow_disagreement_ratio", "gauge",
                     "kite_shadow_disagreements_total / kite_shadow_rows_total (0 before any row).");
    kite_prom_sample(p, "kite_shadow_disagreement_ratio", NULL, rows ? (double)dis / (double)rows : 0);
    kite_prom_family(p, "kite_shadow_abs_diff", "histogram",
                     "|shadow - serving| of the first output, per event.");
    kite_prom_histogram(p, "kite_shadow_abs_diff", NULL, shadow_bounds, buckets, KITE_SHADOW_BUCKETS, abs_sum);
    kite_prom_family(p, "kite_shadow_mean_diff", "gauge", "Mean of shadow - serving (signed).");
    kite_prom_sample(p, "kite_shadow_mean_diff", NULL, rows ? sum / (double)rows : 0);
    kite__model_swap_render(sh->sh_swap, p, "kite_shadow_model"); /* the candidate's version */
}
