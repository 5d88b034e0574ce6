/* AVX-512 traversal kernel: 16 rows per vector. Compiled with -mavx512f -mavx512dq
 * -mavx512bw -mavx512vl (its own object library); dispatch.c calls it only when cpuid and
 * xgetbv say the CPU and OS support them. Levels of up to 64 nodes and trees of up to 64
 * leaves are looked up with register permutes, so a depth-6 tree gathers only row values. */
#include <immintrin.h>

#include "traverse.h"

#define KV_LANES 16
#define KV_LANES_LOG2 4
#define KV_DIRECT_LEVELS 4 /* levels loaded directly from the columns block */
#define KV_NAME kite__margins_avx512

typedef __m512 kv_f;
typedef __m512i kv_i;
typedef __mmask16 kv_m;

static inline kv_f kv_f_set1(float v) { return _mm512_set1_ps(v); }
static inline kv_f kv_f_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void kv_f_storeu(float *p, kv_f v) { _mm512_storeu_ps(p, v); }
static inline kv_f kv_f_add(kv_f a, kv_f b) { return _mm512_add_ps(a, b); }
static inline kv_i kv_i_set1(int32_t v) { return _mm512_set1_epi32(v); }
static inline kv_i kv_i_loadu(const int32_t *p) { return _mm512_loadu_si512(p); }
static inline void kv_i_storeu(int32_t *p, kv_i v) { _mm512_storeu_si512(p, v); }
static inline kv_i kv_i_add(kv_i a, kv_i b) { return _mm512_add_epi32(a, b); }
static inline kv_i kv_i_and(kv_i a, kv_i b) { return _mm512_and_si512(a, b); }
static inline kv_i kv_i_max(kv_i a, kv_i b) { return _mm512_max_epi32(a, b); }
static inline kv_i kv_i_add_mask1(kv_i v, kv_m m)
{
    return _mm512_mask_add_epi32(v, m, v, _mm512_set1_epi32(1));
}
static inline kv_m kv_i_nonzero(kv_i v) { return _mm512_test_epi32_mask(v, v); }
static inline kv_m kv_i_gt(kv_i a, kv_i b) { return _mm512_cmpgt_epi32_mask(a, b); }
static inline kv_i kv_i_sllv(kv_i v, kv_i n) { return _mm512_sllv_epi32(v, n); }
static inline kv_m kv_i_bit(kv_i v, int b) { return _mm512_test_epi32_mask(v, _mm512_set1_epi32(1 << b)); }
static inline kv_f kv_f_select(kv_m m, kv_f if_true, kv_f if_false)
{
    return _mm512_mask_blend_ps(m, if_false, if_true);
}
static inline kv_m kv_i_eq(kv_i a, kv_i b) { return _mm512_cmpeq_epi32_mask(a, b); }
static inline int kv_m_all(kv_m m) { return m == (kv_m)0xffff; }
static inline kv_i kv_i_select(kv_m m, kv_i if_true, kv_i if_false)
{
    return _mm512_mask_blend_epi32(m, if_false, if_true);
}

static inline kv_f kv_gather_f(const float *base, kv_i idx)
{
    return _mm512_i32gather_ps(idx, base, 4);
}
static inline kv_i kv_gather_i(const int32_t *base, kv_i idx)
{
    return _mm512_i32gather_epi32(idx, base, 4);
}

/* Up to 16 entries: one vpermps; 32: vpermi2ps over two registers; 64: two of those and a
 * blend on bit 5 of the position; larger tables: a gather. */
