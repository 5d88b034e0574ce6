/* Drift monitor: incremental per-feature and per-prediction histograms on the reference
 * profile's frozen bin edges, statistics over several windows at once, model quality from
 * delayed labels, status-change events. The same code serves `kite drift` (offline, one CSV)
 * and the streaming engine (one monitor per stream: kite serve's pipeline owns one, pl_drift in
 * pipeline.c, and its workers observe each scored batch under pl_drift_lock, because drift is a
 * property of the stream, not of a partition; calls on one monitor must come from one thread at
 * a time).
 *
 * Typical streaming use, per scored batch:
 *
 *     kite_drift_monitor *m;
 *     kite_drift_monitor_new(&profile, &config, &m, errstr, sizeof errstr);
 *     ...
 *     kite_drift_observe(m, rows, nrows, stride, predictions, event_times);   // hot path
 *     kite_drift_observe_keys(m, keys, predictions, nrows);  // only if labels come later
 *     kite_drift_label(m, key, label);                       // when a label arrives
 *     size_t n = kite_drift_events(m, events, 64);           // status changes -> a topic
 *     for (i < n) kite_drift_event_json(m, &events[i], buf, sizeof buf);
 *     kite_drift_metrics_render(m, &prom);                   // from the stats thread's copy
 *
 * Windows (kite_drift_window_config), each with its own histograms:
 *   SLIDING    the last kwc_size events, checked every kwc_step events: a ring of
 *              kwc_size / kwc_step sub-window histograms; a step adds the newest sub-window to
 *              the window sums and subtracts the evicted one, O(bins) per step, exact (integer
 *              counts in doubles). Checked only once full.
 *   TUMBLING   kwc_size events, checked and cleared when full (kwc_size = 0: never full; use
 *              kite_drift_flush at the end of the input).
 *   TIME       tumbling by event time: [k P, (k+1) P) for P = kwc_period_s (3600, 86400,
 *              604800); the window closes when an event of a later period arrives (late events
 *              count in the open window). Needs event_times.
 *   DECAY      exponential decay: every kwc_step events sums = kwc_decay * sums + new counts.
 *
 * Per-feature verdicts at each check:
 *   PSI level  none < psi_moderate (0.1) <= moderate < psi_significant (0.25) <= significant,
 *              on the coarse quantile bins (missing values excluded).
 *   test       chosen per column as Evidently does unless kdc_test overrides it: reference
 *              <= 1000 values: numeric with > 5 distinct values -> KS (p <= 0.05 drifts),
 *              else chi-square (> 2 categories) or z-test (binary); reference > 1000:
 *              numeric with > 5 values -> Wasserstein distance normed by the reference std (>= 0.1 drifts),
 *              else Jensen-Shannon distance (>= 0.1 drifts). KS and Wasserstein use the fine
 *              grid; "distinct values" counts the reference's bins (quantile edges collapse
 *              ties, so a numeric column with <= 5 values has <= 5 occupied bins).
 *   dataset drift: share of drifted features >= kdc_drift_share (0.5). The prediction column
 *              is judged like a feature but reported as prediction drift, not in the share. */
#ifndef KITE_DRIFT_H
#define KITE_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <kite/drift_quality.h>
#include <kite/error.h>
#include <kite/profile.h>
#include <kite/prom.h>

#define KITE_DRIFT_MAX_WINDOWS 8
#define KITE_DRIFT_EVENT_QUEUE 1024 /* pending status-change events a monitor holds */
#define KITE_DRIFT_WINDOW_NAME_MAX 32

typedef enum {
    KITE_DRIFT_TEST_AUTO = 0,
    KITE_DRIFT_TEST_PSI,
    KITE_DRIFT_TEST_KS,
    KITE_DRIFT_TEST_CHI2,
    KITE_DRIFT_TEST_Z,
    KITE_DRIFT_TEST_JS,
    KITE_DRIFT_TEST_WASSERSTEIN,
    KITE_DRIFT_TEST__COUNT
} kite_drift_test;

typedef enum { KITE_DRIFT_NONE = 0, KITE_DRIFT_MODERATE = 1, KITE_DRIFT_SIGNIFICANT = 2 } kite_drift_level;

typedef enum {
    KITE_WINDOW_SLIDING = 0,
    KITE_WINDOW_TUMBLING = 1,
    KITE_WINDOW_TIME = 2,
    KITE_WINDOW_DECAY = 3
} kite_window_kind;

typedef struct kite_drift_window_config {
    char kwc_name[KITE_DRIFT_WINDOW_NAME_MAX]; /* label value in metrics and reports */
    kite_window_kind kwc_kind;
    size_t kwc_size;      /* SLIDING, TUMBLING: events                          */
    size_t kwc_step;      /* SLIDING, DECAY: events per step (SLIDING: divides kwc_size) */
    double kwc_period_s;  /* TIME                                               */
    double kwc_decay;     /* DECAY: factor in (0, 1) applied per step           */
} kite_drift_window_config;

