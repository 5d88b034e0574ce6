/* Rolling-window accumulator of one key (see features.h for where it lives in a key's slot).
 *
 * The window of accumulator a at event p covers x[p-s-w+1 .. p-s] (s = shift, w = window).
 * Each event removes x[p-s-w] and adds x[p-s]; missing (NaN) values are neither added nor
 * removed, so statistics are over the window's non-missing values (pandas
 * rolling(w, min_periods=1) over shift(s), which skips NaN).
 *
 *   sum:  Kahan-compensated add/remove, the same steps pandas' roll_sum/roll_mean take;
 *   M2:   Welford add/remove (mean and sum of squared deviations), numerically stable;
 *         a run of identical values gives std exactly 0, as pandas does;
 *   min/max: monotonic deques of event positions, each pushed and popped at most once.
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
    uint32_t kfa_n;        /* non-missing values in the window                               */
    uint32_t kfa_same;     /* length of the run of identical values ending at the last add  */
    uint32_t kfa_min_head, kfa_min_tail; /* min deque: [head, tail) wrapping counters       */
    uint32_t kfa_max_head, kfa_max_tail;
} kf_acc;

_Static_assert(sizeof(kf_acc) <= 64, "one accumulator per cache line");

static inline void kf_kahan_add(kf_acc *a, double v)
{
    double y = v - a->kfa_comp;
    double t = a->kfa_sum + y;
    a->kfa_comp = (t - a->kfa_sum) - y;
    a->kfa_sum = t;
}

static inline void kf_acc_remove(kf_acc *a, double v, int want_var)
{
    if (--a->kfa_n == 0) {
        a->kfa_sum = a->kfa_comp = a->kfa_mean = a->kfa_m2 = 0;
        return;
    }
    kf_kahan_add(a, -v);
    if (want_var) {
        double d = v - a->kfa_mean;
        a->kfa_mean -= d / (double)a->kfa_n;
        a->kfa_m2 -= d * (v - a->kfa_mean);
    }
}

static inline void kf_acc_add(kf_acc *a, double v, int want_var)
{
    a->kfa_n++;
    kf_kahan_add(a, v);
    if (want_var) {
        double d = v - a->kfa_mean;
        a->kfa_mean += d / (double)a->kfa_n;
        a->kfa_m2 += d * (v - a->kfa_mean);
        a->kfa_same = v == a->kfa_prev ? a->kfa_same + 1 : 1;
        a->kfa_prev = v;
    }
}

static inline double kf_acc_mean(const kf_acc *a) { return a->kfa_n ? a->kfa_sum / a->kfa_n : NAN; }

static inline double kf_acc_std(const kf_acc *a)
{
    if (a->kfa_n < 2) return NAN;
    if (a->kfa_same >= a->kfa_n) return 0.0;
    double var = a->kfa_m2 / (double)(a->kfa_n - 1);
    return var > 0 ? sqrt(var) : 0.0;
}

/* Monotonic deque step for position q holding value v (NaN: only expire). dir_min: 1 keeps
 * increasing values (front = min), 0 decreasing (front = max). */
static inline void kf_deque_push(uint32_t *dq, uint32_t dmask, uint32_t *head, uint32_t *tail,
                                 const double *ring, uint32_t rmask, uint32_t q, uint32_t w,
                                 double v, int dir_min)
{
    while (*head != *tail && (uint32_t)(q - dq[*head & dmask]) >= w) (*head)++;
    if (v != v) return;
    while (*head != *tail) {
        double back = ring[dq[(*tail - 1) & dmask] & rmask];
        if (dir_min ? back < v : back > v) break;
        (*tail)--;
    }
    dq[(*tail)++ & dmask] = q;
}

static inline double kf_deque_front(const uint32_t *dq, uint32_t dmask, uint32_t head,
                                    uint32_t tail, const double *ring, uint32_t rmask)
{
    return head != tail ? ring[dq[head & dmask] & rmask] : NAN;
}

#endif
