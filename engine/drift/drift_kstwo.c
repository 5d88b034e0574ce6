/* The survival function of the two-sided one-sample Kolmogorov-Smirnov statistic D_n,
 * P(D_n >= x) for a finite n: scipy.stats.kstwo.sf(x, n), which scipy's ks_2samp uses as its
 * "asymp" p-value with n = round(n1 n2 / (n1 + n2)) (Evidently's KS on more than 10000 values a
 * side). A port of scipy/stats/_ksstats.py (Simard & L'Ecuyer 2011's choice of method by n and
 * n x^2: Ruben-Gambino ends, Durbin's matrix (Marsaglia-Tsang-Wang), Pomeranz, Pelz-Good, and
 * 2 * Smirnov's one-sided tail), branch for branch with the same cut-offs, so the two agree to
 * rounding (tests/e2e/drift_stats_check.py: 1e-9 relative). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift_stats.h"

#define KS_PI 3.14159265358979323846
#define KS_E128 128

static double clip01(double p) { return p < 0 ? 0 : p > 1 ? 1 : p; }

/* log(n! / n^n) by Stirling's series with n log n removed up front (no cancellation). */
static double log_nfact_div_npown(double n)
{
    static const double c[] = {-2.955065359477124183e-2, 6.4102564102564102564e-3,
                               -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                               -5.952380952380952381e-4, 7.9365079365079365079e-4,
                               -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / n, y = rn / n, poly = 0;
    for (int i = 0; i < 8; i++) poly = poly * y + c[i];
    return log(n) / 2 - n + log(2 * KS_PI) / 2 + rn * poly;
}

/* Smirnov's one-sided tail P(D_n+ >= x) = x sum_{j <= n(1-x)} C(n,j) (1-x-j/n)^(n-j)
 * (x+j/n)^(j-1): positive terms, summed in logs (no cancellation). */
static double smirnov(long n, double x)
{
    if (x <= 0) return 1.0;
    if (x >= 1) return 0.0;
    /* lc = log C(n, j), stepped by log((n-j+1)/j): one log per term instead of three lgammas,
     * Kahan-compensated (lc reaches ~n; plain adding would walk ~sqrt(n) ulps off). */
    double sum = 0, lc = 0, lc_err = 0;
    long jmax = (long)floor((double)n * (1 - x));
    for (long j = 0; j <= jmax; j++) {
        if (j > 0) {
            double y = log((double)(n - j + 1) / (double)j) - lc_err, t = lc + y;
            lc_err = (t - lc) - y;
            lc = t;
        }
        double a = 1 - x - (double)j / (double)n, b = x + (double)j / (double)n;
        if (a <= 0 && j < n) continue; /* 0^(n-j) */
        double lt = lc + (j < n ? (double)(n - j) * log(a) : 0) + (double)(j - 1) * log(b);
        sum += exp(lt);
    }
    return x * sum;
}

/* C = A B for m x m row-major matrices. */
static void matmul(const double *A, const double *B, double *C, int m)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int k = 0; k < m; k++) s += A[i * m + k] * B[k * m + j];
            C[i * m + j] = s;
        }
}

/* P(D_n <= d) by Durbin's matrix: the k-th diagonal entry of H^n times n!/n^n, scaled by 2^128
 * steps to stay in range (m = 2k - 1 <= ~120 where it is used). NaN on no memory. */
