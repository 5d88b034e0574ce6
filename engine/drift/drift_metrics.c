/* Drift gauges in Prometheus text (engine/runtime/include/kite/prom.h), from each window's latest check.
 *
 * Label cardinality is bounded: per-feature series exist for at most
 * kdc_metrics_max_features features (profile order, so the set never churns) plus the
 * prediction; kite_drift_psi_max covers every feature. Windows are few (<= 8) by construction. */
#include <math.h>
#include <stdio.h>

#include "drift_int.h"

#define LABELS_MAX 512

static void window_label(const kite_drift_monitor *m, int w, char *out, size_t size)
{
    char esc[2 * KITE_DRIFT_WINDOW_NAME_MAX + 8];
    kite_prom_escape(esc, sizeof esc, m->dm_cfg.kdc_windows[w].kwc_name);
    snprintf(out, size, "window=\"%s\"", esc);
}

static int feature_shown(const kite_drift_monitor *m, int c)
{
    return c == m->dm_pred_col || c < m->dm_cfg.kdc_metrics_max_features;
}

static void feature_labels(const kite_drift_monitor *m, int w, int c, const char *extra, char *out,
                           size_t size)
{
    char win[128], esc[2 * KITE_PROFILE_NAME_MAX + 8];
    window_label(m, w, win, sizeof win);
    kite_prom_escape(esc, sizeof esc, m->dm_profile->kpf_columns[c].kpc_name);
    snprintf(out, size, "%s,feature=\"%s\"%s%s", win, esc, extra ? "," : "", extra ? extra : "");
}

typedef double (*feature_value_fn)(const kite_drift_feature *f);
static double f_psi(const kite_drift_feature *f) { return f->kdf_psi; }
static double f_level(const kite_drift_feature *f) { return f->kdf_level; }
static double f_drifted(const kite_drift_feature *f) { return f->kdf_drifted; }
static double f_missing(const kite_drift_feature *f) { return f->kdf_missing_rate; }

static void per_feature(const kite_drift_monitor *m, kite_prom *p, const char *name,
                        const char *help, feature_value_fn value)
{
    kite_prom_family(p, name, "gauge", help);
    char labels[LABELS_MAX];
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        const kite_drift_result *r = kite_drift_latest(m, w);
        if (!r) continue;
        for (int c = 0; c < m->dm_ncols; c++) {
            if (!feature_shown(m, c)) continue;
            feature_labels(m, w, c, NULL, labels, sizeof labels);
            kite_prom_sample(p, name, labels, value(&r->kdr_columns[c]));
        }
    }
}

