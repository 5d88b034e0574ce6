/* Byte-binned traversal kernel: 64 rows per AVX-512 register. Compiled with -mavx512f -mavx512dq
 * -mavx512bw -mavx512vl -mavx512vbmi (its own object library); dispatch.c calls it only when
 * cpuid reports VBMI and the OS saves ZMM state. The layout and why it is exact: bytebin.h.
 *
 * Per block of 128 rows (two vectors of 64; the last block may hold one, or a partial one):
 *   1. Binning (bytebin_simd.h, shared with the 16-bit kernel). Rows are read 16 x 16 (16 rows, 16 features, masked loads) and transposed into
 *      feature-major order; then each feature's 128 values are binned by the branch-free
 *      Eytzinger search, 8 searches of 16 lanes interleaved (independent chains over the one
 *      feature's table). The first four steps read their probe from one register (vpermps over
 *      table entries 1..15), the later ones from two- and four-register permutes. Each bin is
 *      written twice as a byte: NaN -> 0 (column 2f) and NaN -> 255 (column 2f+1). Measured
 *      about 0.4 ns per value here (a sixth of a 500-tree depth-6 score; bench/RESULTS.md).
 *   2. Walk. Every tree, in model order, walks both vectors: k = 2k + (code > thr[k]).
 *      The threshold of each lane's node is one vpermb over the tree's 64-byte table; the code
 *      of each lane's node comes from its level's candidate columns, merged with byte blends
 *      whose masks are the earlier levels' compare results (the root's decision first, so most
 *      of the merging does not wait for the last level). Levels 6 and 7 (trees of depth 7..8)
 *      select among the level's distinct columns by a vpermb'ed slot number instead.
 *   3. Leaves. Four vpermb give the four bytes of each lane's leaf float; byte unpacks put
 *      them together as four vectors of 16 floats, each added onto its rows' margins: the rows
 *      land in a fixed permuted lane order (see leaf_add), undone once per block at the end.
 *
 * Batches below KITE_BYTEBIN_MIN_ROWS, tails of fewer rows, and forests the byte layout does not
 * cover go to kite__margins_avx512 (exact as well); forests with 16-bit codes (kb_code_bytes 2)
 * go to kite__margins_avx512vbmi_wide. */
#include <immintrin.h>
#include <string.h>

#include <kite/bytebin.h>
#include "generic/bytebin_simd.h"
#include "traverse.h"

#define VBMI_LANES 64
#define VBMI_COLS_BYTES BIN_COLS_BYTES

/* ---- binning (bytebin_simd.h) ---------------------------------------------------------- */

#define BIN_STEPS(nvec)                                                                         \
    switch (b->kb_steps) {                                                                      \
    case 1: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 1, 1); break;                 \
    case 2: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 2, 1); break;                 \
    case 3: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 3, 1); break;                 \
    case 4: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 4, 1); break;                 \
    case 5: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 5, 1); break;                 \
    case 6: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 6, 1); break;                 \
    case 7: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 7, 1); break;                 \
    default: bin_block_steps(b, rows, stride, r0, count, codes, nvec, 8, 1); break;                \
    }

/* One vector (count <= 64 rows) or two (64 < count <= 128). */
static void bin_block(const kite_bytebin *b, const float *rows, size_t stride, size_t r0,
                      size_t count, uint8_t *codes)
{
    if (count > VBMI_LANES) BIN_STEPS(8)
    else BIN_STEPS(4)
}

/* ---- walk --------------------------------------------------------------------------------- */

static inline __m512i col_load(const uint8_t *codes, uint16_t off)
{
    return _mm512_load_si512((const void *)(codes + off));
}

/* The code each lane's node reads at level L < 6: the 2^L candidates (nodes 2^L .. 2^(L+1)-1)
 * merged by the decisions m[0] (root) .. m[L-1]. */
static inline __attribute__((always_inline)) __m512i
level_codes(const uint16_t *col, const uint8_t *codes, const __mmask64 *m, int level)
{
    const int n = 1 << level;
    if (level == 0) return col_load(codes, col[1]);
    __m512i xs[32];
    const int half = n / 2;
#pragma GCC unroll 32
    for (int j = 0; j < half; j++)
        xs[j] = _mm512_mask_blend_epi8(m[0], col_load(codes, col[n + j]),
                                       col_load(codes, col[n + half + j]));
#pragma GCC unroll 8
    for (int b = 1; b < level; b++) {
        const int h = half >> b;
#pragma GCC unroll 16
        for (int j = 0; j < h; j++) xs[j] = _mm512_mask_blend_epi8(m[b], xs[j], xs[j + h]);
    }
    return xs[0];
}

