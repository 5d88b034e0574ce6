/* Reads XGBoost's model schema (doc/model.schema in the XGBoost tree) from a cJSON tree.
 * Every field is type-checked and every array length checked against tree_param.num_nodes
 * before use, so a malformed file yields one line naming the field, never a crash. */
#include <kite/xgb_model.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ubjson.h"
#include "xgb_cats.h"
#include "xgb_objective.h"
#include <kite/f32.h>

/* Nodes in one tree: 2^24 is over 8 million leaves, far beyond any lossguide tree. */
#define KITE_MAX_TREE_NODES (1 << 24)
#define KITE_MAX_CATEGORY ((1 << 24) - 1)

typedef struct xgb_ctx {
    const char *name; /* file name for messages */
    char *err;
    size_t err_size;
} xgb_ctx;

#define XGB_FAIL(ctx, code, ...) xgb_fail((ctx), (code), __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static kite_err xgb_fail(xgb_ctx *ctx, kite_err code,
                                                               const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return kite_errf(code, ctx->err, ctx->err_size, "%s: %s", ctx->name, what);
}

static const cJSON *xgb_child(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static kite_err xgb_object(xgb_ctx *ctx, const cJSON *parent, const char *key, const char *where,
                           const cJSON **out)
{
    const cJSON *v = xgb_child(parent, key);
    if (!v) return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s: missing field \"%s\"", where, key);
    if (!cJSON_IsObject(v))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s.%s: expected an object", where, key);
    *out = v;
    return KITE_ERR_OK;
}

static kite_err xgb_array(xgb_ctx *ctx, const cJSON *parent, const char *key, const char *where,
                          const cJSON **out)
{
    const cJSON *v = xgb_child(parent, key);
    if (!v) return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s: missing field \"%s\"", where, key);
    if (!cJSON_IsArray(v))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s.%s: expected an array", where, key);
    *out = v;
    return KITE_ERR_OK;
}

/* XGBoost writes integer parameters as strings ("num_feature": "6"); accept numbers too. */
static kite_err xgb_int_param(xgb_ctx *ctx, const cJSON *obj, const char *key, const char *where,
                              long long lo, long long hi, long long *out)
{
    const cJSON *v = xgb_child(obj, key);
    if (!v) return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s: missing field \"%s\"", where, key);
    long long x;
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        x = strtoll(v->valuestring, &end, 10);
        if (errno || end == v->valuestring || *end)
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s.%s: \"%s\" is not an integer", where,
                            key, v->valuestring);
    } else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
               fabs(v->valuedouble) < 9e18) {
        x = (long long)v->valuedouble;
    } else {
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s.%s: expected an integer", where, key);
    }
    if (x < lo || x > hi)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s.%s: %lld outside [%lld, %lld]", where, key,
                        x, lo, hi);
    *out = x;
    return KITE_ERR_OK;
}

/* A numeric array element: null stands for NaN (the JSON reader maps NaN to null). */
static int xgb_number(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) { *out = v->valuedouble; return 1; }
    if (cJSON_IsNull(v)) { *out = NAN; return 1; }
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v) ? 1.0 : 0.0; return 1; }
    return 0;
}

typedef enum { XGB_I32, XGB_F32, XGB_U8 } xgb_elem;

/* Reads an array that must hold exactly n elements into a fresh buffer. */
static kite_err xgb_read_array(xgb_ctx *ctx, const cJSON *tree, const char *key, int tree_id,
                               int n, xgb_elem type, int required, void **out)
{
    *out = NULL;
    const cJSON *arr = xgb_child(tree, key);
    if (!arr) {
        if (required)
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: missing field \"%s\"", tree_id,
                            key);
        return KITE_ERR_OK;
    }
    if (!cJSON_IsArray(arr))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: \"%s\" is not an array", tree_id, key);
    int len = cJSON_GetArraySize(arr);
    if (len != n)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                        "tree %d: \"%s\" has %d elements, num_nodes is %d", tree_id, key, len, n);
    size_t elem = type == XGB_U8 ? 1 : 4;
    unsigned char *buf = calloc((size_t)(n ? n : 1), elem);
    if (!buf) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "tree %d: out of memory", tree_id);
    int i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++) {
        double d;
        if (!xgb_number(v, &d)) {
            free(buf);
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: %s[%d]: expected a number",
                            tree_id, key, i);
        }
        if (type == XGB_F32) {
            ((float *)buf)[i] = kite_f32(d);
        } else {
            if (!(d == floor(d)) || d < -2147483648.0 || d > 2147483647.0) {
                free(buf);
                return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: %s[%d]: %g is not an integer",
                                tree_id, key, i, d);
            }
            if (type == XGB_I32) ((int32_t *)buf)[i] = (int32_t)d;
            else buf[i] = d != 0;
        }
    }
    *out = buf;
    return KITE_ERR_OK;
}

