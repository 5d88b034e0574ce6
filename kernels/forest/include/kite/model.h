/* kite_model: a tree ensemble as XGBoost defines it, independent of any file format.
 *
 * loaders/ fill it (JSON, UBJSON); kernels/forest/forest.c compiles it into the scoring layout.
 * Node arrays keep XGBoost's own numbering so error messages can name "tree T node N" exactly
 * as the user's model file does. */
#ifndef KITE_MODEL_H
#define KITE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>

/* How a margin becomes a prediction (the objective's PredTransform). */
typedef enum kite_transform {
    KITE_TRANSFORM_IDENTITY, /* reg:squarederror, binary:logitraw, rank:*, ...        */
    KITE_TRANSFORM_SIGMOID,  /* binary:logistic, reg:logistic                        */
    KITE_TRANSFORM_EXP,      /* count:poisson, reg:gamma, reg:tweedie                 */
    KITE_TRANSFORM_HINGE,    /* binary:hinge: margin > 0 ? 1 : 0                      */
    KITE_TRANSFORM_SOFTPROB, /* multi:softprob: softmax over the groups               */
    KITE_TRANSFORM_SOFTMAX,  /* multi:softmax: index of the largest margin            */
    KITE_TRANSFORM_SORTED,   /* reg:quantileerror with several alphas, XGBoost 3.4+:
                              * each row's outputs sorted ascending (no quantile crossing) */
    KITE_TRANSFORM_CUMULATIVE /* reg:expectileerror (3.3+): p0 = m0, pk = pk-1 +
                              * (softplus(mk) + 1e-6), so expectiles never cross          */
} kite_transform;

typedef struct kite_tree {
    int32_t kt_num_nodes;
    int32_t *kt_left;         /* left child index, -1 for a leaf                       */
    int32_t *kt_right;        /* right child index, -1 for a leaf                      */
    int32_t *kt_feature;      /* split feature index (unused for leaves)               */
    float *kt_value;          /* split threshold, or the leaf value for leaves         */
    uint8_t *kt_default_left; /* 1: a missing value goes left                          */
    uint8_t *kt_is_cat;       /* 1: categorical split (categories listed go right)     */
    uint32_t *kt_cat_begin;   /* per node: first index into kt_cats                    */
    uint32_t *kt_cat_count;   /* per node: number of categories                        */
    uint32_t *kt_cats;        /* category values of all categorical nodes              */
    uint32_t kt_num_cats;
} kite_tree;

/* One categorical feature's training categories (XGBoost 3.1+'s gradient_booster.model.cats,
 * from the training DataFrame): a tree's category code is a position in this list. */
typedef struct kite_category_dict {
    int32_t kcd_count;   /* categories; 0 for a feature without a dictionary                   */
    int kcd_numeric;     /* 1: numeric categories (kcd_values), 0: strings (kcd_names)          */
    char **kcd_names;    /* kcd_count UTF-8 strings, code = index                               */
    double *kcd_values;  /* kcd_count numbers, code = index                                     */
    int32_t *kcd_sorted; /* codes ordered by name / value, for binary search                     */
} kite_category_dict;

typedef struct kite_model {
    int32_t km_num_feature;
    int32_t km_num_group;     /* outputs per row: max(num_class, num_target, 1)        */
    int32_t km_num_trees;
    kite_tree *km_trees;
    int32_t *km_tree_group;   /* output group of each tree (XGBoost tree_info)         */
    float *km_tree_weight;    /* dart weight_drop per tree; NULL for gbtree            */
    float *km_base_margins;   /* km_num_group intercepts in margin space (ProbToMargin) */
    float *km_base_scores;    /* km_num_group base_score values as written in the file  */
    char km_objective[48];    /* e.g. "binary:logistic"                                */
    char km_booster[16];      /* "gbtree" or "dart"                                    */
    kite_transform km_transform;
    /* Boosting rounds: trees [km_iteration_indptr[i], km_iteration_indptr[i + 1]) came from
     * round i (num_parallel_tree x outputs trees each; vector-leaf trees count once per
     * output, as the loader splits them). km_best_iteration is learner.attributes'
     * best_iteration (early stopping), -1 when the file has none. */
    int32_t km_num_iterations;
    int32_t *km_iteration_indptr;
    int32_t km_best_iteration;
    char **km_feature_names;  /* km_num_feature names, or NULL when the file has none  */
    uint8_t *km_feature_is_cat; /* 1 where feature_types says "c"; NULL when absent   */
    int km_version[3];        /* XGBoost version that wrote the file                  */
    kite_category_dict *km_cats; /* km_num_feature dictionaries, or NULL (before 3.1, or
                                  * a model trained without pandas categoricals)       */
    uint64_t km_fingerprint;  /* xxh64 of the model file bytes                        */
} kite_model;

void kite_model_free(kite_model *model);

/* The code of a category given as text for feature f, by the model's dictionary: the string
 * looked up (string dictionaries; text that is not a category but a number is taken as the
 * code itself, as XGBoost takes numpy input), or the number looked up (numeric dictionaries,
 * as XGBoost re-codes a DataFrame). Returns KITE_ERR_OK with *code, or KITE_ERR_PARSE with
 * "category \"x\" is not one of feature F's N training categories" (XGBoost 3.x refuses
 * those too). A feature without a dictionary: KITE_ERR_USAGE. */
kite_err kite_model_category_code(const kite_model *m, int32_t f, const char *text, float *code,
                                  char *errstr, size_t errstr_size);

/* Keeps only the trees of boosting rounds [begin, end) (XGBoost's iteration_range; end 0
 * means the last round), freeing the others. Fails with a message naming the range when
 * it is empty or past the model's rounds; the model is unchanged then. */
kite_err kite_model_keep_iterations(kite_model *model, int32_t begin, int32_t end, char *errstr,
                                    size_t errstr_size);

/* Structural validation shared by every loader: child indices in range, every node reachable
 * exactly once from the root (no cycles, no sharing), features < num_feature, groups valid.
 * Fills errstr with e.g. "tree 3 node 9: left child 99 out of range [0, 15)". */
kite_err kite_model_validate(const kite_model *model, char *errstr, size_t errstr_size);

/* Number of leaves of the deepest path (max depth) over all trees; 0 for single-leaf trees. */
int kite_model_max_depth(const kite_model *model);

#endif
