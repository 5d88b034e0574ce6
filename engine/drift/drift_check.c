/* A window's check: statistics per column against the reference (drift_column.c), verdicts,
 * history, events. */
#include <math.h>
#include <string.h>

#include "drift_int.h"

void kite__drift_window_check(kite_drift_monitor *m, int wi)
{
    drift_window *w = &m->dm_win[wi];
    size_t hist = m->dm_cfg.kdc_history;
    size_t slot = (w->dw_hist_head + w->dw_hist_len) % hist;
    if (w->dw_hist_len == hist)
        w->dw_hist_head = (w->dw_hist_head + 1) % hist;
    else
        w->dw_hist_len++;
    kite_drift_result *r = &w->dw_hist[slot];
    kite_drift_feature *cols = r->kdr_columns;
    memset(r, 0, sizeof *r);
    r->kdr_columns = cols;
    r->kdr_window = wi;
    r->kdr_seq = ++w->dw_seq;
    r->kdr_end_event = m->dm_events_seen + m->dm_chunk_pos;
    r->kdr_end_time = w->dw_sum_tmax;
    r->kdr_events = w->dw_sum[m->dm_ev_slot];
    r->kdr_nfeatures = m->dm_nfeat;
    memcpy(w->dw_snap, w->dw_sum, m->dm_coarse_width * sizeof *w->dw_snap);
    for (int c = 0; c < m->dm_ncols; c++) {
        kite__drift_column_check(m, w->dw_sum, c, &cols[c]);
        if (c < m->dm_nfeat) r->kdr_ndrifted += cols[c].kdf_drifted;
    }
    r->kdr_drifted_share = m->dm_nfeat ? (double)r->kdr_ndrifted / m->dm_nfeat : 0.0;
    r->kdr_dataset_drift = m->dm_nfeat && r->kdr_drifted_share >= m->dm_cfg.kdc_drift_share;
    r->kdr_prediction_drift = m->dm_pred_col >= 0 ? cols[m->dm_pred_col].kdf_drifted : -1;
    kite_quality_compute(w->dw_sum + m->dm_q_slot, m->dm_task, &r->kdr_quality);
    r->kdr_shadow = kite__drift_shadow_check(m, w, slot);

    /* Status changes become events; a change to a worse state is a detection. */
    for (int c = 0; c < m->dm_ncols; c++) {
        kite_drift_level from = w->dw_levels[c], to = cols[c].kdf_level;
        if (from == to) continue;
        w->dw_levels[c] = to;
        kite_drift_event e = {KITE_DRIFT_EVENT_FEATURE, wi, c, (int)from, (int)to, cols[c].kdf_psi,
                              cols[c].kdf_stat, cols[c].kdf_pvalue, NAN, r->kdr_end_event,
                              r->kdr_end_time, NAN};
        if (to > from) m->dm_detections[KITE_DRIFT_EVENT_FEATURE]++;
        kite__drift_push_event(m, &e);
    }
    if (r->kdr_dataset_drift != w->dw_dataset) {
        kite_drift_event e = {KITE_DRIFT_EVENT_DATASET, wi, -1, w->dw_dataset, r->kdr_dataset_drift,
                              NAN, NAN, NAN, r->kdr_drifted_share, r->kdr_end_event, r->kdr_end_time,
                              r->kdr_shadow ? r->kdr_shadow->kds_share : NAN};
        if (r->kdr_dataset_drift) m->dm_detections[KITE_DRIFT_EVENT_DATASET]++;
        w->dw_dataset = r->kdr_dataset_drift;
        kite__drift_push_event(m, &e);
    }
    if (m->dm_pred_col >= 0 && r->kdr_prediction_drift != w->dw_prediction) {
        const kite_drift_feature *f = &cols[m->dm_pred_col];
        kite_drift_event e = {KITE_DRIFT_EVENT_PREDICTION, wi, m->dm_pred_col, w->dw_prediction,
                              r->kdr_prediction_drift, f->kdf_psi, f->kdf_stat, f->kdf_pvalue, NAN,
                              r->kdr_end_event, r->kdr_end_time, NAN};
        if (r->kdr_prediction_drift) m->dm_detections[KITE_DRIFT_EVENT_PREDICTION]++;
        w->dw_prediction = r->kdr_prediction_drift;
        kite__drift_push_event(m, &e);
    }
    if (m->dm_hook) m->dm_hook(m->dm_hook_ctx, m, wi);
}
