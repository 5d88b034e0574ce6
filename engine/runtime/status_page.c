/* The status page: one HTML document from a fresh scrape (the numbers) and the ring (charts
 * and sparklines). Every number is a <span class="num"> naming its source:
 *   data-metric="name" data-labels='k="v",...' data-value="%.17g"     a sample, as /metrics has it
 *   + data-derived="sum"              the family summed over its label sets (lag of all partitions)
 *   + data-derived="quantile" data-q   histogram_quantile(q) of the cumulative buckets
 *   + data-derived="rate" data-window  per-second rate, mean of the last data-window samples
 * Sections appear when their families are on /metrics: stream (kite serve), drift, quality
 * (delayed labels), HTTP (kite serve --http). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kite/html_svg.h>
#include "status_int.h"

#define RATE_WINDOW 10      /* samples (seconds) a shown rate and a latency point average */
#define CHART_POINTS 300
#define SPARK_POINTS 60
#define MAX_BUCKETS 64
#define PAGE_EVENTS 50      /* newest drift events listed (/status.json has all kept) */

static int is_name(const kite__status_sample *x, const char *name)
{
    return x->ss_name_len == strlen(name) && !memcmp(x->ss_name, name, x->ss_name_len);
}

static void num_text(FILE *fp, double v)
{
    if (isnan(v)) fputs("&ndash;", fp);
    else if (isinf(v)) fputs(v > 0 ? "+Inf" : "-Inf", fp);
    else if (v == floor(v) && fabs(v) < 1e15) fprintf(fp, "%.0f", v);
    else if (fabs(v) >= 0.01) fprintf(fp, "%.4g", v);
    else fprintf(fp, "%.3g", v);
}

static void attr_value(FILE *fp, double v)
{
    if (isnan(v)) fputs("NaN", fp);
    else if (isinf(v)) fputs(v > 0 ? "+Inf" : "-Inf", fp);
    else fprintf(fp, "%.17g", v);
}

/* <span class="num" ...> with the attributes above; derived NULL for a plain sample. */
static void num_span(FILE *fp, const char *name, const char *labels, size_t labels_len,
                     const char *derived, const char *extra, double v, const char *text)
{
    fputs("<span class=\"num\" data-metric=\"", fp);
    kite__html_svg_text(fp, name);
    fputs("\" data-labels=\"", fp);
    kite__html_svg_textn(fp, labels ? labels : "", labels ? labels_len : 0);
    fputs("\"", fp);
    if (derived) fprintf(fp, " data-derived=\"%s\"%s", derived, extra ? extra : "");
    fputs(" data-value=\"", fp);
    attr_value(fp, v);
    fputs("\">", fp);
    if (text) kite__html_svg_text(fp, text);
    else num_text(fp, v);
    fputs("</span>", fp);
}

static void sample_span(FILE *fp, const kite__status_sample *x, const char *text)
{
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)x->ss_name_len, x->ss_name);
    num_span(fp, name, x->ss_labels, x->ss_labels_len, NULL, NULL, x->ss_value, text);
}

/* A card: title over a sample's value (if present). */
static int card(FILE *fp, const kite__status_scrape *now, const char *title, const char *name)
{
    const kite__status_sample *x = kite__status_scrape_find(now, name, NULL);
    if (!x) return 0;
    fputs("<div class=\"card\"><div class=\"t\">", fp);
    kite__html_svg_text(fp, title);
    fputs("</div><div class=\"v\">", fp);
    sample_span(fp, x, NULL);
    fputs("</div></div>\n", fp);
    return 1;
}

static void rate_span(FILE *fp, const kite_status *s, const char *key_name, const char *labels)
{
    char key[1024];
    snprintf(key, sizeof key, labels && *labels ? "%s{%s}" : "%s%s", key_name, labels ? labels : "");
    double v = kite__status_recent_mean(s, kite__status_series_find(s, key), RATE_WINDOW);
    char extra[40];
    snprintf(extra, sizeof extra, " data-window=\"%d\"", RATE_WINDOW);
    num_span(fp, key_name, labels, labels ? strlen(labels) : 0, "rate", extra, v, NULL);
}