/* Levels 6 and 7: each lane's code among the level's 2^bits distinct columns, by slot number. */
static inline __attribute__((always_inline)) __m512i
slot_codes_bits(const uint16_t *slotcol, const uint8_t *codes, __m512i slot, int bits)
{
    if (bits == 0) return col_load(codes, slotcol[0]);
    __m512i xs[32];
    const int half = 1 << (bits - 1);
    __mmask64 top = _mm512_test_epi8_mask(slot, _mm512_set1_epi8((char)half));
#pragma GCC unroll 32
    for (int j = 0; j < half; j++)
        xs[j] = _mm512_mask_blend_epi8(top, col_load(codes, slotcol[j]),
                                       col_load(codes, slotcol[j + half]));
#pragma GCC unroll 8
    for (int b = bits - 2; b >= 0; b--) {
        const int h = 1 << b;
        __mmask64 m = _mm512_test_epi8_mask(slot, _mm512_set1_epi8((char)h));
#pragma GCC unroll 16
        for (int j = 0; j < h; j++) xs[j] = _mm512_mask_blend_epi8(m, xs[j], xs[j + h]);
    }
    return xs[0];
}

static inline __attribute__((always_inline)) __m512i
slot_codes(const uint16_t *slotcol, const uint8_t *codes, __m512i slot, int bits)
{
    switch (bits) {
    case 0: return slot_codes_bits(slotcol, codes, slot, 0);
    case 1: return slot_codes_bits(slotcol, codes, slot, 1);
    case 2: return slot_codes_bits(slotcol, codes, slot, 2);
    case 3: return slot_codes_bits(slotcol, codes, slot, 3);
    case 4: return slot_codes_bits(slotcol, codes, slot, 4);
    case 5: return slot_codes_bits(slotcol, codes, slot, 5);
    default: return slot_codes_bits(slotcol, codes, slot, 6);
    }
}

static inline __m512i step(__m512i k, __mmask64 right)
{
    __m512i k2 = _mm512_add_epi8(k, k);
    return _mm512_mask_sub_epi8(k2, right, k2, _mm512_set1_epi8(-1));
}

/* The four leaf bytes of every lane, as four vectors of 16 floats: d[q] lane 4j + i holds the
 * leaf of byte lane 16j + 4q + i (the unpacks work within 128-bit lanes). */
static inline __attribute__((always_inline)) void
leaf_floats(__m512i b0, __m512i b1, __m512i b2, __m512i b3, __m512 d[4])
{
    __m512i lo01 = _mm512_unpacklo_epi8(b0, b1), hi01 = _mm512_unpackhi_epi8(b0, b1);
    __m512i lo23 = _mm512_unpacklo_epi8(b2, b3), hi23 = _mm512_unpackhi_epi8(b2, b3);
    d[0] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(lo01, lo23));
    d[1] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(lo01, lo23));
    d[2] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(hi01, hi23));
    d[3] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(hi01, hi23));
}

/* One tree of depth `depth` over nv vectors of 64 rows (both constants at each call; vector v's
 * codes at codes + v * VBMI_COLS_BYTES): leaves in d[v]. Two vectors share the tree's tables
 * and each node's column offset (one scalar load for both), and give the core two independent
 * chains per level. */
