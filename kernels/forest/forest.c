#include <kite/mem.h>
#include <kite/forest.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound on nodes in one forest: keeps every index in 32 bits (kn_left, kn_flags). */
#define KITE_FOREST_MAX_NODES (1u << 30)

static void *aligned_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    return kite_mem_aligned(64, n * size);
}

void kite_forest_free(kite_forest *f)
{
    if (!f) return;
    free(f->kf_nodes);
    free(f->kf_tree_root);
    free(f->kf_tree_group);
    free(f->kf_tree_depth);
    free(f->kf_base_margins);
    free(f->kf_cat_refs);
    free(f->kf_cat_bits);
    kite_perfect_free(f->kf_perfect);
    kite_bytebin_free(f->kf_bytebin);
    *f = (kite_forest){0};
}

/* Bitset words a categorical node needs: enough for its largest category. */
static uint32_t cat_words(const kite_tree *t, int32_t nid)
{
    uint32_t max_cat = 0;
    for (uint32_t k = 0; k < t->kt_cat_count[nid]; k++) {
        uint32_t c = t->kt_cats[t->kt_cat_begin[nid] + k];
        if (c > max_cat) max_cat = c;
    }
    return max_cat / 32 + 1;
}

kite_err kite_forest_build(const kite_model *m, kite_forest *f, char *errstr, size_t errstr_size)
{
    *f = (kite_forest){0};
    size_t total = 0, cat_nodes = 0, cat_word_total = 0;
    for (int32_t ti = 0; ti < m->km_num_trees; ti++) {
        const kite_tree *t = &m->km_trees[ti];
        total += (size_t)t->kt_num_nodes;
        if (t->kt_is_cat)
            for (int32_t n = 0; n < t->kt_num_nodes; n++)
                if (t->kt_is_cat[n] && t->kt_left[n] >= 0) {
                    cat_nodes++;
                    cat_word_total += cat_words(t, n);
                }
    }
    if (total > KITE_FOREST_MAX_NODES || cat_word_total > KITE_FOREST_MAX_NODES)
        return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "forest of %zu nodes exceeds %u",
                         total, KITE_FOREST_MAX_NODES);

    size_t ntrees = (size_t)m->km_num_trees;
    f->kf_nodes = aligned_calloc(total ? total : 1, sizeof(kite_node));
    f->kf_tree_root = calloc(ntrees + 1, sizeof(uint32_t));
    f->kf_tree_group = calloc(ntrees + 1, sizeof(uint32_t));
    f->kf_tree_depth = calloc(ntrees + 1, 1);
    f->kf_cat_refs = calloc(cat_nodes + 1, sizeof(kite_cat_ref));
    f->kf_cat_bits = calloc(cat_word_total + 1, sizeof(uint32_t));
    f->kf_base_margins = calloc((size_t)(m->km_num_group > 0 ? m->km_num_group : 1), sizeof(float));
    int32_t max_nodes = 1;
    for (size_t ti = 0; ti < ntrees; ti++)
        if (m->km_trees[ti].kt_num_nodes > max_nodes) max_nodes = m->km_trees[ti].kt_num_nodes;
    int32_t *queue = malloc((size_t)max_nodes * sizeof(int32_t));
    uint8_t *depth = malloc((size_t)max_nodes);
    if (!f->kf_nodes || !f->kf_tree_root || !f->kf_tree_group || !f->kf_tree_depth ||
        !f->kf_cat_refs || !f->kf_cat_bits || !f->kf_base_margins || !queue || !depth) {
        free(queue);
        free(depth);
        kite_forest_free(f);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory building forest");
    }

    f->kf_num_trees = m->km_num_trees;
    f->kf_num_feature = m->km_num_feature;
    f->kf_num_group = m->km_num_group;
    for (int32_t g = 0; g < m->km_num_group; g++) f->kf_base_margins[g] = m->km_base_margins[g];
    f->kf_transform = m->km_transform;
    const int *v = m->km_version;
    f->kf_invalid_cat_default = v[0] < 1 || (v[0] == 1 && (v[1] < 7 || (v[1] == 7 && v[2] < 3)));

    uint32_t next = 0, next_cat = 0, next_word = 0;
    for (size_t ti = 0; ti < ntrees; ti++) {
        const kite_tree *t = &m->km_trees[ti];
        float weight = m->km_tree_weight ? m->km_tree_weight[ti] : 1.0f;
        f->kf_tree_root[ti] = next;
        f->kf_tree_group[ti] = (uint32_t)m->km_tree_group[ti];
        /* Breadth-first renumbering: queue[k] is the source node placed at next + k. */
        uint32_t base = next, head = 0, tail = 0;
        queue[tail] = 0;
        depth[tail++] = 0;
        int tree_depth = 0;
        while (head < tail) {
            int32_t src = queue[head];
            uint8_t d = depth[head];
            kite_node *dst = &f->kf_nodes[base + head];
            head++;
            if (t->kt_left[src] < 0) {
                /* Dart: the product is rounded to float once, exactly as XGBoost's
                 * `out += leaf * weight` rounds it before the add. */
                dst->kn_value = m->km_tree_weight ? t->kt_value[src] * weight : t->kt_value[src];
                dst->kn_feature = KITE_NODE_LEAF;
                if (d > tree_depth) tree_depth = d;
                continue;
            }
            dst->kn_value = t->kt_value[src];
            dst->kn_feature = t->kt_feature[src];
            dst->kn_left = base + tail;
            dst->kn_flags = t->kt_default_left[src] ? KITE_NODE_DEFAULT_LEFT : 0;
            if (t->kt_is_cat && t->kt_is_cat[src]) {
                uint32_t words = cat_words(t, src);
                f->kf_cat_refs[next_cat] = (kite_cat_ref){next_word, words};
                for (uint32_t k = 0; k < t->kt_cat_count[src]; k++) {
                    uint32_t c = t->kt_cats[t->kt_cat_begin[src] + k];
                    f->kf_cat_bits[next_word + c / 32] |= 1u << (c % 32);
                }
                dst->kn_flags |= KITE_NODE_CATEGORICAL | (next_cat << KITE_NODE_CAT_SHIFT);
                next_cat++;
                next_word += words;
                f->kf_has_categorical = 1;
            }
            /* Validation guarantees each node is reached once, so tail stays < num_nodes. */
            queue[tail] = t->kt_left[src];
            depth[tail++] = (uint8_t)(d < 254 ? d + 1 : 255);
            queue[tail] = t->kt_right[src];
            depth[tail++] = (uint8_t)(d < 254 ? d + 1 : 255);
        }
        next += tail; /* nodes unreachable from the root (pruned) are dropped */
        f->kf_tree_depth[ti] = (uint8_t)tree_depth;
        if (tree_depth > f->kf_max_depth) f->kf_max_depth = tree_depth;
    }
    f->kf_num_nodes = next;
    free(queue);
    free(depth);
    kite_err err = kite_perfect_build(f, errstr, errstr_size);
    if (err != KITE_ERR_OK) kite_forest_free(f);
    /* An optimisation only: out of memory here leaves it NULL and the float kernels score. */
    else f->kf_bytebin = kite_bytebin_build(f);
    return err;
}