/* A card with a counter's rate over the last RATE_WINDOW seconds and its total. */
static int rate_card(FILE *fp, const kite_status *s, const kite__status_scrape *now,
                     const char *title, const char *name)
{
    const kite__status_sample *x = kite__status_scrape_find(now, name, NULL);
    if (!x) return 0;
    fputs("<div class=\"card\"><div class=\"t\">", fp);
    kite__html_svg_text(fp, title);
    fputs("</div><div class=\"v\">", fp);
    rate_span(fp, s, name, NULL);
    fputs("<small>/s</small></div><div class=\"sub\">total ", fp);
    sample_span(fp, x, NULL);
    fputs("</div></div>\n", fp);
    return 1;
}

static void quantile_card(FILE *fp, const kite__status_scrape *now, const char *title,
                          const char *hist, const char *labels)
{
    static const double qs[3] = {0.5, 0.95, 0.99};
    fputs("<div class=\"card\"><div class=\"t\">", fp);
    kite__html_svg_text(fp, title);
    fputs("</div><div class=\"lat\">", fp);
    for (int i = 0; i < 3; i++) {
        double v = kite__status_scrape_quantile(now, hist, labels, qs[i]);
        char extra[40], text[40];
        snprintf(extra, sizeof extra, " data-q=\"%g\"", qs[i]);
        if (isnan(v)) snprintf(text, sizeof text, "-");
        else if (v < 1) snprintf(text, sizeof text, "%.3g ms", v * 1e3);
        else snprintf(text, sizeof text, "%.3g s", v);
        fprintf(fp, "<div>p%g ", qs[i] * 100);
        num_span(fp, hist, labels, strlen(labels), "quantile", extra, v, text);
        fputs("</div>", fp);
    }
    fputs("</div><div class=\"sub\">since start, from the histogram's buckets</div></div>\n", fp);
}

/* ---- history --------------------------------------------------------------------------- */

typedef double (*point_fn)(const kite_status *s, uint64_t k, const void *ctx);

/* The history split into at most max buckets: each point the mean of f's finite values. */
static size_t history_points(const kite_status *s, size_t max, point_fn f, const void *ctx,
                             double *out)
{
    uint64_t first, n = kite__status_history(s, &first);
    size_t p = n < max ? (size_t)n : max;
    for (size_t j = 0; j < p; j++) {
        uint64_t a = first + j * n / p, b = first + (j + 1) * n / p;
        double sum = 0;
        int cnt = 0;
        for (uint64_t k = a; k < b; k++) {
            double v = f(s, k, ctx);
            if (isfinite(v)) {
                sum += v;
                cnt++;
            }
        }
        out[j] = cnt ? sum / cnt : NAN;
    }
    return p;
}

static double point_series(const kite_status *s, uint64_t k, const void *ctx)
{
    return kite__status_value_at(s, *(const int *)ctx, k);
}

/* Sum over every series of one family (lag over partitions), NaN when none had a value. */
static double point_family_sum(const kite_status *s, uint64_t k, const void *ctx)
{
    const char *name = ctx;
    size_t n = strlen(name);
    double sum = NAN;
    for (int i = 0; i < s->st_nseries; i++) {
        const kite__status_series *r = &s->st_series[i];
        if (r->sr_name_len != n || memcmp(r->sr_key, name, n)) continue;
        double v = kite__status_value_at(s, i, k);
        if (isfinite(v)) sum = (isnan(sum) ? 0 : sum) + v;
    }
    return sum;
}

typedef struct quantile_ctx {
    int idx[MAX_BUCKETS];
    double le[MAX_BUCKETS];
    int n;
    double q;
} quantile_ctx;

