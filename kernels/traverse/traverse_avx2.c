/* AVX2 traversal kernel: 8 rows per vector. Compiled with -mavx2 (its own object library);
 * dispatch.c calls it only when cpuid and xgetbv say the CPU and OS support AVX2. */
#include <immintrin.h>

#include "traverse.h"

#define KV_LANES 8
#define KV_LANES_LOG2 3
#define KV_DIRECT_LEVELS 3 /* levels loaded directly from the columns block */
#define KV_NAME kite__margins_avx2

typedef __m256 kv_f;
typedef __m256i kv_i;
typedef __m256i kv_m; /* all-ones lanes */

static inline kv_f kv_f_set1(float v) { return _mm256_set1_ps(v); }
static inline kv_f kv_f_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void kv_f_storeu(float *p, kv_f v) { _mm256_storeu_ps(p, v); }
static inline kv_f kv_f_add(kv_f a, kv_f b) { return _mm256_add_ps(a, b); }
static inline kv_i kv_i_set1(int32_t v) { return _mm256_set1_epi32(v); }
static inline kv_i kv_i_loadu(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void kv_i_storeu(int32_t *p, kv_i v) { _mm256_storeu_si256((__m256i *)p, v); }
static inline kv_i kv_i_add(kv_i a, kv_i b) { return _mm256_add_epi32(a, b); }
static inline kv_i kv_i_and(kv_i a, kv_i b) { return _mm256_and_si256(a, b); }
static inline kv_i kv_i_max(kv_i a, kv_i b) { return _mm256_max_epi32(a, b); }
static inline kv_i kv_i_add_mask1(kv_i v, kv_m m) { return _mm256_sub_epi32(v, m); }
static inline kv_m kv_i_nonzero(kv_i v)
{
    return _mm256_xor_si256(_mm256_cmpeq_epi32(v, _mm256_setzero_si256()), _mm256_set1_epi32(-1));
}
static inline kv_m kv_i_gt(kv_i a, kv_i b) { return _mm256_cmpgt_epi32(a, b); }
static inline kv_i kv_i_sllv(kv_i v, kv_i n) { return _mm256_sllv_epi32(v, n); }
static inline kv_m kv_i_bit(kv_i v, int b) { return _mm256_cmpgt_epi32(_mm256_and_si256(v, _mm256_set1_epi32(1 << b)), _mm256_setzero_si256()); }
static inline kv_f kv_f_select(kv_m m, kv_f if_true, kv_f if_false)
{
    return _mm256_blendv_ps(if_false, if_true, _mm256_castsi256_ps(m));
}
static inline kv_m kv_i_eq(kv_i a, kv_i b) { return _mm256_cmpeq_epi32(a, b); }
static inline int kv_m_all(kv_m m) { return _mm256_movemask_epi8(m) == -1; }
static inline kv_i kv_i_select(kv_m m, kv_i if_true, kv_i if_false)
{
    return _mm256_blendv_epi8(if_false, if_true, m);
}

static inline kv_f kv_gather_f(const float *base, kv_i idx)
{
    return _mm256_i32gather_ps(base, idx, 4);
}
static inline kv_i kv_gather_i(const int32_t *base, kv_i idx)
{
    return _mm256_i32gather_epi32((const int *)base, idx, 4);
}

/* Levels of up to 8 nodes live in one register: vpermps instead of a gather. */
static inline kv_f kv_lookup_f(const float *tab, int n, kv_i pos)
{
    if (n == 1) return _mm256_broadcast_ss(tab);
    if (n <= KV_LANES) return _mm256_permutevar8x32_ps(_mm256_loadu_ps(tab), pos);
    return kv_gather_f(tab, pos);
}
static inline kv_i kv_lookup_i(const int32_t *tab, int n, kv_i pos)
{
    if (n == 1) return _mm256_set1_epi32(tab[0]);
    if (n <= KV_LANES)
        return _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)tab), pos);
    return kv_gather_i(tab, pos);
}

static inline kv_m kv_right(kv_f x, kv_f thr)
{
    return _mm256_castps_si256(_mm256_cmp_ps(x, thr, _CMP_NLT_UQ));
}
/* !(x < thr) where x is a number (a NaN threshold sends it right, as in XGBoost), dright
 * where x is NaN: one blend on the NaN lanes. */
static inline kv_m kv_right_nan(kv_f x, kv_f thr, kv_m dright)
{
    __m256 nlt = _mm256_cmp_ps(x, thr, _CMP_NLT_UQ);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_castps_si256(_mm256_blendv_ps(nlt, _mm256_castsi256_ps(dright), nan));
}

#include "generic/traverse_simd_impl.h"
