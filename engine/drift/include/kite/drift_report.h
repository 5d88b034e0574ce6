/* Drift reports: a JSON summary (every window's latest check and its history) and a
 * self-contained HTML page with inline SVG charts (no scripts, fonts or other assets). */
#ifndef KITE_DRIFT_REPORT_H
#define KITE_DRIFT_REPORT_H

#include <kite/drift.h>

/* JSON summary of every window; returns a cJSON object (cJSON_Delete it) or NULL on no memory.
 * Declared as void * so this header does not pull in cJSON. */
void *kite_drift_report_json(const kite_drift_monitor *m);
kite_err kite_drift_report_json_write(const kite_drift_monitor *m, const char *path, char *errstr,
                                      size_t errstr_size);

/* HTML report of one window (its latest check, and history charts): reference vs current
 * histogram per column, PSI bar chart, PSI over time, quality over time. */
kite_err kite_drift_report_html_write(const kite_drift_monitor *m, int window, const char *title,
                                      const char *path, char *errstr, size_t errstr_size);

/* Reports per closed window, like the daily and weekly Evidently reports of the
 * Python pipelines kite replaces (README.md, "What kite is"): as a check
 * hook (kite_drift_set_check_hook(m, kite_drift_report_dir_hook, &dir)), at every check of a
 * TUMBLING or TIME window it writes
 *     DIR/<window>-<check, 6 digits>.html   that window's report (kite_drift_report_html_write)
 *     DIR/<window>-<check, 6 digits>.json   the JSON summary at that moment
 * Sliding and decay windows (checked every step) get none. A file that cannot be written is
 * one line on stderr and a count in krd_failed; the monitor goes on. */
typedef struct kite_drift_report_dir {
    const char *krd_dir;
    const char *krd_title; /* page title prefix, e.g. "kite serve drift" */
    uint64_t krd_written;  /* report pairs written                      */
    uint64_t krd_failed;   /* pairs that failed                         */
} kite_drift_report_dir;

void kite_drift_report_dir_hook(void *ctx, const kite_drift_monitor *m, int window);
/* Creates dir if it does not exist (one level, like mkdir) and checks it is a writable
 * directory, so a bad path is refused at start-up rather than at the first window close. */
kite_err kite_drift_report_dir_prepare(const char *dir, char *errstr, size_t errstr_size);

#endif
