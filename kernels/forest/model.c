#include <kite/model.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static void tree_free(kite_tree *t)
{
    free(t->kt_left);
    free(t->kt_right);
    free(t->kt_feature);
    free(t->kt_value);
    free(t->kt_default_left);
    free(t->kt_is_cat);
    free(t->kt_cat_begin);
    free(t->kt_cat_count);
    free(t->kt_cats);
}

void kite_model_free(kite_model *model)
{
    if (!model) return;
    if (model->km_trees)
        for (int32_t i = 0; i < model->km_num_trees; i++) tree_free(&model->km_trees[i]);
    free(model->km_trees);
    free(model->km_tree_group);
    free(model->km_tree_weight);
    free(model->km_base_margins);
    free(model->km_base_scores);
    free(model->km_iteration_indptr);
    if (model->km_feature_names)
        for (int32_t i = 0; i < model->km_num_feature; i++) free(model->km_feature_names[i]);
    free(model->km_feature_names);
    free(model->km_feature_is_cat);
    if (model->km_cats)
        for (int32_t f = 0; f < model->km_num_feature; f++) {
            kite_category_dict *d = &model->km_cats[f];
            if (d->kcd_names)
                for (int32_t c = 0; c < d->kcd_count; c++) free(d->kcd_names[c]);
            free(d->kcd_names);
            free(d->kcd_values);
            free(d->kcd_sorted);
        }
    free(model->km_cats);
    *model = (kite_model){0};
}

kite_err kite_model_keep_iterations(kite_model *m, int32_t begin, int32_t end, char *errstr,
                                    size_t errstr_size)
{
    int32_t n = m->km_num_iterations;
    if (end == 0) end = n;
    if (begin < 0 || end > n || begin >= end)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size,
                         "iteration range %d:%d is outside the model's %d boosting rounds", begin,
                         end, n);
    int32_t t0 = m->km_iteration_indptr[begin], t1 = m->km_iteration_indptr[end];
    for (int32_t i = 0; i < m->km_num_trees; i++)
        if (i < t0 || i >= t1) tree_free(&m->km_trees[i]);
    int32_t keep = t1 - t0;
    memmove(m->km_trees, m->km_trees + t0, (size_t)keep * sizeof *m->km_trees);
    memmove(m->km_tree_group, m->km_tree_group + t0, (size_t)keep * sizeof *m->km_tree_group);
    if (m->km_tree_weight)
        memmove(m->km_tree_weight, m->km_tree_weight + t0, (size_t)keep * sizeof(float));
    for (int32_t i = begin; i <= end; i++)
        m->km_iteration_indptr[i - begin] = m->km_iteration_indptr[i] - t0;
    m->km_num_trees = keep;
    m->km_num_iterations = end - begin;
    if (m->km_best_iteration >= 0)
        m->km_best_iteration = m->km_best_iteration >= begin && m->km_best_iteration < end
                                   ? m->km_best_iteration - begin : -1;
    return KITE_ERR_OK;
}

/* Walks one tree from the root with an explicit stack. Every node must be reached exactly
 * once: a second visit means a cycle or a shared subtree, which XGBoost never writes and
 * which would make traversal loop forever. The stack never holds more than num_nodes
 * entries because each node is pushed at most once. */