static kite_err xgb_read_categories(xgb_ctx *ctx, const cJSON *tj, int ti, kite_tree *t)
{
    const cJSON *nodes = xgb_child(tj, "categories_nodes");
    if (!nodes || cJSON_GetArraySize(nodes) == 0) return KITE_ERR_OK;
    const cJSON *segs = xgb_child(tj, "categories_segments");
    const cJSON *sizes = xgb_child(tj, "categories_sizes");
    const cJSON *cats = xgb_child(tj, "categories");
    int nn = cJSON_GetArraySize(nodes);
    if (!cJSON_IsArray(nodes) || !cJSON_IsArray(segs) || !cJSON_IsArray(sizes) ||
        !cJSON_IsArray(cats) || cJSON_GetArraySize(segs) != nn || cJSON_GetArraySize(sizes) != nn)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                        "tree %d: categories_nodes/segments/sizes must be arrays of equal length", ti);
    int ncat = cJSON_GetArraySize(cats);
    int n = t->kt_num_nodes;
    t->kt_cat_begin = calloc((size_t)n, sizeof(uint32_t));
    t->kt_cat_count = calloc((size_t)n, sizeof(uint32_t));
    t->kt_cats = calloc((size_t)(ncat ? ncat : 1), sizeof(uint32_t));
    if (!t->kt_cat_begin || !t->kt_cat_count || !t->kt_cats)
        return XGB_FAIL(ctx, KITE_ERR_NOMEM, "tree %d: out of memory", ti);
    t->kt_num_cats = (uint32_t)ncat;
    int i = 0;
    for (const cJSON *c = cats->child; c; c = c->next, i++) {
        double d;
        if (!xgb_number(c, &d) || d != floor(d) || d < 0 || d > KITE_MAX_CATEGORY)
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                            "tree %d: categories[%d] must be an integer in [0, %d]", ti, i,
                            KITE_MAX_CATEGORY);
        t->kt_cats[i] = (uint32_t)d;
    }
    const cJSON *nv = nodes->child, *sv = segs->child, *zv = sizes->child;
    for (i = 0; i < nn; i++, nv = nv->next, sv = sv->next, zv = zv->next) {
        double node, seg, size;
        if (!xgb_number(nv, &node) || !xgb_number(sv, &seg) || !xgb_number(zv, &size) ||
            node != floor(node) || node < 0 || node >= n || seg < 0 || size < 0 ||
            seg + size > ncat)
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                            "tree %d: categorical split %d: node/segment/size out of range", ti, i);
        int nid = (int)node;
        if (!t->kt_is_cat[nid])
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                            "tree %d node %d: categories given for a numeric split", ti, nid);
        t->kt_cat_begin[nid] = (uint32_t)seg;
        t->kt_cat_count[nid] = (uint32_t)size;
    }
    return KITE_ERR_OK;
}

/* A vector-leaf tree's leaves (multi_strategy=multi_output_tree): K values per leaf. XGBoost
 * 2.0-3.1 keep them in base_weights (num_nodes x K, row = node); 3.2+ in leaf_weights
 * (leaves x K), where a leaf's right_children entry is its row. Fills vec (num_nodes x K, per
 * node) and sets the leaves' right child back to -1. */
