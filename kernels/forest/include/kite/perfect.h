/* kite_perfect: the SIMD kernels' per-model layout, built once at load time beside kf_nodes.
 *
 * Each tree of depth D <= KITE_PERFECT_MAX_DEPTH is padded to a *perfect* tree: every leaf
 * that sits above depth D becomes an internal node whose whole subtree ends in copies of that
 * leaf's value. A padded node may test any feature (it tests feature 0 against 0.0): both of its
 * children lead to the same value, so the result is the scalar kernel's leaf, bit for bit.
 * A perfect tree needs no "is this a leaf?" test per level: a kernel runs exactly D steps
 *
 *     pos = 0;  for level L in 0..D-1:  pos = 2 * pos + goes_right(node[2^L - 1 + pos]);
 *     value = leaf[pos];
 *
 * so rows in SIMD lanes advance in lock step, and the 2^L nodes of a shallow level fit in a
 * register (a permute replaces a gather).
 *
 * Arrays (64-byte aligned; indices are 32-bit, each tree's block starts at kpt_node/kpt_leaf):
 *
 *   array       entries per tree  element  meaning
 *   kp_feat     2^D - 1           int32    split feature, level order (root, level 1, ...)
 *   kp_thr      2^D - 1           float    threshold: `x < thr` goes left
 *   kp_dright   2^D - 1           int32    -1: a missing value (NaN) goes right; 0: left
 *   kp_col2     2^D - 1           int32    2 * feature + (1 if NaN goes right): the column a
 *                                          node reads in a block holding each feature twice,
 *                                          NaN as -inf (column 2f) and as +inf (2f + 1)
 *   kp_leaf     2^D               float    leaf values (dart weight already applied), in order
 *
 * With those two copies `x < thr` alone is XGBoost's rule for NaN too (-inf < thr sends a
 * NaN left, +inf < thr never does), so a kernel needs no NaN test per level; it holds when
 * every default-left split's threshold is above -inf (kp_inf_ok; a NaN threshold is not).
 *
 * Every array ends with KITE_PERFECT_PAD spare entries so a kernel may load a whole vector (or
 * two) starting at any level of any tree without reading past the allocation.
 *
 * Per tree, for kernels that put *trees* in lanes (one row at a time, small batches):
 *   kp_tree_node / kp_tree_leaf / kp_tree_depth   int32 copies of kpt_node / kpt_leaf /
 *   kpt_depth, 0 for trees that are not KITE_PTREE_PERFECT, KITE_PERFECT_PAD zeros at the end.
 *
 * Trees deeper than KITE_PERFECT_MAX_DEPTH (padding would cost 2^D entries) are
 * KITE_PTREE_NODES: only their first KITE_PERFECT_HEAD_DEPTH levels are padded (the "head"),
 * and kp_leaf_node[kpt_leaf + pos] holds the kf_nodes index where the head ends for pos (a
 * leaf, or the inner node to continue from); kernels finish those walks on kf_nodes.
 *
 *   kp_leaf_node  2^D  int32  (heads only) kf_nodes index reached at the head's last level Trees with a categorical
 * split are KITE_PTREE_SCALAR: kernels walk them one row at a time with the scalar rules. */
#ifndef KITE_PERFECT_H
#define KITE_PERFECT_H

#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>

#define KITE_PERFECT_MAX_DEPTH 10
#define KITE_PERFECT_PAD 64
#define KITE_PERFECT_HEAD_DEPTH 8

enum { KITE_PTREE_PERFECT = 0, KITE_PTREE_NODES = 1, KITE_PTREE_SCALAR = 2 };

typedef struct kite_ptree {
    uint32_t kpt_node;  /* first entry of this tree in kp_feat / kp_thr / kp_dright */
    uint32_t kpt_leaf;  /* first entry of this tree in kp_leaf                      */
    uint32_t kpt_group; /* output group (copy of kf_tree_group)                     */
    uint8_t kpt_kind;   /* KITE_PTREE_*                                             */
    uint8_t kpt_depth;  /* D, levels walked for KITE_PTREE_PERFECT; for KITE_PTREE_NODES
                           KITE_PERFECT_HEAD_DEPTH (the head's levels)                 */
    uint16_t kpt_pad;
} kite_ptree;

typedef struct kite_perfect {
    kite_ptree *kp_trees; /* one per tree, model order */
    int32_t *kp_feat;
    float *kp_thr;
    int32_t *kp_dright;
    int32_t *kp_col2;
    float *kp_leaf;
    int32_t *kp_leaf_node;
    int32_t *kp_tree_node;
    int32_t *kp_tree_leaf;
    int32_t *kp_tree_depth;
    size_t kp_num_nodes;  /* entries used in kp_feat / kp_thr / kp_dright (without pad) */
    size_t kp_num_leaves; /* entries used in kp_leaf (without pad)                      */
    int kp_inf_ok;        /* 1: the -inf/+inf copies through kp_col2 give XGBoost's result  */
} kite_perfect;

struct kite_forest;

/* Builds f->kf_perfect from f's node array (called by kite_forest_build). */
kite_err kite_perfect_build(struct kite_forest *f, char *errstr, size_t errstr_size);
void kite_perfect_free(kite_perfect *p);

#endif
