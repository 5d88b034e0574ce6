/* double -> float32 for values that come from outside (CSV text, JSON events and requests,
 * model files, computed features). C leaves a plain cast undefined when the double is beyond
 * float's range; IEEE 754 (and numpy's astype(float32), which the training side uses) round to
 * nearest, ties to even, and overflow to +-infinity. kite_f32 is that conversion, defined for
 * every double: inside the range it is the plain cast; from FLT_MAX up to the midpoint between
 * FLT_MAX and 2^128 it rounds down to FLT_MAX; from the midpoint on it is infinity (the tie
 * goes to infinity, FLT_MAX's significand being odd). NaN stays NaN. */
#ifndef KITE_F32_H
#define KITE_F32_H

#include <float.h>
#include <math.h>
#include <stddef.h>

static inline float kite_f32(double v)
{
    /* Selects, not branches, so a loop over an array vectorizes (compares and blends): only
     * finite values beyond the range are replaced before the cast, which is then defined. */
    const double mid = 0x1.ffffffp127; /* halfway between FLT_MAX and 2^128 */
    double a = fabs(v);
    double big = a >= mid ? INFINITY : (double)FLT_MAX;
    double c = a > (double)FLT_MAX ? copysign(big, v) : v;
    return (float)c;
}

/* kite_f32 over an array, for hot loops (the feature row of every event). Where the compiler
 * declares IEC 60559 (Annex F, __STDC_IEC_559__: GCC and clang on glibc), C defines a floating
 * conversion as the IEEE one, overflow to +-inf included, which is exactly kite_f32, so the plain
 * cast is used: it vectorizes to one conversion per lane, while the selects cost ~45 ns per
 * 101-feature event (kite_bench_features). Elsewhere the selects keep it defined. */
static inline void kite_f32_array(const double *in, float *out, size_t n)
{
#if defined(__STDC_IEC_559__)
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i];
#else
    for (size_t i = 0; i < n; i++) out[i] = kite_f32(in[i]);
#endif
}

/* double -> int for counts and versions read from files: clamped, NaN -> 0. */
static inline int kite_int_clamp(double v, int lo, int hi)
{
    if (!(v >= (double)lo)) return v != v ? 0 : lo;
    if (v > (double)hi) return hi;
    return (int)v;
}

#endif