/* The bucket series of a histogram (ascending le) for the latency-over-time lines. */
static void quantile_ctx_init(const kite_status *s, const char *hist, const char *labels,
                              double q, quantile_ctx *c)
{
    char prefix[160], base[512];
    snprintf(prefix, sizeof prefix, "%s_bucket{", hist);
    size_t pl = strlen(prefix);
    c->n = 0;
    c->q = q;
    for (int i = 0; i < s->st_nseries && c->n < MAX_BUCKETS; i++) {
        const char *key = s->st_series[i].sr_key;
        double le;
        if (strncmp(key, prefix, pl)) continue;
        size_t len = strlen(key + pl) - 1; /* without the closing brace */
        if (!kite__status_split_le(key + pl, len, base, sizeof base, &le) || strcmp(base, labels)) continue;
        int j = c->n++;
        while (j > 0 && c->le[j - 1] > le) {
            c->le[j] = c->le[j - 1];
            c->idx[j] = c->idx[j - 1];
            j--;
        }
        c->le[j] = le;
        c->idx[j] = i;
    }
}

/* histogram_quantile over the bucket rates of the RATE_WINDOW samples ending at k. */
static double point_quantile(const kite_status *s, uint64_t k, const void *ctx)
{
    const quantile_ctx *c = ctx;
    double cum[MAX_BUCKETS];
    for (int b = 0; b < c->n; b++) {
        cum[b] = 0;
        for (uint64_t j = 0; j < RATE_WINDOW && j <= k; j++) {
            double v = kite__status_value_at(s, c->idx[b], k - j);
            if (isfinite(v)) cum[b] += v;
        }
    }
    return kite__status_quantile(c->le, cum, c->n, c->q);
}

static void axis_first(const kite_status *s, char *out, size_t size)
{
    uint64_t first, n = kite__status_history(s, &first);
    double span = n ? s->st_times[(s->st_nsamples - 1) % KITE_STATUS_SECONDS] -
                          s->st_times[first % KITE_STATUS_SECONDS]
                    : 0;
    if (span >= 120) snprintf(out, size, "-%.1f min", span / 60);
    else snprintf(out, size, "-%.0f s", span);
}

typedef struct chart_line {
    const char *name;
    point_fn f;
    const void *ctx;
} chart_line;

static void history_chart(FILE *fp, const kite_status *s, const char *title, const chart_line *lines,
                          int nlines, const double *hlines, int nhlines)
{
    double *vals = malloc((size_t)nlines * CHART_POINTS * sizeof *vals);
    const char *names[8];
    if (!vals || nlines > 8) {
        free(vals);
        return;
    }
    size_t n = 0;
    for (int i = 0; i < nlines; i++) {
        names[i] = lines[i].name;
        n = history_points(s, CHART_POINTS, lines[i].f, lines[i].ctx, vals + (size_t)i * CHART_POINTS);
    }
    /* history_points filled each line's first n slots of its CHART_POINTS: pack them. */
    for (int i = 1; i < nlines; i++)
        memmove(vals + (size_t)i * n, vals + (size_t)i * CHART_POINTS, n * sizeof *vals);
    char first[32];
    axis_first(s, first, sizeof first);
    fputs("<figure><figcaption>", fp);
    kite__html_svg_text(fp, title);
    fputs("</figcaption>\n", fp);
    kite__html_svg_line_chart(fp, &(kite__html_svg_chart){.names = names, .values = vals,
                                                         .nseries = nlines, .npoints = n,
                                                         .hlines = hlines, .nhlines = nhlines,
                                                         .x_first = first, .x_last = "now",
                                                         .width = 390});
    fputs("</figure>\n", fp);
    free(vals);
}

static void sparkline(FILE *fp, const kite_status *s, const char *key, double lo, double hi,
                      const char *color)
{
    int idx = kite__status_series_find(s, key);
    double v[SPARK_POINTS];
    size_t n = idx < 0 ? 0 : history_points(s, SPARK_POINTS, point_series, &idx, v);
    kite__html_svg_sparkline(fp, v, n, 120, 22, lo, hi, color);
}

static void sample_key(const kite__status_sample *x, char *key, size_t size)
{
    snprintf(key, size, x->ss_labels_len ? "%.*s{%.*s}" : "%.*s%.*s", (int)x->ss_name_len,
             x->ss_name, (int)x->ss_labels_len, x->ss_labels);
}

/* ---- sections -------------------------------------------------------------------------- */

