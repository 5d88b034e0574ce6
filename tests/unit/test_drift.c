/* Drift unit tests: binning kernels against their definition, sliding windows against a
 * recompute from scratch (shadow comparison too), tumbling/time/decay windows, events, label join, quality, profile
 * JSON round trip. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>
#include <kite/drift.h>
#include "drift_labels.h"
#include "drift_stats.h"
#include "kite_test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void) { return sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand()); }

static unsigned bin_definition(const float *e, int n, float x)
{
    if (isnan(x)) return (unsigned)n + 1;
    unsigned b = 0;
    for (int i = 0; i < n; i++) b += e[i] <= x;
    return b;
}

static void test_binning(void)
{
    float edges[300];
    float vals[1003];
    uint16_t a[1003], b[1003];
    int sizes[] = {0, 1, 2, 3, 7, 11, 12, 24, 25, 31, 64, 257, 300};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        for (int i = 0; i < n; i++) edges[i] = (float)(i * 3 - 100) + (i % 5 ? 0.25f : 0.0f);
        for (int k = 0; k < 1003; k++) {
            switch (k % 9) {
            case 0: vals[k] = NAN; break;
            case 1: vals[k] = n ? edges[k % n] : 0.0f; break; /* exactly on an edge */
            case 2: vals[k] = k % 2 ? INFINITY : -INFINITY; break;
            case 3: vals[k] = n ? nextafterf(edges[k % n], -INFINITY) : 1.0f; break;
            default: vals[k] = (float)(urand() * 1000 - 200);
            }
        }
        for (size_t stride = 1; stride <= 3; stride += 2) {
            size_t nv = 1003 / stride;
            kite_binning_index_scalar(edges, n, vals, nv, stride, a);
            int bad = 0;
            for (size_t k = 0; k < nv; k++) bad += a[k] != bin_definition(edges, n, vals[k * stride]);
            CHECK_MSG(bad == 0, "scalar kernel: %d wrong bins for %d edges", bad, n);
#if defined(__x86_64__)
            if (__builtin_cpu_supports("avx2")) {
                kite_binning_index_avx2(edges, n, vals, nv, stride, b);
                CHECK_MSG(memcmp(a, b, nv * sizeof *a) == 0, "avx2 differs from scalar, %d edges, stride %zu", n, stride);
            }
#endif
            kite_binning_index(edges, n, vals, nv, stride, b);
            CHECK(memcmp(a, b, nv * sizeof *a) == 0);
            /* Histogram form: equal to counting the indices, for every variant. */
            double want[310] = {0}, got[310] = {0}, got2[310] = {0};
            for (size_t k = 0; k < nv; k++) want[a[k]] += 1;
            kite_binning_count_scalar(edges, n, vals, nv, stride, got);
            CHECK_MSG(!memcmp(want, got, (size_t)(n + 2) * sizeof *got), "scalar count, %d edges", n);
#if defined(__x86_64__)
            if (__builtin_cpu_supports("avx2")) {
                kite_binning_count_avx2(edges, n, vals, nv, stride, got2);
                CHECK_MSG(!memcmp(want, got2, (size_t)(n + 2) * sizeof *got2), "avx2 count, %d edges, stride %zu", n, stride);
            }
#endif
        }
    }
}

enum { NF = 4, NROWS = 6000 };

static void make_rows(float *rows, size_t n, double shift)
{
    for (size_t r = 0; r < n; r++) {
        rows[r * NF + 0] = (float)nrand();
        rows[r * NF + 1] = (float)(nrand() * 3 + (r > n / 2 ? shift : 0));
        rows[r * NF + 2] = (float)(int)(urand() * 4);               /* categorical 0..3 */
        rows[r * NF + 3] = urand() < 0.1 ? NAN : (float)(urand() * 10); /* with missing */
    }
}

static void build_profile(kite_profile *p)
{
    float *ref = malloc(4000 * NF * sizeof *ref), *pred = malloc(4000 * sizeof *pred);
    make_rows(ref, 4000, 0);
    for (int r = 0; r < 4000; r++) pred[r] = (float)urand();
    const char *names[NF] = {"a", "b", "c", "d"};
    char err[256];
    kite_profile_options o = KITE_PROFILE_OPTIONS_DEFAULT;
    CHECK(kite_profile_build(ref, 4000, NF, NF, names, pred, &o, p, err, sizeof err) == KITE_ERR_OK);
    CHECK(p->kpf_columns[2].kpc_kind == KITE_PROFILE_CATEGORICAL);
    CHECK(p->kpf_columns[0].kpc_kind == KITE_PROFILE_NUMERIC);
    CHECK(p->kpf_columns[4].kpc_role == KITE_PROFILE_PREDICTION);
    free(ref);
    free(pred);
}

