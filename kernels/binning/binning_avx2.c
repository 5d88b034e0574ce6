/* AVX2 binning kernel: 8 values per step, the same bins as kite_bin_of (kernels/binning/include/kite/binning.h).
 *
 * Up to BINNING_AVX2_LINEAR_MAX edges (the coarse 10-bin histograms): bin = #{e <= x} counted
 * directly, one compare + subtract per edge for 8 values at once, no memory dependence. More
 * edges (the fine 256-bin grid): the scalar kernel's branch-free lower bound run on 8 lanes,
 * probing edges with a gather per halving step. NaN lanes get nedges + 1 by a final blend;
 * "<=" is an ordered compare, so NaN counts no edge in either path, as in the scalar code. */
#include <immintrin.h>

#include <kite/binning.h>

#define BINNING_AVX2_LINEAR_MAX 24

static inline __m256 load8(const float *v, size_t stride, __m256i gather_idx)
{
    if (stride == 1) return _mm256_loadu_ps(v);
#if defined(KITE_BINNING_GATHER)
    return _mm256_i32gather_ps(v, gather_idx, 4);
#else
    /* Eight scalar loads: as fast as a gather on Intel and much faster on AMD Zen, where
     * vgatherdps is microcoded. */
    (void)gather_idx;
    return _mm256_setr_ps(v[0], v[stride], v[2 * stride], v[3 * stride], v[4 * stride],
                          v[5 * stride], v[6 * stride], v[7 * stride]);
#endif
}

static inline void store8(uint16_t *out, __m256i bins)
{
    __m128i lo = _mm256_castsi256_si128(bins), hi = _mm256_extracti128_si256(bins, 1);
    _mm_storeu_si128((__m128i *)out, _mm_packus_epi32(lo, hi));
}

void kite_binning_index_avx2(const float *edges, int nedges, const float *values, size_t nvalues,
                             size_t stride, uint16_t *out)
{
    size_t k = 0;
    /* Gather offsets k * stride must fit an int32: otherwise (huge strides) stay scalar. */
    if (stride <= (size_t)INT32_MAX / 8) {
        const int s = (int)stride;
        const __m256i gather_idx = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
        const __m256i missing = _mm256_set1_epi32(nedges + 1);
        if (nedges <= BINNING_AVX2_LINEAR_MAX) {
            __m256 e[BINNING_AVX2_LINEAR_MAX];
            for (int j = 0; j < nedges; j++) e[j] = _mm256_set1_ps(edges[j]);
            for (; k + 8 <= nvalues; k += 8) {
                __m256 x = load8(values + k * stride, stride, gather_idx);
                __m256i acc = _mm256_setzero_si256();
                for (int j = 0; j < nedges; j++) /* a true compare is -1: subtracting counts it */
                    acc = _mm256_sub_epi32(acc, _mm256_castps_si256(_mm256_cmp_ps(e[j], x, _CMP_LE_OQ)));
                __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
                acc = _mm256_blendv_epi8(acc, missing, _mm256_castps_si256(nan));
                store8(out + k, acc);
            }
        } else {
            /* Four independent searches interleaved: each halving step waits on a gather
             * (~20 cycles), so one search alone leaves the core idle most of the time. */
            for (; k + 32 <= nvalues; k += 32) {
                __m256 x[4];
                __m256i base[4];
                for (int g = 0; g < 4; g++) {
                    x[g] = load8(values + (k + 8 * (size_t)g) * stride, stride, gather_idx);
                    base[g] = _mm256_setzero_si256();
                }
                size_t n = (size_t)nedges;
                while (n > 1) {
                    size_t half = n / 2;
                    __m256i off = _mm256_set1_epi32((int)half - 1), step = _mm256_set1_epi32((int)half);
                    for (int g = 0; g < 4; g++) {
                        __m256 probe = _mm256_i32gather_ps(edges, _mm256_add_epi32(base[g], off), 4);
                        __m256i le = _mm256_castps_si256(_mm256_cmp_ps(probe, x[g], _CMP_LE_OQ));
                        base[g] = _mm256_add_epi32(base[g], _mm256_and_si256(le, step));
                    }
                    n -= half;
                }
                for (int g = 0; g < 4; g++) {
                    if (n == 1) {
                        __m256 last = _mm256_i32gather_ps(edges, base[g], 4);
                        base[g] = _mm256_sub_epi32(base[g], _mm256_castps_si256(_mm256_cmp_ps(last, x[g], _CMP_LE_OQ)));
                    }
                    __m256 nan = _mm256_cmp_ps(x[g], x[g], _CMP_UNORD_Q);
                    store8(out + k + 8 * (size_t)g, _mm256_blendv_epi8(base[g], missing, _mm256_castps_si256(nan)));
                }
            }
        }
    }
    for (; k < nvalues; k++) out[k] = (uint16_t)kite_bin_of(edges, nedges, values[k * stride]);
}

/* The counting loop, inlined with a constant nedges for the common sizes so the compiler
 * unrolls the edge loop and keeps every counter in a register. Returns values consumed. */
static inline __attribute__((always_inline)) size_t
count_body(const float *edges, const int nedges, const float *values, size_t nvalues,
           size_t stride, double *counts)
{
    /* at[j]: per lane, values with edges[j] <= x; nan: per lane, NaN values. The edges are
     * re-broadcast from L1 each step (a load) so the counters can have the registers. */
    __m256i at[BINNING_AVX2_LINEAR_MAX], nan = _mm256_setzero_si256();
    for (int j = 0; j < nedges; j++) at[j] = _mm256_setzero_si256();
    const int s = (int)stride;
    const __m256i gather_idx = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
    size_t k = 0;
    for (; k + 8 <= nvalues; k += 8) {
        __m256 x = load8(values + k * stride, stride, gather_idx);
        for (int j = 0; j < nedges; j++)
            at[j] = _mm256_sub_epi32(
                at[j], _mm256_castps_si256(_mm256_cmp_ps(_mm256_broadcast_ss(edges + j), x, _CMP_LE_OQ)));
        nan = _mm256_sub_epi32(nan, _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
    }
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, nan);
    double n_nan = 0, prev = (double)k;
    for (int l = 0; l < 8; l++) n_nan += lanes[l];
    prev -= n_nan; /* values at or above "edge -1": every number */
    for (int j = 0; j < nedges; j++) {
        _mm256_storeu_si256((__m256i *)lanes, at[j]);
        double c = 0;
        for (int l = 0; l < 8; l++) c += lanes[l];
        counts[j] += prev - c; /* bin j: at or above edge j-1, below edge j */
        prev = c;
    }
    counts[nedges] += prev;
    counts[nedges + 1] += n_nan;
    return k;
}

void kite_binning_count_avx2(const float *edges, int nedges, const float *values, size_t nvalues,
                             size_t stride, double *counts)
{
    if (nedges > BINNING_AVX2_LINEAR_MAX || stride > (size_t)INT32_MAX / 8) {
        kite_binning_count_scalar(edges, nedges, values, nvalues, stride, counts);
        return;
    }
    size_t k;
    switch (nedges) { /* 11: 10 quantile bins, the default; fewer when ties merged edges */
    case 11: k = count_body(edges, 11, values, nvalues, stride, counts); break;
    case 10: k = count_body(edges, 10, values, nvalues, stride, counts); break;
    case 9: k = count_body(edges, 9, values, nvalues, stride, counts); break;
    default: k = count_body(edges, nedges, values, nvalues, stride, counts); break;
    }
    for (; k < nvalues; k++) counts[kite_bin_of(edges, nedges, values[k * stride])] += 1;
}