static kite_err xgb_read_leaf_vectors(xgb_ctx *ctx, const cJSON *tj, int ti, int k, kite_tree *t,
                                      float **vec_out)
{
    int n = t->kt_num_nodes;
    const cJSON *lw = xgb_child(tj, "leaf_weights");
    const cJSON *src = lw ? lw : xgb_child(tj, "base_weights");
    const char *key = lw ? "leaf_weights" : "base_weights";
    if (!cJSON_IsArray(src))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: vector leaves without \"%s\"", ti, key);
    int len = cJSON_GetArraySize(src);
    if ((!lw && len != n * k) || (lw && len % k))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: \"%s\" has %d values for %d-vectors", ti,
                        key, len, k);
    float *all = malloc(((size_t)len + 1) * sizeof(float));
    float *vec = calloc((size_t)n * (size_t)k + 1, sizeof(float));
    if (!all || !vec) {
        free(all);
        free(vec);
        return XGB_FAIL(ctx, KITE_ERR_NOMEM, "tree %d: out of memory", ti);
    }
    int i = 0;
    kite_err err = KITE_ERR_OK;
    for (const cJSON *v = src->child; v; v = v->next, i++) {
        double d;
        if (!xgb_number(v, &d) || isnan(d)) {
            err = XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: %s[%d]: expected a number", ti, key, i);
            break;
        }
        all[i] = kite_f32(d);
    }
    for (int nid = 0; nid < n && err == KITE_ERR_OK; nid++) {
        if (t->kt_left[nid] != -1) continue;
        int row = nid;
        if (lw) {
            row = t->kt_right[nid];
            if (row < 0 || row >= len / k) {
                err = XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                               "tree %d node %d: leaf row %d outside leaf_weights' %d rows", ti, nid,
                               row, len / k);
                break;
            }
            t->kt_right[nid] = -1;
        }
        memcpy(vec + (size_t)nid * (size_t)k, all + (size_t)row * (size_t)k, (size_t)k * sizeof(float));
    }
    free(all);
    if (err != KITE_ERR_OK) {
        free(vec);
        return err;
    }
    *vec_out = vec;
    return KITE_ERR_OK;
}

static kite_err xgb_read_tree(xgb_ctx *ctx, const cJSON *tj, int ti, int num_feature, int num_group,
                              kite_tree *t, float **leaf_vec_out)
{
    *leaf_vec_out = NULL;
    if (!cJSON_IsObject(tj))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "trees[%d]: expected an object", ti);
    const cJSON *param = NULL;
    char where[48];
    snprintf(where, sizeof where, "tree %d: tree_param", ti);
    if (xgb_object(ctx, tj, "tree_param", where, &param) != KITE_ERR_OK)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d: missing object \"tree_param\"", ti);
    long long nodes = 0, leaf_vec = 0;
    KITE_TRY(xgb_int_param(ctx, param, "num_nodes", where, 1, KITE_MAX_TREE_NODES, &nodes));
    if (xgb_child(param, "size_leaf_vector"))
        KITE_TRY(xgb_int_param(ctx, param, "size_leaf_vector", where, 0, 1 << 20, &leaf_vec));
    if (leaf_vec > 1 && leaf_vec != num_group)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                        "tree %d: size_leaf_vector %lld, but the model has %d outputs", ti, leaf_vec,
                        num_group);
    int n = (int)nodes;
    t->kt_num_nodes = n;
    KITE_TRY(xgb_read_array(ctx, tj, "left_children", ti, n, XGB_I32, 1, (void **)&t->kt_left));
    KITE_TRY(xgb_read_array(ctx, tj, "right_children", ti, n, XGB_I32, 1, (void **)&t->kt_right));
    KITE_TRY(xgb_read_array(ctx, tj, "split_indices", ti, n, XGB_I32, 1, (void **)&t->kt_feature));
    KITE_TRY(xgb_read_array(ctx, tj, "split_conditions", ti, n, XGB_F32, 1, (void **)&t->kt_value));
    KITE_TRY(xgb_read_array(ctx, tj, "default_left", ti, n, XGB_U8, 1, (void **)&t->kt_default_left));
    KITE_TRY(xgb_read_array(ctx, tj, "split_type", ti, n, XGB_U8, 0, (void **)&t->kt_is_cat));
    if (leaf_vec > 1) KITE_TRY(xgb_read_leaf_vectors(ctx, tj, ti, (int)leaf_vec, t, leaf_vec_out));
    for (int i = 0; i < n; i++) {
        int leaf = t->kt_left[i] == -1;
        if (leaf != (t->kt_right[i] == -1))
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                            "tree %d node %d: one child is -1 and the other is %d", ti, i,
                            leaf ? t->kt_right[i] : t->kt_left[i]);
        if (!leaf && (t->kt_feature[i] < 0 || t->kt_feature[i] >= num_feature))
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                            "tree %d node %d: split feature %d >= num_feature %d", ti, i,
                            t->kt_feature[i], num_feature);
        if (leaf && !*leaf_vec_out && isnan(t->kt_value[i]))
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d node %d: leaf value is NaN", ti, i);
        if (!leaf && !(t->kt_is_cat && t->kt_is_cat[i]) && isnan(t->kt_value[i]))
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree %d node %d: split threshold is NaN",
                            ti, i);
    }
    if (t->kt_is_cat) {
        int any = 0;
        for (int i = 0; i < n; i++) any |= t->kt_is_cat[i] && t->kt_left[i] != -1;
        if (any) {
            KITE_TRY(xgb_read_categories(ctx, tj, ti, t));
            if (!t->kt_cat_begin)
                return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                                "tree %d: categorical splits without \"categories_nodes\"", ti);
        }
        if (!any) { free(t->kt_is_cat); t->kt_is_cat = NULL; }
    }
    return KITE_ERR_OK;
}

