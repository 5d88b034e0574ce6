/* Private to kite_traverse (kernels/traverse/), not installed.
 * The one traversal algorithm every vector kernel shares (traverse_avx2.c, traverse_avx512.c,
 * traverse_neon.c). Included once per ISA after that ISA's primitive header, which defines:
 *
 *   KV_LANES, KV_NAME (the exported kernel's name)
 *   kv_f / kv_i / kv_m    float vector, int32 vector, lane mask
 *   kv_f_set1 kv_f_loadu kv_f_storeu kv_f_add kv_f_select    kv_i_set1 kv_i_loadu kv_i_storeu
 *   kv_i_add kv_i_sllv kv_i_bit
 *   kv_i_add_mask1(v, m)  v + 1 in the lanes of m
 *   kv_gather_f/i(base, idx)          base[idx[lane]]
 *   kv_lookup_f/i(tab, n, pos)        tab[pos[lane]] for a table of n (a power of two) entries;
 *                                     small tables become a register permute, big ones a gather
 *   kv_right(x, thr)                  lanes where !(x < thr) (x has no NaN)
 *   kv_right_nan(x, thr, dright)      XGBoost's rule with NaN: NaN lanes take dright
 *   kv_i_nonzero kv_i_eq kv_i_gt kv_m_all kv_i_select
 *
 * Rows are the lanes: a vector holds KV_LANES rows, and KITE_SIMD_GROUP vectors walk the same
 * tree together so their gathers overlap (independent dependency chains). Rows loop outside,
 * trees inside: for a block of rows every tree is applied in model order and each leaf is
 * added onto the row's margin at once, which is the scalar kernel's order of float additions,
 * so the margins are bit-identical (see traverse.h).
 *
 * A vector of rows with no NaN in its first kf_num_feature columns takes kv_right (one compare);
 * one with a NaN takes kv_right_nan. When the rows are copied feature-major (`cols`) and the
 * model allows it (kp_inf_ok, perfect.h), each feature is copied twice instead, NaN as -inf and
 * as +inf, and every node reads the copy of its NaN direction (kp_col2): kv_right alone is then
 * XGBoost's rule, NaN or not, with no NaN test at any level (cols == SIMD_COLS_INF).
 * The last, partial vector of a batch repeats its last row in the unused lanes (every gather stays inside the caller's rows) and stores only the real ones.
 *
 * Fewer than half a vector of rows left (batch 1, tails) go one row at a time, branch-free
 * through the perfect trees (kite__row_margins, traverse_row.c, built with baseline flags:
 * measured faster than trees-in-lanes with gathers, and than the same C built for AVX-512). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../traverse.h"

/* How a vector's rows are read: gathered from the caller's rows, copied feature-major once, or
 * copied feature-major twice with NaN as -inf / +inf (see above). */
enum { SIMD_ROWS = 0, SIMD_COLS = 1, SIMD_COLS_INF = 2 };

#ifndef KITE_SIMD_GROUP
#define KITE_SIMD_GROUP 8 /* vectors walked together (latency hiding); an ISA may pick fewer */
#endif

/* One vector of rows: where its rows start, the lane offsets, how many lanes are real. */
typedef struct simd_rows {
    const float *srw_base;   /* first row (row-major mode) or this vector's columns block */
    const float *srw_row0;   /* first row in the caller's matrix (scalar fallback)       */
    size_t srw_stride;
    kv_i srw_laneoff; /* row-major: lane * stride, lanes past srw_count repeat the last real
                        row; columns: lane */
    kv_i srw_shift;   /* feature f of lane l sits at srw_base[laneoff[l] + (f << shift)] */
    int srw_count;    /* real rows in this vector (0: a filler vector, nothing stored) */
    int srw_nan;      /* some feature of some real row is NaN */
} simd_rows;

/* x = feature fi of every lane, gathered. */
static inline kv_f simd_x(const simd_rows *v, kv_i fi)
{
    return kv_gather_f(v->srw_base, kv_i_add(v->srw_laneoff, kv_i_sllv(fi, v->srw_shift)));
}

