/* Reference profile: what `kite profile` learns from training data and every drift check
 * compares against. Written and read as JSON (format documented in docs/drift.md "Reference profile").
 *
 * One kite_profile_column per model feature plus, when a model was given, one for the
 * prediction (kpc_role == KITE_PROFILE_PREDICTION, always the last column).
 *
 *   numeric column      kpc_edges[0..kpc_nedges): strictly increasing quantile edges
 *                       (min, the 1/bins .. (bins-1)/bins quantiles with duplicates dropped so
 *                       ties stay in one bin, and the next float above max); the coarse
 *                       histogram has kpc_nedges + 1 bins (underflow, the quantile bins,
 *                       overflow; see kernels/binning/include/kite/binning.h), kpc_counts holds the reference's.
 *                       kpc_fine_edges / kpc_fine_counts: the same on a fine quantile grid
 *                       (256 by default) for KS and Wasserstein; with at most
 *                       KITE_PROFILE_SMALL_REFERENCE values instead every distinct value v
 *                       and nextafterf(v) are edges (each value alone in its bin).
 *   categorical column  kpc_edges holds the category values (sorted, exact floats), and
 *                       kpc_counts has kpc_nedges + 1 entries: one per category, then "other"
 *                       (a value the reference never had). No fine grid.
 * Missing values (NaN) are counted in kpc_missing and never enter the histograms. */
#ifndef KITE_PROFILE_H
#define KITE_PROFILE_H

#include <stddef.h>

#include <kite/error.h>

#define KITE_PROFILE_NAME_MAX 96
#define KITE_PROFILE_MAX_METRICS 16
/* Evidently's size threshold: a column with at most this many reference values gets p-value
 * tests (KS, chi-square, z), above it distances (engine/drift/drift.c); such a column's fine grid
 * holds every distinct value exactly (loaders/profile/profile_build.c), so its KS statistic is exact. */
#define KITE_PROFILE_SMALL_REFERENCE 1000

typedef enum { KITE_PROFILE_FEATURE = 0, KITE_PROFILE_PREDICTION = 1 } kite_profile_role;
typedef enum { KITE_PROFILE_NUMERIC = 0, KITE_PROFILE_CATEGORICAL = 1 } kite_profile_kind;

typedef struct kite_profile_column {
    char kpc_name[KITE_PROFILE_NAME_MAX];
    kite_profile_role kpc_role;
    kite_profile_kind kpc_kind;
    double kpc_count;        /* non-missing values                              */
    double kpc_missing;      /* NaN values                                      */
    double kpc_mean, kpc_std, kpc_min, kpc_max; /* of the non-missing values (std: ddof 0) */
    int kpc_nedges;
    float *kpc_edges;        /* numeric: bin edges; categorical: category values */
    double *kpc_counts;      /* kpc_nedges + 1                                   */
    int kpc_nfine;           /* numeric only; 0 for categorical                  */
    float *kpc_fine_edges;
    double *kpc_fine_counts; /* kpc_nfine + 1                                    */
} kite_profile_column;

typedef struct kite_profile_metric {
    char kpm_name[32];
    double kpm_value;
} kite_profile_metric;

typedef struct kite_profile {
    int kpf_ncolumns;
    kite_profile_column *kpf_columns;
    double kpf_rows;
    int kpf_bins, kpf_fine_bins;       /* as requested when built              */
    char kpf_task[32];                /* "classification", "regression" or "" */
    char kpf_label[KITE_PROFILE_NAME_MAX];
    int kpf_nmetrics;                 /* baseline quality on labelled rows     */
    kite_profile_metric kpf_metrics[KITE_PROFILE_MAX_METRICS];
} kite_profile;

typedef struct kite_profile_options {
    int kpo_bins;            /* quantile bins per numeric column (default 10)        */
    int kpo_fine_bins;       /* fine grid (default 256)                              */
    int kpo_max_categories;  /* integer-valued columns with at most this many distinct
                                values are categorical (default 10; 0: never)        */
    const char *const *kpo_categorical; /* names forced categorical (NULL-terminated) */
    const char *const *kpo_numeric;     /* names forced numeric (NULL-terminated)     */
} kite_profile_options;

#define KITE_PROFILE_OPTIONS_DEFAULT ((kite_profile_options){10, 256, 10, NULL, NULL})

/* Builds a profile from nrows rows (row r, column j at rows[r * stride + j]) of ncols named
 * columns and, when predictions is non-NULL, a prediction column (one value per row). */
kite_err kite_profile_build(const float *rows, size_t nrows, size_t stride, int ncols,
                            const char *const *names, const float *predictions,
                            const kite_profile_options *opts, kite_profile *out, char *errstr,
                            size_t errstr_size);

kite_err kite_profile_save(const kite_profile *p, const char *path, char *errstr,
                           size_t errstr_size);
kite_err kite_profile_load(const char *path, kite_profile *out, char *errstr, size_t errstr_size);
/* Same, from a JSON text of len bytes; name stands for the path in messages. */
kite_err kite_profile_parse(const char *json, size_t len, const char *name, kite_profile *out,
                            char *errstr, size_t errstr_size);
void kite_profile_free(kite_profile *p);

/* Column index by name, or -1. */
int kite_profile_find(const kite_profile *p, const char *name);
/* Number of feature columns (every column except a trailing prediction). */
int kite_profile_num_features(const kite_profile *p);
/* Adds (or replaces) a baseline quality metric. */
void kite_profile_set_metric(kite_profile *p, const char *name, double value);

#endif
