/* Drift statistics on binned counts (definitions in drift_stats.h). */
#include "drift_stats.h"

#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>

static void totals(const double *ref, const double *cur, size_t n, double *tr, double *tc)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += ref[i];
        b += cur[i];
    }
    *tr = a;
    *tc = b;
}

double kite__drift_psi(const double *ref, const double *cur, size_t n)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    if (!(tr > 0) || !(tc > 0)) return NAN;
    double psi = 0, ir = 1 / tr, ic = 1 / tc;
    for (size_t i = 0; i < n; i++) {
        if (ref[i] == 0 && cur[i] == 0) continue;
        double q = ref[i] * ir, p = cur[i] * ic;
        if (q == 0) q = KITE_DRIFT_PSI_EPSILON;
        if (p == 0) p = KITE_DRIFT_PSI_EPSILON;
        psi += (p - q) * log(p / q);
    }
    return psi;
}

int kite__drift_psi_prepare(const double *ref, size_t n, double *q, double *lnq)
{
    double tr = 0;
    for (size_t i = 0; i < n; i++) tr += ref[i];
    for (size_t i = 0; i < n; i++) {
        q[i] = tr > 0 ? ref[i] / tr : 0;
        lnq[i] = log(q[i] > 0 ? q[i] : KITE_DRIFT_PSI_EPSILON);
    }
    return tr > 0;
}

/* ln of a bin count. A check's largest cost was log() of every bin's share (callgrind on
 * bench_drift's BM_Check). A count window's counts are integers, and ln(c) - ln(total) equals
 * ln(c / total) to a few ulp, so a table of ln(k) for small k serves most bins; other counts
 * (decay windows, big windows) call log. 4096 doubles: 32 KiB, filled once per process. */
#define PSI_LN_TABLE 4096
static double psi_ln_table[PSI_LN_TABLE];
static double psi_ln_epsilon;
static pthread_once_t psi_ln_once = PTHREAD_ONCE_INIT;

static void psi_ln_init(void)
{
    psi_ln_table[0] = -INFINITY;
    for (int k = 1; k < PSI_LN_TABLE; k++) psi_ln_table[k] = log((double)k);
    psi_ln_epsilon = log(KITE_DRIFT_PSI_EPSILON);
}

static inline double psi_ln_count(double c)
{
    if (c >= 1 && c < PSI_LN_TABLE) {
        int k = (int)c;
        if ((double)k == c) return psi_ln_table[k];
    }
    return log(c);
}

double kite__drift_psi_prepared(const double *q, const double *lnq, const double *cur, size_t n)
{
    pthread_once(&psi_ln_once, psi_ln_init);
    double tc = 0, psi = 0;
    for (size_t i = 0; i < n; i++) tc += cur[i];
    if (!(tc > 0)) return NAN;
    double ic = 1 / tc, ln_tc = psi_ln_count(tc);
    for (size_t i = 0; i < n; i++) {
        if (q[i] == 0 && cur[i] == 0) continue;
        double p = KITE_DRIFT_PSI_EPSILON, ln_p = psi_ln_epsilon;
        if (cur[i] > 0) {
            p = cur[i] * ic;
            ln_p = psi_ln_count(cur[i]) - ln_tc;
        }
        double qq = q[i] > 0 ? q[i] : KITE_DRIFT_PSI_EPSILON;
        psi += (p - qq) * (ln_p - lnq[i]);
    }
    return psi;
}

double kite__drift_js(const double *ref, const double *cur, size_t n)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    if (!(tr > 0) || !(tc > 0)) return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double q = ref[i] / tr, p = cur[i] / tc, m = 0.5 * (p + q);
        if (p > 0) sum += p * log(p / m);
        if (q > 0) sum += q * log(q / m);
    }
    double js = 0.5 * sum;
    return js > 0 ? sqrt(js) : 0.0; /* rounding can leave -1e-17 for equal histograms */
}

double kite__drift_chi2(const double *ref, const double *cur, size_t n, double *pvalue, int *dof)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    if (pvalue) *pvalue = NAN;
    if (dof) *dof = 0;
    if (!(tr > 0) || !(tc > 0)) return NAN;
    double stat = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ref[i] == 0 && cur[i] == 0) continue;
        if (ref[i] == 0) {
            stat = INFINITY; /* a category the reference never saw */
            continue;
        }
        double e = ref[i] / tr * tc, d = cur[i] - e;
        stat += d * d / e;
        k++;
    }
    int df = k - 1;
    if (dof) *dof = df;
    if (pvalue) *pvalue = df > 0 ? kite__chi2_sf(stat, df) : (isinf(stat) ? 0.0 : 1.0);
    return stat;
}

