/* Random forests built directly as kite_model (no file, no loader), and random rows to score
 * with them: the inputs of the all-kernels equality test and of the perf/ instruction counts.
 * Depends on kernels/ only, so the NEON cross build can use it too.
 *
 * Thresholds and row values are drawn from the same small grid (multiples of 0.25), so rows
 * often hit a threshold exactly (`x < thr` false: right); rows also carry NaN (default
 * direction), +-inf and values off the grid. */
#ifndef KITE_RANDOM_FOREST_H
#define KITE_RANDOM_FOREST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/model.h>

typedef struct rf_rng {
    uint64_t rr_state;
} rf_rng;

static inline uint32_t rf_next(rf_rng *g)
{
    /* splitmix64: small, good enough, and the same on every platform */
    uint64_t z = (g->rr_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static inline uint32_t rf_below(rf_rng *g, uint32_t n) { return n ? rf_next(g) % n : 0; }

static inline float rf_grid(rf_rng *g) { return (float)((int)rf_below(g, 33) - 16) * 0.25f; }

typedef struct rf_options {
    int ro_num_trees;
    int ro_num_feature;
    int ro_num_group;
    int ro_max_depth;      /* 1..20 */
    int ro_leaf_percent;   /* chance (percent) that a node above max depth is a leaf */
    int ro_cat_percent;    /* chance (percent) that a split is categorical */
    int ro_dart;           /* give every tree a dart weight */
    /* Per feature, how many distinct split values to use (NULL: the 33-value grid). Feature f's
     * splits cycle through rf_split_value(n, 0..n-1), so with enough splits it has exactly n:
     * the byte kernel's 255-value limit is tested from both sides with it. */
    const int *ro_splits;
    int ro_neg_zero;       /* write the 0.0 thresholds of every other split as -0.0 */
    int ro_inf_percent;    /* chance (percent) that a split's threshold is -inf or +inf */
} rf_options;

typedef struct rf_builder {
    kite_tree *rb_tree;
    int32_t rb_cap;
    uint32_t *rb_next;     /* with ro_splits: per feature, the next split value's index */
} rf_builder;

/* Value i of a feature with n split values: multiples of 0.25 around 0 (0.0 among them). */
static inline float rf_split_value(int n, uint32_t i) { return ((float)(int)i - (float)(n / 2)) * 0.25f; }

static int32_t rf_node(rf_builder *b)
{
    kite_tree *t = b->rb_tree;
    if (t->kt_num_nodes == b->rb_cap) {
        b->rb_cap = b->rb_cap ? 2 * b->rb_cap : 64;
        size_t n = (size_t)b->rb_cap;
        t->kt_left = realloc(t->kt_left, n * sizeof(int32_t));
        t->kt_right = realloc(t->kt_right, n * sizeof(int32_t));
        t->kt_feature = realloc(t->kt_feature, n * sizeof(int32_t));
        t->kt_value = realloc(t->kt_value, n * sizeof(float));
        t->kt_default_left = realloc(t->kt_default_left, n);
        t->kt_is_cat = realloc(t->kt_is_cat, n);
        t->kt_cat_begin = realloc(t->kt_cat_begin, n * sizeof(uint32_t));
        t->kt_cat_count = realloc(t->kt_cat_count, n * sizeof(uint32_t));
        t->kt_cats = realloc(t->kt_cats, n * 4 * sizeof(uint32_t));
        if (!t->kt_left || !t->kt_right || !t->kt_feature || !t->kt_value ||
            !t->kt_default_left || !t->kt_is_cat || !t->kt_cat_begin || !t->kt_cat_count ||
            !t->kt_cats)
            abort(); /* test helper: out of memory is not a case under test */
    }
    int32_t id = t->kt_num_nodes++;
    t->kt_left[id] = t->kt_right[id] = -1;
    t->kt_feature[id] = 0;
    t->kt_default_left[id] = 0;
    t->kt_is_cat[id] = 0;
    t->kt_cat_begin[id] = t->kt_num_cats;
    t->kt_cat_count[id] = 0;
    return id;
}

/* Grows node id at depth d; XGBoost numbering (any order works: kite renumbers). */
static void rf_grow(rf_builder *b, rf_rng *g, const rf_options *o, int32_t id, int d)
{
    kite_tree *t = b->rb_tree;
    if (d == o->ro_max_depth || (int)rf_below(g, 100) < o->ro_leaf_percent * (d > 0)) {
        t->kt_value[id] = (float)((int32_t)rf_next(g)) * 1e-9f; /* off-grid leaf values */
        return;
    }
    t->kt_feature[id] = (int32_t)rf_below(g, (uint32_t)o->ro_num_feature);
    if (o->ro_splits) {
        int32_t f = t->kt_feature[id], n = o->ro_splits[f];
        t->kt_value[id] = rf_split_value(n, b->rb_next[f]++ % (uint32_t)n);
    } else {
        t->kt_value[id] = rf_grid(g);
    }
    if (o->ro_neg_zero && t->kt_value[id] == 0.0f && (id & 1)) t->kt_value[id] = -0.0f;
    /* Drawn only when asked for, so every other forest stays what its seed always gave. */
    if (o->ro_inf_percent && (int)rf_below(g, 100) < o->ro_inf_percent)
        t->kt_value[id] = rf_below(g, 2) ? INFINITY : -INFINITY;
    t->kt_default_left[id] = (uint8_t)rf_below(g, 2);
    if ((int)rf_below(g, 100) < o->ro_cat_percent) {
        t->kt_is_cat[id] = 1;
        uint32_t n = 1 + rf_below(g, 3);
        t->kt_cat_begin[id] = t->kt_num_cats;
        for (uint32_t k = 0; k < n; k++) t->kt_cats[t->kt_num_cats++] = rf_below(g, 40);
        t->kt_cat_count[id] = n;
    }
    int32_t left = rf_node(b);
    int32_t right = rf_node(b);
    t = b->rb_tree;
    t->kt_left[id] = left;
    t->kt_right[id] = right;
    rf_grow(b, g, o, left, d + 1);
    rf_grow(b, g, o, right, d + 1);
}

/* Fills m with a random forest; free it with kite_model_free. */
static void rf_model(kite_model *m, const rf_options *o, uint64_t seed)
{
    rf_rng g = {seed};
    memset(m, 0, sizeof *m);
    m->km_num_feature = o->ro_num_feature;
    m->km_num_group = o->ro_num_group;
    m->km_num_trees = o->ro_num_trees;
    m->km_trees = calloc((size_t)o->ro_num_trees + 1, sizeof(kite_tree));
    m->km_tree_group = calloc((size_t)o->ro_num_trees + 1, sizeof(int32_t));
    if (o->ro_dart) m->km_tree_weight = calloc((size_t)o->ro_num_trees + 1, sizeof(float));
    if (!m->km_trees || !m->km_tree_group || (o->ro_dart && !m->km_tree_weight)) abort();
    m->km_base_margins = calloc((size_t)o->ro_num_group, sizeof(float));
    m->km_base_scores = calloc((size_t)o->ro_num_group, sizeof(float));
    if (!m->km_base_margins || !m->km_base_scores) abort();
    for (int k = 0; k < o->ro_num_group; k++) /* each output its own intercept, as in 3.1+ */
        m->km_base_scores[k] = m->km_base_margins[k] = rf_grid(&g) + 0.1f * (float)(k + 1);
    m->km_transform = KITE_TRANSFORM_IDENTITY;
    m->km_version[0] = 2;
    snprintf(m->km_objective, sizeof m->km_objective, "reg:squarederror");
    snprintf(m->km_booster, sizeof m->km_booster, o->ro_dart ? "dart" : "gbtree");
    uint32_t *next = calloc((size_t)o->ro_num_feature + 1, sizeof(uint32_t));
    if (!next) abort();
    for (int ti = 0; ti < o->ro_num_trees; ti++) {
        rf_builder b = {&m->km_trees[ti], 0, next};
        rf_grow(&b, &g, o, rf_node(&b), 0);
        m->km_tree_group[ti] = ti % o->ro_num_group;
        if (o->ro_dart) m->km_tree_weight[ti] = 0.5f + (float)rf_below(&g, 100) * 0.013f;
    }
    free(next);
}

/* nrows x stride floats; the first num_feature columns are features, the rest filler. */
static inline float *rf_rows(size_t nrows, size_t stride, int num_feature, int nan_percent,
                      uint64_t seed)
{
    rf_rng g = {seed};
    float *x = malloc((nrows * stride + 1) * sizeof(float));
    if (!x) abort();
    for (size_t i = 0; i < nrows * stride; i++) {
        uint32_t k = rf_below(&g, 100);
        if ((i % stride) >= (size_t)num_feature) x[i] = 1e30f; /* never read */
        else if ((int)k < nan_percent) x[i] = NAN;
        else if (k == 99) x[i] = (rf_below(&g, 2) ? INFINITY : -INFINITY);
        else if (k >= 90) x[i] = (float)((int32_t)rf_next(&g)) * 1e-8f;
        else x[i] = rf_grid(&g);
    }
    return x;
}

/* Rows for a forest built with ro_splits: feature f's values mostly on its split values and
 * one step beyond either end (so every bin occurs, and values equal to thresholds), plus NaN
 * (nan_percent), +-inf, -0.0 and off-grid values. */
static inline float *rf_rows_splits(size_t nrows, size_t stride, const rf_options *o, int nan_percent,
                             uint64_t seed)
{
    rf_rng g = {seed};
    float *x = malloc((nrows * stride + 1) * sizeof(float));
    if (!x) abort();
    for (size_t i = 0; i < nrows * stride; i++) {
        size_t f = i % stride;
        uint32_t k = rf_below(&g, 100);
        if (f >= (size_t)o->ro_num_feature) x[i] = 1e30f; /* never read */
        else if ((int)k < nan_percent) x[i] = NAN;
        else if (k == 99) x[i] = (rf_below(&g, 2) ? INFINITY : -INFINITY);
        else if (k == 98) x[i] = -0.0f;
        else if (k >= 94) x[i] = (float)((int32_t)rf_next(&g)) * 1e-8f;
        else {
            int n = o->ro_splits[f];
            x[i] = rf_split_value(n, rf_below(&g, (uint32_t)n + 2)) - 0.25f;
        }
    }
    return x;
}

#endif