typedef struct kite_drift_config {
    kite_drift_test kdc_test;       /* AUTO: Evidently's choice per column          */
    double kdc_psi_moderate;        /* 0.1                                          */
    double kdc_psi_significant;     /* 0.25                                         */
    double kdc_pvalue;              /* 0.05: KS, chi-square, z drift below it       */
    double kdc_distance;            /* 0.1: JS, normed Wasserstein drift at/above it */
    double kdc_drift_share;         /* 0.5                                          */
    int kdc_nwindows;
    kite_drift_window_config kdc_windows[KITE_DRIFT_MAX_WINDOWS];
    kite_task kdc_task;             /* quality metrics; NONE: from the profile      */
    size_t kdc_label_capacity;      /* predictions awaiting a label (4096)          */
    double kdc_ph_delta, kdc_ph_lambda; /* Page-Hinkley on the error stream (0.005, 50) */
    size_t kdc_history;             /* checks kept per window for charts (256)      */
    int kdc_metrics_max_features;   /* per-feature series in /metrics (100)         */
    int kdc_shadow;                 /* 1: every window also compares a shadow model's
                                       predictions (kite_drift_observe_shadow)      */
    double kdc_shadow_tolerance;    /* a row disagrees when |shadow - serving| > it */
} kite_drift_config;

/* Defaults above and one window: sliding 1000 events, checked every 100. */
void kite_drift_config_default(kite_drift_config *c);
/* Parses a window spec: "sliding:1000:100", "tumbling:5000", "hourly", "daily", "weekly",
 * "time:SECONDS", "decay:STEP:FACTOR", optionally prefixed "NAME=". */
kite_err kite_drift_window_parse(const char *spec, kite_drift_window_config *out, char *errstr,
                                 size_t errstr_size);
kite_err kite_drift_test_parse(const char *name, kite_drift_test *out);
const char *kite_drift_test_name(kite_drift_test t);
const char *kite_drift_level_name(kite_drift_level l);

/* One column's verdict at a check. */
typedef struct kite_drift_feature {
    double kdf_count;        /* non-missing values in the window          */
    double kdf_missing_rate;
    double kdf_psi;
    kite_drift_level kdf_level;
    kite_drift_test kdf_test; /* the test used (never AUTO)               */
    double kdf_stat;         /* its statistic (distance for JS/Wasserstein) */
    double kdf_pvalue;       /* NaN for distances                         */
    int kdf_drifted;         /* the test's verdict                        */
} kite_drift_feature;

/* Shadow scoring at one check (kdc_shadow): serving vs candidate over the window's rows that
 * had both predictions (engine/drift/drift_shadow.c). |diff| is counted in buckets of upper bounds
 * kite_drift_shadow_bounds (a 1-2-5 series, 1e-6 .. 1; the last bucket: above 1 or one side
 * missing); a quantile is reported as the upper bound of the bucket that holds it (INFINITY:
 * the overflow bucket), so it is exact to that bucket. kds_columns: each profile column's
 * drift statistics for the disagreeing rows alone against the reference profile, on the same
 * frozen bins and with the same tests as kdr_columns: the feature whose values make the two
 * models disagree is the one whose disagreeing rows drift most. */
#define KITE_DRIFT_SHADOW_BUCKETS 19
extern const double kite_drift_shadow_bounds[KITE_DRIFT_SHADOW_BUCKETS];

typedef struct kite_drift_shadow {
    double kds_rows;          /* rows compared                                   */
    double kds_disagree;      /* rows with |diff| > kdc_shadow_tolerance          */
    double kds_share;         /* kds_disagree / kds_rows, NaN when no row          */
    double kds_mean_abs;      /* mean |diff| over rows with both sides finite      */
    double kds_mean_diff;     /* mean of shadow - serving, the same rows           */
    double kds_buckets[KITE_DRIFT_SHADOW_BUCKETS + 1];
    double kds_p50, kds_p90, kds_p99; /* NaN when no row                          */
    int kds_ndrifted;         /* features (prediction excluded) drifted in kds_columns */
    kite_drift_feature *kds_columns; /* profile columns (owned by the monitor)   */
} kite_drift_shadow;

/* One check of one window. */
typedef struct kite_drift_result {
    int kdr_window;
    uint64_t kdr_seq;            /* checks of this window so far, from 1          */
    uint64_t kdr_end_event;      /* events observed by the monitor at the check   */
    double kdr_end_time;         /* latest event time in the window, NaN if none  */
    double kdr_events;           /* events in the window                          */
    int kdr_nfeatures;           /* features (prediction excluded)                */
    int kdr_ndrifted;
    double kdr_drifted_share;
    int kdr_dataset_drift;
    int kdr_prediction_drift;    /* -1: no prediction column                      */
    kite_drift_feature *kdr_columns; /* profile columns (owned by the monitor)    */
    kite_quality kdr_quality;    /* labelled pairs joined during the window        */
    const kite_drift_shadow *kdr_shadow; /* NULL unless kdc_shadow                 */
} kite_drift_result;