/* scipy.stats._stats_py._compute_prob_outside_square: P(D >= h / n) for two samples of n,
 * Horner-like over the alternating series (no subtractive cancellation); O(n) steps. */
static double ks_exact_square(long n, long h)
{
    double P = 0.0;
    for (long k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (long j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2 * P;
}

/* scipy.stats._stats_pythran._compute_outer_prob_inside_method (Hodges' inside method with
 * Viehmann's recursion for 1 - p): the share of lattice paths from (0, 0) to (m, n) that leave
 * |x/m - y/n| < h / lcm(m, n), one sliding column A of at most n + 1 entries. The same
 * operations in the same order as scipy's, so the same doubles. O(m * (2 h g / m + 1)). */
static double ks_exact_inside(long m, long n, long g, long h, double *A)
{
    if (m < n) {
        long t = m;
        m = n;
        n = t;
    }
    long mg = m / g, ng = n / g;
    long minj = 0, maxj = (long)ceil((double)h / (double)mg);
    if (maxj > n + 1) maxj = n + 1;
    long curlen = maxj - minj, lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    for (long j = 0; j < lenA; j++) A[j] = j < maxj ? 0.0 : 1.0;
    for (long i = 1; i <= m; i++) {
        long lastminj = minj, lastlen = curlen;
        minj = (long)floor((double)(ng * i - h) / (double)mg) + 1;
        if (minj < 0) minj = 0;
        if (minj > n) minj = n;
        maxj = (long)ceil((double)(ng * i + h) / (double)mg);
        if (maxj > n + 1) maxj = n + 1;
        if (maxj <= minj) return 1.0;
        double val = minj == 0 ? 0.0 : 1.0;
        for (long jj = 0; jj < maxj - minj; jj++) {
            long j = jj + minj;
            val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
            A[jj] = val;
        }
        curlen = maxj - minj;
        for (long j = curlen; j < curlen + (lastlen - curlen) && j < lenA; j++) A[j] = 1.0;
    }
    return A[maxj - minj - 1];
}

static long gcd_long(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The two-sided p-value for D = gmax / (tr tc), chosen as ks_2samp's method="auto" (Evidently's
 * call): exact when both sizes are whole counts <= KITE_DRIFT_KS_EXACT_MAX, else scipy's
 * "asymp", kstwo.sf(D, round(tr tc / (tr + tc))) (engine/drift/drift_kstwo.c). */
static double ks_pvalue(double tr, double tc, double gmax)
{
    double d = gmax / (tr * tc);
    if (tr <= KITE_DRIFT_KS_EXACT_MAX && tc <= KITE_DRIFT_KS_EXACT_MAX && tr == floor(tr) &&
        tc == floor(tc) && gmax == floor(gmax)) {
        long n1 = (long)tr, n2 = (long)tc, g = gcd_long(n1, n2);
        /* gmax = |fr tc - fc tr| is a multiple of g; h = D lcm(n1, n2) = gmax / g exactly. */
        long h = (long)(gmax / (double)g + 0.5);
        if (h == 0) return 1.0;
        /* The exact p-value depends on (n1, n2, h) alone and costs O(n1 n2); a streaming
         * window checks the same sizes over and over with statistics that repeat, so each
         * thread keeps the last results (a cache of the same function: the answer is the
         * one the computation below gives, bit for bit). */
        enum { KS_CACHE = 4096 };
        static _Thread_local struct { long n1, n2, h; double p; } cache[KS_CACHE];
        uint64_t key = ((uint64_t)n1 * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)n2 * 0xC2B2AE3D27D4EB4Full) ^
                       ((uint64_t)h * 0x165667B19E3779F9ull);
        size_t slot = (size_t)(key >> 52) % KS_CACHE;
        if (cache[slot].n1 == n1 && cache[slot].n2 == n2 && cache[slot].h == h) return cache[slot].p;
        double p = NAN;
        if (n1 == n2) {
            p = ks_exact_square(n1, h);
        } else {
            double *A = malloc((size_t)(n1 > n2 ? n1 : n2) * 2 * sizeof *A + 2 * sizeof *A);
            if (A) p = ks_exact_inside(n1, n2, g, h, A);
            free(A);
        }
        if (p >= 0 && p <= 1) { /* scipy falls back to the asymptotic form otherwise */
            cache[slot].n1 = n1, cache[slot].n2 = n2, cache[slot].h = h, cache[slot].p = p;
            return p;
        }
    }
    /* scipy's "asymp": the finite-n distribution at n = round(nm / (n + m)), half to even. */
    double big = tr > tc ? tr : tc, small = tr > tc ? tc : tr;
    double en = nearbyint(big * small / (big + small));
    if (en >= 1 && en < 1e15) return kite__kstwo_sf((long)en, d);
    double p = kite__kolmogorov_sf(sqrt(tr * tc / (tr + tc)) * d); /* decayed windows below 1 */
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double kite__drift_ks(const double *ref, const double *cur, size_t n, double *pvalue)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    return kite__drift_ks_totals(ref, cur, n, tr, tc, pvalue);
}

double kite__drift_ks_totals(const double *ref, const double *cur, size_t n, double tr, double tc,
                            double *pvalue)
{
    if (pvalue) *pvalue = NAN;
    if (!(tr > 0) || !(tc > 0)) return NAN;
    /* Compare fr * tc with fc * tr (no division per bin); divide once at the end. */
    double fr = 0, fc = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        fr += ref[i];
        fc += cur[i];
        double g = fabs(fr * tc - fc * tr);
        if (g > d) d = g;
    }
    if (pvalue) *pvalue = ks_pvalue(tr, tc, d);
    return d / (tr * tc);
}