/* One level of a perfect tree for nv vectors of rows (level_off = 2^level - 1). With `cols`
 * (rows copied into a feature-major block, KV_LANES values per feature) a level up to
 * KV_DIRECT_LEVELS needs no gather: its 2^level candidate features are plain vector loads and
 * a tree of selects on the bits of pos picks each lane's one, which is cheaper than a gather
 * on the CPUs measured (bench/RESULTS.md, "Kernels: moved from README.md"). Called with constant level, nv,
 * nan and cols, so every loop below unrolls and xs[] / pos[] stay in registers. */
static inline __attribute__((always_inline)) void
simd_level(const kite_perfect *p, const kite_ptree *t, const simd_rows *v, int nv, int nan,
           int cols, int level, kv_i *pos)
{
    const uint32_t level_off = (1u << level) - 1;
    const int inf = cols == SIMD_COLS_INF;
    if (inf) nan = 0; /* each node reads the copy holding its NaN direction */
    const int32_t *feat = (inf ? p->kp_col2 : p->kp_feat) + t->kpt_node + level_off;
    const float *thr = p->kp_thr + t->kpt_node + level_off;
    const int32_t *dright = p->kp_dright + t->kpt_node + level_off;
    const int n = 1 << level;
    if (cols && level <= KV_DIRECT_LEVELS) {
        const float *colx[1 << KV_DIRECT_LEVELS];
#pragma GCC unroll 16
        for (int j = 0; j < n; j++) colx[j] = v[0].srw_base + (size_t)feat[j] * KV_LANES;
#pragma GCC unroll 8
        for (int k = 0; k < nv; k++) {
            const size_t vec = (size_t)(v[k].srw_base - v[0].srw_base);
            kv_f xs[1 << KV_DIRECT_LEVELS];
#pragma GCC unroll 16
            for (int j = 0; j < n; j++) xs[j] = kv_f_loadu(colx[j] + vec);
            for (int b = 0; (1 << b) < n; b++) {
                kv_m bit = kv_i_bit(pos[k], b);
                for (int j = 0; j < (n >> (b + 1)); j++)
                    xs[j] = kv_f_select(bit, xs[2 * j + 1], xs[2 * j]);
            }
            kv_f th = kv_lookup_f(thr, n, pos[k]);
            kv_i p2 = kv_i_add(pos[k], pos[k]);
            if (nan) {
                kv_m dr = kv_i_nonzero(kv_lookup_i(dright, n, pos[k]));
                pos[k] = kv_i_add_mask1(p2, kv_right_nan(xs[0], th, dr));
            } else {
                pos[k] = kv_i_add_mask1(p2, kv_right(xs[0], th));
            }
        }
        return;
    }
#pragma GCC unroll 8
    for (int k = 0; k < nv; k++) {
        kv_i fi = kv_lookup_i(feat, n, pos[k]);
        kv_f th = kv_lookup_f(thr, n, pos[k]);
        kv_f x = simd_x(&v[k], fi);
        kv_i p2 = kv_i_add(pos[k], pos[k]);
        if (nan) {
            kv_m dr = kv_i_nonzero(kv_lookup_i(dright, n, pos[k]));
            pos[k] = kv_i_add_mask1(p2, kv_right_nan(x, th, dr));
        } else {
            pos[k] = kv_i_add_mask1(p2, kv_right(x, th));
        }
    }
}

/* Walks the first `depth` levels of a padded tree for nv vectors of rows, leaving each lane's
 * leaf position in pos; levels 0..7 are spelled out so each is a constant for simd_level,
 * deeper ones loop. */