static inline __attribute__((always_inline)) void
tree_leaves_depth(const uint8_t *rec, const kite_bytetree *t, const uint8_t *codes, int depth,
                  int nv, __m512 d[][4])
{
    const int large = depth > 6;
    const uint8_t *thr = rec;
    const uint16_t *col = (const uint16_t *)(rec + (large ? 256 : 64));
    const uint8_t *planes = rec + (large ? 256 : 64) + 128;
    const __m512i thr0 = _mm512_load_si512((const void *)thr);
    __m512i k[2];
    __mmask64 m[2][6];
    for (int v = 0; v < nv; v++) k[v] = _mm512_set1_epi8(1);
#pragma GCC unroll 6
    for (int level = 0; level < (depth < 6 ? depth : 6); level++)
        for (int v = 0; v < nv; v++) {
            __m512i x = level_codes(col, codes + v * VBMI_COLS_BYTES, m[v], level);
            m[v][level] = _mm512_cmpgt_epu8_mask(x, _mm512_permutexvar_epi8(k[v], thr0));
            k[v] = step(k[v], m[v][level]);
        }
    if (!large) {
        for (int v = 0; v < nv; v++) {
            __m512i b[4];
            for (int i = 0; i < 4; i++)
                b[i] = _mm512_permutexvar_epi8(k[v], _mm512_load_si512((const void *)(planes + 64 * i)));
            leaf_floats(b[0], b[1], b[2], b[3], d[v]);
        }
        return;
    }
    const uint8_t *slot = planes + 4 * 256;
    const uint16_t *slotcol = (const uint16_t *)(slot + 256);
    for (int v = 0; v < nv; v++) { /* level 6: k in 64..127, one 64-byte table */
        const uint8_t *cv = codes + v * VBMI_COLS_BYTES;
        __m512i s = _mm512_permutexvar_epi8(k[v], _mm512_load_si512((const void *)(slot + 64)));
        __m512i x = slot_codes(slotcol, cv, s, t->kbt_slot_bits[0]);
        __m512i th = _mm512_permutexvar_epi8(k[v], _mm512_load_si512((const void *)(thr + 64)));
        k[v] = step(k[v], _mm512_cmpgt_epu8_mask(x, th));
    }
    if (depth == 8)
        for (int v = 0; v < nv; v++) { /* level 7: k in 128..255, two-register tables */
            const uint8_t *cv = codes + v * VBMI_COLS_BYTES;
            __m512i s = _mm512_permutex2var_epi8(_mm512_load_si512((const void *)(slot + 128)), k[v],
                                                 _mm512_load_si512((const void *)(slot + 192)));
            __m512i x = slot_codes(slotcol + 64, cv, s, t->kbt_slot_bits[1]);
            __m512i th = _mm512_permutex2var_epi8(_mm512_load_si512((const void *)(thr + 128)), k[v],
                                                  _mm512_load_si512((const void *)(thr + 192)));
            k[v] = step(k[v], _mm512_cmpgt_epu8_mask(x, th)); /* wraps to the leaf index 0..255 */
        }
    /* k = (2^D + leaf) mod 256: depth 7 uses the upper half of the planes only. */
    for (int v = 0; v < nv; v++) {
        __mmask64 upper = _mm512_test_epi8_mask(k[v], _mm512_set1_epi8((char)0x80));
        __m512i b[4];
        for (int i = 0; i < 4; i++) {
            const uint8_t *p = planes + 256 * i;
            __m512i hi = _mm512_permutex2var_epi8(_mm512_load_si512((const void *)(p + 128)), k[v],
                                                  _mm512_load_si512((const void *)(p + 192)));
            if (depth == 7) {
                b[i] = hi;
            } else {
                __m512i lo = _mm512_permutex2var_epi8(_mm512_load_si512((const void *)p), k[v],
                                                      _mm512_load_si512((const void *)(p + 64)));
                b[i] = _mm512_mask_blend_epi8(upper, lo, hi);
            }
        }
        leaf_floats(b[0], b[1], b[2], b[3], d[v]);
    }
}

static inline __attribute__((always_inline)) void
tree_leaves(const kite_bytebin *bb, const kite_bytetree *t, const uint8_t *codes, int nv,
            __m512 d[][4])
{
    const uint8_t *rec = bb->kb_arena + t->kbt_off;
    switch (t->kbt_depth) {
    case 0: tree_leaves_depth(rec, t, codes, 0, nv, d); break;
    case 1: tree_leaves_depth(rec, t, codes, 1, nv, d); break;
    case 2: tree_leaves_depth(rec, t, codes, 2, nv, d); break;
    case 3: tree_leaves_depth(rec, t, codes, 3, nv, d); break;
    case 4: tree_leaves_depth(rec, t, codes, 4, nv, d); break;
    case 5: tree_leaves_depth(rec, t, codes, 5, nv, d); break;
    case 6: tree_leaves_depth(rec, t, codes, 6, nv, d); break;
    case 7: tree_leaves_depth(rec, t, codes, 7, nv, d); break;
    default: tree_leaves_depth(rec, t, codes, 8, nv, d); break;
    }
}

