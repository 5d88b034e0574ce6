/* AVX2 traversal kernel: 8 rows per vector. Compiled with -mavx2 (its own object library);
 * dispatch.c calls it only when cpuid and xgetbv say the CPU and OS support AVX2. Trees too deep
 * to pad take the lane-per-row walk with refill, as in the AVX-512 kernel. */
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

/* Primitives of the deep-tree walk with refill (generic/traverse_simd_deep.h, KV_REFILL). AVX2
 * has masked gathers but neither a scatter nor an expand: those two run per lane, and only for
 * the lanes whose row just reached a leaf (once per row and tree, not per level). */
#define KV_REFILL 1
static inline kv_m kv_m_and(kv_m a, kv_m b) { return _mm256_and_si256(a, b); }
static inline kv_m kv_m_andn(kv_m a, kv_m b) { return _mm256_andnot_si256(a, b); }
static inline kv_m kv_m_or(kv_m a, kv_m b) { return _mm256_or_si256(a, b); }
static inline unsigned kv_m_bits(kv_m m) { return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m)); }
static inline int kv_m_any(kv_m m) { return !_mm256_testz_si256(m, m); }
static inline int kv_m_count(kv_m m) { return __builtin_popcount(kv_m_bits(m)); }
static inline kv_m kv_i_lt(kv_i a, kv_i b) { return _mm256_cmpgt_epi32(b, a); }
static inline kv_m kv_i_lt_mask(kv_m m, kv_i a, kv_i b) { return _mm256_and_si256(m, _mm256_cmpgt_epi32(b, a)); }
static inline kv_i kv_i_mul(kv_i a, kv_i b) { return _mm256_mullo_epi32(a, b); }
static inline kv_i kv_i_mov(kv_i src, kv_m m, kv_i a) { return _mm256_blendv_epi8(src, a, m); }
static inline kv_i kv_i_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
/* Lanes of m take first, first + 1, ... in lane order; the others keep v. */
static inline kv_i kv_i_expand_seq(kv_i v, kv_m m, int32_t first)
{
    int32_t lane[KV_LANES];
    _mm256_storeu_si256((__m256i *)lane, v);
    for (unsigned b = kv_m_bits(m); b; b &= b - 1) lane[__builtin_ctz(b)] = first++;
    return _mm256_loadu_si256((const __m256i *)lane);
}
static inline kv_i kv_mgather_i(kv_i src, kv_m m, const int32_t *base, kv_i idx)
{
    return _mm256_mask_i32gather_epi32(src, (const int *)base, idx, m, 4);
}
static inline kv_f kv_mgather_f(kv_f src, kv_m m, const float *base, kv_i idx)
{
    return _mm256_mask_i32gather_ps(src, base, idx, _mm256_castsi256_ps(m), 4);
}
static inline void kv_mscatter_f(float *base, kv_m m, kv_i idx, kv_f v)
{
    int32_t at[KV_LANES];
    float val[KV_LANES];
    _mm256_storeu_si256((__m256i *)at, idx);
    _mm256_storeu_ps(val, v);
    for (unsigned b = kv_m_bits(m); b; b &= b - 1) base[at[__builtin_ctz(b)]] = val[__builtin_ctz(b)];
}
static inline kv_m kv_f_nlt(kv_f x, kv_f thr) { return _mm256_castps_si256(_mm256_cmp_ps(x, thr, _CMP_NLT_UQ)); }
static inline kv_m kv_f_isnan(kv_f x) { return _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }

#include "generic/traverse_simd_impl.h"