/* learner_model_param.base_score (a number, or a string: "5E-1", "[5E-1]", "[v0,v1,...]")
 * and learner.objective.name -> intercepts per output and the prediction transform. */
static kite_err xgb_objective(xgb_ctx *ctx, const cJSON *learner, const cJSON *lmp, kite_model *m)
{
    const cJSON *obj = NULL;
    KITE_TRY(xgb_object(ctx, learner, "objective", "learner", &obj));
    const cJSON *name = xgb_child(obj, "name");
    if (!cJSON_IsString(name))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "learner.objective.name: expected a string");
    const cJSON *v = xgb_child(lmp, "base_score");
    if (!v) return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "learner_model_param: missing \"base_score\"");
    float one, *base = &one;
    int nbase = 1;
    char what[384];
    kite_err err = KITE_ERR_OK;
    if (cJSON_IsNumber(v)) {
        one = kite_f32(v->valuedouble);
    } else if (cJSON_IsString(v)) {
        base = malloc((size_t)m->km_num_group * sizeof(float));
        if (!base) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        err = kite__xgb_parse_base_score(v->valuestring, base, m->km_num_group, &nbase, what,
                                         sizeof what);
    } else {
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "learner_model_param.base_score: expected a string");
    }
    if (err == KITE_ERR_OK)
        err = kite__xgb_apply_objective(name->valuestring, base, nbase, m, what, sizeof what);
    if (base != &one) free(base);
    return err == KITE_ERR_OK ? err : XGB_FAIL(ctx, err, "%s", what);
}

static kite_err xgb_feature_info(xgb_ctx *ctx, const cJSON *learner, kite_model *m)
{
    const cJSON *names = xgb_child(learner, "feature_names");
    if (cJSON_IsArray(names) && cJSON_GetArraySize(names) > 0) {
        if (cJSON_GetArraySize(names) != m->km_num_feature)
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "feature_names has %d names, num_feature is %d",
                            cJSON_GetArraySize(names), m->km_num_feature);
        m->km_feature_names = calloc((size_t)m->km_num_feature, sizeof(char *));
        if (!m->km_feature_names) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        int i = 0;
        for (const cJSON *v = names->child; v; v = v->next, i++) {
            if (!cJSON_IsString(v))
                return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "feature_names[%d]: expected a string", i);
            m->km_feature_names[i] = strdup(v->valuestring);
            if (!m->km_feature_names[i]) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        }
    }
    const cJSON *types = xgb_child(learner, "feature_types");
    if (cJSON_IsArray(types) && cJSON_GetArraySize(types) == m->km_num_feature) {
        m->km_feature_is_cat = calloc((size_t)m->km_num_feature, 1);
        if (!m->km_feature_is_cat) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        int i = 0;
        for (const cJSON *v = types->child; v; v = v->next, i++)
            m->km_feature_is_cat[i] = cJSON_IsString(v) && !strcmp(v->valuestring, "c");
    }
    return KITE_ERR_OK;
}

/* DART weights: 1.x-3.2 name the booster "dart" and keep weight_drop beside its "gbtree"
 * object; 3.3 saves a "gbtree" with weight_drop beside "model", 3.4 inside "model". From 3.3
 * the list may be shorter than the trees (the missing weights are 1). */
static kite_err xgb_weights(xgb_ctx *ctx, const cJSON *gb, const cJSON *model, int dart,
                            const int *version, int32_t ntrees, float **out)
{
    const cJSON *w = xgb_child(model, "weight_drop");
    if (!w) w = xgb_child(gb, "weight_drop");
    *out = NULL;
    if (!w) {
        if (dart) return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "gradient_booster: missing field \"weight_drop\"");
        return KITE_ERR_OK;
    }
    if (!cJSON_IsArray(w))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "weight_drop: expected an array");
    int nw = cJSON_GetArraySize(w);
    int shorter_ok = version[0] > 3 || (version[0] == 3 && version[1] >= 3);
    if (nw > ntrees || (nw < ntrees && !shorter_ok))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "weight_drop has %d weights, num_trees is %d", nw,
                        ntrees);
    float *wt = malloc(((size_t)ntrees + 1) * sizeof(float));
    if (!wt) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
    int i = 0;
    for (const cJSON *v = w->child; v; v = v->next, i++) {
        double d;
        if (!xgb_number(v, &d) || !isfinite(d)) {
            free(wt);
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "weight_drop[%d]: expected a number", i);
        }
        wt[i] = kite_f32(d);
    }
    for (; i < ntrees; i++) wt[i] = 1.0f;
    *out = wt;
    return KITE_ERR_OK;
}

