/* JSON drift summary (format in docs/drift.md, "Reports"). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "drift_int.h"
#include <kite/drift_report.h>


static cJSON *quality_json(const kite_drift_monitor *m, const kite_quality *q)
{
    cJSON *o = cJSON_CreateObject();
    const char *names[16];
    double values[16];
    int n = kite_quality_list(q, m->dm_task, names, values, 16);
    for (int i = 0; i < n; i++) kite__drift_report_num(o, names[i], values[i]);
    return o;
}

static cJSON *result_json(const kite_drift_monitor *m, const kite_drift_result *r, int full)
{
    cJSON *o = cJSON_CreateObject();
    kite__drift_report_num(o, "check", (double)r->kdr_seq);
    kite__drift_report_num(o, "end_event", (double)r->kdr_end_event);
    kite__drift_report_num(o, "end_time", r->kdr_end_time);
    kite__drift_report_num(o, "events", r->kdr_events);
    kite__drift_report_num(o, "drifted_features", r->kdr_ndrifted);
    kite__drift_report_num(o, "drifted_share", r->kdr_drifted_share);
    cJSON_AddBoolToObject(o, "dataset_drift", r->kdr_dataset_drift);
    if (r->kdr_prediction_drift >= 0) cJSON_AddBoolToObject(o, "prediction_drift", r->kdr_prediction_drift);
    if (full) {
        cJSON *cols = cJSON_AddArrayToObject(o, "columns");
        for (int c = 0; c < m->dm_ncols; c++) {
            cJSON *x = kite__drift_report_column(m, c, &r->kdr_columns[c], 1);
            if (x) cJSON_AddItemToArray(cols, x);
        }
    } else {
        cJSON *psi = cJSON_AddObjectToObject(o, "psi");
        for (int c = 0; c < m->dm_ncols; c++)
            kite__drift_report_num(psi, m->dm_profile->kpf_columns[c].kpc_name, r->kdr_columns[c].kdf_psi);
    }
    if (m->dm_task != KITE_TASK_NONE) cJSON_AddItemToObject(o, "quality", quality_json(m, &r->kdr_quality));
    if (r->kdr_shadow) {
        cJSON *sh = kite__drift_shadow_report_json(m, r->kdr_shadow, full);
        if (sh) cJSON_AddItemToObject(o, "shadow", sh);
    }
    return o;
}

void *kite_drift_report_json(const kite_drift_monitor *m)
{
    static const char *const kinds[] = {"sliding", "tumbling", "time", "decay"};
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddNumberToObject(root, "kite_drift_report", 1);
    kite__drift_report_num(root, "events", (double)m->dm_events_seen);
    if (m->dm_task != KITE_TASK_NONE) cJSON_AddStringToObject(root, "task", kite_task_name(m->dm_task));
    const kite_profile *p = m->dm_profile;
    if (p->kpf_nmetrics) {
        cJSON *q = cJSON_AddObjectToObject(root, "reference_quality");
        for (int k = 0; k < p->kpf_nmetrics; k++) kite__drift_report_num(q, p->kpf_metrics[k].kpm_name, p->kpf_metrics[k].kpm_value);
    }
    cJSON *detections = cJSON_AddObjectToObject(root, "detections");
    static const char *const dk[] = {"feature", "dataset", "prediction", "concept"};
    for (int k = 0; k < 4; k++) kite__drift_report_num(detections, dk[k], (double)m->dm_detections[k]);
    cJSON *wins = cJSON_AddArrayToObject(root, "windows");
    for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++) {
        const kite_drift_window_config *wc = &m->dm_cfg.kdc_windows[w];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(wins, o);
        cJSON_AddStringToObject(o, "name", wc->kwc_name);
        cJSON_AddStringToObject(o, "kind", kinds[wc->kwc_kind & 3]);
        kite__drift_report_num(o, "checks", (double)m->dm_win[w].dw_seq);
        const kite_drift_result *latest = kite_drift_latest(m, w);
        if (latest)
            cJSON_AddItemToObject(o, "latest", result_json(m, latest, 1));
        else
            cJSON_AddNullToObject(o, "latest");
        cJSON *hist = cJSON_AddArrayToObject(o, "history");
        const kite_drift_result **rs = malloc(m->dm_cfg.kdc_history * sizeof *rs);
        size_t n = rs ? kite_drift_history(m, w, rs, m->dm_cfg.kdc_history) : 0;
        for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(hist, result_json(m, rs[i], 0));
        free(rs);
    }
    return root;
}

kite_err kite_drift_report_json_write(const kite_drift_monitor *m, const char *path, char *errstr,
                                      size_t errstr_size)
{
    cJSON *root = kite_drift_report_json(m);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: no memory", path);
    FILE *fp = fopen(path, "w");
    int ok = fp && fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    if (fp && fclose(fp) != 0) ok = 0;
    cJSON_free(text); /* cJSON's allocator: an arena inside a kite serve worker (engine/runtime/arena.c) */
    return ok ? KITE_ERR_OK : kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot write", path);
}
