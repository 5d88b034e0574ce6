/* NEON (AArch64 Advanced SIMD) traversal kernel: 4 rows per vector. NEON has no gather, so
 * gathers are four lane loads; levels of up to 4 nodes use a table lookup (vqtbl1q) instead.
 * Advanced SIMD is part of the AArch64 base ISA, but dispatch.c still checks HWCAP_ASIMD. */
#include <arm_neon.h>

#include "traverse.h"

#define KV_LANES 4
#define KV_LANES_LOG2 2
#define KV_DIRECT_LEVELS 2 /* levels loaded directly from the columns block */
#define KV_NAME kite__margins_neon
#define KITE_SIMD_GROUP 4 /* 32 NEON registers hold 4 vectors of state comfortably */

typedef float32x4_t kv_f;
typedef int32x4_t kv_i;
typedef uint32x4_t kv_m;

static inline kv_f kv_f_set1(float v) { return vdupq_n_f32(v); }
static inline kv_f kv_f_loadu(const float *p) { return vld1q_f32(p); }
static inline void kv_f_storeu(float *p, kv_f v) { vst1q_f32(p, v); }
static inline kv_f kv_f_add(kv_f a, kv_f b) { return vaddq_f32(a, b); }
static inline kv_i kv_i_set1(int32_t v) { return vdupq_n_s32(v); }
static inline kv_i kv_i_loadu(const int32_t *p) { return vld1q_s32(p); }
static inline void kv_i_storeu(int32_t *p, kv_i v) { vst1q_s32(p, v); }
static inline kv_i kv_i_add(kv_i a, kv_i b) { return vaddq_s32(a, b); }
static inline kv_i kv_i_and(kv_i a, kv_i b) { return vandq_s32(a, b); }
static inline kv_i kv_i_max(kv_i a, kv_i b) { return vmaxq_s32(a, b); }
static inline kv_i kv_i_add_mask1(kv_i v, kv_m m) { return vsubq_s32(v, vreinterpretq_s32_u32(m)); }
static inline kv_m kv_i_nonzero(kv_i v) { return vtstq_s32(v, v); }
static inline kv_m kv_i_gt(kv_i a, kv_i b) { return vcgtq_s32(a, b); }
static inline kv_i kv_i_sllv(kv_i v, kv_i n) { return vshlq_s32(v, n); }
static inline kv_m kv_i_bit(kv_i v, int b) { return vtstq_s32(v, vdupq_n_s32(1 << b)); }
static inline kv_f kv_f_select(kv_m m, kv_f if_true, kv_f if_false) { return vbslq_f32(m, if_true, if_false); }
static inline kv_m kv_i_eq(kv_i a, kv_i b) { return vceqq_s32(a, b); }
static inline int kv_m_all(kv_m m) { return vminvq_u32(m) == 0xffffffffu; }
static inline kv_i kv_i_select(kv_m m, kv_i if_true, kv_i if_false)
{
    return vbslq_s32(m, if_true, if_false);
}

static inline kv_f kv_gather_f(const float *base, kv_i idx)
{
    kv_f r = vdupq_n_f32(0.0f);
    r = vld1q_lane_f32(base + vgetq_lane_s32(idx, 0), r, 0);
    r = vld1q_lane_f32(base + vgetq_lane_s32(idx, 1), r, 1);
    r = vld1q_lane_f32(base + vgetq_lane_s32(idx, 2), r, 2);
    r = vld1q_lane_f32(base + vgetq_lane_s32(idx, 3), r, 3);
    return r;
}
static inline kv_i kv_gather_i(const int32_t *base, kv_i idx)
{
    kv_i r = vdupq_n_s32(0);
    r = vld1q_lane_s32(base + vgetq_lane_s32(idx, 0), r, 0);
    r = vld1q_lane_s32(base + vgetq_lane_s32(idx, 1), r, 1);
    r = vld1q_lane_s32(base + vgetq_lane_s32(idx, 2), r, 2);
    r = vld1q_lane_s32(base + vgetq_lane_s32(idx, 3), r, 3);
    return r;
}

/* Byte indices selecting 32-bit entry pos[lane] of a 4-entry table: 4 * pos + {0,1,2,3}. */
static inline uint8x16_t neon_word_index(kv_i pos)
{
    uint32x4_t b = vmulq_n_u32(vreinterpretq_u32_s32(pos), 0x04040404u);
    return vaddq_u8(vreinterpretq_u8_u32(b), vreinterpretq_u8_u32(vdupq_n_u32(0x03020100u)));
}
static inline kv_i kv_lookup_i(const int32_t *tab, int n, kv_i pos)
{
    if (n == 1) return vdupq_n_s32(tab[0]);
    if (n <= KV_LANES)
        return vreinterpretq_s32_u8(
            vqtbl1q_u8(vreinterpretq_u8_s32(vld1q_s32(tab)), neon_word_index(pos)));
    return kv_gather_i(tab, pos);
}
static inline kv_f kv_lookup_f(const float *tab, int n, kv_i pos)
{
    if (n == 1) return vdupq_n_f32(tab[0]);
    if (n <= KV_LANES)
        return vreinterpretq_f32_u8(
            vqtbl1q_u8(vreinterpretq_u8_f32(vld1q_f32(tab)), neon_word_index(pos)));
    return kv_gather_f(tab, pos);
}

/* !(x < thr): NaN compares false, so NaN lanes go right; only used for NaN-free rows. */
static inline kv_m kv_right(kv_f x, kv_f thr) { return vmvnq_u32(vcltq_f32(x, thr)); }
/* !(x < thr) where x is a number (a NaN threshold sends it right, as in XGBoost), dright
 * where x is NaN: one bit-select on the NaN lanes. */
static inline kv_m kv_right_nan(kv_f x, kv_f thr, kv_m dright)
{
    kv_m nlt = vmvnq_u32(vcltq_f32(x, thr));
    kv_m nan = vmvnq_u32(vceqq_f32(x, x));
    return vbslq_u32(nan, dright, nlt);
}

#include "generic/traverse_simd_impl.h"
