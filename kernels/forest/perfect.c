/* Builds the perfect-tree layout (see perfect.h) from a forest's breadth-first node array. */
#include <kite/mem.h>
#include <kite/perfect.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/forest.h>

/* Padded trees cost about 20 bytes per leaf slot (leaf, exit index, and one node of feature,
 * threshold, NaN direction); past this many slots (~320 MiB) in all, further trees stay
 * KITE_PTREE_NODES so a model of deep trees does not blow up memory. */
#define KITE_PERFECT_MAX_ENTRIES (1u << 24)

static void *aligned_array(size_t n, size_t size)
{
    return kite_mem_aligned(64, (n + KITE_PERFECT_PAD) * size);
}

void kite_perfect_free(kite_perfect *p)
{
    if (!p) return;
    free(p->kp_trees);
    free(p->kp_feat);
    free(p->kp_thr);
    free(p->kp_dright);
    free(p->kp_col2);
    free(p->kp_leaf);
    free(p->kp_leaf_node);
    free(p->kp_tree_node);
    free(p->kp_tree_leaf);
    free(p->kp_tree_depth);
    free(p);
}

/* Trees are stored one after another (breadth-first, contiguous), so tree ti owns the nodes
 * from its root up to the next tree's root. */
static int tree_has_categorical(const kite_forest *f, size_t ti)
{
    size_t end = ti + 1 < (size_t)f->kf_num_trees ? f->kf_tree_root[ti + 1] : f->kf_num_nodes;
    for (size_t i = f->kf_tree_root[ti]; i < end; i++)
        if (f->kf_nodes[i].kn_feature != KITE_NODE_LEAF &&
            (f->kf_nodes[i].kn_flags & KITE_NODE_CATEGORICAL))
            return 1;
    return 0;
}

/* Fills level `level`, position `pos` of the perfect tree from source node `src`; a leaf above
 * the last level is repeated into both halves of its subtree. */
static void fill(const kite_forest *f, kite_perfect *p, const kite_ptree *t, uint32_t src,
                 int level, uint32_t pos)
{
    const kite_node *n = &f->kf_nodes[src];
    if (level == t->kpt_depth) {
        if (t->kpt_kind == KITE_PTREE_NODES) p->kp_leaf_node[t->kpt_leaf + pos] = (int32_t)src;
        else p->kp_leaf[t->kpt_leaf + pos] = n->kn_value;
        return;
    }
    uint32_t at = t->kpt_node + (1u << level) - 1 + pos;
    if (n->kn_feature == KITE_NODE_LEAF) {
        p->kp_feat[at] = 0;
        p->kp_thr[at] = 0.0f;
        p->kp_dright[at] = 0;
        p->kp_col2[at] = 0; /* either copy: both children lead to the same value */
        fill(f, p, t, src, level + 1, 2 * pos);
        fill(f, p, t, src, level + 1, 2 * pos + 1);
        return;
    }
    p->kp_feat[at] = n->kn_feature;
    p->kp_thr[at] = n->kn_value;
    p->kp_dright[at] = (n->kn_flags & KITE_NODE_DEFAULT_LEFT) ? 0 : -1;
    /* Unsigned: no overflow for a huge feature index (kp_inf_ok is 0 then, the value unread). */
    p->kp_col2[at] = (int32_t)(2u * (uint32_t)n->kn_feature + !(n->kn_flags & KITE_NODE_DEFAULT_LEFT));
    /* A NaN read as -inf goes left only below a threshold above -inf (a NaN threshold too
     * sends every number right); +inf goes right past any threshold. */
    if ((n->kn_flags & KITE_NODE_DEFAULT_LEFT) && !(n->kn_value > -INFINITY))
        p->kp_inf_ok = 0;
    fill(f, p, t, n->kn_left, level + 1, 2 * pos);
    fill(f, p, t, n->kn_left + 1, level + 1, 2 * pos + 1);
}