static inline kv_f kv_lookup_f(const float *tab, int n, kv_i pos)
{
    if (n == 1) return _mm512_set1_ps(tab[0]);
    if (n <= 16) return _mm512_permutexvar_ps(pos, _mm512_loadu_ps(tab));
    if (n == 32) return _mm512_permutex2var_ps(_mm512_loadu_ps(tab), pos, _mm512_loadu_ps(tab + 16));
    if (n == 64) {
        kv_f lo = _mm512_permutex2var_ps(_mm512_loadu_ps(tab), pos, _mm512_loadu_ps(tab + 16));
        kv_f hi = _mm512_permutex2var_ps(_mm512_loadu_ps(tab + 32), pos, _mm512_loadu_ps(tab + 48));
        return _mm512_mask_blend_ps(_mm512_test_epi32_mask(pos, _mm512_set1_epi32(32)), lo, hi);
    }
    return kv_gather_f(tab, pos);
}
static inline kv_i kv_lookup_i(const int32_t *tab, int n, kv_i pos)
{
    if (n == 1) return _mm512_set1_epi32(tab[0]);
    if (n <= 16) return _mm512_permutexvar_epi32(pos, _mm512_loadu_si512(tab));
    if (n == 32)
        return _mm512_permutex2var_epi32(_mm512_loadu_si512(tab), pos, _mm512_loadu_si512(tab + 16));
    if (n == 64) {
        kv_i lo = _mm512_permutex2var_epi32(_mm512_loadu_si512(tab), pos, _mm512_loadu_si512(tab + 16));
        kv_i hi =
            _mm512_permutex2var_epi32(_mm512_loadu_si512(tab + 32), pos, _mm512_loadu_si512(tab + 48));
        return _mm512_mask_blend_epi32(_mm512_test_epi32_mask(pos, _mm512_set1_epi32(32)), lo, hi);
    }
    return kv_gather_i(tab, pos);
}

static inline kv_m kv_right(kv_f x, kv_f thr) { return _mm512_cmp_ps_mask(x, thr, _CMP_NLT_UQ); }
/* !(x < thr) where x is a number (a NaN threshold sends it right, as in XGBoost), dright
 * where x is NaN. */
static inline kv_m kv_right_nan(kv_f x, kv_f thr, kv_m dright)
{
    kv_m nlt = _mm512_cmp_ps_mask(x, thr, _CMP_NLT_UQ);
    kv_m nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    return (kv_m)((nlt & ~nan) | (nan & dright));
}

/* Primitives of the deep-tree walk with refill (generic/traverse_simd_impl.h, KV_REFILL):
 * masked gathers and a scatter keep idle lanes from loading, and expand hands the lanes that
 * just reached a leaf the next rows' numbers in lane order. */
#define KV_REFILL 1
static inline kv_m kv_m_and(kv_m a, kv_m b) { return (kv_m)(a & b); }
static inline kv_m kv_m_andn(kv_m a, kv_m b) { return (kv_m)(~a & b); }
static inline kv_m kv_m_or(kv_m a, kv_m b) { return (kv_m)(a | b); }
static inline int kv_m_any(kv_m m) { return m != 0; }
static inline int kv_m_count(kv_m m) { return __builtin_popcount((unsigned)m); }
static inline kv_m kv_i_lt(kv_i a, kv_i b) { return _mm512_cmplt_epi32_mask(a, b); }
static inline kv_m kv_i_lt_mask(kv_m m, kv_i a, kv_i b) { return _mm512_mask_cmplt_epi32_mask(m, a, b); }
static inline kv_i kv_i_mul(kv_i a, kv_i b) { return _mm512_mullo_epi32(a, b); }
static inline kv_i kv_i_mov(kv_i src, kv_m m, kv_i a) { return _mm512_mask_mov_epi32(src, m, a); }
static inline kv_i kv_i_iota(void)
{
    return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
/* Lanes of m take first, first + 1, ... in lane order; the others keep v. */
static inline kv_i kv_i_expand_seq(kv_i v, kv_m m, int32_t first)
{
    return _mm512_mask_expand_epi32(v, m, _mm512_add_epi32(kv_i_iota(), _mm512_set1_epi32(first)));
}
static inline kv_i kv_mgather_i(kv_i src, kv_m m, const int32_t *base, kv_i idx)
{
    return _mm512_mask_i32gather_epi32(src, m, idx, base, 4);
}
static inline kv_f kv_mgather_f(kv_f src, kv_m m, const float *base, kv_i idx)
{
    return _mm512_mask_i32gather_ps(src, m, idx, base, 4);
}
static inline void kv_mscatter_f(float *base, kv_m m, kv_i idx, kv_f v)
{
    _mm512_mask_i32scatter_ps(base, m, idx, v, 4);
}
static inline kv_m kv_f_nlt(kv_f x, kv_f thr) { return _mm512_cmp_ps_mask(x, thr, _CMP_NLT_UQ); }
static inline kv_m kv_f_isnan(kv_f x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }

#include "generic/traverse_simd_impl.h"
