/* Drift reports: a JSON summary (every window's latest check and its history) and a
 * self-contained HTML page with inline SVG charts (no scripts, fonts or other assets). */
#ifndef KITE_DRIFT_REPORT_H
#define KITE_DRIFT_REPORT_H

#include "drift.h"

/* JSON summary of every window; returns a cJSON object (cJSON_Delete it) or NULL on no memory.
 * Declared as void * so this header does not pull in cJSON. */
void *kite_drift_report_json(const kite_drift_monitor *m);
kite_err kite_drift_report_json_write(const kite_drift_monitor *m, const char *path, char *errstr,
                                      size_t errstr_size);

/* HTML report of one window (its latest check, and history charts): reference vs current
 * histogram per column, PSI bar chart, PSI over time, quality over time. */
kite_err kite_drift_report_html_write(const kite_drift_monitor *m, int window, const char *title,
                                      const char *path, char *errstr, size_t errstr_size);

#endif