/* Counts of rows [from, to) for column c, computed directly from the bin definition. */
static void scratch_counts(const kite_profile *p, const float *rows, const float *pred, size_t from,
                           size_t to, int c, double *out)
{
    const kite_profile_column *pc = &p->kpf_columns[c];
    int n = pc->kpc_nedges;
    memset(out, 0, (size_t)(n + 2) * sizeof *out);
    for (size_t r = from; r < to; r++) {
        float x = c == NF ? pred[r] : rows[r * NF + (size_t)c];
        unsigned b = bin_definition(pc->kpc_edges, n, x);
        if (pc->kpc_kind == KITE_PROFILE_CATEGORICAL && b <= (unsigned)n)
            b = (b > 0 && pc->kpc_edges[b - 1] == x) ? b - 1 : (unsigned)n;
        out[b] += 1;
    }
}

static void test_sliding_equals_recompute(const kite_profile *p)
{
    float *rows = malloc(NROWS * NF * sizeof *rows), *pred = malloc(NROWS * sizeof *pred);
    make_rows(rows, NROWS, 2.0);
    for (int r = 0; r < NROWS; r++) pred[r] = (float)urand();
    kite_drift_config cfg;
    kite_drift_config_default(&cfg); /* sliding 1000, step 100 */
    kite_drift_monitor *m;
    char err[256];
    CHECK(kite_drift_monitor_new(p, &cfg, &m, err, sizeof err) == KITE_ERR_OK);
    double got[400], want[400];
    int checks = 0, mismatches = 0;
    /* Odd batch sizes so sub-window boundaries fall inside batches. */
    for (size_t r = 0; r < NROWS;) {
        size_t n = 37 + (r % 5) * 61;
        if (r + n > NROWS) n = NROWS - r;
        kite_drift_observe(m, rows + r * NF, n, NF, pred + r, NULL);
        r += n;
        const kite_drift_result *res = kite_drift_latest(m, 0);
        if (!res || (int)res->kdr_seq == checks) continue;
        checks = (int)res->kdr_seq;
        size_t end = (size_t)res->kdr_end_event;
        CHECK(end % 100 == 0 && end >= 1000);
        CHECK(res->kdr_events == 1000);
        for (int c = 0; c <= NF; c++) {
            int nb = kite_drift_window_counts(m, 0, c, got);
            scratch_counts(p, rows, pred, end - 1000, end, c, want);
            mismatches += memcmp(got, want, (size_t)nb * sizeof *got) != 0;
            /* PSI from the incremental counts (prepared path) equals PSI from scratch. */
            double psi = kite__drift_psi(p->kpf_columns[c].kpc_counts, want, (size_t)nb - 1);
            mismatches += !(fabs(psi - res->kdr_columns[c].kdf_psi) <= 1e-12 * psi);
        }
    }
    CHECK_MSG(mismatches == 0, "%d sliding-window mismatches", mismatches);
    /* 6000 rows in batches that end between boundaries: one check per completed step from 1000. */
    CHECK_MSG(checks == 51, "checks %d", checks);
    /* Column b shifted by 2 std/3 after row 3000: its PSI level must be significant at the end. */
    const kite_drift_result *res = kite_drift_latest(m, 0);
    CHECK(res->kdr_columns[1].kdf_level == KITE_DRIFT_SIGNIFICANT);
    CHECK(res->kdr_columns[0].kdf_level == KITE_DRIFT_NONE);
    kite_drift_event ev[64];
    size_t ne = kite_drift_events(m, ev, 64);
    int saw_b = 0;
    for (size_t i = 0; i < ne; i++)
        if (ev[i].kde_kind == KITE_DRIFT_EVENT_FEATURE && ev[i].kde_column == 1 &&
            ev[i].kde_to == KITE_DRIFT_SIGNIFICANT)
            saw_b = 1;
    CHECK(saw_b);
    char line[512];
    int len = kite_drift_event_json(m, &ev[0], line, sizeof line);
    CHECK(len > 0 && (size_t)len < sizeof line && line[0] == '{' && line[len - 1] == '}');
    kite_drift_monitor_free(m);
    free(rows);
    free(pred);
}