/* Boosting rounds as first-tree offsets over the file's trees: model.iteration_indptr (2.0+),
 * else num_parallel_tree x num_group trees per round (1.x). */
static kite_err xgb_iterations(xgb_ctx *ctx, const cJSON *model, const cJSON *param, int32_t ntrees,
                               int32_t group, int32_t **out, int32_t *niter)
{
    const cJSON *ip = xgb_child(model, "iteration_indptr");
    int32_t *ptr;
    if (cJSON_IsArray(ip) && cJSON_GetArraySize(ip) >= 1) {
        int n = cJSON_GetArraySize(ip);
        ptr = malloc((size_t)n * sizeof *ptr);
        if (!ptr) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        int i = 0;
        for (const cJSON *v = ip->child; v; v = v->next, i++) {
            double d;
            if (!xgb_number(v, &d) || d != floor(d) || d < (i ? ptr[i - 1] : 0) || d > ntrees ||
                (i == 0 && d != 0)) {
                free(ptr);
                return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL,
                                "iteration_indptr[%d]: must rise from 0 to num_trees %d", i, ntrees);
            }
            ptr[i] = (int32_t)d;
        }
        int32_t last = ptr[n - 1];
        if (last != ntrees) {
            free(ptr);
            return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "iteration_indptr ends at %d, num_trees is %d",
                            last, ntrees);
        }
        *niter = n - 1;
    } else {
        long long npar = 1;
        if (xgb_child(param, "num_parallel_tree"))
            KITE_TRY(xgb_int_param(ctx, param, "num_parallel_tree", "gbtree_model_param", 1, 1 << 20, &npar));
        int32_t per = (int32_t)npar * group;
        int32_t n = (ntrees + per - 1) / per;
        ptr = malloc(((size_t)n + 1) * sizeof *ptr);
        if (!ptr) return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        for (int32_t i = 0; i <= n; i++) ptr[i] = i * per < ntrees ? i * per : ntrees;
        *niter = n;
    }
    *out = ptr;
    return KITE_ERR_OK;
}

/* A copy of a vector-leaf tree's structure with output k's leaf values. */
static kite_err tree_copy_for_output(const kite_tree *src, const float *vec, int k, int K,
                                     kite_tree *dst)
{
    size_t n = (size_t)src->kt_num_nodes;
    *dst = (kite_tree){.kt_num_nodes = src->kt_num_nodes};
    dst->kt_left = malloc(n * sizeof(int32_t));
    dst->kt_right = malloc(n * sizeof(int32_t));
    dst->kt_feature = malloc(n * sizeof(int32_t));
    dst->kt_value = malloc(n * sizeof(float));
    dst->kt_default_left = malloc(n);
    if (!dst->kt_left || !dst->kt_right || !dst->kt_feature || !dst->kt_value || !dst->kt_default_left)
        return KITE_ERR_NOMEM;
    memcpy(dst->kt_left, src->kt_left, n * sizeof(int32_t));
    memcpy(dst->kt_right, src->kt_right, n * sizeof(int32_t));
    memcpy(dst->kt_feature, src->kt_feature, n * sizeof(int32_t));
    memcpy(dst->kt_default_left, src->kt_default_left, n);
    for (size_t i = 0; i < n; i++)
        dst->kt_value[i] = src->kt_left[i] == -1 ? vec[i * (size_t)K + (size_t)k] : src->kt_value[i];
    if (src->kt_is_cat) {
        size_t nc = src->kt_num_cats ? src->kt_num_cats : 1;
        dst->kt_is_cat = malloc(n);
        dst->kt_cat_begin = malloc(n * sizeof(uint32_t));
        dst->kt_cat_count = malloc(n * sizeof(uint32_t));
        dst->kt_cats = malloc(nc * sizeof(uint32_t));
        if (!dst->kt_is_cat || !dst->kt_cat_begin || !dst->kt_cat_count || !dst->kt_cats)
            return KITE_ERR_NOMEM;
        memcpy(dst->kt_is_cat, src->kt_is_cat, n);
        if (src->kt_cat_begin) {
            memcpy(dst->kt_cat_begin, src->kt_cat_begin, n * sizeof(uint32_t));
            memcpy(dst->kt_cat_count, src->kt_cat_count, n * sizeof(uint32_t));
            memcpy(dst->kt_cats, src->kt_cats, src->kt_num_cats * sizeof(uint32_t));
        }
        dst->kt_num_cats = src->kt_num_cats;
    }
    return KITE_ERR_OK;
}