/* Margins of the block [r0, r0 + count) in natural row order from four accumulators in the
 * leaf order (d[q] lane 4j + i = row 16j + 4q + i): a 4 x 4 transpose of 128-bit blocks. */
static inline void block_unpermute(const __m512 d[4], __m512 v[4])
{
    __m512 t0 = _mm512_shuffle_f32x4(d[0], d[1], 0x44), t1 = _mm512_shuffle_f32x4(d[0], d[1], 0xee);
    __m512 t2 = _mm512_shuffle_f32x4(d[2], d[3], 0x44), t3 = _mm512_shuffle_f32x4(d[2], d[3], 0xee);
    v[0] = _mm512_shuffle_f32x4(t0, t2, 0x88);
    v[1] = _mm512_shuffle_f32x4(t0, t2, 0xdd);
    v[2] = _mm512_shuffle_f32x4(t1, t3, 0x88);
    v[3] = _mm512_shuffle_f32x4(t1, t3, 0xdd);
}

static void store_block(const __m512 acc[4], float *out, size_t count, size_t groups, size_t g)
{
    __m512 v[4];
    block_unpermute(acc, v);
    for (int q = 0; q < 4; q++) {
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

/* One block of nv vectors (count rows, the last vector possibly partial), one output group:
 * the accumulators stay in registers. */
static inline __attribute__((always_inline)) void
block_single_nv(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count, int nv)
{
    __m512 acc[2][4];
    for (int v = 0; v < nv; v++)
        for (int q = 0; q < 4; q++) acc[v][q] = _mm512_set1_ps(bb->kb_base_margins[0]);
    for (int32_t ti = 0; ti < bb->kb_num_trees; ti++) {
        __m512 d[2][4];
        tree_leaves(bb, &bb->kb_trees[ti], codes, nv, d);
        for (int v = 0; v < nv; v++)
            for (int q = 0; q < 4; q++) acc[v][q] = _mm512_add_ps(acc[v][q], d[v][q]);
    }
    for (int v = 0; v < nv; v++) {
        size_t first = (size_t)v * VBMI_LANES;
        store_block(acc[v], out + first, count - first < VBMI_LANES ? count - first : VBMI_LANES, 1, 0);
    }
}

/* Several output groups: one set of accumulators per group, on the stack. */
static inline __attribute__((always_inline)) void
block_groups_nv(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count, int nv)
{
    const size_t groups = (size_t)bb->kb_num_group;
    __m512 acc[KITE_BYTEBIN_MAX_GROUPS][2][4];
    for (size_t g = 0; g < groups; g++)
        for (int v = 0; v < nv; v++)
            for (int q = 0; q < 4; q++) acc[g][v][q] = _mm512_set1_ps(bb->kb_base_margins[g]);
    for (int32_t ti = 0; ti < bb->kb_num_trees; ti++) {
        const kite_bytetree *t = &bb->kb_trees[ti];
        __m512 d[2][4];
        tree_leaves(bb, t, codes, nv, d);
        for (int v = 0; v < nv; v++)
            for (int q = 0; q < 4; q++)
                acc[t->kbt_group][v][q] = _mm512_add_ps(acc[t->kbt_group][v][q], d[v][q]);
    }
    for (size_t g = 0; g < groups; g++)
        for (int v = 0; v < nv; v++) {
            size_t first = (size_t)v * VBMI_LANES;
            store_block(acc[g][v], out + first * groups,
                        count - first < VBMI_LANES ? count - first : VBMI_LANES, groups, g);
        }
}

static void block_single1(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    block_single_nv(bb, codes, out, count, 1);
}
static void block_single2(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    block_single_nv(bb, codes, out, count, 2);
}
static void block_groups1(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    block_groups_nv(bb, codes, out, count, 1);
}
static void block_groups2(const kite_bytebin *bb, const uint8_t *codes, float *out, size_t count)
{
    block_groups_nv(bb, codes, out, count, 2);
}

/* ---- small batches: 64 trees per register, one row at a time (bytebin.h, kb_lanes) ---- */

/* Offsets of node k's 64-lane row in a lane group's thr / col tables. */
static const uint16_t lane_node_off[64] = {0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024, 1088, 1152, 1216, 1280, 1344, 1408, 1472, 1536, 1600, 1664, 1728, 1792, 1856, 1920, 1984, 2048, 2112, 2176, 2240, 2304, 2368, 2432, 2496, 2560, 2624, 2688, 2752, 2816, 2880, 2944, 3008, 3072, 3136, 3200, 3264, 3328, 3392, 3456, 3520, 3584, 3648, 3712, 3776, 3840, 3904, 3968, 4032};

/* The row's 2F byte codes (column 2f, 2f+1 at rc[2f], rc[2f+1]): 16 features per vector, each
 * probe a gather from its own feature's table (one row: no table is shared by the lanes). */
static inline __attribute__((always_inline)) void row_codes_steps(const kite_bytebin *b,
                                                                  const float *row, uint8_t *rc,
                                                                  int steps)
{
    const int32_t nf = b->kb_num_feature;
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int32_t f0 = 0; f0 < 64; f0 += 16) {
        if (f0 >= nf) {
            _mm256_store_si256((__m256i *)(rc + 2 * f0), _mm256_setzero_si256());
            continue;
        }
        __mmask16 fm = (__mmask16)(nf - f0 >= 16 ? 0xffff : (1u << (nf - f0)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(fm, row + f0);
        __m512i base = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(f0), iota),
                                          _mm512_set1_epi32(b->kb_eytz_stride));
        __m512i k = one;
#pragma GCC unroll 8
        for (int s = 0; s < steps; s++) {
            __m512 probe = _mm512_i32gather_ps(_mm512_add_epi32(base, k), b->kb_eytz, 4);
            __mmask16 le = _mm512_cmp_ps_mask(probe, x, _CMP_LE_OQ);
            __m512i k2 = _mm512_add_epi32(k, k);
            k = _mm512_mask_add_epi32(k2, le, k2, one);
        }
        __m128i lo = _mm512_cvtepi32_epi8(_mm512_sub_epi32(k, _mm512_set1_epi32(1 << steps)));
        __m128i hi = _mm_mask_mov_epi8(lo, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q),
                                       _mm_set1_epi8((char)0xff));
        _mm_store_si128((__m128i *)(rc + 2 * f0), _mm_unpacklo_epi8(lo, hi));
        _mm_store_si128((__m128i *)(rc + 2 * f0 + 16), _mm_unpackhi_epi8(lo, hi));
    }
}