int kite_forest_cat_goes_right(const kite_forest *f, const kite_node *node, float x)
{
    const kite_cat_ref *ref = &f->kf_cat_refs[node->kn_flags >> KITE_NODE_CAT_SHIFT];
    /* XGBoost casts the value to int32 (truncation). Negative values, values from 2^24 on
     * (where float stops representing every integer) and categories past the bitset are
     * "invalid": XGBoost before 1.7.3 sends them the default way, 1.7.3+ sends them left. */
    if (x < 0.0f || x >= 16777216.0f || x >= (float)(ref->kct_nwords * 32u)) {
        if (f->kf_invalid_cat_default) return !(node->kn_flags & KITE_NODE_DEFAULT_LEFT);
        return 0;
    }
    uint32_t c = (uint32_t)(int32_t)x;
    return (f->kf_cat_bits[ref->kct_word + c / 32] >> (c % 32)) & 1u;
}

/* XGBoost's Sigmoid caps expf's argument at 88.7 (expf(88.7) ~ 3.3e38 stays finite), so
 * margins below -88.7 give ~3.0e-39, not 0. */
static float sigmoidf(float x) { return 1.0f / (1.0f + expf(fminf(-x, 88.7f))); }

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void kite_forest_transform(const kite_forest *f, float *v, size_t nrows)
{
    size_t g = (size_t)f->kf_num_group;
    switch (f->kf_transform) {
    case KITE_TRANSFORM_IDENTITY:
        return;
    case KITE_TRANSFORM_SIGMOID:
        for (size_t i = 0; i < nrows * g; i++) v[i] = sigmoidf(v[i]);
        return;
    case KITE_TRANSFORM_EXP:
        for (size_t i = 0; i < nrows * g; i++) v[i] = expf(v[i]);
        return;
    case KITE_TRANSFORM_HINGE:
        for (size_t i = 0; i < nrows * g; i++) v[i] = v[i] > 0.0f ? 1.0f : 0.0f;
        return;
    case KITE_TRANSFORM_SOFTPROB:
        for (size_t r = 0; r < nrows; r++) {
            float *row = v + r * g;
            float wmax = row[0];
            for (size_t k = 1; k < g; k++) wmax = fmaxf(row[k], wmax);
            double wsum = 0.0; /* XGBoost sums the exponentials in double */
            for (size_t k = 0; k < g; k++) {
                row[k] = expf(row[k] - wmax);
                wsum += row[k];
            }
            for (size_t k = 0; k < g; k++) row[k] /= (float)wsum;
        }
        return;
    case KITE_TRANSFORM_CUMULATIVE:
        for (size_t r = 0; r < nrows; r++) {
            float *row = v + r * g;
            for (size_t k = 1; k < g; k++) {
                float x = row[k];
                /* softplus as max(x, 0) + log1p(exp(-|x|)): no overflow for large x */
                float sp = fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
                row[k] = row[k - 1] + (sp + 1e-6f);
            }
        }
        return;
    case KITE_TRANSFORM_SORTED:
        for (size_t r = 0; r < nrows; r++) qsort(v + r * g, g, sizeof(float), cmp_float);
        return;
    case KITE_TRANSFORM_SOFTMAX:
        for (size_t r = 0; r < nrows; r++) {
            float *row = v + r * g;
            size_t best = 0;
            for (size_t k = 1; k < g; k++)
                if (row[k] > row[best]) best = k;
            row[0] = (float)best;
        }
        return;
    }
}

int kite_forest_outputs_per_row(const kite_forest *f)
{
    return f->kf_transform == KITE_TRANSFORM_SOFTMAX ? 1 : f->kf_num_group;
}