static void section_stream(FILE *fp, const kite_status *s, const kite__status_scrape *now)
{
    fputs("<section id=\"stream\"><h2>Stream</h2><div class=\"cards\">\n", fp);
    rate_card(fp, s, now, "events in", "kite_events_consumed_total");
    rate_card(fp, s, now, "predictions", "kite_events_scored_total");
    rate_card(fp, s, now, "outputs delivered", "kite_outputs_delivered_total");
    rate_card(fp, s, now, "dead letters", "kite_dead_letters_total");
    rate_card(fp, s, now, "alerts", "kite_alerts_total");
    rate_card(fp, s, now, "inference errors", "kite_inference_errors_total");
    rate_card(fp, s, now, "delivery errors", "kite_output_delivery_errors_total");
    double lag = kite__status_scrape_sum(now, "kite_consumer_lag_messages");
    fputs("<div class=\"card\"><div class=\"t\">consumer lag</div><div class=\"v\">", fp);
    num_span(fp, "kite_consumer_lag_messages", NULL, 0, "sum", NULL, lag, NULL);
    fputs("<small> messages</small></div><div class=\"sub\">all assigned partitions</div></div>\n", fp);
    card(fp, now, "outputs in flight", "kite_outputs_in_flight");
    card(fp, now, "workers", "kite_workers");
    card(fp, now, "ready", "kite_ready");
    quantile_card(fp, now, "event latency", "kite_event_latency_seconds", "");
    fputs("</div>\n<div class=\"charts\">\n", fp);
    int ids[4];
    static const char *const names[4] = {"kite_events_consumed_total", "kite_events_scored_total",
                                         "kite_outputs_delivered_total", "kite_dead_letters_total"};
    static const char *const legend[4] = {"in", "scored", "delivered", "dead letters"};
    chart_line lines[4];
    for (int i = 0; i < 4; i++) {
        ids[i] = kite__status_series_find(s, names[i]);
        lines[i] = (chart_line){legend[i], point_series, &ids[i]};
    }
    history_chart(fp, s, "events per second", lines, 4, NULL, 0);
    quantile_ctx q50, q99;
    quantile_ctx_init(s, "kite_event_latency_seconds", "", 0.5, &q50);
    quantile_ctx_init(s, "kite_event_latency_seconds", "", 0.99, &q99);
    chart_line lat[2] = {{"p50", point_quantile, &q50}, {"p99", point_quantile, &q99}};
    history_chart(fp, s, "event latency, seconds (10 s windows)", lat, 2, NULL, 0);
    chart_line lagl[1] = {{"lag", point_family_sum, "kite_consumer_lag_messages"}};
    history_chart(fp, s, "consumer lag, messages (all partitions)", lagl, 1, NULL, 0);
    fputs("</div>\n<table class=\"lag\"><tr><th>topic</th><th>partition</th><th>lag</th><th>last minutes</th></tr>\n", fp);
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_consumer_lag_messages")) continue;
        char topic[256], part[16], key[1024];
        kite__status_label(x->ss_labels, x->ss_labels_len, "topic", topic, sizeof topic);
        kite__status_label(x->ss_labels, x->ss_labels_len, "partition", part, sizeof part);
        fputs("<tr><td>", fp);
        kite__html_svg_text(fp, topic);
        fprintf(fp, "</td><td>%s</td><td>", part);
        sample_span(fp, x, NULL);
        fputs("</td><td>", fp);
        sample_key(x, key, sizeof key);
        sparkline(fp, s, key, 0, 0, "#1f77b4");
        fputs("</td></tr>\n", fp);
    }
    fputs("</table></section>\n", fp);
}

static const char *level_color(double v)
{
    return v >= 2 ? "#d62728" : v >= 1 ? "#ff7f0e" : "#2ca02c";
}

static int cmp_value_desc(const void *a, const void *b)
{
    const kite__status_sample *x = *(const kite__status_sample *const *)a;
    const kite__status_sample *y = *(const kite__status_sample *const *)b;
    double u = isnan(x->ss_value) ? -1 : x->ss_value, v = isnan(y->ss_value) ? -1 : y->ss_value;
    return (u < v) - (u > v);
}