/* One lane group of depth `depth`: each lane's leaf position, k - 2^depth, into pos. */
static inline __attribute__((always_inline)) void
lanes_group_depth(const uint8_t *grp, __m512i rlo, __m512i rhi, int depth, uint8_t *pos)
{
    __m512i k = _mm512_set1_epi8(1);
    __mmask64 m[6];
#pragma GCC unroll 6
    for (int level = 0; level < depth; level++) {
        __m512i colsel = level_codes(lane_node_off, grp + 64 * 64, m, level);
        __m512i th = level_codes(lane_node_off, grp, m, level);
        __m512i code = _mm512_permutex2var_epi8(rlo, colsel, rhi);
        m[level] = _mm512_cmpgt_epu8_mask(code, th);
        k = step(k, m[level]);
    }
    _mm512_store_si512((void *)pos, _mm512_sub_epi8(k, _mm512_set1_epi8((char)(1 << depth))));
}

/* One row's margins, every tree, leaves added in tree order. */
static void lanes_row(const kite_bytebin *b, const float *row, float *o)
{
    _Alignas(64) uint8_t rc[128];
    switch (b->kb_steps) {
    case 1: row_codes_steps(b, row, rc, 1); break;
    case 2: row_codes_steps(b, row, rc, 2); break;
    case 3: row_codes_steps(b, row, rc, 3); break;
    case 4: row_codes_steps(b, row, rc, 4); break;
    case 5: row_codes_steps(b, row, rc, 5); break;
    case 6: row_codes_steps(b, row, rc, 6); break;
    case 7: row_codes_steps(b, row, rc, 7); break;
    default: row_codes_steps(b, row, rc, 8); break;
    }
    const __m512i rlo = _mm512_load_si512((const void *)rc), rhi = _mm512_load_si512((const void *)(rc + 64));
    for (int32_t g = 0; g < b->kb_num_group; g++) o[g] = b->kb_base_margins[g];
    for (int32_t lg = 0; lg < b->kb_lane_groups; lg++) {
        const uint8_t *grp = b->kb_lanes + (size_t)lg * KITE_BYTEBIN_LANE_GROUP_BYTES;
        _Alignas(64) uint8_t pos[64];
        switch (b->kb_lane_depth[lg]) {
        case 0: lanes_group_depth(grp, rlo, rhi, 0, pos); break;
        case 1: lanes_group_depth(grp, rlo, rhi, 1, pos); break;
        case 2: lanes_group_depth(grp, rlo, rhi, 2, pos); break;
        case 3: lanes_group_depth(grp, rlo, rhi, 3, pos); break;
        case 4: lanes_group_depth(grp, rlo, rhi, 4, pos); break;
        case 5: lanes_group_depth(grp, rlo, rhi, 5, pos); break;
        default: lanes_group_depth(grp, rlo, rhi, 6, pos); break;
        }
        const float *leaf = (const float *)(grp + 2 * 64 * 64);
        int32_t first = 64 * lg, n = b->kb_num_trees - first < 64 ? b->kb_num_trees - first : 64;
        if (b->kb_num_group == 1) {
            float acc = o[0];
            for (int32_t l = 0; l < n; l++) acc += leaf[l * 64 + pos[l]];
            o[0] = acc;
        } else {
            for (int32_t l = 0; l < n; l++) o[b->kb_trees[first + l].kbt_group] += leaf[l * 64 + pos[l]];
        }
    }
}