void kite_drift_metrics_render(const kite_drift_monitor *m, kite_prom *p)
{
    char labels[LABELS_MAX], win[128];
    per_feature(m, p, "kite_drift_psi",
                "Population stability index of a column in the window's latest check", f_psi);
    per_feature(m, p, "kite_drift_feature_status",
                "PSI level of a column: 0 none, 1 moderate (>= 0.1), 2 significant (>= 0.25)",
                f_level);
    per_feature(m, p, "kite_drift_feature_drifted",
                "1 when the column's drift test says drifted at the latest check", f_drifted);
    per_feature(m, p, "kite_drift_missing_ratio", "Share of missing values of a column in the window",
                f_missing);

    kite_prom_family(p, "kite_drift_statistic", "gauge",
                     "Statistic of the column's drift test (KS D, chi-square, z, JS or normed "
                     "Wasserstein distance)");
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        const kite_drift_result *r = kite_drift_latest(m, w);
        for (int c = 0; r && c < m->dm_ncols; c++) {
            if (!feature_shown(m, c)) continue;
            char extra[64];
            snprintf(extra, sizeof extra, "test=\"%s\"", kite_drift_test_name(r->kdr_columns[c].kdf_test));
            feature_labels(m, w, c, extra, labels, sizeof labels);
            kite_prom_sample(p, "kite_drift_statistic", labels, r->kdr_columns[c].kdf_stat);
        }
    }
    kite_prom_family(p, "kite_drift_p_value", "gauge",
                     "p-value of the column's drift test (KS, chi-square, z tests only)");
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        const kite_drift_result *r = kite_drift_latest(m, w);
        for (int c = 0; r && c < m->dm_ncols; c++) {
            if (!feature_shown(m, c) || isnan(r->kdr_columns[c].kdf_pvalue)) continue;
            char extra[64];
            snprintf(extra, sizeof extra, "test=\"%s\"", kite_drift_test_name(r->kdr_columns[c].kdf_test));
            feature_labels(m, w, c, extra, labels, sizeof labels);
            kite_prom_sample(p, "kite_drift_p_value", labels, r->kdr_columns[c].kdf_pvalue);
        }
    }

    static const struct {
        const char *name, *help;
        int which;
    } window_gauges[] = {
        {"kite_drift_psi_max", "Largest PSI over all features at the latest check", 0},
        {"kite_drift_drifted_features_ratio", "Share of features whose drift test says drifted", 1},
        {"kite_drift_dataset_drift", "1 when the drifted share reaches the dataset threshold", 2},
        {"kite_drift_prediction_drift", "1 when the prediction column drifted", 3},
        {"kite_drift_window_events", "Events in the window at its latest check", 4},
        {"kite_drift_window_end_timestamp_seconds", "Latest event time in the window at its latest check", 5},
    };
    for (size_t g = 0; g < sizeof window_gauges / sizeof window_gauges[0]; g++) {
        kite_prom_family(p, window_gauges[g].name, "gauge", window_gauges[g].help);
        for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
            const kite_drift_result *r = kite_drift_latest(m, w);
            if (!r) continue;
            double v = 0;
            switch (window_gauges[g].which) {
            case 0:
                for (int c = 0; c < m->dm_nfeat; c++)
                    if (r->kdr_columns[c].kdf_psi > v) v = r->kdr_columns[c].kdf_psi;
                break;
            case 1: v = r->kdr_drifted_share; break;
            case 2: v = r->kdr_dataset_drift; break;
            case 3:
                if (r->kdr_prediction_drift < 0) continue;
                v = r->kdr_prediction_drift;
                break;
            case 4: v = r->kdr_events; break;
            default:
                if (isnan(r->kdr_end_time)) continue;
                v = r->kdr_end_time;
                break;
            }
            window_label(m, w, win, sizeof win);
            kite_prom_sample(p, window_gauges[g].name, win, v);
        }
    }

    kite_prom_family(p, "kite_drift_quality", "gauge",
                     "Model quality on labelled predictions joined in the window");
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        const kite_drift_result *r = kite_drift_latest(m, w);
        if (!r) continue;
        const char *names[16];
        double values[16];
        int n = kite_quality_list(&r->kdr_quality, m->dm_task, names, values, 16);
        window_label(m, w, win, sizeof win);
        for (int i = 0; i < n; i++) {
            snprintf(labels, sizeof labels, "%s,metric=\"%s\"", win, names[i]);
            kite_prom_sample(p, "kite_drift_quality", labels, values[i]);
        }
    }

    /* The profile's baseline quality (kite profile --label), so an alert can compare a
     * window's quality with the reference's (e.g. RMSE above 1.5 times the reference's). */
    const kite_profile *prof = m->dm_profile;
    if (prof->kpf_nmetrics > 0) {
        kite_prom_family(p, "kite_drift_reference_quality", "gauge",
                         "Model quality on the reference profile's labelled rows (kite profile --label)");
        for (int i = 0; i < prof->kpf_nmetrics; i++) {
            char esc[2 * sizeof prof->kpf_metrics[i].kpm_name];
            kite_prom_escape(esc, sizeof esc, prof->kpf_metrics[i].kpm_name);
            snprintf(labels, sizeof labels, "metric=\"%s\"", esc);
            kite_prom_sample(p, "kite_drift_reference_quality", labels, prof->kpf_metrics[i].kpm_value);
        }
    }

    kite_prom_family(p, "kite_drift_checks_total", "counter", "Checks run per window");
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        window_label(m, w, win, sizeof win);
        kite_prom_sample(p, "kite_drift_checks_total", win, (double)m->dm_win[w].dw_seq);
    }
    static const char *const kinds[] = {"feature", "dataset", "prediction", "concept"};
    kite_prom_family(p, "kite_drift_detection_events_total", "counter",
                     "Drift detections: a status that got worse (feature PSI level, dataset or "
                     "prediction drift) or a Page-Hinkley alarm on the error stream (concept)");
    for (int k = 0; k < 4; k++) {
        snprintf(labels, sizeof labels, "kind=\"%s\"", kinds[k]);
        kite_prom_sample(p, "kite_drift_detection_events_total", labels, (double)m->dm_detections[k]);
    }
    kite_prom_family(p, "kite_drift_labels_dropped_total", "counter",
                     "Predictions dropped from the label join buffer before their label came");
    kite_prom_sample(p, "kite_drift_labels_dropped_total", NULL, (double)m->dm_labels.klb_dropped);
    kite_prom_family(p, "kite_drift_events_dropped_total", "counter",
                     "Status-change events dropped because the event queue was full");
    kite_prom_sample(p, "kite_drift_events_dropped_total", NULL, (double)m->dm_queue_dropped);
}
