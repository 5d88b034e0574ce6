/* Shadow scoring inside the drift monitor's windows (kdc_shadow; drift.h kite_drift_shadow):
 * per window, how a candidate model's predictions differ from the serving ones, and which
 * features the disagreeing rows drift on. The counts live in the window's slots (drift_int.h
 * layout), so sliding, tumbling, time and decay windows add, evict and decay them exactly as
 * they do the feature histograms, and a check reads them at the same moment as the rest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>
#include "drift_int.h"

const double kite_drift_shadow_bounds[KITE_DRIFT_SHADOW_BUCKETS] = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3,
    2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,  0.5,  1};

/* Counter slots from dm_sh_slot. */
enum { SH_ROWS = 0, SH_DISAGREE = 1, SH_FINITE = 2, SH_ABS = 3, SH_SUM = 4, SH_BUCKET = 5 };

void kite__drift_shadow_layout(kite_drift_monitor *m)
{
    if (!m->dm_cfg.kdc_shadow) return;
    m->dm_sh_slot = m->dm_width;
    m->dm_sh_bins = m->dm_sh_slot + DRIFT_SHADOW_COUNTERS;
    m->dm_width = m->dm_sh_bins + m->dm_ev_slot; /* the mirror of every coarse and fine bin */
}

int kite__drift_shadow_window_init(const kite_drift_monitor *m, drift_window *w)
{
    if (!m->dm_cfg.kdc_shadow) return 0;
    size_t hist = m->dm_cfg.kdc_history, ncols = (size_t)m->dm_ncols;
    w->dw_hist_shadow = calloc(hist, sizeof *w->dw_hist_shadow);
    w->dw_hist_shadow_cols = calloc(hist * ncols, sizeof *w->dw_hist_shadow_cols);
    if (!w->dw_hist_shadow || !w->dw_hist_shadow_cols) return -1;
    for (size_t i = 0; i < hist; i++) w->dw_hist_shadow[i].kds_columns = w->dw_hist_shadow_cols + i * ncols;
    return 0;
}

void kite__drift_shadow_window_free(drift_window *w)
{
    free(w->dw_hist_shadow);
    free(w->dw_hist_shadow_cols);
}

static int shadow_bucket(double ad)
{
    int k = 0; /* INFINITY (one side missing) is above every bound: the overflow bucket */
    while (k < KITE_DRIFT_SHADOW_BUCKETS && !(ad <= kite_drift_shadow_bounds[k])) k++;
    return k;
}

/* A disagreeing row's bins, counted into the mirror at s + dm_sh_bins. Numeric coarse bins
 * are looked up per row here (kite_bin_of: the definition kite_binning_count counts by);
 * categorical coarse and all fine indices are the chunk's, already computed by bin_chunk. */
static void shadow_add_row(kite_drift_monitor *m, double *mirror, size_t k)
{
    for (int c = 0; c < m->dm_ncols; c++) {
        const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
        double *h = mirror + m->dm_col_off[c];
        if (pc->kpc_kind == KITE_PROFILE_NUMERIC) {
            float x = c == m->dm_pred_col ? m->dm_chunk_pred[k] : m->dm_chunk_rows[k * m->dm_chunk_stride + (size_t)c];
            h[kite_bin_of(pc->kpc_edges, pc->kpc_nedges, x)] += 1;
        } else {
            h[m->dm_idx[(size_t)c * DRIFT_CHUNK_ROWS + k]] += 1;
        }
        if (m->dm_fine_nb[c]) mirror[m->dm_fine_off[c] + m->dm_fidx[(size_t)c * DRIFT_CHUNK_ROWS + k]] += 1;
    }
}

void kite__drift_shadow_add(kite_drift_monitor *m, double *s, size_t k0, size_t k1)
{
    if (!m->dm_sh_slot) return;
    double *ctr = s + m->dm_sh_slot;
    double tol = m->dm_cfg.kdc_shadow_tolerance;
    for (size_t k = k0; k < k1; k++) {
        double diff = (double)m->dm_chunk_shadow[k] - (double)m->dm_chunk_pred[k];
        double ad = isnan(diff) ? INFINITY : fabs(diff); /* one side missing: the largest */
        ctr[SH_ROWS] += 1;
        ctr[SH_BUCKET + shadow_bucket(ad)] += 1;
        if (isfinite(diff)) {
            ctr[SH_FINITE] += 1;
            ctr[SH_ABS] += ad;
            ctr[SH_SUM] += diff;
        }
        if (ad > tol) {
            ctr[SH_DISAGREE] += 1;
            shadow_add_row(m, s + m->dm_sh_bins, k);
        }
    }
}

/* The upper bound of the bucket holding the q-quantile of the rows (nearest rank). */
static double shadow_quantile(const double *buckets, double rows, double q)
{
    if (!(rows > 0)) return NAN;
    double rank = ceil(q * rows), seen = 0;
    if (rank < 1) rank = 1;
    for (int k = 0; k < KITE_DRIFT_SHADOW_BUCKETS; k++) {
        seen += buckets[k];
        if (seen >= rank - 1e-9) return kite_drift_shadow_bounds[k];
    }
    return INFINITY;
}

const kite_drift_shadow *kite__drift_shadow_check(const kite_drift_monitor *m, drift_window *w, size_t h)
{
    if (!m->dm_sh_slot) return NULL;
    kite_drift_shadow *r = &w->dw_hist_shadow[h];
    kite_drift_feature *cols = r->kds_columns;
    memset(r, 0, sizeof *r);
    r->kds_columns = cols;
    const double *ctr = w->dw_sum + m->dm_sh_slot;
    /* Sliding windows subtract evicted sub-windows: counts are whole numbers in doubles, so
     * they stay exact; the |diff| sums may keep a rounding residue, clamped at zero rows. */
    r->kds_rows = ctr[SH_ROWS];
    r->kds_disagree = ctr[SH_DISAGREE];
    r->kds_share = r->kds_rows > 0 ? r->kds_disagree / r->kds_rows : NAN;
    r->kds_mean_abs = ctr[SH_FINITE] > 0 ? ctr[SH_ABS] / ctr[SH_FINITE] : NAN;
    r->kds_mean_diff = ctr[SH_FINITE] > 0 ? ctr[SH_SUM] / ctr[SH_FINITE] : NAN;
    memcpy(r->kds_buckets, ctr + SH_BUCKET, sizeof r->kds_buckets);
    r->kds_p50 = shadow_quantile(r->kds_buckets, r->kds_rows, 0.50);
    r->kds_p90 = shadow_quantile(r->kds_buckets, r->kds_rows, 0.90);
    r->kds_p99 = shadow_quantile(r->kds_buckets, r->kds_rows, 0.99);
    const double *mirror = w->dw_sum + m->dm_sh_bins;
    for (int c = 0; c < m->dm_ncols; c++) {
        kite__drift_column_check(m, mirror, c, &cols[c]);
        if (c < m->dm_nfeat) r->kds_ndrifted += cols[c].kdf_drifted;
    }
    return r;
}