void kite__margins_avx512vbmi(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                             float *out)
{
    const kite_bytebin *bb = f->kf_bytebin;
    if (bb && bb->kb_ok && bb->kb_code_bytes == 2) {
        kite__margins_avx512vbmi_wide(f, rows, nrows, stride, out);
        return;
    }
    const int lanes = bb && bb->kb_ok && bb->kb_lanes && (size_t)f->kf_num_feature <= stride;
    if (!kite_bytebin_applies(f, nrows) || (size_t)f->kf_num_feature > stride) {
        if (lanes && nrows <= KITE_BYTEBIN_LANE_MAX_ROWS) {
            for (size_t r = 0; r < nrows; r++)
                lanes_row(bb, rows + r * stride, out + r * (size_t)f->kf_num_group);
            kite__bytebin_lane_rows += nrows;
        } else {
            kite__margins_avx512(f, rows, nrows, stride, out);
        }
        return;
    }
    _Alignas(64) uint8_t codes[2 * VBMI_COLS_BYTES];
    const size_t groups = (size_t)f->kf_num_group;
    /* Rows scored with byte codes: whole vectors, and a last partial one of >= 48 rows. */
    size_t nbyte = nrows - nrows % VBMI_LANES;
    if (nrows % VBMI_LANES >= KITE_BYTEBIN_MIN_ROWS) nbyte = nrows;
    for (size_t r = 0; r < nbyte; r += 2 * VBMI_LANES) {
        size_t count = nbyte - r < 2 * VBMI_LANES ? nbyte - r : 2 * VBMI_LANES;
        bin_block(bb, rows, stride, r, count, codes);
        if (count > VBMI_LANES) {
            if (groups == 1) block_single2(bb, codes, out + r, count);
            else block_groups2(bb, codes, out + r * groups, count);
        } else {
            if (groups == 1) block_single1(bb, codes, out + r, count);
            else block_groups1(bb, codes, out + r * groups, count);
        }
    }
    kite__bytebin_rows += nbyte;
    if (nbyte < nrows && lanes && nrows - nbyte <= KITE_BYTEBIN_LANE_MAX_ROWS) {
        for (size_t r = nbyte; r < nrows; r++) lanes_row(bb, rows + r * stride, out + r * groups);
        kite__bytebin_lane_rows += nrows - nbyte;
    } else if (nbyte < nrows) {
        kite__margins_avx512(f, rows + nbyte * stride, nrows - nbyte, stride, out + nbyte * groups);
    }
}