static kite_err tree_validate(const kite_model *m, int32_t ti, int32_t *depth_out, char *errstr,
                              size_t errstr_size)
{
    const kite_tree *t = &m->km_trees[ti];
    int32_t n = t->kt_num_nodes;
    if (n < 1) return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size, "tree %d: no nodes", ti);
    int32_t *stack = malloc((size_t)n * 2 * sizeof *stack);
    uint8_t *seen = calloc((size_t)n, 1);
    if (!stack || !seen) {
        free(stack);
        free(seen);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "tree %d: out of memory", ti);
    }
    kite_err err = KITE_ERR_OK;
    int32_t sp = 0, max_depth = 0, visited = 0;
    stack[sp++] = 0; /* node */
    stack[sp++] = 0; /* depth */
    seen[0] = 1;
    while (sp > 0 && err == KITE_ERR_OK) {
        int32_t depth = stack[--sp];
        int32_t nid = stack[--sp];
        visited++;
        int32_t l = t->kt_left[nid], r = t->kt_right[nid];
        if (l == -1 && r == -1) {
            if (depth > max_depth) max_depth = depth;
            continue;
        }
        if (l < 0 || l >= n || r < 0 || r >= n) {
            err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                            "tree %d node %d: child index (%d, %d) out of range [0, %d)", ti, nid,
                            l, r, n);
            break;
        }
        if (seen[l] || seen[r] || l == r) {
            err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                            "tree %d node %d: child %d reached twice (cycle or shared subtree)",
                            ti, nid, seen[l] ? l : r);
            break;
        }
        int32_t f = t->kt_feature[nid];
        if (f < 0 || f >= m->km_num_feature) {
            err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                            "tree %d node %d: split feature %d >= num_feature %d", ti, nid, f,
                            m->km_num_feature);
            break;
        }
        if (t->kt_is_cat && t->kt_is_cat[nid] &&
            (uint64_t)t->kt_cat_begin[nid] + t->kt_cat_count[nid] > t->kt_num_cats) {
            err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                            "tree %d node %d: category segment out of range", ti, nid);
            break;
        }
        seen[l] = seen[r] = 1;
        stack[sp++] = l;
        stack[sp++] = depth + 1;
        stack[sp++] = r;
        stack[sp++] = depth + 1;
    }
    (void)visited; /* unreachable (deleted) nodes are allowed: XGBoost keeps them after pruning */
    free(stack);
    free(seen);
    if (depth_out) *depth_out = max_depth;
    return err;
}

kite_err kite_model_validate(const kite_model *m, char *errstr, size_t errstr_size)
{
    if (m->km_num_feature < 1)
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size, "num_feature %d < 1",
                         m->km_num_feature);
    if (m->km_num_group < 1)
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size, "num_group %d < 1",
                         m->km_num_group);
    for (int32_t i = 0; i < m->km_num_trees; i++) {
        if (m->km_tree_group[i] < 0 || m->km_tree_group[i] >= m->km_num_group)
            return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                             "tree_info[%d] = %d outside [0, %d)", i, m->km_tree_group[i],
                             m->km_num_group);
        KITE_TRY(tree_validate(m, i, NULL, errstr, errstr_size));
    }
    return KITE_ERR_OK;
}

int kite_model_max_depth(const kite_model *m)
{
    int max_depth = 0;
    for (int32_t i = 0; i < m->km_num_trees; i++) {
        int32_t d = 0;
        if (tree_validate(m, i, &d, NULL, 0) == KITE_ERR_OK && d > max_depth) max_depth = d;
    }
    return max_depth;
}

static int cat_cmp_name(const kite_category_dict *d, int32_t code, const char *text)
{
    return strcmp(d->kcd_names[code], text);
}

kite_err kite_model_category_code(const kite_model *m, int32_t f, const char *text, float *code,
                                  char *errstr, size_t errstr_size)
{
    const kite_category_dict *d = m->km_cats && f >= 0 && f < m->km_num_feature ? &m->km_cats[f] : NULL;
    if (!d || d->kcd_count == 0)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "feature %d has no category dictionary", f);
    char *end;
    double x = strtod(text, &end);
    int numeric_text = *text && end != text && !*end;
    int32_t lo = 0, hi = d->kcd_count - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2, c = d->kcd_sorted[mid];
        int cmp;
        if (d->kcd_numeric) {
            if (!numeric_text) break;
            cmp = d->kcd_values[c] < x ? -1 : d->kcd_values[c] > x;
        } else {
            cmp = cat_cmp_name(d, c, text);
        }
        if (cmp == 0) {
            *code = (float)c;
            return KITE_ERR_OK;
        }
        if (cmp < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    if (!d->kcd_numeric && numeric_text) { /* a code, as numpy input gives XGBoost */
        *code = (float)x;
        return KITE_ERR_OK;
    }
    const char *name = m->km_feature_names ? m->km_feature_names[f] : NULL;
    char fname[32];
    if (!name) snprintf(fname, sizeof fname, "%d", f), name = fname;
    return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                     "category \"%.40s\" is not one of feature %s's %d training categories", text,
                     name, d->kcd_count);
}
