/* Private to kite_traverse (kernels/traverse/), not installed.
 * AVX-512 binning of input rows into bin codes (bytebin.h), shared by the byte kernel
 * (traverse_avx512vbmi.c: 1-byte codes, 64 rows per vector) and the 16-bit kernel
 * (traverse_avx512vbmi_wide.c: 2-byte codes, 32 rows per vector). Include it only from files
 * compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl.
 *
 * Codes of one block: vector v (64 bytes per column: 64 byte codes or 32 16-bit codes) at
 * codes + v * BIN_COLS_BYTES, column c (2f: NaN -> 0, 2f+1: NaN -> all ones) at byte c * 64.
 *
 * Rows are read 16 x 16 (16 rows, 16 features, masked loads) and transposed into feature-major
 * order; then each feature's values are binned by the branch-free Eytzinger search, nvec
 * searches of 16 lanes interleaved (independent chains over the one feature's table). Steps 0..7
 * read their probe from registers (vpermps over table entries 1..255, loaded per step); steps 8
 * and on (2-byte codes only: more than 255 thresholds) gather it from the table. */
#ifndef KITE_BYTEBIN_SIMD_H
#define KITE_BYTEBIN_SIMD_H

#include <immintrin.h>
#include <stdint.h>

#include <kite/bytebin.h>

#define BIN_LANE_BYTES 64 /* bytes of one code column per vector */
#define BIN_COLS_BYTES (2 * KITE_BYTEBIN_MAX_FEATURES * BIN_LANE_BYTES)

/* 16 x 16 floats: r[i] = row i (16 features) in, r[j] = feature j (16 rows) out. */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* u[4i + e]: element e of each 128-bit lane, rows 4i..4i+3 */
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int h = 0; h < 2; h++)
        for (int e = 0; e < 4; e++) {
            t[8 * h + e] = _mm512_shuffle_f32x4(u[8 * h + e], u[8 * h + 4 + e], 0x88);
            t[8 * h + 4 + e] = _mm512_shuffle_f32x4(u[8 * h + e], u[8 * h + 4 + e], 0xdd);
        }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
    }
}

/* E[k] for every lane, k in [2^step, 2^(step+1)), step <= 7 (e: one feature's table, 64-byte
 * aligned, at least 256 entries when step 7 is reached). */
static inline __attribute__((always_inline)) __m512 eytz_probe(const float *e, __m512i k, int step)
{
    if (step == 0) return _mm512_set1_ps(e[1]);
    if (step <= 3) return _mm512_permutexvar_ps(k, _mm512_load_ps(e));
    if (step == 4) return _mm512_permutexvar_ps(k, _mm512_load_ps(e + 16));
    if (step == 5) return _mm512_permutex2var_ps(_mm512_load_ps(e + 32), k, _mm512_load_ps(e + 48));
    const __mmask16 b5 = _mm512_test_epi32_mask(k, _mm512_set1_epi32(32));
    if (step == 6)
        return _mm512_mask_blend_ps(
            b5, _mm512_permutex2var_ps(_mm512_load_ps(e + 64), k, _mm512_load_ps(e + 80)),
            _mm512_permutex2var_ps(_mm512_load_ps(e + 96), k, _mm512_load_ps(e + 112)));
    const __mmask16 b6 = _mm512_test_epi32_mask(k, _mm512_set1_epi32(64));
    __m512 a = _mm512_permutex2var_ps(_mm512_load_ps(e + 128), k, _mm512_load_ps(e + 144));
    __m512 b = _mm512_permutex2var_ps(_mm512_load_ps(e + 160), k, _mm512_load_ps(e + 176));
    __m512 c = _mm512_permutex2var_ps(_mm512_load_ps(e + 192), k, _mm512_load_ps(e + 208));
    __m512 d = _mm512_permutex2var_ps(_mm512_load_ps(e + 224), k, _mm512_load_ps(e + 240));
    return _mm512_mask_blend_ps(b6, _mm512_mask_blend_ps(b5, a, b), _mm512_mask_blend_ps(b5, c, d));
}

