/* One row at a time through the perfect-tree layout (perfect.h), branch-free: the vector
 * kernels' path for batches (or tails) too small to fill their lanes. Plain C built with the
 * baseline flags: the same code built for AVX-512 measured slower, and it needs no SIMD. */
#include <stdint.h>

#include "traverse.h"

/* One row, one perfect tree, no branch on the data: pos = 2 * pos + right at every level.
 * right = !(x < thr), except that a NaN takes the node's default direction:
 * nlt ^ (isnan & (nlt ^ dright)) is dright for NaN (where nlt is 1) and nlt otherwise. */
static inline float row_perfect(const kite_perfect *p, const kite_ptree *t, const float *row)
{
    const int32_t *feat = p->kp_feat + t->kpt_node;
    const float *thr = p->kp_thr + t->kpt_node;
    const int32_t *dright = p->kp_dright + t->kpt_node;
    uint32_t pos = 0, off = 0;
    for (int level = 0; level < t->kpt_depth; level++) {
        uint32_t at = off + pos;
        float x = row[feat[at]];
        uint32_t nlt = !(x < thr[at]);
        uint32_t isnan_x = x != x;
        uint32_t right = nlt ^ (isnan_x & (nlt ^ (uint32_t)(dright[at] & 1)));
        pos = 2 * pos + right;
        off = 2 * off + 1;
    }
    return p->kp_leaf[t->kpt_leaf + pos];
}

/* KITE_ROW_TREES perfect trees of one depth walked in lock step for one row: that many
 * independent load chains per level instead of one. */
#define KITE_ROW_TREES 16
static inline __attribute__((always_inline)) void
row_perfect_lockstep(const kite_perfect *p, const kite_ptree *t, const float *row, int nan, float *v)
{
    uint32_t base[KITE_ROW_TREES], pos[KITE_ROW_TREES], off = 0;
    for (int k = 0; k < KITE_ROW_TREES; k++) {
        base[k] = t[k].kpt_node;
        pos[k] = 0;
    }
    const int32_t *feat = p->kp_feat, *dright = p->kp_dright;
    const float *thr = p->kp_thr;
    for (int level = 0; level < t[0].kpt_depth; level++) {
        for (int k = 0; k < KITE_ROW_TREES; k++) {
            uint32_t at = base[k] + off + pos[k];
            float x = row[feat[at]];
            uint32_t nlt = !(x < thr[at]);
            if (nan) nlt ^= (uint32_t)(x != x) & (nlt ^ (uint32_t)(dright[at] & 1));
            pos[k] = 2 * pos[k] + nlt;
        }
        off = 2 * off + 1;
    }
    for (int k = 0; k < KITE_ROW_TREES; k++) v[k] = p->kp_leaf[t[k].kpt_leaf + pos[k]];
}

/* The next KITE_ROW_TREES trees from ti are perfect and of one depth. */
static inline int row_run(const kite_ptree *t, int32_t ti, int32_t ntrees)
{
    if (ti + KITE_ROW_TREES > ntrees) return 0;
    for (int k = 0; k < KITE_ROW_TREES; k++)
        if (t[ti + k].kpt_kind != KITE_PTREE_PERFECT || t[ti + k].kpt_depth != t[ti].kpt_depth)
            return 0;
    return 1;
}

/* One row at a time (small batches and the last few rows): vector lanes would mostly idle, so
 * walk the trees branch-free, KITE_ROW_TREES of equal depth in lock step. Leaves are still
 * added in model order. */
void kite__row_margins(const kite_forest *f, const float *row, float *o)
{
    const kite_perfect *p = f->kf_perfect;
    int32_t ti = 0, ntrees = f->kf_num_trees;
    const kite_ptree *t = p->kp_trees;
    int nan = 0; /* a row without NaN skips the default-direction step */
    for (int32_t j = 0; j < f->kf_num_feature; j++) nan |= row[j] != row[j];
    while (ti < ntrees) {
        if (row_run(t, ti, ntrees)) {
            float v[KITE_ROW_TREES];
            if (nan) row_perfect_lockstep(p, &t[ti], row, 1, v);
            else row_perfect_lockstep(p, &t[ti], row, 0, v);
            for (int k = 0; k < KITE_ROW_TREES; k++) o[t[ti + k].kpt_group] += v[k];
            ti += KITE_ROW_TREES;
            continue;
        }
        o[t[ti].kpt_group] += t[ti].kpt_kind == KITE_PTREE_PERFECT
                                  ? row_perfect(p, &t[ti], row)
                                  : kite__tree_value_scalar(f, ti, row);
        ti++;
    }
}