/* One window's features, largest PSI first; only the first window starts unfolded. */
static void drift_window(FILE *fp, const kite_status *s, const kite__status_scrape *now,
                         const kite__status_sample *wmax, int open)
{
    char window[64], wl[160];
    kite__status_label(wmax->ss_labels, wmax->ss_labels_len, "window", window, sizeof window);
    snprintf(wl, sizeof wl, "%.*s", (int)wmax->ss_labels_len, wmax->ss_labels);
    fprintf(fp, "<details%s><summary>window <b>", open ? " open" : "");
    kite__html_svg_text(fp, window);
    fputs("</b>: max PSI ", fp);
    sample_span(fp, wmax, NULL);
    static const char *const flags[2] = {"kite_drift_dataset_drift", "kite_drift_prediction_drift"};
    static const char *const what[2] = {"dataset drift", "prediction drift"};
    for (int i = 0; i < 2; i++) {
        const kite__status_sample *x = kite__status_scrape_find(now, flags[i], wl);
        if (!x) continue;
        char text[40];
        snprintf(text, sizeof text, "%s%s", x->ss_value > 0 ? "" : "no ", what[i]);
        fprintf(fp, " <span class=\"badge\" style=\"background:%s\">", x->ss_value > 0 ? "#d62728" : "#2ca02c");
        sample_span(fp, x, text);
        fputs("</span>", fp);
    }
    const kite__status_sample *ev = kite__status_scrape_find(now, "kite_drift_window_events", wl);
    if (ev) {
        fputs(", ", fp);
        sample_span(fp, ev, NULL);
        fputs(" events in the window", fp);
    }
    fputs("</summary>\n<table class=\"psi\"><tr><th>feature</th><th>PSI</th><th>status</th><th>PSI, last minutes</th></tr>\n", fp);
    const kite__status_sample **rows = malloc(now->sc_n * sizeof *rows);
    size_t n = 0;
    char w2[64];
    for (size_t i = 0; rows && i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (is_name(x, "kite_drift_psi") &&
            kite__status_label(x->ss_labels, x->ss_labels_len, "window", w2, sizeof w2) && !strcmp(w2, window))
            rows[n++] = x;
    }
    if (rows) qsort(rows, n, sizeof *rows, cmp_value_desc);
    for (size_t i = 0; i < n; i++) {
        const kite__status_sample *x = rows[i];
        char feature[256], labels[600], key[1024];
        kite__status_label(x->ss_labels, x->ss_labels_len, "feature", feature, sizeof feature);
        snprintf(labels, sizeof labels, "%.*s", (int)x->ss_labels_len, x->ss_labels);
        const kite__status_sample *st = kite__status_scrape_find(now, "kite_drift_feature_status", labels);
        fputs("<tr><td>", fp);
        kite__html_svg_text(fp, feature);
        fputs("</td><td>", fp);
        sample_span(fp, x, NULL);
        if (st) {
            static const char *const lv[3] = {"none", "moderate", "significant"};
            int l = st->ss_value >= 2 ? 2 : st->ss_value >= 1 ? 1 : 0;
            fprintf(fp, "</td><td style=\"color:%s\">", level_color(st->ss_value));
            sample_span(fp, st, lv[l]);
        } else {
            fputs("</td><td>", fp);
        }
        fputs("</td><td>", fp);
        sample_key(x, key, sizeof key);
        sparkline(fp, s, key, 0, 0, level_color(st ? st->ss_value : 0));
        fputs("</td></tr>\n", fp);
    }
    free(rows);
    fputs("</table></details>\n", fp);
}

