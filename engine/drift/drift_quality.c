/* Model quality sums and metrics; the Page-Hinkley concept-drift detector. */
#include <kite/drift_quality.h>

#include <math.h>
#include <string.h>

void kite_quality_add(double *s, double p, double y)
{
    double e = p - y;
    s[KQ_N] += 1;
    s[KQ_SE] += e * e;
    s[KQ_AE] += fabs(e);
    s[KQ_Y] += y;
    s[KQ_Y2] += y * y;
    if (y != 0) {
        s[KQ_APE] += fabs(e) / fabs(y);
        s[KQ_NAPE] += 1;
    }
    int pos = y >= 0.5, said = p >= 0.5;
    s[pos ? (said ? KQ_TP : KQ_FN) : (said ? KQ_FP : KQ_TN)] += 1;
    double pc = p < 1e-15 ? 1e-15 : (p > 1 - 1e-15 ? 1 - 1e-15 : p);
    s[KQ_LOGLOSS] -= y * log(pc) + (1 - y) * log(1 - pc);
    int b = p >= 1 ? KITE_QUALITY_AUC_BINS - 1 : (p <= 0 ? 0 : (int)(p * KITE_QUALITY_AUC_BINS));
    if (p != p) b = 0;
    s[(pos ? KQ_AUC_POS : KQ_AUC_NEG) + b] += 1;
}

static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

void kite_quality_compute(const double *s, kite_task task, kite_quality *q)
{
    double n = s[KQ_N], nan = NAN;
    *q = (kite_quality){n, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan};
    if (!(n > 0)) return;
    if (task != KITE_TASK_CLASSIFICATION) {
        q->kq_rmse = sqrt(s[KQ_SE] / n);
        q->kq_mae = s[KQ_AE] / n;
        double ss_tot = s[KQ_Y2] - s[KQ_Y] * s[KQ_Y] / n;
        q->kq_r2 = ss_tot > 0 ? 1 - s[KQ_SE] / ss_tot : nan;
        q->kq_mape = ratio(s[KQ_APE], s[KQ_NAPE]);
    }
    if (task != KITE_TASK_REGRESSION) {
        double tp = s[KQ_TP], fp = s[KQ_FP], tn = s[KQ_TN], fn = s[KQ_FN];
        q->kq_accuracy = (tp + tn) / n;
        q->kq_precision = ratio(tp, tp + fp);
        q->kq_recall = ratio(tp, tp + fn);
        q->kq_f1 = ratio(2 * tp, 2 * tp + fp + fn);
        q->kq_logloss = s[KQ_LOGLOSS] / n;
        /* Sweep bins from the top score down: a negative in bin b ranks below every positive
         * in higher bins and ties with those in its own bin. */
        double npos = 0, nneg = 0, above = 0, credit = 0;
        for (int b = KITE_QUALITY_AUC_BINS - 1; b >= 0; b--) {
            double pb = s[KQ_AUC_POS + b], nb = s[KQ_AUC_NEG + b];
            credit += nb * (above + 0.5 * pb);
            above += pb;
            npos += pb;
            nneg += nb;
        }
        q->kq_auc = npos > 0 && nneg > 0 ? credit / (npos * nneg) : nan;
    }
}

int kite_quality_list(const kite_quality *q, kite_task task, const char **names, double *values,
                      int max)
{
    int n = 0;
#define PUT(name, v)                                                                         \
    do {                                                                                     \
        if (n < max) {                                                                       \
            names[n] = name;                                                                 \
            values[n] = v;                                                                   \
            n++;                                                                             \
        }                                                                                    \
    } while (0)
    if (task == KITE_TASK_NONE) return 0;
    PUT("count", q->kq_n);
    if (task == KITE_TASK_REGRESSION) {
        PUT("rmse", q->kq_rmse);
        PUT("mae", q->kq_mae);
        PUT("r2", q->kq_r2);
        PUT("mape", q->kq_mape);
    } else {
        PUT("accuracy", q->kq_accuracy);
        PUT("precision", q->kq_precision);
        PUT("recall", q->kq_recall);
        PUT("f1", q->kq_f1);
        PUT("roc_auc", q->kq_auc);
        PUT("log_loss", q->kq_logloss);
    }
#undef PUT
    return n;
}

kite_task kite_task_parse(const char *name)
{
    if (name && !strcmp(name, "regression")) return KITE_TASK_REGRESSION;
    if (name && !strcmp(name, "classification")) return KITE_TASK_CLASSIFICATION;
    return KITE_TASK_NONE;
}

const char *kite_task_name(kite_task task)
{
    return task == KITE_TASK_REGRESSION       ? "regression"
           : task == KITE_TASK_CLASSIFICATION ? "classification"
                                              : "";
}

void kite_page_hinkley_init(kite_page_hinkley *ph, double delta, double lambda, size_t min_n)
{
    *ph = (kite_page_hinkley){delta, lambda, min_n, 0, 0, 0, 0};
}

int kite_page_hinkley_add(kite_page_hinkley *ph, double x)
{
    if (x != x) return 0;
    ph->kph_n++;
    ph->kph_mean += (x - ph->kph_mean) / (double)ph->kph_n;
    ph->kph_sum += x - ph->kph_mean - ph->kph_delta;
    if (ph->kph_sum < ph->kph_min) ph->kph_min = ph->kph_sum;
    if (ph->kph_n >= ph->kph_min_n && ph->kph_sum - ph->kph_min > ph->kph_lambda) {
        kite_page_hinkley_init(ph, ph->kph_delta, ph->kph_lambda, ph->kph_min_n);
        return 1;
    }
    return 0;
}