static inline __attribute__((always_inline)) void
simd_walk(const kite_perfect *p, const kite_ptree *t, const simd_rows *v, int nv, int nan,
          int depth, int cols, kv_i *pos)
{
#pragma GCC unroll 8
    for (int k = 0; k < nv; k++) pos[k] = kv_i_set1(0);
    if (depth > 0) simd_level(p, t, v, nv, nan, cols, 0, pos);
    if (depth > 1) simd_level(p, t, v, nv, nan, cols, 1, pos);
    if (depth > 2) simd_level(p, t, v, nv, nan, cols, 2, pos);
    if (depth > 3) simd_level(p, t, v, nv, nan, cols, 3, pos);
    if (depth > 4) simd_level(p, t, v, nv, nan, cols, 4, pos);
    if (depth > 5) simd_level(p, t, v, nv, nan, cols, 5, pos);
    if (depth > 6) simd_level(p, t, v, nv, nan, cols, 6, pos);
    if (depth > 7) simd_level(p, t, v, nv, nan, cols, 7, pos);
    /* Deeper levels gather (every ISA's KV_DIRECT_LEVELS is below 8), in either layout. */
    for (int level = 8; level < depth; level++) simd_level(p, t, v, nv, nan, cols, level, pos);
}

/* One out-of-line copy of the walk per (vectors, NaN, layout) combination: the levels inside
 * are unrolled with constant level numbers, while the depth stays a run-time value (one
 * well-predicted branch per level). Ten copies in all (the -inf/+inf layout needs no NaN one),
 * which keeps the object code and the compile time small (a copy per depth as well cost several times both, for no measured gain). */
#define SIMD_WALK_FN(name, NV, NAN, COLS)                                                       \
    static __attribute__((noinline)) void name(const kite_perfect *p, const kite_ptree *t,      \
                                               const simd_rows *v, int depth, kv_i *pos)        \
    {                                                                                           \
        simd_walk(p, t, v, NV, NAN, depth, COLS, pos);                                          \
    }
SIMD_WALK_FN(simd_walk_g00, KITE_SIMD_GROUP, 0, 0)
SIMD_WALK_FN(simd_walk_g01, KITE_SIMD_GROUP, 0, 1)
SIMD_WALK_FN(simd_walk_g10, KITE_SIMD_GROUP, 1, 0)
SIMD_WALK_FN(simd_walk_g11, KITE_SIMD_GROUP, 1, 1)
SIMD_WALK_FN(simd_walk_100, 1, 0, 0)
SIMD_WALK_FN(simd_walk_101, 1, 0, 1)
SIMD_WALK_FN(simd_walk_110, 1, 1, 0)
SIMD_WALK_FN(simd_walk_111, 1, 1, 1)
SIMD_WALK_FN(simd_walk_g_inf, KITE_SIMD_GROUP, 0, SIMD_COLS_INF)
SIMD_WALK_FN(simd_walk_1_inf, 1, 0, SIMD_COLS_INF)

static inline __attribute__((always_inline)) void
simd_walk_any(const kite_perfect *p, const kite_ptree *t, const simd_rows *v, int nv, int nan,
              int depth, int cols, kv_i *pos)
{
    if (cols == SIMD_COLS_INF)
        (nv == KITE_SIMD_GROUP ? simd_walk_g_inf : simd_walk_1_inf)(p, t, v, depth, pos);
    else if (nv == KITE_SIMD_GROUP) {
        if (nan) (cols ? simd_walk_g11 : simd_walk_g10)(p, t, v, depth, pos);
        else (cols ? simd_walk_g01 : simd_walk_g00)(p, t, v, depth, pos);
    } else {
        if (nan) (cols ? simd_walk_111 : simd_walk_110)(p, t, v, depth, pos);
        else (cols ? simd_walk_101 : simd_walk_100)(p, t, v, depth, pos);
    }
}

/* Trees too deep to pad (KITE_PTREE_NODES, e.g. lossguide trees 30 levels deep), on ISAs
 * without the deep walk's primitives (traverse_simd_deep.h) or indices too big for it: after the
 * vector walk of their padded head (start = kf_nodes index where each row left the head), the
 * paths that go on differ wildly in length, and lanes in lock step would all wait for the
 * longest. So the rest of the walk keeps KITE_NODES_CHAIN independent scalar walks in flight
 * and hands a slot the next row as soon as its row reaches a leaf. Branch-free step:
 * right = nlt ^ (isnan & (nlt ^ dright)), as in simd_row_perfect. Each row still gets exactly
 * one add per tree, so the order of additions per row is unchanged. */
