/* A drift report per closed tumbling / event-time window (see drift_report.h). Runs inside the
 * check, on the observing thread: a few file writes once per window close (e.g. once a day),
 * never per event. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kite/drift_report.h>

/* "2004-03-10 18:00 UTC" for an event time in seconds; "-" when there is none. */
static void format_time(double t, char *buf, size_t size)
{
    if (!isfinite(t)) {
        snprintf(buf, size, "-");
        return;
    }
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

void kite_drift_report_dir_hook(void *ctx, const kite_drift_monitor *m, int window)
{
    kite_drift_report_dir *d = ctx;
    const kite_drift_window_config *wc = &kite_drift_config_of(m)->kdc_windows[window];
    if (wc->kwc_kind != KITE_WINDOW_TUMBLING && wc->kwc_kind != KITE_WINDOW_TIME) return;
    const kite_drift_result *r = kite_drift_latest(m, window);
    if (!r) return;
    char path[4096], title[256], end[64], err[512];
    format_time(r->kdr_end_time, end, sizeof end);
    snprintf(title, sizeof title, "%s: window %s, check %llu (%.0f events, last event %s)",
             d->krd_title ? d->krd_title : "kite drift", wc->kwc_name,
             (unsigned long long)r->kdr_seq, r->kdr_events, end);
    int ok = 1;
    snprintf(path, sizeof path, "%s/%s-%06llu.html", d->krd_dir, wc->kwc_name,
             (unsigned long long)r->kdr_seq);
    if (kite_drift_report_html_write(m, window, title, path, err, sizeof err)) {
        fprintf(stderr, "kite: drift report: %s\n", err);
        ok = 0;
    }
    snprintf(path, sizeof path, "%s/%s-%06llu.json", d->krd_dir, wc->kwc_name,
             (unsigned long long)r->kdr_seq);
    if (kite_drift_report_json_write(m, path, err, sizeof err)) {
        fprintf(stderr, "kite: drift report: %s\n", err);
        ok = 0;
    }
    if (ok)
        d->krd_written++;
    else
        d->krd_failed++;
}

kite_err kite_drift_report_dir_prepare(const char *dir, char *errstr, size_t errstr_size)
{
    if (!*dir) return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "report directory: empty path");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot create: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: not a directory", dir);
    if (access(dir, W_OK) != 0)
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: not writable", dir);
    return KITE_ERR_OK;
}