static double kolmogn_dmtw(long n, double d)
{
    if (d >= 1.0) return 1.0;
    double nd = (double)n * d;
    if (nd <= 0.5) return 0.0;
    int k = (int)ceil(nd), m = 2 * k - 1;
    double h = k - nd;
    double *H = calloc((size_t)m * m * 4 + (size_t)m * 2, sizeof *H);
    if (!H) return NAN;
    double *P = H + m * m, *T = P + m * m, *T2 = T + m * m, *v = T2 + m * m, *w = v + m;
    double fac = 1.0;
    for (int j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    double tt = pow(fmax(2 * h - 1.0, 0), m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (int i = 1; i < m; i++) /* H[i-1:, i] = w[:m-i+1] */
        for (int r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
    for (int r = 0; r < m; r++) H[r * m] = v[r];
    for (int c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];
    for (int i = 0; i < m; i++) P[i * m + i] = 1.0;
    long nn = n;
    int expnt = 0, hexpnt = 0;
    while (nn > 0) {
        if (nn % 2) {
            matmul(P, H, T, m);
            memcpy(P, T, (size_t)m * m * sizeof *P);
            expnt += hexpnt;
        }
        matmul(H, H, T2, m);
        memcpy(H, T2, (size_t)m * m * sizeof *H);
        hexpnt *= 2;
        if (fabs(H[(k - 1) * m + (k - 1)]) > ldexp(1.0, KS_E128)) {
            for (int i = 0; i < m * m; i++) H[i] = ldexp(H[i], -KS_E128);
            hexpnt += KS_E128;
        }
        nn /= 2;
    }
    double p = P[(k - 1) * m + (k - 1)];
    free(H);
    for (long i = 1; i <= n; i++) {
        p = (double)i * p / (double)n;
        if (fabs(p) < ldexp(1.0, -KS_E128)) {
            p = ldexp(p, KS_E128);
            expnt -= KS_E128;
        }
    }
    return expnt ? ldexp(p, expnt) : p;
}

static void pomeranz_j1j2(long i, long n, long ll, long ceilf, long roundf, long *j1, long *j2)
{
    long a, b;
    if (i == 0) {
        a = -ll - ceilf - 1;
        b = ll + ceilf - 1;
    } else {
        long ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
        if (ip1mod2 == 0) {
            if (ip1div2 == n + 1) {
                a = n - ll - ceilf - 1;
                b = n + ll + ceilf - 1;
            } else {
                a = ip1div2 - 1 - ll - roundf - 1;
                b = ip1div2 + ll - 1 + ceilf - 1;
            }
        } else {
            a = ip1div2 - 1 - ll - 1;
            b = ip1div2 + ll + roundf - 1;
        }
    }
    *j1 = a + 2 > 0 ? a + 2 : 0;
    *j2 = b < n ? b : n;
}

/* P(D_n <= x) by Pomeranz's recursion (used for n <= 140): two rows of Poisson convolutions. */
static double kolmogn_pomeranz(long n, double x)
{
    double t = (double)n * x;
    long ll = (long)floor(t);
    double f = t - (double)ll, g = fmin(f, 1.0 - f);
    long ceilf = f > 0, roundf = f > 0.5, npwrs = 2 * (ll + 1);
    double *buf = calloc((size_t)npwrs * 5, sizeof *buf);
    if (!buf) return NAN;
    double *gp = buf, *tgp = gp + npwrs, *omp = tgp + npwrs, *V0 = omp + npwrs, *V1 = V0 + npwrs;
    gp[0] = tgp[0] = omp[0] = 1.0;
    double gn = g / (double)n, tgn = 2 * g / (double)n, omn = (1 - 2 * g) / (double)n;
    for (long m = 1; m < npwrs; m++) {
        gp[m] = gp[m - 1] * gn / (double)m;
        tgp[m] = tgp[m - 1] * tgn / (double)m;
        omp[m] = omp[m - 1] * omn / (double)m;
    }
    V1[0] = 1;
    long V0s = 0, V1s = 0, j1, j2;
    int expnt = 0;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
    for (long i = 1; i < 2 * n + 2; i++) {
        long k1 = j1;
        double *sw = V0;
        V0 = V1;
        V1 = sw;
        long s = V0s;
        V0s = V1s;
        V1s = s;
        memset(V1, 0, (size_t)npwrs * sizeof *V1);
        pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? tgp : omp);
        long ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            /* V1[:len] = convolve(V0[k1-V0s : +ln2], pw[:ln2])[j1-k1 : +len] */
            const double *a = V0 + (k1 - V0s);
            long start = j1 - k1, len = j2 - j1 + 1;
            double vmax = 0;
            for (long q = 0; q < len; q++) {
                long kk = start + q;
                double sum = 0;
                for (long u = 0; u < ln2; u++)
                    if (kk - u >= 0 && kk - u < ln2) sum += a[u] * pw[kk - u];
                V1[q] = sum;
                if (sum > vmax) vmax = sum;
            }
            if (vmax > 0 && vmax < ldexp(1.0, -KS_E128)) {
                for (long q = 0; q < npwrs; q++) V1[q] = ldexp(V1[q], KS_E128);
                expnt -= KS_E128;
            }
            V1s = V0s + j1 - k1;
        }
    }
    double ans = V1[n - V1s];
    free(buf);
    for (long m = 1; m <= n; m++) {
        if (fabs(ans) > ldexp(1.0, KS_E128)) {
            ans = ldexp(ans, -KS_E128);
            expnt += KS_E128;
        }
        ans *= (double)m;
    }
    return expnt ? ldexp(ans, expnt) : ans;
}

/* The Pelz-Good asymptotic series for P(D_n <= x), four terms in 1/sqrt(n). */
static double kolmogn_pelzgood(long n, double x)
{
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    const double pi2 = KS_PI * KS_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    const double sqrt2pi = sqrt(2 * KS_PI), sqrt3 = sqrt(3.0);
    double z = sqrt((double)n) * x;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double qlog = -pi2 / 8 / z2;
    if (qlog < -708) return 0.0;
    double q = exp(qlog);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
    double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * pow(z, 8);
    double K[4] = {0, 0, 0, 0};
    int maxk = (int)ceil(16 * z / KS_PI);
    for (int k = maxk; k > 0; k--) {
        double m = 2.0 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, 8.0 * k);
        double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
    }
    double div[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++) K[i] = K[i] * q * sqrt2pi / div[i];
    q = exp(-pi2 / 2 / z2);
    double k2extra = 0, k3extra = 0, s3z = sqrt3 * z;
    for (int k = maxk; k > 0; k--) {
        double ks2 = (double)k * k, kspi = KS_PI * k, qk = pow(q, ks2);
        k2extra += ks2 * qk;
        k3extra += (s3z + kspi) * (s3z - kspi) * ks2 * qk;
    }
    K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
    K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
    double sum = 0;
    for (int i = 0; i < 4; i++) sum += K[i] / pow((double)n, i / 2.0);
    return sum;
}