/* Vector-leaf trees become one scalar tree per output, in output order, so every output
 * still adds its leaves in tree order (the additions XGBoost makes, in the same order); the
 * round offsets move with them. */
static kite_err xgb_split_vector_trees(xgb_ctx *ctx, kite_model *m, float **vecs)
{
    int32_t n = m->km_num_trees, K = m->km_num_group, total = 0;
    for (int32_t i = 0; i < n; i++) total += vecs[i] ? K : 1;
    if (total == n) return KITE_ERR_OK;
    kite_tree *trees = calloc((size_t)total + 1, sizeof *trees);
    int32_t *group = calloc((size_t)total + 1, sizeof *group);
    float *weight = m->km_tree_weight ? calloc((size_t)total + 1, sizeof *weight) : NULL;
    int32_t *newpos = calloc((size_t)n + 1, sizeof *newpos);
    if (!trees || !group || !newpos || (m->km_tree_weight && !weight)) {
        free(trees); free(group); free(weight); free(newpos);
        return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
    }
    int32_t o = 0;
    kite_err err = KITE_ERR_OK;
    for (int32_t i = 0; i < n; i++) {
        newpos[i] = o;
        int32_t copies = vecs[i] ? K : 1;
        for (int32_t k = 0; k < copies; k++, o++) {
            if (weight) weight[o] = m->km_tree_weight[i];
            if (!vecs[i]) {
                trees[o] = m->km_trees[i];
                group[o] = m->km_tree_group[i];
                m->km_trees[i] = (kite_tree){0};
                continue;
            }
            group[o] = k;
            if (err == KITE_ERR_OK && tree_copy_for_output(&m->km_trees[i], vecs[i], k, K, &trees[o]) != KITE_ERR_OK)
                err = XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
        }
    }
    newpos[n] = o;
    for (int32_t it = 0; it <= m->km_num_iterations; it++)
        m->km_iteration_indptr[it] = newpos[m->km_iteration_indptr[it]];
    free(newpos);
    kite_model old = *m;
    old.km_num_trees = n;
    old.km_tree_weight = NULL, old.km_base_margins = NULL, old.km_base_scores = NULL;
    old.km_iteration_indptr = NULL, old.km_feature_names = NULL, old.km_feature_is_cat = NULL;
    old.km_cats = NULL;
    kite_model_free(&old); /* the original trees and arrays only */
    m->km_trees = trees;
    m->km_tree_group = group;
    free(m->km_tree_weight);
    m->km_tree_weight = weight;
    m->km_num_trees = total;
    return err;
}