#define KITE_NODES_CHAIN 8
static void simd_nodes_rows(const kite_forest *f, const int32_t *start, const simd_rows *v,
                            int nv, float *out, size_t groups, uint32_t g)
{
    const kite_node *nodes = f->kf_nodes;
    const float *rowp[KITE_SIMD_GROUP * KV_LANES];
    uint32_t first[KITE_SIMD_GROUP * KV_LANES];
    size_t outi[KITE_SIMD_GROUP * KV_LANES];
    int n = 0;
    for (int k = 0; k < nv; k++)
        for (int l = 0; l < v[k].srw_count; l++, n++) {
            rowp[n] = v[k].srw_row0 + (size_t)l * v[k].srw_stride;
            first[n] = (uint32_t)start[k * KV_LANES + l];
            outi[n] = (size_t)(k * KV_LANES + l) * groups + g;
        }
    uint32_t idx[KITE_NODES_CHAIN];
    int slot[KITE_NODES_CHAIN], next = 0, live = 0;
    for (int i = 0; i < KITE_NODES_CHAIN; i++) {
        slot[i] = next < n ? next++ : -1;
        if (slot[i] >= 0) {
            idx[i] = first[slot[i]];
            live++;
        }
    }
    while (live) {
        for (int i = 0; i < KITE_NODES_CHAIN; i++) {
            int r = slot[i];
            if (r < 0) continue;
            const kite_node *nd = &nodes[idx[i]];
            int32_t fe = nd->kn_feature;
            if (fe < 0) { /* this row is done: add its leaf, take the next row */
                out[outi[r]] += nd->kn_value;
                if (next < n) {
                    slot[i] = next;
                    idx[i] = first[next++];
                } else {
                    slot[i] = -1;
                    live--;
                }
                continue;
            }
            float x = rowp[r][fe];
            uint32_t nlt = !(x < nd->kn_value);
            uint32_t isnan_x = x != x;
            uint32_t dr = !(nd->kn_flags & KITE_NODE_DEFAULT_LEFT);
            idx[i] = nd->kn_left + (nlt ^ (isnan_x & (nlt ^ dr)));
        }
    }
}

#ifdef KV_REFILL
#include "traverse_simd_deep.h"
#endif

/* Adds one leaf vector onto the margins of its real rows (group g of G). */
static inline void simd_add(float *out, size_t groups, uint32_t g, const simd_rows *v, kv_f leaf)
{
    if (groups == 1 && v->srw_count == KV_LANES) {
        kv_f_storeu(out, kv_f_add(kv_f_loadu(out), leaf));
        return;
    }
    float lanes[KV_LANES];
    kv_f_storeu(lanes, leaf);
    for (int l = 0; l < v->srw_count; l++) out[(size_t)l * groups + g] += lanes[l];
}

static int simd_rows_have_nan(const float *rows, size_t n, size_t stride, size_t features)
{
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < features; j++)
            if (rows[r * stride + j] != rows[r * stride + j]) return 1;
    return 0;
}