double kite__drift_wasserstein(const double *ref, const double *cur, size_t n, const float *edges)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    return kite__drift_wasserstein_totals(ref, cur, n, edges, tr, tc);
}

double kite__drift_wasserstein_totals(const double *ref, const double *cur, size_t n,
                                     const float *edges, double tr, double tc)
{
    if (!(tr > 0) || !(tc > 0)) return NAN;
    /* Mass of bin i sits at its lower edge (edges[i-1]; the underflow bin at edges[0]), so the
     * CDFs differ by |F_r(i) - F_c(i)| on [edges[i-1], edges[i]). */
    double fr = ref[0], fc = cur[0], w = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        fr += ref[i];
        fc += cur[i];
        w += fabs(fr * tc - fc * tr) * ((double)edges[i] - (double)edges[i - 1]);
    }
    return w / (tr * tc);
}

double kite__drift_ztest(const double *ref, const double *cur, size_t n, size_t k, double *pvalue)
{
    double tr, tc;
    totals(ref, cur, n, &tr, &tc);
    if (pvalue) *pvalue = NAN;
    if (!(tr > 0) || !(tc > 0) || k >= n) return NAN;
    double p1 = ref[k] / tr, p2 = cur[k] / tc;
    double p = (ref[k] + cur[k]) / (tr + tc);
    double se = sqrt(p * (1 - p) * (1 / tr + 1 / tc));
    double z = se > 0 ? (p2 - p1) / se : 0.0;
    if (pvalue) *pvalue = erfc(fabs(z) / sqrt(2.0));
    return z;
}

/* ---- special functions ------------------------------------------------------------------ */

/* Q(a, x) = Gamma(a, x) / Gamma(a): the series for P when x < a + 1 (converges fast there and
 * Q is not small, so 1 - P loses nothing that matters), else Lentz's continued fraction for Q
 * directly (keeps relative accuracy for tiny p-values). Both stop at 1e-16 relative. */
double kite__gamma_q(double a, double x)
{
    if (isnan(a) || isnan(x) || a <= 0) return NAN;
    if (x <= 0) return 1.0;
    if (isinf(x)) return 0.0;
    double lg = a * log(x) - x - lgamma(a);
    if (x < a + 1) {
        double ap = a, del = 1.0 / a, sum = del;
        for (int i = 0; i < 10000; i++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-17) break;
        }
        return 1.0 - sum * exp(lg);
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-17) break;
    }
    return exp(lg) * h;
}

double kite__chi2_sf(double x, double dof)
{
    if (isnan(x)) return NAN;
    if (x <= 0) return 1.0;
    return kite__gamma_q(dof / 2, x / 2);
}

/* Q_KS(x) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2) for large x; for small x the Jacobi theta
 * form P = sqrt(2 pi)/x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2)) converges in a few terms and
 * Q = 1 - P. The switch at x = 1 keeps both series within 1e-16 of their limits. */
double kite__kolmogorov_sf(double x)
{
    if (isnan(x)) return NAN;
    if (x <= 0) return 1.0;
    if (x < 1.0) {
        const double pi = 3.14159265358979323846;
        double s = 0, f = -pi * pi / (8 * x * x);
        for (int k = 1; k < 20; k++) {
            double t = exp(f * (2 * k - 1) * (2 * k - 1));
            s += t;
            if (t < 1e-18 * s) break;
        }
        return 1.0 - sqrt(2 * pi) / x * s;
    }
    double s = 0, sign = 1;
    for (int k = 1; k < 100; k++) {
        double t = exp(-2.0 * k * k * x * x);
        s += sign * t;
        if (t < 1e-18 * fabs(s)) break;
        sign = -sign;
    }
    return 2 * s;
}
