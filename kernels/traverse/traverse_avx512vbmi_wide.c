/* 16-bit-binned traversal kernel: 32 rows per AVX-512 register, for forests where some feature
 * has 256..65535 distinct split values (bytebin.h, kb_code_bytes 2), trees up to 6 levels.
 * Compiled with the byte kernel's flags (its own object library); kite__margins_avx512vbmi calls
 * it for such forests, so it is dispatched with the avx512vbmi kernel (it needs only F+BW).
 *
 * Per block of up to 128 rows (four vectors of 32):
 *   1. Binning (bytebin_simd.h) with 2-byte codes: 8 searches interleaved, steps past 8 by
 *      gather. Each bin is written twice: NaN -> 0 (column 2f) and NaN -> 65535 (column 2f+1).
 *   2. Walk, two vectors at a time, every tree in model order: k = 2k + (code > thr[k]), the
 *      threshold of each lane's node one vpermw (k < 32) or vpermt2w (level 5) over the tree's
 *      64 16-bit entries; the code of each lane's node from its level's candidate columns,
 *      merged by 16-bit blends under the earlier levels' compare masks (the byte kernel's
 *      scheme, 32 lanes).
 *   3. Leaves: two vpermt2w give the low and high halves of each lane's leaf float; 16-bit
 *      unpacks join them as two vectors of 16 floats (rows in a fixed permuted order, undone once
 *      per block), each added onto its rows' margins in tree order (float32, as the scalar
 *      kernel adds).
 *
 * Batches below KITE_BYTEBIN_WIDE_MIN_ROWS, a last partial vector of fewer rows, and forests
 * the layout does not cover go to kite__margins_avx512. */
#include <immintrin.h>
#include <string.h>

#include <kite/bytebin.h>
#include "generic/bytebin_simd.h"
#include "traverse.h"

#define WIDE_LANES 32
#define WIDE_BLOCK_VECTORS 4

/* 16 x 16-row pieces, 8 chains: the binning of up to 128 rows (4 vectors). */
#define WIDE_BIN_CASE(s)                                                                        \
    case s:                                                                                     \
        if (nvec16 > 4) bin_block_steps(b, rows, stride, r0, count, codes, 8, s, 2);           \
        else bin_block_steps(b, rows, stride, r0, count, codes, 4, s, 2);                      \
        break;

static void wide_bin_block(const kite_bytebin *b, const float *rows, size_t stride, size_t r0,
                           size_t count, uint8_t *codes)
{
    const size_t nvec16 = (count + 15) / 16;
    switch (b->kb_steps) {
        WIDE_BIN_CASE(1) WIDE_BIN_CASE(2) WIDE_BIN_CASE(3) WIDE_BIN_CASE(4)
        WIDE_BIN_CASE(5) WIDE_BIN_CASE(6) WIDE_BIN_CASE(7) WIDE_BIN_CASE(8)
        WIDE_BIN_CASE(9) WIDE_BIN_CASE(10) WIDE_BIN_CASE(11) WIDE_BIN_CASE(12)
        WIDE_BIN_CASE(13) WIDE_BIN_CASE(14) WIDE_BIN_CASE(15)
    default:
        if (nvec16 > 4) bin_block_steps(b, rows, stride, r0, count, codes, 8, 16, 2);
        else bin_block_steps(b, rows, stride, r0, count, codes, 4, 16, 2);
        break;
    }
}

static inline __m512i wide_col(const uint8_t *codes, uint16_t off)
{
    return _mm512_load_si512((const void *)(codes + off));
}

/* The code each lane's node reads at level L (nodes 2^L .. 2^(L+1)-1 as candidates), merged by
 * the decisions m[0] (root) .. m[L-1]: the root's first, so most merging need not wait. */
static inline __attribute__((always_inline)) __m512i
wide_level_codes(const uint16_t *col, const uint8_t *codes, const __mmask32 *m, int level)
{
    if (level == 0) return wide_col(codes, col[1]);
    const int n = 1 << level, half = n / 2;
    __m512i xs[16];
#pragma GCC unroll 16
    for (int j = 0; j < half; j++)
        xs[j] = _mm512_mask_blend_epi16(m[0], wide_col(codes, col[n + j]),
                                        wide_col(codes, col[n + half + j]));
#pragma GCC unroll 8
    for (int b = 1; b < level; b++) {
        const int h = half >> b;
#pragma GCC unroll 16
        for (int j = 0; j < h; j++) xs[j] = _mm512_mask_blend_epi16(m[b], xs[j], xs[j + h]);
    }
    return xs[0];
}