/* Shadow comparison in a sliding window (kdc_shadow): the candidate moves rows whose column a
 * exceeds 1 by 0.5 (and is missing on every 97th row); some batches carry no candidate. At
 * every check the counts, buckets and the disagreeing rows' per-column statistics equal a
 * recompute from scratch over the window's last 1000 events. */
static void test_shadow_windows(const kite_profile *p)
{
    float *rows = malloc(NROWS * NF * sizeof *rows), *pred = malloc(NROWS * sizeof *pred);
    float *cand = malloc(NROWS * sizeof *cand);
    char *has = calloc(NROWS, 1);
    make_rows(rows, NROWS, 0);
    for (int r = 0; r < NROWS; r++) {
        pred[r] = (float)urand();
        cand[r] = r % 97 == 0 ? NAN : pred[r] + (rows[r * NF] > 1 ? 0.5f : 1e-7f);
    }
    kite_drift_config cfg;
    kite_drift_config_default(&cfg); /* sliding 1000, step 100 */
    cfg.kdc_shadow = 1;
    cfg.kdc_shadow_tolerance = 0.01;
    kite_drift_monitor *m;
    char err[256];
    CHECK(kite_drift_monitor_new(p, &cfg, &m, err, sizeof err) == KITE_ERR_OK);
    int checks = 0, mismatches = 0, batch = 0;
    for (size_t r = 0; r < NROWS; batch++) {
        size_t n = 37 + (r % 5) * 61;
        if (r + n > NROWS) n = NROWS - r;
        int with = batch % 4 != 3; /* every fourth batch: no candidate (it was not loaded) */
        memset(has + r, with, n);
        kite_drift_observe_shadow(m, rows + r * NF, n, NF, pred + r, with ? cand + r : NULL, NULL);
        r += n;
        const kite_drift_result *res = kite_drift_latest(m, 0);
        if (!res || (int)res->kdr_seq == checks) continue;
        checks = (int)res->kdr_seq;
        const kite_drift_shadow *sh = res->kdr_shadow;
        CHECK(sh != NULL);
        if (!sh) break;
        size_t end = (size_t)res->kdr_end_event;
        double want_rows = 0, want_dis = 0, buckets[KITE_DRIFT_SHADOW_BUCKETS + 1] = {0};
        double cnt[NF + 1][64];
        memset(cnt, 0, sizeof cnt);
        for (size_t k = end - 1000; k < end; k++) {
            if (!has[k]) continue;
            double ad = isnan(cand[k]) ? INFINITY : fabs((double)cand[k] - (double)pred[k]);
            int b = 0;
            while (b < KITE_DRIFT_SHADOW_BUCKETS && !(ad <= kite_drift_shadow_bounds[b])) b++;
            want_rows += 1;
            buckets[b] += 1;
            if (!(ad > 0.01)) continue;
            want_dis += 1;
            for (int c = 0; c <= NF; c++) {
                const kite_profile_column *pc = &p->kpf_columns[c];
                float x = c == NF ? pred[k] : rows[k * NF + (size_t)c];
                unsigned bi = bin_definition(pc->kpc_edges, pc->kpc_nedges, x);
                if (pc->kpc_kind == KITE_PROFILE_CATEGORICAL && bi <= (unsigned)pc->kpc_nedges)
                    bi = (bi > 0 && pc->kpc_edges[bi - 1] == x) ? bi - 1 : (unsigned)pc->kpc_nedges;
                cnt[c][bi] += 1;
            }
        }
        mismatches += sh->kds_rows != want_rows || sh->kds_disagree != want_dis;
        mismatches += memcmp(sh->kds_buckets, buckets, sizeof buckets) != 0;
        mismatches += !(fabs(sh->kds_share - want_dis / want_rows) < 1e-12);
        for (int c = 0; c <= NF; c++) {
            int nb = p->kpf_columns[c].kpc_nedges + 2;
            double nonmissing = 0;
            for (int i = 0; i < nb - 1; i++) nonmissing += cnt[c][i];
            double psi = kite__drift_psi(p->kpf_columns[c].kpc_counts, cnt[c], (size_t)nb - 1);
            mismatches += sh->kds_columns[c].kdf_count != nonmissing;
            mismatches += !(fabs(psi - sh->kds_columns[c].kdf_psi) <= 1e-12 * psi);
        }
    }
    CHECK_MSG(mismatches == 0, "%d shadow mismatches over %d checks", mismatches, checks);
    CHECK_MSG(checks == 51, "checks %d", checks);
    /* The candidate changes only rows with a > 1: column a drifts among the disagreeing rows,
     * the independent b and c do not. */
    const kite_drift_result *res = kite_drift_latest(m, 0);
    const kite_drift_shadow *sh = res ? res->kdr_shadow : NULL;
    CHECK(sh && sh->kds_columns[0].kdf_psi > 1 && sh->kds_columns[0].kdf_drifted);
    CHECK(sh && sh->kds_columns[0].kdf_psi > 5 * sh->kds_columns[1].kdf_psi &&
          sh->kds_columns[0].kdf_psi > 5 * sh->kds_columns[2].kdf_psi);
    /* p50: most rows differ by ~1e-7 (the first bucket, <= 1e-6); p90: 0.5 moved by float32
     * rounding to either side of the 0.5 bound; p99: a moved row or a missing candidate. */
    CHECK_MSG(sh && sh->kds_p50 == 1e-6 && (sh->kds_p90 == 0.5 || sh->kds_p90 == 1) &&
              (sh->kds_p99 == 0.5 || sh->kds_p99 == 1 || isinf(sh->kds_p99)),
              "p50 %g p90 %g p99 %g", sh ? sh->kds_p50 : NAN, sh ? sh->kds_p90 : NAN, sh ? sh->kds_p99 : NAN);
    /* A dataset event of a shadow monitor carries the window's disagreement share. */
    kite_drift_event de = {KITE_DRIFT_EVENT_DATASET, 0, -1, 0, 1, NAN, NAN, NAN, 0.75, 5000, NAN, 0.25};
    char line[512];
    kite_drift_event_json(m, &de, line, sizeof line);
    CHECK_MSG(strstr(line, "\"shadow_disagreement_share\":0.25") != NULL, "%s", line);
    kite_drift_monitor_free(m);
    /* Without kdc_shadow a candidate is ignored and results carry none. */
    cfg.kdc_shadow = 0;
    CHECK(kite_drift_monitor_new(p, &cfg, &m, err, sizeof err) == KITE_ERR_OK);
    kite_drift_observe_shadow(m, rows, 2000, NF, pred, cand, NULL);
    CHECK(kite_drift_latest(m, 0) && kite_drift_latest(m, 0)->kdr_shadow == NULL);
    kite_drift_monitor_free(m);
    free(rows);
    free(pred);
    free(cand);
    free(has);
}