static kite_err xgb_booster(xgb_ctx *ctx, const cJSON *learner, kite_model *m)
{
    const cJSON *gb = NULL, *model = NULL, *gbtree = NULL;
    KITE_TRY(xgb_object(ctx, learner, "gradient_booster", "learner", &gb));
    const cJSON *name = xgb_child(gb, "name");
    if (!cJSON_IsString(name))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "gradient_booster.name: expected a string");
    snprintf(m->km_booster, sizeof m->km_booster, "%s", name->valuestring);
    int dart = !strcmp(name->valuestring, "dart");
    if (dart) {
        KITE_TRY(xgb_object(ctx, gb, "gbtree", "gradient_booster", &gbtree));
        KITE_TRY(xgb_object(ctx, gbtree, "model", "gradient_booster.gbtree", &model));
    } else if (!strcmp(name->valuestring, "gbtree")) {
        KITE_TRY(xgb_object(ctx, gb, "model", "gradient_booster", &model));
    } else {
        return XGB_FAIL(ctx, KITE_ERR_UNSUPPORTED, "booster \"%s\" is not supported (gbtree, dart are)",
                        name->valuestring);
    }
    const cJSON *param = NULL, *trees = NULL, *info = NULL;
    long long ntrees = 0;
    KITE_TRY(xgb_object(ctx, model, "gbtree_model_param", "model", &param));
    KITE_TRY(xgb_int_param(ctx, param, "num_trees", "gbtree_model_param", 0, 10000000, &ntrees));
    KITE_TRY(xgb_array(ctx, model, "trees", "model", &trees));
    KITE_TRY(xgb_array(ctx, model, "tree_info", "model", &info));
    if (cJSON_GetArraySize(trees) != ntrees)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "model.trees has %d trees, num_trees is %lld",
                        cJSON_GetArraySize(trees), ntrees);
    if (cJSON_GetArraySize(info) != ntrees)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "model.tree_info has %d entries, num_trees is %lld",
                        cJSON_GetArraySize(info), ntrees);
    m->km_num_trees = (int32_t)ntrees;
    m->km_trees = calloc((size_t)ntrees + 1, sizeof(kite_tree));
    m->km_tree_group = calloc((size_t)ntrees + 1, sizeof(int32_t));
    float **vecs = calloc((size_t)ntrees + 1, sizeof(float *));
    if (!m->km_trees || !m->km_tree_group || !vecs) {
        free(vecs);
        return XGB_FAIL(ctx, KITE_ERR_NOMEM, "out of memory");
    }
    kite_err err = KITE_ERR_OK;
    int i = 0;
    for (const cJSON *v = info->child; v && err == KITE_ERR_OK; v = v->next, i++) {
        double d;
        if (!xgb_number(v, &d) || d != floor(d) || d < 0 || d >= m->km_num_group)
            err = XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "tree_info[%d]: must be a group in [0, %d)", i,
                           m->km_num_group);
        else
            m->km_tree_group[i] = (int32_t)d;
    }
    i = 0;
    int any_vec = 0;
    for (const cJSON *tj = trees->child; tj && err == KITE_ERR_OK; tj = tj->next, i++) {
        err = xgb_read_tree(ctx, tj, i, m->km_num_feature, m->km_num_group, &m->km_trees[i], &vecs[i]);
        any_vec |= vecs[i] != NULL;
    }
    if (err == KITE_ERR_OK)
        err = xgb_weights(ctx, gb, model, dart, m->km_version, m->km_num_trees, &m->km_tree_weight);
    if (err == KITE_ERR_OK)
        err = xgb_iterations(ctx, model, param, m->km_num_trees, any_vec ? 1 : m->km_num_group,
                             &m->km_iteration_indptr, &m->km_num_iterations);
    if (err == KITE_ERR_OK && any_vec) err = xgb_split_vector_trees(ctx, m, vecs);
    const cJSON *cats = xgb_child(model, "cats");
    if (err == KITE_ERR_OK && cats) {
        char what[384];
        err = kite__xgb_read_cats(cats, m, what, sizeof what);
        if (err != KITE_ERR_OK) err = XGB_FAIL(ctx, err, "%s", what);
    }
    for (int32_t t = 0; t < (int32_t)ntrees; t++) free(vecs[t]);
    free(vecs);
    return err;
}

/* learner.attributes.best_iteration: early stopping's best round (a string), -1 if none. */
static void xgb_best_iteration(const cJSON *learner, kite_model *m)
{
    const cJSON *v = xgb_child(xgb_child(learner, "attributes"), "best_iteration");
    m->km_best_iteration = -1;
    if (cJSON_IsString(v)) {
        char *end;
        long x = strtol(v->valuestring, &end, 10);
        if (end != v->valuestring && !*end && x >= 0 && x < m->km_num_iterations)
            m->km_best_iteration = (int32_t)x;
    }
}

static kite_err xgb_from_cjson(xgb_ctx *ctx, const cJSON *root, kite_model *m)
{
    if (!cJSON_IsObject(root))
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "top level is not an object");
    const cJSON *version = xgb_child(root, "version");
    if (cJSON_IsArray(version) && cJSON_GetArraySize(version) == 3)
        for (int i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetArrayItem(version, i);
            m->km_version[i] = cJSON_IsNumber(v) ? kite_int_clamp(v->valuedouble, 0, 1 << 20) : 0;
        }
    const cJSON *learner = NULL, *lmp = NULL;
    KITE_TRY(xgb_object(ctx, root, "learner", "top level", &learner));
    KITE_TRY(xgb_object(ctx, learner, "learner_model_param", "learner", &lmp));
    long long nf = 0, nclass = 0, ntarget = 1;
    KITE_TRY(xgb_int_param(ctx, lmp, "num_feature", "learner_model_param", 1, 1 << 24, &nf));
    KITE_TRY(xgb_int_param(ctx, lmp, "num_class", "learner_model_param", 0, 1 << 16, &nclass));
    if (xgb_child(lmp, "num_target"))
        KITE_TRY(xgb_int_param(ctx, lmp, "num_target", "learner_model_param", 0, 1 << 16, &ntarget));
    if (nclass > 1 && ntarget > 1)
        return XGB_FAIL(ctx, KITE_ERR_UNSUPPORTED,
                        "num_class %lld with num_target %lld (multi-class multi-target) is not supported",
                        nclass, ntarget);
    m->km_num_feature = (int32_t)nf;
    m->km_num_group = nclass > 1 ? (int32_t)nclass : ntarget > 1 ? (int32_t)ntarget : 1;
    KITE_TRY(xgb_objective(ctx, learner, lmp, m));
    KITE_TRY(xgb_feature_info(ctx, learner, m));
    KITE_TRY(xgb_booster(ctx, learner, m));
    xgb_best_iteration(learner, m);
    char verr[384];
    if (kite_model_validate(m, verr, sizeof verr) != KITE_ERR_OK)
        return XGB_FAIL(ctx, KITE_ERR_INVALID_MODEL, "%s", verr);
    return KITE_ERR_OK;
}

