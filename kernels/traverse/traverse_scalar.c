/* Scalar reference traversal: one row at a time, trees in model order.
 *
 * The rules are XGBoost's (src/predictor/predict_fn.h): a missing value (NaN) takes the
 * node's default direction; otherwise `x < threshold` goes left; the leaves of a row are
 * added in tree order onto the base margin, in float32. */
#include <math.h>

#include "traverse.h"

static inline const kite_node *scalar_leaf(const kite_forest *f, const kite_node *nodes,
                                           uint32_t root, const float *row)
{
    const kite_node *n = &nodes[root];
    while (n->kn_feature != KITE_NODE_LEAF) {
        float x = row[n->kn_feature];
        uint32_t right;
        if (isnan(x))
            right = !(n->kn_flags & KITE_NODE_DEFAULT_LEFT);
        else if (n->kn_flags & KITE_NODE_CATEGORICAL)
            right = (uint32_t)kite_forest_cat_goes_right(f, n, x);
        else
            right = !(x < n->kn_value);
        n = &nodes[n->kn_left + right];
    }
    return n;
}

float kite__tree_value_scalar(const kite_forest *f, int32_t tree, const float *row)
{
    return scalar_leaf(f, f->kf_nodes, f->kf_tree_root[tree], row)->kn_value;
}

void kite_margins_scalar(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out)
{
    size_t groups = (size_t)f->kf_num_group;
    /* Locals, so the float stores into out cannot make the compiler reload the forest's
     * fields per tree (out is a float array, as the intercepts are). */
    const float *base = f->kf_base_margins;
    const kite_node *nodes = f->kf_nodes;
    const uint32_t *roots = f->kf_tree_root, *tree_group = f->kf_tree_group;
    const int32_t ntrees = f->kf_num_trees;
    for (size_t r = 0; r < nrows; r++) {
        const float *row = rows + r * stride;
        float *o = out + r * groups;
        for (size_t g = 0; g < groups; g++) o[g] = base[g];
        for (int32_t t = 0; t < ntrees; t++) {
            const kite_node *leaf = scalar_leaf(f, nodes, roots[t], row);
            o[tree_group[t]] += leaf->kn_value;
        }
    }
}