static void section_drift(FILE *fp, const kite_status *s, const kite__status_scrape *now)
{
    fputs("<section id=\"drift\"><h2>Drift</h2>\n<div class=\"charts\">\n", fp);
    chart_line lines[8];
    int ids[8], nl = 0;
    char keys[8][160], names[8][64];
    for (size_t i = 0; i < now->sc_n && nl < 8; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_drift_psi_max")) continue;
        sample_key(x, keys[nl], sizeof keys[nl]);
        kite__status_label(x->ss_labels, x->ss_labels_len, "window", names[nl], sizeof names[nl]);
        ids[nl] = kite__status_series_find(s, keys[nl]);
        lines[nl] = (chart_line){names[nl], point_series, &ids[nl]};
        nl++;
    }
    static const double thr[2] = {0.1, 0.25};
    if (nl) history_chart(fp, s, "largest PSI per window (dashed: 0.1 moderate, 0.25 significant)", lines, nl, thr, 2);
    fputs("</div>\n", fp);
    int nw = 0;
    for (size_t i = 0; i < now->sc_n; i++)
        if (is_name(&now->sc_samples[i], "kite_drift_psi_max"))
            drift_window(fp, s, now, &now->sc_samples[i], nw++ == 0);
    fputs("<h3>Recent drift events</h3>\n<p>Detections so far:", fp);
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_drift_detection_events_total")) continue;
        char kind[32];
        kite__status_label(x->ss_labels, x->ss_labels_len, "kind", kind, sizeof kind);
        fprintf(fp, " %s ", kind);
        sample_span(fp, x, NULL);
    }
    fputs(". Status changes the 1 s sampler saw, newest first:</p>\n"
          "<table class=\"events\"><tr><th>time (UTC)</th><th>window</th><th>change</th></tr>\n", fp);
    uint64_t nev = s->st_nevents < PAGE_EVENTS ? s->st_nevents : PAGE_EVENTS;
    for (uint64_t i = 0; i < nev; i++) {
        const kite__status_event *e = &s->st_events[(s->st_nevents - 1 - i) % KITE_STATUS_EVENTS];
        time_t t = (time_t)e->ev_unix;
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(fp, "<tr class=\"%s\"><td>%s</td><td>", e->ev_worse ? "worse" : "better", when);
        kite__html_svg_text(fp, e->ev_window);
        fputs("</td><td>", fp);
        kite__html_svg_text(fp, e->ev_what);
        fputs("</td></tr>\n", fp);
    }
    if (!nev) fputs("<tr><td colspan=\"3\">none yet</td></tr>\n", fp);
    fputs("</table></section>\n", fp);
}

static void section_quality(FILE *fp, const kite_status *s, const kite__status_scrape *now)
{
    fputs("<section id=\"quality\"><h2>Quality (delayed labels)</h2><div class=\"cards\">\n", fp);
    rate_card(fp, s, now, "labels", "kite_labels_total");
    rate_card(fp, s, now, "labels joined", "kite_labels_joined_total");
    card(fp, now, "labels unmatched", "kite_labels_unmatched_total");
    card(fp, now, "predictions dropped unlabelled", "kite_drift_labels_dropped_total");
    fputs("</div>\n<table class=\"quality\"><tr><th>window</th><th>metric</th><th>value</th><th>last minutes</th></tr>\n", fp);
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_drift_quality")) continue;
        char window[64], metric[64], key[1024];
        kite__status_label(x->ss_labels, x->ss_labels_len, "window", window, sizeof window);
        kite__status_label(x->ss_labels, x->ss_labels_len, "metric", metric, sizeof metric);
        fputs("<tr><td>", fp);
        kite__html_svg_text(fp, window);
        fputs("</td><td>", fp);
        kite__html_svg_text(fp, metric);
        fputs("</td><td>", fp);
        sample_span(fp, x, NULL);
        fputs("</td><td>", fp);
        sample_key(x, key, sizeof key);
        sparkline(fp, s, key, 0, 0, "#9467bd");
        fputs("</td></tr>\n", fp);
    }
    fputs("</table></section>\n", fp);
}