/* cJSON rejects the NaN / Infinity literals XGBoost writes (e.g. split_conditions of
 * categorical nodes). Outside strings, NaN becomes null and [-]Infinity becomes [-]1e999,
 * which strtod reads as infinity. */
static char *json_sanitize(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(len * 2 + 1);
    if (!out) return NULL;
    size_t o = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len) out[o++] = in[++i];
            else if (c == '"') in_string = 0;
            continue;
        }
        if (c == '"') in_string = 1;
        if (c == 'N' && len - i >= 3 && !memcmp(in + i, "NaN", 3)) {
            memcpy(out + o, "null", 4);
            o += 4;
            i += 2;
            continue;
        }
        if (c == 'I' && len - i >= 8 && !memcmp(in + i, "Infinity", 8)) {
            memcpy(out + o, "1e999", 5);
            o += 5;
            i += 7;
            continue;
        }
        out[o++] = c;
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

static void json_position(const char *text, size_t offset, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') { (*line)++; *col = 1; }
        else (*col)++;
    }
}

static int looks_like_ubjson(const unsigned char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && isspace(buf[i])) i++;
    if (i + 1 >= len || buf[i] != '{') return 0;
    return strchr("iUIlL", buf[i + 1]) != NULL && buf[i + 1] != 0;
}

kite_err kite_model_load_buffer(const char *name, const unsigned char *buf, size_t len,
                                kite_model *m, char *errstr, size_t errstr_size)
{
    xgb_ctx ctx = {name, errstr, errstr_size};
    *m = (kite_model){0};
    cJSON *root = NULL;
    char perr[256];
    if (looks_like_ubjson(buf, len)) {
        if (kite__ubjson_parse(buf, len, &root, perr, sizeof perr) != KITE_ERR_OK)
            return XGB_FAIL(&ctx, KITE_ERR_PARSE, "%s", perr);
    } else {
        size_t slen;
        char *text = json_sanitize((const char *)buf, len, &slen);
        if (!text) return XGB_FAIL(&ctx, KITE_ERR_NOMEM, "out of memory");
        const char *end = NULL;
        root = cJSON_ParseWithLengthOpts(text, slen, &end, 0);
        if (!root) {
            size_t off = end ? (size_t)(end - text) : 0, line, col;
            json_position(text, off, &line, &col);
            free(text);
            return XGB_FAIL(&ctx, KITE_ERR_PARSE, "line %zu column %zu: malformed or truncated JSON",
                            line, col);
        }
        free(text);
    }
    kite_err err = xgb_from_cjson(&ctx, root, m);
    cJSON_Delete(root);
    if (err != KITE_ERR_OK) {
        kite_model_free(m);
        return err;
    }
    m->km_fingerprint = XXH64(buf, len, 0);
    return KITE_ERR_OK;
}

kite_err kite_model_load(const char *path, kite_model *m, char *errstr, size_t errstr_size)
{
    *m = (kite_model){0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= KITE_MODEL_MAX_FILE_BYTES) {
                free(buf);
                fclose(fp);
                return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size,
                                 "%s: larger than the %zu-byte model limit", path,
                                 KITE_MODEL_MAX_FILE_BYTES);
            }
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int read_err = ferror(fp);
    fclose(fp);
    if (read_err) {
        free(buf);
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: read error", path);
    }
    if (len == 0) {
        free(buf);
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: empty file", path);
    }
    kite_err err = kite_model_load_buffer(path, buf, len, m, errstr, errstr_size);
    free(buf);
    return err;
}
