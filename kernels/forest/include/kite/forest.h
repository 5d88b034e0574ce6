/* kite_forest: the scoring layout every kernel reads.
 *
 * Built once from a kite_model (kite_forest_build) and immutable afterwards, so any number of
 * threads may score with one forest at the same time.
 *
 * Node array (kf_nodes), 16 bytes per node, 64-byte aligned, 4 nodes per cache line:
 *
 *   offset size field       meaning
 *   0      4    kn_value    split threshold (float32, `x < value` goes left), or leaf value
 *   4      4    kn_feature  split feature index; KITE_NODE_LEAF (-1) marks a leaf
 *   8      4    kn_left     absolute index of the left child in kf_nodes; right = left + 1
 *   12     4    kn_flags    bit 0: missing goes left; bit 1: categorical split;
 *                           bits 2..31: index into kf_cat_refs for categorical splits
 *
 * Why this shape: trees are renumbered breadth-first so the two children of a node sit side
 * by side; the next node is then `left + !(x < value)`, one add and no branch, and both
 * children usually share a cache line. Trees are stored one after another in model order
 * (kf_tree_root), because XGBoost sums leaves in tree order and float addition is not
 * associative: the order of additions is part of the result.
 *
 * Dart models: each leaf value is pre-multiplied by its tree's weight (float32 multiply, the
 * same single rounding XGBoost applies at predict time), so kernels only add.
 *
 * Categorical splits: kf_cat_refs[i] = {first word in kf_cat_bits, number of 32-bit words};
 * bit c set means category c goes right, as in XGBoost.
 *
 * kf_perfect: a second, SIMD-friendly copy of the trees (padded perfect trees, level order),
 * built by kite_forest_build for the vector kernels; its layout is documented in perfect.h. */
#ifndef KITE_FOREST_H
#define KITE_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>
#include <kite/model.h>
#include <kite/perfect.h>
#include <kite/bytebin.h>

#define KITE_NODE_LEAF (-1)
#define KITE_NODE_DEFAULT_LEFT 1u
#define KITE_NODE_CATEGORICAL 2u
#define KITE_NODE_CAT_SHIFT 2

typedef struct kite_node {
    float kn_value;
    int32_t kn_feature;
    uint32_t kn_left;
    uint32_t kn_flags;
} kite_node;

_Static_assert(sizeof(kite_node) == 16, "kite_node must stay 16 bytes (4 per cache line)");

typedef struct kite_cat_ref {
    uint32_t kct_word;   /* first 32-bit word of this split's bitset in kf_cat_bits */
    uint32_t kct_nwords; /* words in the bitset; categories >= 32 * kct_nwords are "unknown" */
} kite_cat_ref;

typedef struct kite_forest {
    kite_node *kf_nodes;        /* all trees, 64-byte aligned                             */
    uint32_t *kf_tree_root;     /* index of each tree's root in kf_nodes                   */
    uint32_t *kf_tree_group;    /* output group of each tree                               */
    uint8_t *kf_tree_depth;     /* depth of each tree (0 for a single leaf), capped at 255 */
    kite_cat_ref *kf_cat_refs;
    uint32_t *kf_cat_bits;
    size_t kf_num_nodes;
    int32_t kf_num_trees;
    int32_t kf_num_feature;
    int32_t kf_num_group;
    int32_t kf_max_depth;
    float *kf_base_margins;     /* kf_num_group intercepts (margin space), owned      */
    kite_transform kf_transform;
    int kf_has_categorical;
    /* XGBoost before 1.7.3 sends an invalid category (negative, >= 2^24, past the bitset)
     * the node's default way; 1.7.3 and later send it left. Chosen from the model's stamp. */
    int kf_invalid_cat_default;
    kite_perfect *kf_perfect;   /* SIMD layout (perfect.h); owned, freed by kite_forest_free */
    struct kite_bytebin *kf_bytebin; /* byte-binned layout (bytebin.h); owned; NULL if OOM   */
} kite_forest;

kite_err kite_forest_build(const kite_model *model, kite_forest *out, char *errstr,
                           size_t errstr_size);
void kite_forest_free(kite_forest *forest);

/* Which way a categorical split sends value x (not NaN): returns 1 for right. */
int kite_forest_cat_goes_right(const kite_forest *f, const kite_node *node, float x);

/* Objective transform of margins, in place: rows x kf_num_group values, row-major.
 * For multi:softmax the first value of each row receives the class index (as XGBoost's
 * predict does), and the row's other values are left untouched. */
void kite_forest_transform(const kite_forest *f, float *values, size_t nrows);

/* Number of values per row that kite_forest_transform leaves meaningful (1 for softmax). */
int kite_forest_outputs_per_row(const kite_forest *f);

#endif