static inline __m512i wide_step(__m512i k, __mmask32 right)
{
    __m512i k2 = _mm512_add_epi16(k, k);
    return _mm512_mask_sub_epi16(k2, right, k2, _mm512_set1_epi16(-1));
}

/* One tree of depth `depth` over nv vectors of 32 rows (vector v's codes at codes + v *
 * BIN_COLS_BYTES): d[v][0] lane 4j + i holds the leaf of row 8j + i, d[v][1] that of row
 * 8j + 4 + i (the unpacks work within 128-bit lanes). */
static inline __attribute__((always_inline)) void
wide_tree_depth(const uint8_t *rec, const uint8_t *codes, int depth, int nv, __m512 d[][2])
{
    const uint16_t *col = (const uint16_t *)(rec + 128);
    const __m512i thr0 = _mm512_load_si512((const void *)rec);
    const __m512i thr1 = _mm512_load_si512((const void *)(rec + 64));
    __m512i k[2];
    __mmask32 m[2][6];
    for (int v = 0; v < nv; v++) k[v] = _mm512_set1_epi16(1);
#pragma GCC unroll 6
    for (int level = 0; level < depth; level++)
        for (int v = 0; v < nv; v++) {
            __m512i x = wide_level_codes(col, codes + v * BIN_COLS_BYTES, m[v], level);
            __m512i th = level < 5 ? _mm512_permutexvar_epi16(k[v], thr0)
                                   : _mm512_permutex2var_epi16(thr0, k[v], thr1);
            m[v][level] = _mm512_cmpgt_epu16_mask(x, th);
            k[v] = wide_step(k[v], m[v][level]);
        }
    const __m512i lo0 = _mm512_load_si512((const void *)(rec + 256));
    const __m512i lo1 = _mm512_load_si512((const void *)(rec + 320));
    const __m512i hi0 = _mm512_load_si512((const void *)(rec + 384));
    const __m512i hi1 = _mm512_load_si512((const void *)(rec + 448));
    for (int v = 0; v < nv; v++) { /* k = 2^D + leaf; vpermt2w reads its low 6 bits */
        __m512i lo = _mm512_permutex2var_epi16(lo0, k[v], lo1);
        __m512i hi = _mm512_permutex2var_epi16(hi0, k[v], hi1);
        d[v][0] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(lo, hi));
        d[v][1] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(lo, hi));
    }
}

static inline __attribute__((always_inline)) void
wide_tree(const kite_bytebin *bb, const kite_bytetree *t, const uint8_t *codes, int nv,
          __m512 d[][2])
{
    const uint8_t *rec = bb->kb_arena + t->kbt_off;
    switch (t->kbt_depth) {
    case 0: wide_tree_depth(rec, codes, 0, nv, d); break;
    case 1: wide_tree_depth(rec, codes, 1, nv, d); break;
    case 2: wide_tree_depth(rec, codes, 2, nv, d); break;
    case 3: wide_tree_depth(rec, codes, 3, nv, d); break;
    case 4: wide_tree_depth(rec, codes, 4, nv, d); break;
    case 5: wide_tree_depth(rec, codes, 5, nv, d); break;
    default: wide_tree_depth(rec, codes, 6, nv, d); break;
    }
}

/* Stores one vector's margins (count <= 32 rows) in natural row order, group g of groups. */
static void wide_store(const __m512 acc[2], float *out, size_t count, size_t groups, size_t g)
{
    const __m512i i0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i i1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    __m512 v[2] = {_mm512_permutex2var_ps(acc[0], i0, acc[1]),
                   _mm512_permutex2var_ps(acc[0], i1, acc[1])};
    for (int q = 0; q < 2; q++) {
        size_t first = (size_t)q * 16;
        if (first >= count) break;
        size_t n = count - first < 16 ? count - first : 16;
        if (groups == 1) {
            _mm512_mask_storeu_ps(out + first, (__mmask16)((1u << n) - 1), v[q]);
        } else {
            float lanes[16];
            _mm512_storeu_ps(lanes, v[q]);
            for (size_t l = 0; l < n; l++) out[(first + l) * groups + g] = lanes[l];
        }
    }
}

