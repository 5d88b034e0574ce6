/* Private to kite_features (engine/features/), not installed.
 * Rolling-window accumulator of one key (see features.h for where it lives in a key's slot).
 *
 * The window of accumulator a at event p covers x[p-s-w+1 .. p-s] (s = shift, w = window).
 * Each event removes x[p-s-w] and adds x[p-s]; missing (NaN) values are neither added nor
 * removed, so statistics are over the window's non-missing values (pandas
 * rolling(w, min_periods=1) over shift(s), which skips NaN).
 *
 *   sum:  Kahan-compensated (of in - old, one step per event);
 *   M2:   Welford (mean and sum of squared deviations), numerically stable, with the remove
 *         and the add of an event fused into one update (kf_acc_step);
 *         a run of identical values gives std exactly 0, as pandas does;
 *   min/max: van Herk / Gil-Werman blocks: the stream is cut into blocks of w events; a
 *         running prefix min of the current block and the suffix mins of the previous block
 *         (recomputed from the ring once per block, w steps every w events) give the window's
 *         min as min(prefix, suffix[r + 1]). Amortised O(1) like a monotonic deque, but with
 *         no data-dependent branch: a deque's pop loop mispredicts about once per event and
 *         measured 2x slower here (bench/RESULTS.md, "Feature pipeline bench"). Missing values are
 *         +inf for min (-inf for max), so they never win; an all-missing window gives NaN.
 * Everything restarts from exact zeros whenever the window holds no value, so rounding never
 * accumulates across an all-missing stretch. */
#ifndef KITE_FEATURES_WINDOW_H
#define KITE_FEATURES_WINDOW_H

#include <math.h>
#include <stdint.h>

typedef struct kf_acc {
    double kfa_sum;        /* Kahan sum of the window's values                              */
    double kfa_comp;       /* its compensation term                                          */
    double kfa_mean;       /* Welford running mean                                           */
    double kfa_m2;         /* Welford sum of squared deviations from the mean                */
    double kfa_prev;       /* last value added: detects runs of identical values            */
    double kfa_pmin;       /* min / max of the current block so far (+inf / -inf: none)     */
    double kfa_pmax;
    double kfa_min;        /* the window's min / max after the last event (NaN: none)       */
    double kfa_max;
    uint32_t kfa_n;        /* non-missing values in the window                               */
    uint32_t kfa_same;     /* length of the run of identical values ending at the last add  */
    uint32_t kfa_block;    /* position of the next event inside its block, 0 .. w-1          */
} kf_acc;

static inline void kf_kahan_add(kf_acc *a, double v)
{
    double y = v - a->kfa_comp;
    double t = a->kfa_sum + y;
    a->kfa_comp = (t - a->kfa_sum) - y;
    a->kfa_sum = t;
}

/* One event: x[q-w] leaves the window (old), x[q] enters (in); either may be NaN (missing).
 * One combined, branch-free step (apart from the rare reset when the window empties):
 * a missing value is replaced by the current mean, which makes its term vanish, so
 *   n'   = n - [old present] + [in present]
 *   m'   = m + (xi - xo) / n'
 *   M2'  = M2 + (xi - xo) * ((xi - m') + (xo - m))
 * covers add-only, remove-only, replace and neither (each reduces to Welford's add / remove
 * update). The only loop-carried dependencies are one add on m and one on M2, where separate
 * remove-then-add steps chain two divisions' worth of latency through the mean.
 * inv[n] = 1/n replaces the division (inv[0] = 0). The sum is Kahan-compensated. */
static inline void kf_acc_step(kf_acc *a, double old, double in, const double *inv, int want_var)
{
    int vo = old == old, vi = in == in;
    uint32_t n = a->kfa_n - (uint32_t)vo + (uint32_t)vi;
    if (n == 0) { /* the window holds no value: restart from exact zeros */
        a->kfa_sum = a->kfa_comp = a->kfa_mean = a->kfa_m2 = 0;
        a->kfa_n = 0;
        return;
    }
    kf_kahan_add(a, (vi ? in : 0.0) - (vo ? old : 0.0));
    if (want_var) {
        double m = a->kfa_mean, xi = vi ? in : m, xo = vo ? old : m;
        double dx = xi - xo, m1 = m + dx * inv[n];
        a->kfa_m2 += dx * ((xi - m1) + (xo - m));
        a->kfa_mean = m1;
        uint32_t same = in == a->kfa_prev ? a->kfa_same + 1 : 1;
        a->kfa_same = vi ? same : a->kfa_same;
        a->kfa_prev = vi ? in : a->kfa_prev;
    }
    a->kfa_n = n;
}

static inline double kf_acc_mean(const kf_acc *a, const double *inv)
{
    return a->kfa_n ? a->kfa_sum * inv[a->kfa_n] : NAN;
}

static inline double kf_acc_std(const kf_acc *a, const double *inv)
{
    if (a->kfa_n < 2) return NAN;
    if (a->kfa_same >= a->kfa_n) return 0.0;
    double var = a->kfa_m2 * inv[a->kfa_n - 1];
    return var > 0 ? sqrt(var) : 0.0;
}
/* Min/max step for event position q (value in), window w: see the top of this file.
 * sfx: w + 1 (min, max) pairs. */
static inline void kf_minmax_step(kf_acc *a, double *sfx, const double *ring, uint32_t rmask,
                                  uint64_t q, uint32_t w, double in)
{
    uint32_t r = a->kfa_block;
    if (r == 0) { /* q starts a block: suffix mins/maxes of the previous one, [q-w, q-1] */
        double lo = INFINITY, hi = -INFINITY;
        sfx[2 * w] = lo;
        sfx[2 * w + 1] = hi;
        for (uint32_t i = w; i-- > 0;) {
            double x = ring[(q - w + i) & rmask];
            lo = x < lo ? x : lo; /* NaN compares false: skipped */
            hi = x > hi ? x : hi;
            sfx[2 * i] = lo;
            sfx[2 * i + 1] = hi;
        }
        a->kfa_pmin = INFINITY;
        a->kfa_pmax = -INFINITY;
    }
    double pmin = in < a->kfa_pmin ? in : a->kfa_pmin, pmax = in > a->kfa_pmax ? in : a->kfa_pmax;
    double smin = sfx[2 * r + 2], smax = sfx[2 * r + 3];
    double mn = pmin < smin ? pmin : smin, mx = pmax > smax ? pmax : smax;
    a->kfa_pmin = pmin;
    a->kfa_pmax = pmax;
    a->kfa_min = mn == INFINITY ? NAN : mn;
    a->kfa_max = mx == -INFINITY ? NAN : mx;
    a->kfa_block = r + 1 == w ? 0 : r + 1;
}

#endif