/* Scores nv vectors (nv <= KITE_SIMD_GROUP, a constant at each call site) with every tree. */
static inline __attribute__((always_inline)) void
simd_block_cols(const kite_forest *f, const simd_rows *v, int nv, int cols, float *out,
                size_t groups)
{
    const kite_perfect *p = f->kf_perfect;
    int nan = 0;
    for (int k = 0; k < nv; k++) nan |= v[k].srw_nan;
#ifdef KV_REFILL
    const int deep_ok = simd_deep_ok(f, v[0].srw_stride);
#endif
    for (int32_t ti = 0; ti < f->kf_num_trees; ti++) {
        const kite_ptree *t = &p->kp_trees[ti];
        kv_f leaf[KITE_SIMD_GROUP];
        if (t->kpt_kind == KITE_PTREE_PERFECT) {
            kv_i pos[KITE_SIMD_GROUP];
            simd_walk_any(p, t, v, nv, nan, t->kpt_depth, cols, pos);
            for (int k = 0; k < nv; k++)
                leaf[k] = kv_lookup_f(p->kp_leaf + t->kpt_leaf, 1 << t->kpt_depth, pos[k]);
        } else if (t->kpt_kind == KITE_PTREE_NODES) {
            kv_i pos[KITE_SIMD_GROUP];
            int32_t start[KITE_SIMD_GROUP * KV_LANES];
            simd_walk_any(p, t, v, nv, nan, KITE_PERFECT_HEAD_DEPTH, cols, pos);
            for (int k = 0; k < nv; k++)
                kv_i_storeu(start + k * KV_LANES,
                            kv_lookup_i(p->kp_leaf_node + t->kpt_leaf, 1 << KITE_PERFECT_HEAD_DEPTH,
                                        pos[k]));
#ifdef KV_REFILL
            if (deep_ok) {
                simd_deep_rows(f, start, v, nv, nan, out, groups, t->kpt_group);
                continue;
            }
#endif
            simd_nodes_rows(f, start, v, nv, out, groups, t->kpt_group);
            continue;
        } else {
            for (int k = 0; k < nv; k++)
                for (int l = 0; l < v[k].srw_count; l++) {
                    size_t r = (size_t)(k * KV_LANES + l);
                    out[r * groups + t->kpt_group] +=
                        kite__tree_value_scalar(f, ti, v[k].srw_row0 + (size_t)l * v[k].srw_stride);
                }
            continue;
        }
        for (int k = 0; k < nv; k++)
            simd_add(out + (size_t)k * KV_LANES * groups, groups, t->kpt_group, &v[k], leaf[k]);
    }
}

/* Columns block capacity (floats, on the stack): KITE_SIMD_GROUP vectors of up to this many
 * features in total are copied feature-major; wider models copy one vector at a time, and
 * models too wide for even that gather straight from the caller's rows. */
#define KITE_SIMD_COLS_FLOATS 8192

/* Copies KV_LANES rows feature-major into cols, once (inf 0) or twice with NaN as -inf / +inf
 * (inf 1); returns whether a real row has a NaN. Inlined with inf constant at both call sites
 * of simd_rows_init, so neither copy tests it per value. */
static inline __attribute__((always_inline)) int simd_copy_cols(const float *row0, size_t count,
                                                               size_t stride, size_t features,
                                                               float *cols, const int inf)
{
    int nan = 0;
    for (int l = 0; l < KV_LANES; l++) {
        const float *src = row0 + ((size_t)l < count ? (size_t)l : count - 1) * stride;
        for (size_t j = 0; j < features; j++) {
            float x = src[j];
            int isn = x != x;
            nan |= isn;
            if (inf) {
                cols[2 * j * KV_LANES + (size_t)l] = isn ? -INFINITY : x;
                cols[(2 * j + 1) * KV_LANES + (size_t)l] = isn ? INFINITY : x;
            } else {
                cols[j * KV_LANES + (size_t)l] = x;
            }
        }
    }
    return nan;
}

/* Fills the vector of rows starting at row r (count real rows, 0 < count <= KV_LANES). With
 * cols != NULL the rows are copied into cols feature-major (cols[f * KV_LANES + lane]), or with
 * inf twice (cols[2f * KV_LANES + lane] NaN as -inf, cols[(2f + 1) * KV_LANES + lane] as +inf);
 * lanes past count repeat the last real row either way, so every load stays in bounds. */
static void simd_rows_init(simd_rows *v, const float *rows, size_t r, size_t count, size_t stride,
                           size_t features, float *cols, int inf)
{
    int32_t off[KV_LANES];
    const float *row0 = rows + r * stride;
    v->srw_row0 = row0;
    v->srw_stride = stride;
    v->srw_count = (int)count;
    v->srw_nan = 0;
    if (cols) {
        for (int l = 0; l < KV_LANES; l++) off[l] = l;
        v->srw_nan = inf ? simd_copy_cols(row0, count, stride, features, cols, 1)
                         : simd_copy_cols(row0, count, stride, features, cols, 0);
        v->srw_base = cols;
        v->srw_shift = kv_i_set1(KV_LANES_LOG2);
    } else {
        for (int l = 0; l < KV_LANES; l++)
            off[l] = (int32_t)((size_t)l < count ? (size_t)l * stride : (count - 1) * stride);
        v->srw_base = row0;
        v->srw_shift = kv_i_set1(0);
        v->srw_nan = simd_rows_have_nan(row0, count, stride, features);
    }
    v->srw_laneoff = kv_i_loadu(off);
}