static void test_other_windows(const kite_profile *p)
{
    float *rows = malloc(3000 * NF * sizeof *rows);
    double *times = malloc(3000 * sizeof *times);
    make_rows(rows, 3000, 0);
    for (int r = 0; r < 3000; r++) times[r] = 1700000000.0 + r * 60.0; /* one event a minute */
    kite_drift_config cfg;
    kite_drift_config_default(&cfg);
    char err[256];
    cfg.kdc_nwindows = 3;
    CHECK(kite_drift_window_parse("tumbling:700", &cfg.kdc_windows[0], err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_drift_window_parse("hourly", &cfg.kdc_windows[1], err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_drift_window_parse("d=decay:100:0.5", &cfg.kdc_windows[2], err, sizeof err) == KITE_ERR_OK);
    CHECK(!strcmp(cfg.kdc_windows[2].kwc_name, "d"));
    CHECK(kite_drift_window_parse("sliding:1000:300", &cfg.kdc_windows[3], err, sizeof err) != KITE_ERR_OK);
    CHECK(kite_drift_window_parse("bogus", &cfg.kdc_windows[3], err, sizeof err) != KITE_ERR_OK);
    kite_drift_monitor *m;
    CHECK(kite_drift_monitor_new(p, &cfg, &m, err, sizeof err) == KITE_ERR_OK);
    kite_drift_observe(m, rows, 3000, NF, NULL, times);
    kite_drift_flush(m);
    const kite_drift_result *hist[64];
    size_t n = kite_drift_history(m, 0, hist, 64);
    CHECK_MSG(n == 5, "tumbling checks %zu", n); /* 4 full windows of 700 + the flushed 200 */
    CHECK(n == 5 && hist[0]->kdr_events == 700 && hist[4]->kdr_events == 200);
    n = kite_drift_history(m, 1, hist, 64);
    /* 3000 minutes from 1700000000 (22:13:20 UTC): 51 hourly windows, the first 47 minutes. */
    CHECK_MSG(n == 51, "hourly checks %zu", n);
    CHECK(n > 1 && hist[0]->kdr_events == 47 && hist[1]->kdr_events == 60);
    CHECK(n > 1 && hist[1]->kdr_end_time == 1700000000.0 + 106 * 60.0);
    /* Decay 0.5 per 100 events: events = sum 100 * 0.5^k -> 200 - 100 * 0.5^(steps-1). */
    const kite_drift_result *d = kite_drift_latest(m, 2);
    CHECK(d && fabs(d->kdr_events - 200.0) < 1e-6);
    /* Predictions not given: the prediction column sees only missing values. */
    CHECK(d && d->kdr_columns[NF].kdf_count == 0 && d->kdr_columns[NF].kdf_missing_rate == 1.0);
    kite_prom prom;
    kite_prom_init(&prom);
    kite_drift_metrics_render(m, &prom);
    CHECK(prom.kpr_buf && strstr(prom.kpr_buf, "kite_drift_psi{window=\"tumbling_700\",feature=\"a\"}"));
    CHECK(prom.kpr_buf && strstr(prom.kpr_buf, "kite_drift_detection_events_total{kind=\"feature\"}"));
    kite_prom_free(&prom);
    kite_drift_monitor_free(m);
    free(rows);
    free(times);
}

static void test_labels_and_quality(const kite_profile *p)
{
    kite_label_buffer b;
    CHECK(kite__label_buffer_init(&b, 100) == 0);
    for (uint64_t k = 0; k < 250; k++) kite__label_buffer_put(&b, k * 7919, (float)k);
    float v;
    CHECK(!kite__label_buffer_take(&b, 0, &v));          /* evicted */
    CHECK(kite__label_buffer_take(&b, 249 * 7919, &v) && v == 249.0f);
    CHECK(!kite__label_buffer_take(&b, 249 * 7919, &v)); /* taken once */
    int found = 0;
    for (uint64_t k = 150; k < 249; k++) found += kite__label_buffer_take(&b, k * 7919, &v) && v == (float)k;
    CHECK_MSG(found == 99, "found %d", found);
    CHECK(b.klb_dropped == 150);
    kite__label_buffer_free(&b);

    double s[KITE_QUALITY_SLOTS] = {0};
    double preds[] = {0.9, 0.8, 0.3, 0.6, 0.1, 0.7}, ys[] = {1, 1, 0, 0, 0, 1};
    for (int i = 0; i < 6; i++) kite_quality_add(s, preds[i], ys[i]);
    kite_quality q;
    kite_quality_compute(s, KITE_TASK_CLASSIFICATION, &q);
    CHECK(q.kq_accuracy == 5.0 / 6 && q.kq_precision == 0.75 && q.kq_recall == 1.0);
    CHECK(fabs(q.kq_auc - 1.0) < 1e-12); /* every positive scores above every negative */
    double ll = -(log(0.9) + log(0.8) + log(0.7) + log(0.4) + log(0.7) + log(0.9)) / 6;
    CHECK(fabs(q.kq_logloss - ll) < 1e-12);
    kite_quality_compute(s, KITE_TASK_REGRESSION, &q);
    CHECK(fabs(q.kq_mae - (0.1 + 0.2 + 0.3 + 0.6 + 0.1 + 0.3) / 6) < 1e-12);

    /* Page-Hinkley: errors 0.1 then 0.9 raise exactly one alarm soon after the change. */
    kite_page_hinkley ph;
    kite_page_hinkley_init(&ph, 0.005, 20, 30);
    int alarm_at = -1, alarms = 0;
    for (int i = 0; i < 2000; i++)
        if (kite_page_hinkley_add(&ph, i < 1000 ? 0.1 : 0.9)) {
            alarms++;
            if (alarm_at < 0) alarm_at = i;
        }
    CHECK_MSG(alarm_at >= 1000 && alarm_at < 1100 && alarms == 1, "alarm at %d (%d)", alarm_at, alarms);

    /* Delayed labels through the monitor: joined pairs show in the window's quality. */
    kite_drift_config cfg;
    kite_drift_config_default(&cfg);
    cfg.kdc_task = KITE_TASK_CLASSIFICATION;
    cfg.kdc_windows[0] = (kite_drift_window_config){"t", KITE_WINDOW_TUMBLING, 100, 0, 0, 0};
    kite_drift_monitor *m;
    char err[256];
    CHECK(kite_drift_monitor_new(p, &cfg, &m, err, sizeof err) == KITE_ERR_OK);
    float rows[100 * NF], pr[100];
    uint64_t keys[100];
    make_rows(rows, 100, 0);
    for (int i = 0; i < 100; i++) {
        pr[i] = i % 2 ? 0.8f : 0.2f;
        keys[i] = 1000 + (uint64_t)i;
    }
    kite_drift_observe_keys(m, keys, pr, 100);
    int joined = 0;
    for (int i = 0; i < 100; i++) joined += kite_drift_label(m, keys[i], i % 4 == 1 ? 0.0 : (i % 2));
    CHECK(joined == 100 && !kite_drift_label(m, 5, 1.0));
    kite_drift_observe(m, rows, 100, NF, pr, NULL);
    const kite_drift_result *r = kite_drift_latest(m, 0);
    CHECK(r && r->kdr_quality.kq_n == 100 && fabs(r->kdr_quality.kq_accuracy - 0.75) < 1e-12);
    kite_drift_monitor_free(m);
}

static void test_profile_roundtrip(const kite_profile *p)
{
    char err[256];
    const char *path = "build/test_drift_profile.json";
    CHECK(kite_profile_save(p, path, err, sizeof err) == KITE_ERR_OK);
    kite_profile q;
    CHECK(kite_profile_load(path, &q, err, sizeof err) == KITE_ERR_OK);
    CHECK(q.kpf_ncolumns == p->kpf_ncolumns);
    for (int c = 0; c < p->kpf_ncolumns && c < q.kpf_ncolumns; c++) {
        const kite_profile_column *a = &p->kpf_columns[c], *b = &q.kpf_columns[c];
        CHECK(a->kpc_nedges == b->kpc_nedges && a->kpc_nfine == b->kpc_nfine && a->kpc_kind == b->kpc_kind);
        CHECK(!memcmp(a->kpc_edges, b->kpc_edges, (size_t)a->kpc_nedges * sizeof(float)));
        CHECK(!memcmp(a->kpc_counts, b->kpc_counts, (size_t)(a->kpc_nedges + 1) * sizeof(double)));
        if (a->kpc_nfine)
            CHECK(!memcmp(a->kpc_fine_edges, b->kpc_fine_edges, (size_t)a->kpc_nfine * sizeof(float)));
    }
    kite_profile_free(&q);
    /* Malformed profiles: one line naming the field. */
    FILE *fp = fopen(path, "w");
    fputs("{\"kite_profile\":1,\"rows\":1,\"bins\":1,\"fine_bins\":1,\"columns\":[{\"name\":\"x\","
          "\"role\":\"feature\",\"kind\":\"numeric\",\"count\":1,\"missing\":0,\"mean\":0,\"std\":0,"
          "\"min\":0,\"max\":0,\"edges\":[2,1],\"counts\":[0,1,0]}]}", fp);
    fclose(fp);
    CHECK(kite_profile_load(path, &q, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "columns[0].edges") != NULL, "%s", err);
    fp = fopen(path, "w");
    fputs("{\"kite_profile\":1,", fp);
    fclose(fp);
    CHECK(kite_profile_load(path, &q, err, sizeof err) == KITE_ERR_PARSE);
}

int main(void)
{
    test_binning();
    kite_profile p;
    build_profile(&p);
    test_sliding_equals_recompute(&p);
    test_shadow_windows(&p);
    test_other_windows(&p);
    test_labels_and_quality(&p);
    test_profile_roundtrip(&p);
    kite_profile_free(&p);
    return kt_finish("test_drift");
}