/* nv vectors (count rows, the last vector possibly partial), every tree; one set of
 * accumulators per output group (on the stack unless there is one group). */
static inline __attribute__((always_inline)) void
wide_pass_nv(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count, int nv)
{
    const size_t groups = (size_t)bb->kb_num_group;
    if (groups == 1) {
        __m512 acc[2][2];
        for (int v = 0; v < nv; v++) acc[v][0] = acc[v][1] = _mm512_set1_ps(bb->kb_base_margins[0]);
        for (int32_t ti = 0; ti < bb->kb_num_trees; ti++) {
            __m512 d[2][2];
            wide_tree(bb, &bb->kb_trees[ti], codes, nv, d);
            for (int v = 0; v < nv; v++)
                for (int q = 0; q < 2; q++) acc[v][q] = _mm512_add_ps(acc[v][q], d[v][q]);
        }
        for (int v = 0; v < nv; v++) {
            size_t first = (size_t)v * WIDE_LANES;
            wide_store(acc[v], out + first, count - first < WIDE_LANES ? count - first : WIDE_LANES, 1, 0);
        }
        return;
    }
    __m512 acc[KITE_BYTEBIN_MAX_GROUPS][2][2];
    for (size_t g = 0; g < groups; g++)
        for (int v = 0; v < nv; v++) acc[g][v][0] = acc[g][v][1] = _mm512_set1_ps(bb->kb_base_margins[g]);
    for (int32_t ti = 0; ti < bb->kb_num_trees; ti++) {
        const kite_bytetree *t = &bb->kb_trees[ti];
        __m512 d[2][2];
        wide_tree(bb, t, codes, nv, d);
        for (int v = 0; v < nv; v++)
            for (int q = 0; q < 2; q++)
                acc[t->kbt_group][v][q] = _mm512_add_ps(acc[t->kbt_group][v][q], d[v][q]);
    }
    for (size_t g = 0; g < groups; g++)
        for (int v = 0; v < nv; v++) {
            size_t first = (size_t)v * WIDE_LANES;
            wide_store(acc[g][v], out + first * groups,
                       count - first < WIDE_LANES ? count - first : WIDE_LANES, groups, g);
        }
}

static void wide_pass1(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    wide_pass_nv(bb, codes, out, count, 1);
}
static void wide_pass2(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    wide_pass_nv(bb, codes, out, count, 2);
}

void kite__margins_avx512vbmi_wide(const kite_forest *f, const float *rows, size_t nrows,
                                   size_t stride, float *out)
{
    const kite_bytebin *bb = f->kf_bytebin;
    if (!kite_bytebin_applies(f, nrows) || bb->kb_code_bytes != 2 ||
        (size_t)f->kf_num_feature > stride) {
        kite__margins_avx512(f, rows, nrows, stride, out);
        return;
    }
    _Alignas(64) uint8_t codes[WIDE_BLOCK_VECTORS * BIN_COLS_BYTES];
    const size_t groups = (size_t)f->kf_num_group, block = WIDE_BLOCK_VECTORS * WIDE_LANES;
    /* Rows scored with 16-bit codes: whole vectors, and a last partial one of >= 4 rows. */
    size_t ncoded = nrows - nrows % WIDE_LANES;
    if (nrows % WIDE_LANES >= KITE_BYTEBIN_WIDE_MIN_ROWS) ncoded = nrows;
    for (size_t r = 0; r < ncoded; r += block) {
        size_t count = ncoded - r < block ? ncoded - r : block;
        wide_bin_block(bb, rows, stride, r, count, codes);
        for (size_t v = 0; v * WIDE_LANES < count; v += 2) { /* two vectors per pass */
            size_t first = v * WIDE_LANES, n = count - first;
            const uint8_t *cv = codes + v * BIN_COLS_BYTES;
            if (n > WIDE_LANES) wide_pass2(bb, cv, out + (r + first) * groups, n < 64 ? n : 64);
            else wide_pass1(bb, cv, out + (r + first) * groups, n);
        }
    }
    kite__bytebin_rows += ncoded;
    if (ncoded < nrows)
        kite__margins_avx512(f, rows + ncoded * stride, nrows - ncoded, stride, out + ncoded * groups);
}
