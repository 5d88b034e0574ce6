/* Private to kite_drift (engine/drift/), not installed.
 * Internals of the drift monitor shared by drift.c (windows, observe), drift_check.c (a
 * window's check), drift_column.c (one column's statistics), drift_events.c (the event queue)
 * and drift_config.c. Not part of the public API (drift.h).
 *
 * Every window keeps its counts in flat double arrays of dm_width slots:
 *
 *   [col_off[c] .. col_off[c] + col_nb[c])   coarse bins of column c (missing last); all
 *                                            columns' coarse bins come first, [0, coarse_width)
 *   [fine_off[c] .. + fine_nb[c])            fine bins of numeric column c (missing last)
 *   [dm_ev_slot]                             events in the window
 *   [dm_q_slot .. + KITE_QUALITY_SLOTS)      quality sums (drift_quality.h)
 *   [dm_sh_slot .. + DRIFT_SHADOW_COUNTERS)  kdc_shadow only: rows compared, disagreeing
 *                                            rows, |diff| sums and buckets (drift_shadow.c)
 *   [dm_sh_bins .. + dm_ev_slot)             kdc_shadow only: the disagreeing rows' coarse
 *                                            and fine bins, laid out as [0, dm_ev_slot), so
 *                                            a column check runs on them unchanged
 *
 * so adding a sub-window, evicting one and decaying are each one loop over dm_width. */
#ifndef KITE_DRIFT_INT_H
#define KITE_DRIFT_INT_H

#include <stdio.h>

#include <kite/drift.h>
#include "drift_labels.h"

#define DRIFT_EVENT_QUEUE KITE_DRIFT_EVENT_QUEUE
#define DRIFT_SHADOW_COUNTERS (5 + KITE_DRIFT_SHADOW_BUCKETS + 1)
#define DRIFT_CHUNK_ROWS 256 /* rows binned per pass: scratch indices stay in L1 */

typedef struct drift_window {
    kite_drift_window_config dw_cfg;
    size_t dw_nslots;        /* SLIDING: size/step + 1 (one accumulating); else 1  */
    size_t dw_step;          /* events per sub-window (0: unbounded)               */
    double *dw_ring;         /* dw_nslots * width; slot dw_head accumulates         */
    double *dw_ring_tmax;    /* latest event time per slot                          */
    size_t dw_head, dw_filled;
    size_t dw_sub_events;    /* events in the accumulating slot                     */
    double *dw_sum;          /* window sums                                         */
    double dw_sum_tmax;
    double *dw_snap;         /* coarse sums at the latest check (reports)           */
    double dw_period;        /* TIME: index of the open period; NaN before the first */
    /* results */
    uint64_t dw_seq;
    kite_drift_result *dw_hist;      /* ring of kdc_history results                 */
    kite_drift_feature *dw_hist_cols; /* kdc_history * ncols                        */
    size_t dw_hist_head, dw_hist_len;
    kite_drift_level *dw_levels;     /* last level per column (events)              */
    int dw_dataset, dw_prediction;   /* last flags                                  */
    kite_drift_shadow *dw_hist_shadow;   /* kdc_shadow: beside dw_hist, slot by slot  */
    kite_drift_feature *dw_hist_shadow_cols; /* kdc_history * ncols                 */
} drift_window;

struct kite_drift_monitor {
    const kite_profile *dm_profile;
    kite_drift_config dm_cfg;
    kite_task dm_task;
    int dm_ncols, dm_nfeat, dm_pred_col; /* dm_pred_col: -1 without a prediction column */
    size_t *dm_col_off, *dm_col_nb, *dm_fine_off, *dm_fine_nb;
    kite_drift_test *dm_test;            /* resolved test per column                  */
    double *dm_ref_q, *dm_ref_lnq;       /* reference shares / their logs per coarse bin
                                            (kite__drift_psi_prepared), laid out like the
                                            coarse bins; NULL q: the reference is empty  */
    char *dm_ref_ok;                     /* column's reference has observations        */
    size_t dm_coarse_width, dm_ev_slot, dm_q_slot, dm_width;
    size_t dm_sh_slot, dm_sh_bins;       /* kdc_shadow only (0 otherwise): see the layout */
    uint16_t *dm_idx;                    /* ncols * DRIFT_CHUNK_ROWS coarse indices
                                            (categorical columns only)                  */
    uint16_t *dm_fidx;                   /* ncols * DRIFT_CHUNK_ROWS fine indices      */
    drift_window dm_win[KITE_DRIFT_MAX_WINDOWS];
    uint64_t dm_events_seen;             /* before the chunk being observed            */
    size_t dm_chunk_pos;                 /* events of that chunk already in the windows */
    const float *dm_chunk_rows;          /* the chunk being observed (numeric columns'  */
    size_t dm_chunk_stride;              /* coarse histograms count straight from it)   */
    const float *dm_chunk_pred;
    const float *dm_chunk_shadow;        /* the chunk's shadow predictions, or NULL    */
    kite_drift_event dm_queue[DRIFT_EVENT_QUEUE];
    size_t dm_queue_head, dm_queue_len;
    uint64_t dm_queue_dropped;
    uint64_t dm_detections[4];
    kite_label_buffer dm_labels;
    kite_page_hinkley dm_ph;
    kite_drift_check_hook dm_hook;       /* after each check (reports); NULL: none      */
    void *dm_hook_ctx;
};

/* Runs window w's check on its current sums (drift_check.c). */
void kite__drift_window_check(kite_drift_monitor *m, int w);
/* One column's statistics on sums laid out as [0, dm_ev_slot) (drift_column.c). */
void kite__drift_column_check(const kite_drift_monitor *m, const double *sum, int c,
                              kite_drift_feature *f);

/* Shadow comparison (drift_shadow.c), all no-ops without kdc_shadow: the extra slots of
 * dm_width, a window's history arrays (-1: no memory; freed by kite__drift_shadow_window_free),
 * chunk rows [k0, k1) added to slot s, and the check's kite_drift_shadow for history slot h. */
void kite__drift_shadow_layout(kite_drift_monitor *m);
int kite__drift_shadow_window_init(const kite_drift_monitor *m, drift_window *w);
void kite__drift_shadow_window_free(drift_window *w);
void kite__drift_shadow_add(kite_drift_monitor *m, double *s, size_t k0, size_t k1);
const kite_drift_shadow *kite__drift_shadow_check(const kite_drift_monitor *m, drift_window *w,
                                                  size_t h);
/* The reports' shadow parts (drift_shadow_report.c): a cJSON object (full: histogram, quantiles
 * and columns; else the counts alone; NULL on no memory) and the HTML section. */
void *kite__drift_shadow_report_json(const kite_drift_monitor *m, const kite_drift_shadow *s, int full);
/* drift_report_column.c: what both JSON writers put (obj and the result are cJSON objects):
 * a number, null when not finite; one column's drift (with its kind when with_kind). */
void kite__drift_report_num(void *obj, const char *key, double v);
void *kite__drift_report_column(const kite_drift_monitor *m, int c, const kite_drift_feature *f,
                                int with_kind);
void kite__drift_shadow_report_html(FILE *fp, const kite_drift_monitor *m, const kite_drift_shadow *s);
/* Queues an event for kite_drift_events (drift_events.c); full: dropped and counted. */
void kite__drift_push_event(kite_drift_monitor *m, const kite_drift_event *e);

#endif
