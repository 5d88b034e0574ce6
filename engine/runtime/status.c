/* The status sampler: once per interval it renders the server's /metrics (the endpoint's own
 * render function), parses the text and appends one sample of every charted series to a ring
 * of KITE_STATUS_SECONDS slots; drift status changes seen between two samples become the
 * page's "recent drift events". Requests read the ring under st_lock; the render itself runs
 * outside the lock (it takes the pipeline's own locks), so the two never nest. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kite/clock.h>
#include "status_int.h"

#define INDEX_SLOTS (2 * KITE_STATUS_MAX_SERIES)

/* Families the page charts. Counters are all kept (as rates); per-feature drift detail other
 * than PSI and its level, and histograms other than the latency ones, are left to /metrics. */
static int status_charted(const kite__status_sample *x)
{
    static const char *const skip[] = {"kite_drift_statistic", "kite_drift_p_value",
                                       "kite_drift_missing_ratio", "kite_drift_feature_drifted",
                                       "kite_model_info", "kite_http_model_info"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (x->ss_name_len == strlen(skip[i]) && !memcmp(x->ss_name, skip[i], x->ss_name_len)) return 0;
    if (x->ss_type != 'h') return 1;
    static const char *const keep[] = {"kite_event_latency_seconds_bucket",
                                       "kite_event_latency_seconds_count",
                                       "kite_http_request_duration_seconds_bucket",
                                       "kite_http_request_duration_seconds_count"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (x->ss_name_len == strlen(keep[i]) && !memcmp(x->ss_name, keep[i], x->ss_name_len)) return 1;
    return 0;
}

static uint32_t key_hash(const char *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

int kite__status_series_find(const kite_status *s, const char *key)
{
    for (uint32_t i = key_hash(key) % INDEX_SLOTS;; i = (i + 1) % INDEX_SLOTS) {
        int j = s->st_index[i];
        if (j < 0) return -1;
        if (!strcmp(s->st_series[j].sr_key, key)) return j;
    }
}

/* A new series (under st_lock); -1 when the table is full or memory is short. */
static int series_add(kite_status *s, const char *key, size_t name_len, int rate)
{
    if (s->st_nseries == KITE_STATUS_MAX_SERIES) return -1;
    kite__status_series *r = &s->st_series[s->st_nseries];
    r->sr_key = strdup(key);
    r->sr_values = malloc(KITE_STATUS_SECONDS * sizeof *r->sr_values);
    if (!r->sr_key || !r->sr_values) {
        free(r->sr_key);
        free(r->sr_values);
        return -1;
    }
    for (int i = 0; i < KITE_STATUS_SECONDS; i++) r->sr_values[i] = NAN;
    r->sr_name_len = name_len;
    r->sr_rate = rate;
    r->sr_prev = NAN;
    uint32_t i = key_hash(key) % INDEX_SLOTS;
    while (s->st_index[i] >= 0) i = (i + 1) % INDEX_SLOTS;
    s->st_index[i] = s->st_nseries;
    return s->st_nseries++;
}

static void event_add(kite_status *s, double unix_s, const char *window, int worse,
                      const char *what)
{
    kite__status_event *e = &s->st_events[s->st_nevents++ % KITE_STATUS_EVENTS];
    e->ev_unix = unix_s;
    e->ev_worse = worse;
    snprintf(e->ev_window, sizeof e->ev_window, "%s", window);
    snprintf(e->ev_what, sizeof e->ev_what, "%s", what);
}

static const char *level_name(double v)
{
    return v >= 2 ? "significant" : v >= 1 ? "moderate" : v >= 0 ? "none" : "?";
}

/* Drift status changes between the previous sample (prev, NaN: the series is new) and this one. */
static void status_events(kite_status *s, const kite__status_sample *x, double prev, double unix_s)
{
    static const char feature_status[] = "kite_drift_feature_status";
    static const char dataset[] = "kite_drift_dataset_drift";
    static const char prediction[] = "kite_drift_prediction_drift";
    static const char detections[] = "kite_drift_detection_events_total";
#define IS(n) (x->ss_name_len == sizeof n - 1 && !memcmp(x->ss_name, n, sizeof n - 1))
    char window[40] = "", feature[128] = "", what[200];
    kite__status_label(x->ss_labels, x->ss_labels_len, "window", window, sizeof window);
    double v = x->ss_value;
    if (IS(feature_status)) {
        if (v == prev || (isnan(prev) && v == 0)) return;
        kite__status_label(x->ss_labels, x->ss_labels_len, "feature", feature, sizeof feature);
        snprintf(what, sizeof what, "feature \"%s\": %s -> %s", feature,
                 isnan(prev) ? "none" : level_name(prev), level_name(v));
        event_add(s, unix_s, window, isnan(prev) || v > prev, what);
    } else if (IS(dataset) || IS(prediction)) {
        if (v == prev || (isnan(prev) && v == 0)) return;
        snprintf(what, sizeof what, "%s drift %s", IS(dataset) ? "dataset" : "prediction",
                 v > 0 ? "detected" : "cleared");
        event_add(s, unix_s, window, v > 0, what);
    } else if (IS(detections)) {
        char kind[32] = "";
        kite__status_label(x->ss_labels, x->ss_labels_len, "kind", kind, sizeof kind);
        if (strcmp(kind, "concept") || isnan(prev) || !(v > prev)) return;
        snprintf(what, sizeof what, "concept drift: Page-Hinkley alarm on the error stream");
        event_add(s, unix_s, "labels", 1, what);
    }
#undef IS
}

static void status_sample(kite_status *s, const kite__status_scrape *sc, double dt)
{
    pthread_mutex_lock(&s->st_lock);
    uint64_t k = s->st_nsamples;
    int slot = (int)(k % KITE_STATUS_SECONDS);
    s->st_times[slot] = sc->sc_unix;
    for (int i = 0; i < s->st_nseries; i++) s->st_series[i].sr_values[slot] = NAN;
    s->st_untracked = 0;
    char key[1024];
    for (size_t i = 0; i < sc->sc_n; i++) {
        const kite__status_sample *x = &sc->sc_samples[i];
        if (!status_charted(x)) continue;
        int rate = x->ss_type == 'c' || x->ss_type == 'h'; /* buckets and counts count too */
        snprintf(key, sizeof key, x->ss_labels_len ? "%.*s{%.*s}" : "%.*s%.*s", (int)x->ss_name_len,
                 x->ss_name, (int)x->ss_labels_len, x->ss_labels);
        int j = kite__status_series_find(s, key);
        if (j < 0) {
            j = series_add(s, key, x->ss_name_len, rate);
            if (j < 0) {
                s->st_untracked++;
                continue;
            }
        }
        kite__status_series *r = &s->st_series[j];
        status_events(s, x, r->sr_prev, sc->sc_unix);
        if (r->sr_rate)
            r->sr_values[slot] = isnan(r->sr_prev) || !(dt > 0) || x->ss_value < r->sr_prev
                                     ? NAN
                                     : (float)((x->ss_value - r->sr_prev) / dt);
        else
            r->sr_values[slot] = (float)x->ss_value;
        r->sr_prev = x->ss_value;
        r->sr_seen = k;
    }
    /* A series that went away (a partition revoked) starts its rate afresh when it returns. */
    for (int i = 0; i < s->st_nseries; i++)
        if (s->st_series[i].sr_seen != k) s->st_series[i].sr_prev = NAN;
    s->st_nsamples = k + 1;
    pthread_mutex_unlock(&s->st_lock);
}

static void *status_main(void *arg)
{
    kite_status *s = arg;
    kite__status_scrape sc;
    kite__status_scrape_init(&sc);
    double last = NAN;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        double t = kite_clock_mono_s();
        if (!kite__status_scrape_take(&sc, s->st_render, s->st_opaque))
            status_sample(s, &sc, isnan(last) ? 0 : t - last);
        last = t;
        next.tv_nsec += (long)s->st_interval_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        pthread_mutex_lock(&s->st_lock);
        int rc = 0;
        while (!s->st_stop && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&s->st_cond, &s->st_lock, &next);
        int stop = s->st_stop;
        pthread_mutex_unlock(&s->st_lock);
        if (stop) break;
    }
    kite__status_scrape_free(&sc);
    return NULL;
}

kite_err kite_status_start(const char *title, kite_status_render_fn render, void *opaque,
                           int interval_ms, kite_status **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_status *s = calloc(1, sizeof *s);
    if (s) {
        s->st_series = calloc(KITE_STATUS_MAX_SERIES, sizeof *s->st_series);
        s->st_index = malloc(INDEX_SLOTS * sizeof *s->st_index);
    }
    if (!s || !s->st_series || !s->st_index) {
        if (s) {
            free(s->st_series);
            free(s->st_index);
        }
        free(s);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "status page: out of memory");
    }
    for (int i = 0; i < INDEX_SLOTS; i++) s->st_index[i] = -1;
    snprintf(s->st_title, sizeof s->st_title, "%s", title);
    s->st_render = render;
    s->st_opaque = opaque;
    s->st_interval_ms = interval_ms > 0 ? interval_ms : 1000;
    s->st_started_unix = (double)kite_clock_wall_us() * 1e-6;
    pthread_mutex_init(&s->st_lock, NULL);
    /* The sampler waits against CLOCK_MONOTONIC, so a wall-clock step cannot stall it. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->st_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->st_thread, NULL, status_main, s)) {
        kite_status_stop(s);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "status page: cannot start its thread");
    }
    s->st_started = 1;
    pthread_setname_np(s->st_thread, "kite-status"); /* its CPU shows in top -H, /proc */
    *out = s;
    return KITE_ERR_OK;
}

void kite_status_stop(kite_status *s)
{
    if (!s) return;
    if (s->st_started) {
        pthread_mutex_lock(&s->st_lock);
        s->st_stop = 1;
        pthread_cond_signal(&s->st_cond);
        pthread_mutex_unlock(&s->st_lock);
        pthread_join(s->st_thread, NULL);
    }
    for (int i = 0; i < s->st_nseries; i++) {
        free(s->st_series[i].sr_key);
        free(s->st_series[i].sr_values);
    }
    free(s->st_series);
    free(s->st_index);
    pthread_cond_destroy(&s->st_cond);
    pthread_mutex_destroy(&s->st_lock);
    free(s);
}

uint64_t kite__status_history(const kite_status *s, uint64_t *first)
{
    uint64_t n = s->st_nsamples < KITE_STATUS_SECONDS ? s->st_nsamples : KITE_STATUS_SECONDS;
    *first = s->st_nsamples - n;
    return n;
}

double kite__status_value_at(const kite_status *s, int series, uint64_t k)
{
    if (series < 0 || k >= s->st_nsamples || s->st_nsamples - k > KITE_STATUS_SECONDS) return NAN;
    return s->st_series[series].sr_values[k % KITE_STATUS_SECONDS];
}

double kite__status_recent_mean(const kite_status *s, int series, uint64_t n)
{
    double sum = 0;
    int count = 0;
    for (uint64_t i = 0; i < n && i < s->st_nsamples; i++) {
        double v = kite__status_value_at(s, series, s->st_nsamples - 1 - i);
        if (isfinite(v)) {
            sum += v;
            count++;
        }
    }
    return count ? sum / count : NAN;
}
