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

static inline float kite_f32(double v)
{
    const double mid = 0x1.ffffffp127; /* halfway between FLT_MAX and 2^128 */
    if (v >= mid) return INFINITY;
    if (v <= -mid) return -INFINITY;
    if (v > FLT_MAX) return FLT_MAX;
    if (v < -FLT_MAX) return -FLT_MAX;
    return (float)v;
}

/* double -> int for counts and versions read from files: clamped, NaN -> 0. */
static inline int kite_int_clamp(double v, int lo, int hi)
{
    if (!(v >= (double)lo)) return v != v ? 0 : lo;
    if (v > (double)hi) return hi;
    return (int)v;
}

#endif
