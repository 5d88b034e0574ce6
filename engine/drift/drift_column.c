/* One column's statistics on a window's sums against the reference: PSI and its level, the
 * column's test (KS, chi-square, z, JS, Wasserstein) and the verdict. Its own file because both
 * a window's check (drift_check.c) and the shadow comparison (drift_shadow.c, the disagreeing
 * rows' columns) use it, and drift_check.c calls drift_shadow.c: in either, the two were a
 * cycle (check_no_cycles). */
#include <math.h>

#include "drift_int.h"
#include "drift_stats.h"

static kite_drift_level psi_level(const kite_drift_config *c, double psi)
{
    if (psi >= c->kdc_psi_significant) return KITE_DRIFT_SIGNIFICANT;
    if (psi >= c->kdc_psi_moderate) return KITE_DRIFT_MODERATE;
    return KITE_DRIFT_NONE; /* also NaN: no data is no evidence of drift */
}

void kite__drift_column_check(const kite_drift_monitor *m, const double *sum, int c,
                              kite_drift_feature *f)
{
    const kite_drift_config *cfg = &m->dm_cfg;
    const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
    const double *cur = sum + m->dm_col_off[c];
    size_t nb = m->dm_col_nb[c] - 1; /* statistics exclude the missing bin */
    double count = 0;
    for (size_t i = 0; i < nb; i++) count += cur[i];
    double missing = cur[nb];
    f->kdf_count = count;
    f->kdf_missing_rate = count + missing > 0 ? missing / (count + missing) : NAN;
    size_t off = m->dm_col_off[c];
    f->kdf_psi = m->dm_ref_ok[c] ? kite__drift_psi_prepared(m->dm_ref_q + off, m->dm_ref_lnq + off, cur, nb)
                                 : NAN;
    f->kdf_level = psi_level(cfg, f->kdf_psi);
    f->kdf_test = m->dm_test[c];
    f->kdf_pvalue = NAN;
    const double *fine = sum + m->dm_fine_off[c];
    size_t nf = m->dm_fine_nb[c] ? m->dm_fine_nb[c] - 1 : 0;
    switch (f->kdf_test) {
    case KITE_DRIFT_TEST_KS:
        /* Totals: the fine grid holds the same non-missing values as the coarse bins. */
        f->kdf_stat = kite__drift_ks_totals(pc->kpc_fine_counts, fine, nf, pc->kpc_count, count,
                                           &f->kdf_pvalue);
        break;
    case KITE_DRIFT_TEST_CHI2:
        f->kdf_stat = kite__drift_chi2(pc->kpc_counts, cur, nb, &f->kdf_pvalue, NULL);
        break;
    case KITE_DRIFT_TEST_Z: {
        size_t k = 0;
        while (k + 1 < nb && pc->kpc_counts[k] == 0) k++;
        f->kdf_stat = kite__drift_ztest(pc->kpc_counts, cur, nb, k, &f->kdf_pvalue);
        break;
    }
    case KITE_DRIFT_TEST_JS: f->kdf_stat = kite__drift_js(pc->kpc_counts, cur, nb); break;
    case KITE_DRIFT_TEST_WASSERSTEIN: {
        /* Normed by the reference std as Evidently does, with its floor of 0.001. */
        double sd = pc->kpc_std > 0.001 ? pc->kpc_std : 0.001;
        f->kdf_stat = kite__drift_wasserstein_totals(pc->kpc_fine_counts, fine, nf, pc->kpc_fine_edges,
                                                    pc->kpc_count, count) / sd;
        break;
    }
    default: f->kdf_stat = f->kdf_psi; break;
    }
    switch (f->kdf_test) {
    /* Evidently's comparisons: KS drifts at p <= threshold, chi-square and z at p < threshold. */
    case KITE_DRIFT_TEST_KS: f->kdf_drifted = f->kdf_pvalue <= cfg->kdc_pvalue; break;
    case KITE_DRIFT_TEST_CHI2:
    case KITE_DRIFT_TEST_Z: f->kdf_drifted = f->kdf_pvalue < cfg->kdc_pvalue; break;
    case KITE_DRIFT_TEST_JS:
    case KITE_DRIFT_TEST_WASSERSTEIN: f->kdf_drifted = f->kdf_stat >= cfg->kdc_distance; break;
    default: f->kdf_drifted = f->kdf_level == KITE_DRIFT_SIGNIFICANT; break;
    }
}