static void section_http(FILE *fp, const kite_status *s, const kite__status_scrape *now)
{
    fputs("<section id=\"http\"><h2>HTTP</h2><div class=\"cards\">\n", fp);
    quantile_card(fp, now, "/predict latency (200)", "kite_http_request_duration_seconds",
                  "endpoint=\"predict\",code=\"200\"");
    card(fp, now, "rows scored", "kite_http_rows_scored_total");
    card(fp, now, "requests in flight", "kite_http_in_flight_requests");
    card(fp, now, "open connections", "kite_http_open_connections");
    card(fp, now, "draining", "kite_http_draining");
    const kite__status_sample *ok = kite__status_scrape_find(now, "kite_http_model_reloads_total", "result=\"ok\"");
    const kite__status_sample *bad = kite__status_scrape_find(now, "kite_http_model_reloads_total", "result=\"failed\"");
    if (ok && bad) {
        fputs("<div class=\"card\"><div class=\"t\">model reloads</div><div class=\"v\">", fp);
        sample_span(fp, ok, NULL);
        fputs("</div><div class=\"sub\">failed ", fp);
        sample_span(fp, bad, NULL);
        fputs("</div></div>\n", fp);
    }
    fputs("</div>\n<div class=\"charts\">\n", fp);
    quantile_ctx q50, q99;
    const char *pl = "endpoint=\"predict\",code=\"200\"";
    quantile_ctx_init(s, "kite_http_request_duration_seconds", pl, 0.5, &q50);
    quantile_ctx_init(s, "kite_http_request_duration_seconds", pl, 0.99, &q99);
    chart_line lat[2] = {{"p50", point_quantile, &q50}, {"p99", point_quantile, &q99}};
    history_chart(fp, s, "/predict latency, seconds (10 s windows)", lat, 2, NULL, 0);
    chart_line lines[8];
    int ids[8], nl = 0;
    char keys[8][160];
    for (size_t i = 0; i < now->sc_n && nl < 8; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_http_requests_total")) continue;
        sample_key(x, keys[nl], sizeof keys[nl]);
        ids[nl] = kite__status_series_find(s, keys[nl]);
        lines[nl] = (chart_line){keys[nl] + strlen("kite_http_requests_total"), point_series, &ids[nl]};
        nl++;
    }
    if (nl) history_chart(fp, s, "requests per second", lines, nl, NULL, 0);
    fputs("</div>\n<table class=\"requests\"><tr><th>endpoint</th><th>code</th><th>requests</th><th>per second</th><th>last minutes</th></tr>\n", fp);
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        if (!is_name(x, "kite_http_requests_total")) continue;
        char ep[64], code[16], key[1024], labels[200];
        kite__status_label(x->ss_labels, x->ss_labels_len, "endpoint", ep, sizeof ep);
        kite__status_label(x->ss_labels, x->ss_labels_len, "code", code, sizeof code);
        snprintf(labels, sizeof labels, "%.*s", (int)x->ss_labels_len, x->ss_labels);
        fprintf(fp, "<tr><td>%s</td><td>%s</td><td>", ep, code);
        sample_span(fp, x, NULL);
        fputs("</td><td>", fp);
        rate_span(fp, s, "kite_http_requests_total", labels);
        fputs("</td><td>", fp);
        sample_key(x, key, sizeof key);
        sparkline(fp, s, key, 0, 0, code[0] == '2' ? "#2ca02c" : "#d62728");
        fputs("</td></tr>\n", fp);
    }
    fputs("</table></section>\n", fp);
}

/* The model line: kite_model_info{model,fingerprint} (stream) or kite_http_model_info{version,path}. */
static void model_line(FILE *fp, const kite__status_scrape *now)
{
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        int stream = is_name(x, "kite_model_info");
        if (!stream && !is_name(x, "kite_http_model_info")) continue;
        char a[600], b[64], text[700];
        kite__status_label(x->ss_labels, x->ss_labels_len, stream ? "model" : "path", a, sizeof a);
        kite__status_label(x->ss_labels, x->ss_labels_len, stream ? "fingerprint" : "version", b, sizeof b);
        snprintf(text, sizeof text, "%s, version %s", a, b);
        fputs("<div class=\"model\">model ", fp);
        sample_span(fp, x, text);
        fputs("</div>\n", fp);
    }
}