double kite__kstwo_sf(long n, double x)
{
    if (isnan(x) || n <= 0) return NAN;
    if (x >= 1.0) return 0.0;
    if (x <= 0.0) return 1.0;
    double t = (double)n * x;
    if (t <= 1.0) { /* Ruben-Gambino: 1/2n <= x <= 1/n */
        if (t <= 0.5) return 1.0;
        double prob;
        if (n <= 140) {
            prob = 1.0;
            for (long i = 1; i <= n; i++) prob *= (double)i * (1.0 / (double)n) * (2 * t - 1);
        } else {
            prob = exp(log_nfact_div_npown((double)n) + (double)n * log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= (double)n - 1) return clip01(2 * pow(1.0 - x, (double)n)); /* Ruben-Gambino */
    if (x >= 0.5) return clip01(2 * smirnov(n, x));
    double nx2 = t * x;
    if (n <= 140) {
        if (nx2 <= 0.754693) return clip01(1.0 - kolmogn_dmtw(n, x));
        if (nx2 <= 4) return clip01(1.0 - kolmogn_pomeranz(n, x));
        return clip01(2 * smirnov(n, x));
    }
    if (nx2 >= 370.0) return 0.0;
    if (nx2 >= 2.2) return clip01(2 * smirnov(n, x));
    double cdf = (n <= 100000 && (double)n * pow(x, 1.5) <= 1.4) ? kolmogn_dmtw(n, x)
                                                                : kolmogn_pelzgood(n, x);
    return clip01(1.0 - cdf);
}
