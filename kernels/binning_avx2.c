/* AVX2 binning kernel: 8 values per step, the same bins as kite_bin_of (kernels/binning.h).
 *
 * Up to BINNING_AVX2_LINEAR_MAX edges (the coarse 10-bin histograms): bin = #{e <= x} counted
 * directly, one compare + subtract per edge for 8 values at once, no memory dependence. More
 * edges (the fine 256-bin grid): the scalar kernel's branch-free lower bound run on 8 lanes,
 * probing edges with a gather per halving step. NaN lanes get nedges + 1 by a final blend;
 * "<=" is an ordered compare, so NaN counts no edge in either path, as in the scalar code. */
#include <immintrin.h>

#include "binning.h"

#define BINNING_AVX2_LINEAR_MAX 24

static inline __m256 load8(const float *v, size_t stride, __m256i gather_idx)
{
    if (stride == 1) return _mm256_loadu_ps(v);
    return _mm256_i32gather_ps(v, gather_idx, 4);
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
            for (; k + 8 <= nvalues; k += 8) {
                __m256 x = load8(values + k * stride, stride, gather_idx);
                __m256i base = _mm256_setzero_si256();
                size_t n = (size_t)nedges;
                while (n > 1) {
                    size_t half = n / 2;
                    __m256i probe_at = _mm256_add_epi32(base, _mm256_set1_epi32((int)half - 1));
                    __m256 probe = _mm256_i32gather_ps(edges, probe_at, 4);
                    __m256i le = _mm256_castps_si256(_mm256_cmp_ps(probe, x, _CMP_LE_OQ));
                    base = _mm256_add_epi32(base, _mm256_and_si256(le, _mm256_set1_epi32((int)half)));
                    n -= half;
                }
                if (n == 1) {
                    __m256 last = _mm256_i32gather_ps(edges, base, 4);
                    base = _mm256_sub_epi32(base, _mm256_castps_si256(_mm256_cmp_ps(last, x, _CMP_LE_OQ)));
                }
                __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
                base = _mm256_blendv_epi8(base, missing, _mm256_castps_si256(nan));
                store8(out + k, base);
            }
        }
    }
    for (; k < nvalues; k++) out[k] = (uint16_t)kite_bin_of(edges, nedges, values[k * stride]);
}
