/* Model quality from (prediction, label) pairs as additive sums, so a window can add a
 * sub-window's sums and subtract an evicted one exactly like its histograms (drift.c keeps
 * them in the same flat array). The sums layout is KITE_QUALITY_SLOTS doubles:
 *
 *   [KQ_N]        pairs            [KQ_SE] sum (p - y)^2    [KQ_AE] sum |p - y|
 *   [KQ_Y]        sum y            [KQ_Y2] sum y^2
 *   [KQ_APE]      sum |p - y|/|y| over y != 0               [KQ_NAPE] pairs with y != 0
 *   [KQ_TP..KQ_FN] confusion counts at threshold 0.5 (classification: y in {0,1}, p = P(y=1))
 *   [KQ_LOGLOSS]  sum of -(y ln p + (1-y) ln(1-p)), p clipped to [1e-15, 1 - 1e-15]
 *   [KQ_AUC_POS + b], [KQ_AUC_NEG + b]: positives / negatives whose score falls in
 *                 bin b = min(floor(p * KITE_QUALITY_AUC_BINS), BINS-1)
 *
 * ROC AUC is *binned*: pairs in the same score bin count as ties (half credit), so it can
 * differ from the exact AUC by at most the share of positive/negative pairs sharing a bin. */
#ifndef KITE_DRIFT_QUALITY_H
#define KITE_DRIFT_QUALITY_H

#include <stddef.h>

#define KITE_QUALITY_AUC_BINS 128

enum {
    KQ_N, KQ_SE, KQ_AE, KQ_Y, KQ_Y2, KQ_APE, KQ_NAPE,
    KQ_TP, KQ_FP, KQ_TN, KQ_FN, KQ_LOGLOSS,
    KQ_AUC_POS,
    KQ_AUC_NEG = KQ_AUC_POS + KITE_QUALITY_AUC_BINS,
    KITE_QUALITY_SLOTS = KQ_AUC_NEG + KITE_QUALITY_AUC_BINS
};

typedef enum { KITE_TASK_NONE = 0, KITE_TASK_REGRESSION = 1, KITE_TASK_CLASSIFICATION = 2 } kite_task;

/* Metrics of one window; NaN where undefined (no pairs, no positives, ...). */
typedef struct kite_quality {
    double kq_n;
    double kq_rmse, kq_mae, kq_r2, kq_mape;                        /* regression     */
    double kq_accuracy, kq_precision, kq_recall, kq_f1, kq_auc, kq_logloss; /* binary */
} kite_quality;

/* Adds one pair to sums (task decides which slots matter; both kinds are filled where defined). */
void kite_quality_add(double *sums, double prediction, double label);
void kite_quality_compute(const double *sums, kite_task task, kite_quality *out);

/* The metrics of a task as (name, value) pairs for reports: returns how many were written. */
int kite_quality_list(const kite_quality *q, kite_task task, const char **names, double *values,
                      int max);

kite_task kite_task_parse(const char *name);      /* "regression" / "classification" */
const char *kite_task_name(kite_task task);

/* Page-Hinkley test on a stream of errors: signals when their mean rises by more than about
 * lambda / (pairs since the change). m_t = sum (x_i - mean_i - delta), alarm when
 * m_t - min m > lambda after at least min_n values; the detector then restarts. */
typedef struct kite_page_hinkley {
    double kph_delta, kph_lambda;
    size_t kph_min_n;
    size_t kph_n;
    double kph_mean, kph_sum, kph_min;
} kite_page_hinkley;

void kite_page_hinkley_init(kite_page_hinkley *ph, double delta, double lambda, size_t min_n);
/* Returns 1 when this value raises the alarm. */
int kite_page_hinkley_add(kite_page_hinkley *ph, double error);

#endif