static void simd_block(const kite_forest *f, const simd_rows *v, int nv, int cols, float *out,
                       size_t groups)
{
    if (nv == KITE_SIMD_GROUP) {
        if (cols == SIMD_COLS_INF) simd_block_cols(f, v, KITE_SIMD_GROUP, SIMD_COLS_INF, out, groups);
        else if (cols) simd_block_cols(f, v, KITE_SIMD_GROUP, SIMD_COLS, out, groups);
        else simd_block_cols(f, v, KITE_SIMD_GROUP, SIMD_ROWS, out, groups);
    } else {
        if (cols == SIMD_COLS_INF) simd_block_cols(f, v, 1, SIMD_COLS_INF, out, groups);
        else if (cols) simd_block_cols(f, v, 1, SIMD_COLS, out, groups);
        else simd_block_cols(f, v, 1, SIMD_ROWS, out, groups);
    }
}

void KV_NAME(const kite_forest *f, const float *rows, size_t nrows, size_t stride, float *out)
{
    size_t groups = (size_t)f->kf_num_group;
    size_t features = (size_t)f->kf_num_feature;
    /* Gathers take 32-bit offsets from a vector's first row. */
    if (!f->kf_perfect || stride > (size_t)INT32_MAX / (2 * KV_LANES) || features > stride) {
        kite_margins_scalar(f, rows, nrows, stride, out);
        return;
    }
    _Alignas(64) float cols[KITE_SIMD_COLS_FLOATS];
    /* The -inf/+inf copies where the model allows them and a group's block still fits. */
    const int inf = f->kf_perfect->kp_inf_ok &&
                    2 * features * KV_LANES * KITE_SIMD_GROUP <= KITE_SIMD_COLS_FLOATS;
    size_t vec_floats = features * KV_LANES * (inf ? 2 : 1);
    int group_cols = vec_floats * KITE_SIMD_GROUP <= KITE_SIMD_COLS_FLOATS;
    int single_cols = vec_floats <= KITE_SIMD_COLS_FLOATS;
    const int layout = inf ? SIMD_COLS_INF : SIMD_COLS;
    /* Each output's intercept; one group (the common case) is a plain fill. */
    const float *base = f->kf_base_margins;
    if (groups == 1) {
        const float b0 = base[0];
        for (size_t r = 0; r < nrows; r++) out[r] = b0;
    } else {
        for (size_t r = 0; r < nrows; r++)
            for (size_t g = 0; g < groups; g++) out[r * groups + g] = base[g];
    }
    const size_t block = (size_t)KV_LANES * KITE_SIMD_GROUP;
    size_t r = 0;
    for (; r + block <= nrows; r += block) {
        simd_rows v[KITE_SIMD_GROUP];
        for (int k = 0; k < KITE_SIMD_GROUP; k++)
            simd_rows_init(&v[k], rows, r + (size_t)k * KV_LANES, KV_LANES, stride, features,
                           group_cols ? cols + (size_t)k * vec_floats : NULL, inf);
        simd_block(f, v, KITE_SIMD_GROUP, group_cols ? layout : SIMD_ROWS, out + r * groups, groups);
    }
    /* Rows left over: fewer than half a vector go one by one with trees in lanes. */
    for (; r < nrows && (nrows - r) * 2 >= KV_LANES; r += KV_LANES) {
        simd_rows v[1];
        size_t count = nrows - r < KV_LANES ? nrows - r : KV_LANES;
        simd_rows_init(&v[0], rows, r, count, stride, features, single_cols ? cols : NULL, inf);
        simd_block(f, v, 1, single_cols ? layout : SIMD_ROWS, out + r * groups, groups);
    }
    for (; r < nrows; r++) kite__row_margins(f, rows + r * stride, out + r * groups);
}