typedef enum {
    KITE_DRIFT_EVENT_FEATURE = 0,    /* a column's PSI level changed                  */
    KITE_DRIFT_EVENT_DATASET = 1,    /* dataset drift flag changed                    */
    KITE_DRIFT_EVENT_PREDICTION = 2, /* prediction drift flag changed                 */
    KITE_DRIFT_EVENT_CONCEPT = 3     /* Page-Hinkley alarm on the error stream        */
} kite_drift_event_kind;

typedef struct kite_drift_event {
    kite_drift_event_kind kde_kind;
    int kde_window;          /* -1 for CONCEPT                                  */
    int kde_column;          /* FEATURE: profile column; else -1                */
    int kde_from, kde_to;    /* FEATURE: levels; DATASET/PREDICTION: 0/1        */
    double kde_psi, kde_stat, kde_pvalue, kde_share;
    uint64_t kde_end_event;
    double kde_end_time;
    double kde_shadow_share; /* DATASET with kdc_shadow: the window's disagreement share */
} kite_drift_event;

typedef struct kite_drift_monitor kite_drift_monitor;

/* The monitor keeps a pointer to profile: it must outlive the monitor. */
kite_err kite_drift_monitor_new(const kite_profile *profile, const kite_drift_config *config,
                                kite_drift_monitor **out, char *errstr, size_t errstr_size);
void kite_drift_monitor_free(kite_drift_monitor *m);

/* Observes nrows feature rows (row r, feature j at rows[r * stride + j], j < the profile's
 * feature count, NaN = missing), their predictions (one per row; NULL: none) and event times
 * (seconds; NULL: none). Runs every check that falls inside the batch. */
void kite_drift_observe(kite_drift_monitor *m, const float *rows, size_t nrows, size_t stride,
                        const float *predictions, const double *event_times);
/* The same, with a shadow model's predictions of the same rows (one per row; NULL: none for
 * this batch) compared with predictions in every window (the monitor needs kdc_shadow). */
void kite_drift_observe_shadow(kite_drift_monitor *m, const float *rows, size_t nrows, size_t stride,
                               const float *predictions, const float *shadow_predictions,
                               const double *event_times);
/* Remembers predictions by key until their label arrives (bounded: the oldest is dropped). */
void kite_drift_observe_keys(kite_drift_monitor *m, const uint64_t *keys,
                             const float *predictions, size_t n);
/* Joins a label to its prediction; returns 0 if the key was not waiting (never seen, or
 * evicted). The pair counts in every window's current quality sums and feeds the
 * Page-Hinkley detector. */
int kite_drift_label(kite_drift_monitor *m, uint64_t key, double label);
/* Adds a (prediction, label) pair directly (labels known at scoring time, offline runs). */
void kite_drift_observe_pair(kite_drift_monitor *m, double prediction, double label);
/* Closes every window that holds events (end of an offline input): runs its check. */
void kite_drift_flush(kite_drift_monitor *m);

/* Takes up to max pending status-change events (oldest first); returns how many. Events past
 * the queue's bound (1024) are counted as dropped, never block observe. */
size_t kite_drift_events(kite_drift_monitor *m, kite_drift_event *out, size_t max);
/* One event as a JSON object on one line; returns the length (snprintf semantics). */
int kite_drift_event_json(const kite_drift_monitor *m, const kite_drift_event *e, char *buf,
                          size_t size);

/* Latest check of a window (NULL before the first) and its history, oldest first. */
const kite_drift_result *kite_drift_latest(const kite_drift_monitor *m, int window);
size_t kite_drift_history(const kite_drift_monitor *m, int window, const kite_drift_result **out,
                          size_t max);
/* The window's summed counts for a column at its latest check: coarse bins (nedges + 2,
 * missing last) into out (may be NULL); returns the bin count. */
int kite_drift_window_counts(const kite_drift_monitor *m, int window, int column, double *out);

const kite_profile *kite_drift_profile(const kite_drift_monitor *m);
const kite_drift_config *kite_drift_config_of(const kite_drift_monitor *m);
uint64_t kite_drift_detection_events(const kite_drift_monitor *m, kite_drift_event_kind kind);
uint64_t kite_drift_labels_dropped(const kite_drift_monitor *m);

/* Called at the end of every check of every window (after its events are queued), on the
 * thread that observed: e.g. kite_drift_report_dir_hook writes a report per tumbling window.
 * One hook per monitor; NULL removes it. */
typedef void (*kite_drift_check_hook)(void *ctx, const kite_drift_monitor *m, int window);
void kite_drift_set_check_hook(kite_drift_monitor *m, kite_drift_check_hook fn, void *ctx);

/* Renders the drift gauges (engine/drift/drift_metrics.c). */
void kite_drift_metrics_render(const kite_drift_monitor *m, kite_prom *p);

#endif
