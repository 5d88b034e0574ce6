/* Private to kite_drift (engine/drift/), not installed.
 * Drift statistics on binned counts: pure functions of a reference histogram r[0..n) and a
 * current histogram c[0..n) (counts, not proportions; doubles so decayed windows fit).
 *
 * Every function ignores bins where both counts are zero, returns NaN when either side has no
 * observations, and runs in O(n) without allocating (except the exact KS p-value, below). The definitions match the Python
 * libraries the seed systems used, on the same bins (tests/e2e/drift_stats_check.py compares them
 * with numpy/scipy to 1e-9 relative):
 *
 *   PSI       sum (p_i - q_i) ln(p_i / q_i), p = current share, q = reference share; a zero share
 *             is replaced by KITE_DRIFT_PSI_EPSILON (1e-4, as Evidently's psi does) so an
 *             empty bin costs a large but finite amount instead of infinity.
 *   JS        Jensen-Shannon *distance* (scipy.spatial.distance.jensenshannon, natural log):
 *             sqrt(0.5 KL(p||m) + 0.5 KL(q||m)), m = (p + q) / 2; in [0, sqrt(ln 2)].
 *   chi2      goodness of fit of the current counts to the reference shares, as Evidently's
 *             chi-square test does (scipy.stats.chisquare(c, q * sum(c))): sum (c_i - E_i)^2/E_i,
 *             dof = bins with E_i > 0, minus 1; p = chi2.sf. Bins the reference never saw but
 *             the current has make the statistic infinite (p = 0).
 *   KS        max_i |F_r(i) - F_c(i)| over the cumulative shares at bin boundaries (a binned
 *             two-sample KS: exact when every distinct value has its own bin, otherwise a lower
 *             bound of the raw-data statistic). p-value as scipy.stats.ks_2samp's default
 *             method="auto" (what Evidently calls): when both totals are whole counts
 *             <= KITE_DRIFT_KS_EXACT_MAX, the exact distribution (scipy's own algorithms,
 *             bit for bit: O(n) for equal sizes, else O(max(n, m) (2 D min(n, m) + 1)) steps
 *             and one allocation of max(n, m) doubles); otherwise scipy's "asymp", the
 *             finite-n one-sample distribution kstwo.sf(D, round(nm/(n+m))) (kite__kstwo_sf;
 *             the Kolmogorov limit only for decayed windows holding less than one event).
 *   W1        Wasserstein-1 distance from binned CDFs: sum_i |F_r(i) - F_c(i)| (x_{i+1} - x_i)
 *             over the interior edges x (values beyond the outer edges count at the edge).
 *   z         two-proportion z-test on one category (Evidently's test for binary columns);
 *             two-sided p-value. */
#ifndef KITE_DRIFT_STATS_H
#define KITE_DRIFT_STATS_H

#include <stddef.h>

#define KITE_DRIFT_PSI_EPSILON 1e-4
#define KITE_DRIFT_KS_EXACT_MAX 10000 /* scipy ks_2samp's MAX_AUTO_N */

double kite__drift_psi(const double *ref, const double *cur, size_t n);
/* The same PSI with the reference side prepared once (the drift monitor's check path):
 * q[i] = ref[i] / sum(ref) (0 kept), lnq[i] = ln(q[i] or the epsilon when 0). Saves one
 * logarithm per bin; equal to kite__drift_psi to ~1e-15 relative. */
double kite__drift_psi_prepared(const double *q, const double *lnq, const double *cur, size_t n);
/* Fills q and lnq for kite__drift_psi_prepared; returns 0 if ref has no observations. */
int kite__drift_psi_prepare(const double *ref, size_t n, double *q, double *lnq);
double kite__drift_js(const double *ref, const double *cur, size_t n);
/* Returns the statistic; *pvalue and *dof (may be NULL) receive the rest. */
double kite__drift_chi2(const double *ref, const double *cur, size_t n, double *pvalue, int *dof);
double kite__drift_ks(const double *ref, const double *cur, size_t n, double *pvalue);
/* edges[0..n-1) are the n-1 boundaries between the n bins (bin 0 below edges[0]). */
double kite__drift_wasserstein(const double *ref, const double *cur, size_t n, const float *edges);
/* The same two with the totals sum(ref), sum(cur) already known (the monitor knows them from
 * the profile and the coarse histogram, so a check skips a pass over the fine grid). */
double kite__drift_ks_totals(const double *ref, const double *cur, size_t n, double tr, double tc,
                            double *pvalue);
double kite__drift_wasserstein_totals(const double *ref, const double *cur, size_t n,
                                     const float *edges, double tr, double tc);
/* Share of bin k in ref vs cur. */
double kite__drift_ztest(const double *ref, const double *cur, size_t n, size_t k, double *pvalue);

/* Special functions, exported for tests: upper regularized incomplete gamma Q(a, x),
 * chi-square survival function, Kolmogorov survival function Q_KS(x). */
double kite__gamma_q(double a, double x);
double kite__chi2_sf(double x, double dof);
double kite__kolmogorov_sf(double x);
/* P(D_n >= x) of the one-sample two-sided KS statistic, scipy.stats.kstwo.sf(x, n)
 * (engine/drift/drift_kstwo.c); allocates a few small matrices on some branches (NaN if that fails). */
double kite__kstwo_sf(long n, double x);

#endif