kite_err kite_perfect_build(kite_forest *f, char *errstr, size_t errstr_size)
{
    kite_perfect *p = calloc(1, sizeof *p);
    if (!p) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory (perfect layout)");
    size_t ntrees = (size_t)f->kf_num_trees;
    p->kp_trees = calloc(ntrees + 1, sizeof *p->kp_trees);
    if (!p->kp_trees) {
        kite_perfect_free(p);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory (perfect layout)");
    }
    size_t nodes = 0, leaves = 0;
    for (size_t ti = 0; ti < ntrees; ti++) {
        kite_ptree *t = &p->kp_trees[ti];
        int depth = f->kf_tree_depth[ti];
        t->kpt_group = f->kf_tree_group[ti];
        t->kpt_depth = (uint8_t)depth;
        if (f->kf_has_categorical && tree_has_categorical(f, ti)) {
            t->kpt_kind = KITE_PTREE_SCALAR;
        } else if (depth > KITE_PERFECT_MAX_DEPTH ||
                   leaves + (1u << depth) > KITE_PERFECT_MAX_ENTRIES) {
            /* The head's exits are kf_nodes indices kept in int32. */
            t->kpt_kind = f->kf_num_nodes < (1u << 30) ? KITE_PTREE_NODES : KITE_PTREE_SCALAR;
            if (t->kpt_kind == KITE_PTREE_NODES) {
                t->kpt_depth = KITE_PERFECT_HEAD_DEPTH;
                t->kpt_node = (uint32_t)nodes;
                t->kpt_leaf = (uint32_t)leaves;
                nodes += (1u << KITE_PERFECT_HEAD_DEPTH) - 1;
                leaves += 1u << KITE_PERFECT_HEAD_DEPTH;
            }
        } else {
            t->kpt_kind = KITE_PTREE_PERFECT;
            t->kpt_node = (uint32_t)nodes;
            t->kpt_leaf = (uint32_t)leaves;
            nodes += (1u << depth) - 1;
            leaves += 1u << depth;
        }
    }
    p->kp_num_nodes = nodes;
    p->kp_num_leaves = leaves;
    p->kp_feat = aligned_array(nodes, sizeof(int32_t));
    p->kp_thr = aligned_array(nodes, sizeof(float));
    p->kp_dright = aligned_array(nodes, sizeof(int32_t));
    p->kp_col2 = aligned_array(nodes, sizeof(int32_t));
    p->kp_leaf = aligned_array(leaves, sizeof(float));
    p->kp_leaf_node = aligned_array(leaves, sizeof(int32_t));
    p->kp_tree_node = aligned_array(ntrees, sizeof(int32_t));
    p->kp_tree_leaf = aligned_array(ntrees, sizeof(int32_t));
    p->kp_tree_depth = aligned_array(ntrees, sizeof(int32_t));
    if (!p->kp_feat || !p->kp_thr || !p->kp_dright || !p->kp_col2 || !p->kp_leaf ||
        !p->kp_leaf_node || !p->kp_tree_node || !p->kp_tree_leaf || !p->kp_tree_depth) {
        kite_perfect_free(p);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size,
                         "out of memory (perfect layout: %zu nodes, %zu leaves)", nodes, leaves);
    }
    /* kp_col2 (2 * feature + 1) must fit the kernels' int32 gathers. */
    p->kp_inf_ok = f->kf_num_feature < (1 << 28);
    for (size_t ti = 0; ti < ntrees; ti++) {
        const kite_ptree *t = &p->kp_trees[ti];
        if (t->kpt_kind == KITE_PTREE_NODES) fill(f, p, t, f->kf_tree_root[ti], 0, 0);
        if (t->kpt_kind != KITE_PTREE_PERFECT) continue;
        fill(f, p, t, f->kf_tree_root[ti], 0, 0);
        p->kp_tree_node[ti] = (int32_t)t->kpt_node;
        p->kp_tree_leaf[ti] = (int32_t)t->kpt_leaf;
        p->kp_tree_depth[ti] = t->kpt_depth;
    }
    f->kf_perfect = p;
    return KITE_ERR_OK;
}