static void fragment(FILE *fp, const kite_status *s, const kite__status_scrape *now)
{
    time_t t = (time_t)now->sc_unix;
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    uint64_t first, n = kite__status_history(s, &first);
    fputs("<header><h1>", fp);
    kite__html_svg_text(fp, s->st_title);
    fprintf(fp, "</h1><div class=\"when\" data-unix=\"%.3f\">%s &middot; %llu s of history "
                "(1 sample/s, up to %d s kept)</div>\n",
            now->sc_unix, when, (unsigned long long)n, KITE_STATUS_SECONDS);
    model_line(fp, now);
    if (s->st_untracked)
        fprintf(fp, "<div class=\"note\">%llu series not charted (more than %d); /metrics has them all.</div>\n",
                (unsigned long long)s->st_untracked, KITE_STATUS_MAX_SERIES);
    fputs("</header>\n", fp);
    if (kite__status_scrape_find(now, "kite_events_consumed_total", NULL)) section_stream(fp, s, now);
    if (kite__status_scrape_find(now, "kite_http_rows_scored_total", NULL)) section_http(fp, s, now);
    int drift = 0, quality = 0;
    for (size_t i = 0; i < now->sc_n; i++) {
        drift |= is_name(&now->sc_samples[i], "kite_drift_psi_max");
        quality |= is_name(&now->sc_samples[i], "kite_drift_quality") ||
                   is_name(&now->sc_samples[i], "kite_labels_joined_total");
    }
    /* quality before drift: the per-feature tables are long */
    if (quality) section_quality(fp, s, now);
    if (drift) section_drift(fp, s, now);
}

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>kite status</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n"
    "body{font:14px system-ui,sans-serif;margin:16px 24px;color:#222;background:#fafafa}\n"
    "h1{font-size:20px;margin:0}h2{font-size:17px;border-bottom:1px solid #ddd;margin-top:22px}\n"
    ".when,.model,.sub,small{color:#666}.note{color:#a60}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
    ".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}\n"
    ".card .t{color:#555;font-size:12px}.card .v{font-size:22px;font-weight:600}\n"
    ".lat div{font-size:15px;font-weight:600}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:10px;margin-top:10px}\n"
    "figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:4px}\n"
    "figcaption{font-size:12px;color:#555;padding:2px 6px}svg text{font:11px sans-serif}\n"
    "table{border-collapse:collapse;margin-top:8px;background:#fff}\n"
    "td,th{border:1px solid #ddd;padding:2px 8px;text-align:right;vertical-align:middle}\n"
    "td:first-child,th:first-child{text-align:left}\n"
    ".badge{padding:1px 7px;border-radius:4px;color:#fff}.badge .num{color:#fff}\n"
    "tr.worse td:last-child{color:#d62728}tr.better td:last-child{color:#2ca02c}\n"
    "summary{cursor:pointer;margin:8px 0}\n"
    "</style></head><body>\n<main id=\"status\" data-refreshes=\"0\">\n";

/* Swaps in a fresh rendering every 2 s; a failed fetch (kite restarting) keeps the last one. */
static const char page_tail[] =
    "</main>\n<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>\n<script>\n"
    "'use strict';\n"
    "const main = document.getElementById('status');\n"
    "let refreshes = 0;\n"
    "async function refresh() {\n"
    "  try {\n"
    "    const r = await fetch('/status?fragment=1', {cache: 'no-store'});\n"
    "    if (!r.ok) { main.dataset.error = 'HTTP ' + r.status; return; }\n"
    "    const html = await r.text();\n"
    "    const open = Array.from(main.querySelectorAll('details')).map(d => d.open);\n"
    "    main.innerHTML = html;\n"
    "    main.querySelectorAll('details').forEach((d, i) => { if (i < open.length) d.open = open[i]; });\n"
    "    main.dataset.refreshes = String(++refreshes);\n"
    "    main.dataset.error = '';\n"
    "  } catch (e) { main.dataset.error = String(e); }\n"
    "}\n"
    "setInterval(refresh, 2000);\n"
    "main.dataset.loaded = '1';\n"
    "</script></body></html>\n";

void kite__status_page_write(const kite_status *s, const kite__status_scrape *now, FILE *fp,
                             int fragment_only)
{
    if (!fragment_only) fputs(page_head, fp);
    fragment(fp, s, now);
    if (!fragment_only) fputs(page_tail, fp);
}