/* One search step of nvec chains: k = 2k + (probe <= x). */
#define BIN_STEP(probe_expr)                                                                    \
    for (int j = 0; j < nvec; j++) {                                                            \
        __mmask16 le = _mm512_cmp_ps_mask((probe_expr), _mm512_load_ps(xc + 16 * j), _CMP_LE_OQ); \
        __m512i k2 = _mm512_add_epi32(k[j], k[j]);                                              \
        k[j] = _mm512_mask_add_epi32(k2, le, k2, one);                                          \
    }

/* One feature's codes for nvec vectors of 16 rows (xc: the feature's values, 16 per vector),
 * cb bytes per code: nvec independent searches interleaved, all reading the one feature's
 * table. 16-row vector j's codes go to both columns of the feature. */
static inline __attribute__((always_inline)) void
bin_feature(const float *e, const float *xc, uint8_t *codes, size_t column, int nvec, int steps,
            int cb)
{
    __m512i k[8];
    const __m512i one = _mm512_set1_epi32(1);
    const int per_vec = BIN_LANE_BYTES / (16 * cb); /* 16-row pieces per code vector */
#pragma GCC unroll 8
    for (int j = 0; j < nvec; j++) k[j] = one;
#pragma GCC unroll 8
    for (int s = 0; s < (steps < 8 ? steps : 8); s++) {
#pragma GCC unroll 8
        BIN_STEP(eytz_probe(e, k[j], s))
    }
    for (int s = 8; s < steps; s++) {
#pragma GCC unroll 8
        BIN_STEP(_mm512_i32gather_ps(k[j], e, 4))
    }
    const __m512i top = _mm512_set1_epi32(1 << steps);
#pragma GCC unroll 8
    for (int j = 0; j < nvec; j++) {
        const __m512 x = _mm512_load_ps(xc + 16 * j);
        const __m512i bin = _mm512_sub_epi32(k[j], top);
        const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        uint8_t *col = codes + (size_t)(j / per_vec) * BIN_COLS_BYTES + column * BIN_LANE_BYTES +
                       (size_t)(16 * cb) * (size_t)(j % per_vec);
        if (cb == 1) {
            __m128i code = _mm512_cvtepi32_epi8(bin);
            _mm_store_si128((__m128i *)col, code);
            _mm_store_si128((__m128i *)(col + BIN_LANE_BYTES),
                            _mm_mask_mov_epi8(code, nan, _mm_set1_epi8((char)0xff)));
        } else {
            __m256i code = _mm512_cvtepi32_epi16(bin);
            _mm256_store_si256((__m256i *)col, code);
            _mm256_store_si256((__m256i *)(col + BIN_LANE_BYTES),
                               _mm256_mask_mov_epi16(code, nan, _mm256_set1_epi16(-1)));
        }
    }
}
#undef BIN_STEP

/* Codes of the rows [r0, r0 + count), count <= 16 * nvec (rows past count repeat the last one,
 * so every load stays inside the caller's rows), cb bytes per code. Per group of 16 features:
 * 16 x 16 tiles transposed into xcol (feature-major), then binned feature by feature. */
static inline __attribute__((always_inline)) void
bin_block_steps(const kite_bytebin *b, const float *rows, size_t stride, size_t r0, size_t count,
                uint8_t *codes, int nvec, int steps, int cb)
{
    _Alignas(64) float xcol[16][128];
    const int32_t nf = b->kb_num_feature;
    const float *last = rows + (r0 + count - 1) * stride;
    for (int32_t f0 = 0; f0 < nf; f0 += 16) {
        __mmask16 fm = (__mmask16)(nf - f0 >= 16 ? 0xffff : (1u << (nf - f0)) - 1);
        for (int tile = 0; tile < nvec; tile++) {
            __m512 x[16];
            const float *p = rows + (r0 + 16 * (size_t)tile) * stride + f0;
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                const float *row = 16 * (size_t)tile + (size_t)i < count ? p + (size_t)i * stride : last + f0;
                x[i] = _mm512_maskz_loadu_ps(fm, row);
            }
            transpose16(x);
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) _mm512_store_ps(&xcol[j][16 * tile], x[j]);
        }
        const int32_t fn = nf - f0 < 16 ? nf - f0 : 16;
        for (int32_t j = 0; j < fn; j++)
            bin_feature(b->kb_eytz + (size_t)(f0 + j) * (size_t)b->kb_eytz_stride, xcol[j], codes,
                        (size_t)(2 * (f0 + j)), nvec, steps, cb);
    }
}

#endif
