/* The status page's pieces without a browser: the /metrics parser (escaped label values with
 * braces and quotes, families, sums), histogram_quantile against hand-computed values, and the
 * sampler (rates from counters, drift status changes as events) over a scripted render. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status_int.h"

static int failures;
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                               \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

static const char *scripted_text;
static void render_text(void *opaque, kite_prom *p)
{
    (void)opaque;
    size_t n = strlen(scripted_text);
    if (p->kpr_cap < n + 1) {
        p->kpr_buf = realloc(p->kpr_buf, n + 1);
        p->kpr_cap = n + 1;
    }
    memcpy(p->kpr_buf, scripted_text, n + 1);
    p->kpr_len = n;
}

static void test_parse(void)
{
    scripted_text =
        "# HELP kite_a_total A.\n# TYPE kite_a_total counter\nkite_a_total 42\n"
        "# HELP kite_g G.\n# TYPE kite_g gauge\n"
        "kite_g{feature=\"we}ird \\\"name\\\"\",window=\"w\"} 0.25\nkite_g{feature=\"b\",window=\"w\"} 1.5\n"
        "# HELP kite_h H.\n# TYPE kite_h histogram\n"
        "kite_h_bucket{le=\"0.1\"} 2\nkite_h_bucket{le=\"1\"} 6\nkite_h_bucket{le=\"+Inf\"} 8\n"
        "kite_h_sum 5\nkite_h_count 8\n";
    kite__status_scrape sc;
    kite__status_scrape_init(&sc);
    CHECK(kite__status_scrape_take(&sc, render_text, NULL) == 0, "parses");
    CHECK(sc.sc_n == 8, "8 samples, got %zu", sc.sc_n);
    const kite__status_sample *a = kite__status_scrape_find(&sc, "kite_a_total", NULL);
    CHECK(a && a->ss_value == 42 && a->ss_type == 'c', "counter found with its type");
    const kite__status_sample *g =
        kite__status_scrape_find(&sc, "kite_g", "feature=\"we}ird \\\"name\\\"\",window=\"w\"");
    CHECK(g && g->ss_value == 0.25 && g->ss_type == 'g', "label value with } and quotes");
    char v[64];
    CHECK(g && kite__status_label(g->ss_labels, g->ss_labels_len, "feature", v, sizeof v) &&
              !strcmp(v, "we}ird \"name\""),
          "label unescaped: %s", v);
    CHECK(g && kite__status_label(g->ss_labels, g->ss_labels_len, "window", v, sizeof v) && !strcmp(v, "w"),
          "second label");
    CHECK(kite__status_scrape_sum(&sc, "kite_g") == 1.75, "family sum");
    CHECK(isnan(kite__status_scrape_sum(&sc, "kite_none")), "sum of nothing is NaN");
    const kite__status_sample *c = kite__status_scrape_find(&sc, "kite_h_count", NULL);
    CHECK(c && c->ss_type == 'h', "histogram samples take the family's type");
    /* rank 0.5 * 8 = 4 falls in (0.1, 1]: 0.1 + 0.9 * (4 - 2) / 4 */
    CHECK(kite__status_scrape_quantile(&sc, "kite_h", "", 0.5) == 0.1 + (1 - 0.1) * ((4.0 - 2) / 4),
          "p50 = %.17g", kite__status_scrape_quantile(&sc, "kite_h", "", 0.5));
    /* rank 0.1 * 8 = 0.8 in the first bucket: 0 + 0.1 * 0.8 / 2 */
    CHECK(kite__status_scrape_quantile(&sc, "kite_h", "", 0.1) == 0.1 * (0.8 / 2), "p10");
    /* rank 0.99 * 8 = 7.92 > 6: the +Inf bucket -> the largest finite bound */
    CHECK(kite__status_scrape_quantile(&sc, "kite_h", "", 0.99) == 1, "p99 in +Inf is 1");
    double les[2] = {1, INFINITY}, zero[2] = {0, 0};
    CHECK(isnan(kite__status_quantile(les, zero, 2, 0.5)), "no observations: NaN");
    scripted_text = "kite_x{a=\"unterminated} 1\n";
    CHECK(kite__status_scrape_take(&sc, render_text, NULL) != 0, "an unterminated label text is refused");
    kite__status_scrape_free(&sc);
}

/* The sampler over a render whose counter grows by 10 per sample and whose drift level steps. */
static int step;
static void render_steps(void *opaque, kite_prom *p)
{
    (void)opaque;
    int k = __atomic_fetch_add(&step, 1, __ATOMIC_RELAXED);
    kite_prom_family(p, "kite_events_consumed_total", "counter", "c");
    kite_prom_sample(p, "kite_events_consumed_total", NULL, 10.0 * k);
    kite_prom_family(p, "kite_drift_feature_status", "gauge", "s");
    kite_prom_sample(p, "kite_drift_feature_status", "window=\"w\",feature=\"T\"", k >= 3 ? 2 : 0);
}

static void test_sampler(void)
{
    char err[256];
    kite_status *s = NULL;
    CHECK(kite_status_start("test", render_steps, NULL, 50, &s, err, sizeof err) == KITE_ERR_OK, "%s", err);
    if (!s) return;
    struct timespec ts = {0, 20 * 1000000L};
    for (int i = 0; i < 200 && __atomic_load_n(&step, __ATOMIC_RELAXED) < 6; i++) nanosleep(&ts, NULL);
    size_t len = 0;
    char *json = kite_status_json(s, &len);
    kite_status_stop(s);
    CHECK(json && len == strlen(json), "JSON rendered");
    if (!json) return;
    /* Every sampled rate is 10 per 0.05 s = 200/s give or take the sleep's jitter. */
    const char *vals = strstr(json, "\"kite_events_consumed_total\":{\"kind\":\"rate\",\"values\":[");
    CHECK(vals != NULL, "counter kept as a rate: %.300s", json);
    if (vals) {
        vals = strchr(vals, '[') + 1;
        CHECK(!strncmp(vals, "null,", 5), "first sample has no rate: %.40s", vals);
        double r = strtod(vals + 5, NULL);
        CHECK(r > 50 && r < 1000, "second sample's rate ~200/s: %g", r);
    }
    CHECK(strstr(json, "\"change\":\"feature \\\"T\\\": none -> significant\"") != NULL,
          "the level change is an event: %s", strstr(json, "\"events\""));
    free(json);
}

int main(void)
{
    test_parse();
    test_sampler();
    if (failures) fprintf(stderr, "test_status: %d failure(s)\n", failures);
    else printf("test_status: ok\n");
    return failures != 0;
}
