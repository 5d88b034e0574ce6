/* Binning kernels: map feature values to histogram bins over frozen, sorted bin edges.
 *
 * Bin layout of one histogram with n edges e[0] < e[1] < ... < e[n-1] (strictly increasing,
 * finite floats; the reference profile stores them, see loaders/profile/include/kite/profile.h):
 *
 *   bin 0        underflow        x <  e[0]
 *   bin i        1 <= i <= n-1    e[i-1] <= x < e[i]
 *   bin n        overflow         x >= e[n-1]
 *   bin n+1      missing          x is NaN
 *
 * i.e. bin(x) = #{ i : e[i] <= x } for a number, n + 1 for NaN: n + 2 bins in all. Equal
 * values always share a bin (ties are never split), and +-inf land in the under/overflow bins.
 *
 * kite_binning_index() writes one uint16 bin index per value; n is at most KITE_BINNING_MAX_EDGES
 * so every index fits. Every ISA variant must give exactly the scalar kernel's indices
 * (tests/test_binning.c compares them on random and edge-case values). */
#ifndef KITE_BINNING_H
#define KITE_BINNING_H

#include <stddef.h>
#include <stdint.h>

#define KITE_BINNING_MAX_EDGES 4094

/* values[k * stride] for k in [0, nvalues) -> out[k]. */
typedef void (*kite_binning_fn)(const float *edges, int nedges, const float *values,
                                size_t nvalues, size_t stride, uint16_t *out);

void kite_binning_index_scalar(const float *edges, int nedges, const float *values,
                               size_t nvalues, size_t stride, uint16_t *out);
/* AVX2 variant; present only on x86-64 builds (kernels/binning/binning_avx2.c). */
void kite_binning_index_avx2(const float *edges, int nedges, const float *values,
                             size_t nvalues, size_t stride, uint16_t *out);

/* The best variant for this CPU (chosen once; KITE_ISA=scalar forces the scalar one). */
void kite_binning_index(const float *edges, int nedges, const float *values, size_t nvalues,
                        size_t stride, uint16_t *out);
/* "scalar" or "avx2": which variant kite_binning_index runs. */
const char *kite_binning_active(void);

/* Histogram form: adds the bins of values[k * stride], k < nvalues, into counts[0..nedges+1]
 * (nedges + 2 counters, missing last), without materializing indices. The AVX2 variant counts,
 * per edge, the values at or above it (one compare + subtract per edge and 8 values) and
 * differences those counts into bins at the end: the same histogram as counting
 * kite_bin_of() of every value. nvalues must be below 2^31. */
typedef void (*kite_binning_count_fn)(const float *edges, int nedges, const float *values,
                                      size_t nvalues, size_t stride, double *counts);
void kite_binning_count_scalar(const float *edges, int nedges, const float *values,
                               size_t nvalues, size_t stride, double *counts);
void kite_binning_count_avx2(const float *edges, int nedges, const float *values,
                             size_t nvalues, size_t stride, double *counts);
void kite_binning_count(const float *edges, int nedges, const float *values, size_t nvalues,
                        size_t stride, double *counts);

/* One value's bin (the scalar definition above). Branch-free lower bound: the loop runs
 * ceil(log2(n+1)) times whatever x is, so there is no mispredicted branch per value. */
static inline unsigned kite_bin_of(const float *edges, int nedges, float x)
{
    if (x != x) return (unsigned)nedges + 1u;
    const float *base = edges;
    size_t n = (size_t)nedges;
    while (n > 1) {
        size_t half = n / 2;
        base += (size_t)(base[half - 1] <= x) * half; /* arithmetic, never a branch */
        n -= half;
    }
    return (unsigned)(base - edges) + (unsigned)(n == 1 && base[0] <= x);
}

#endif
