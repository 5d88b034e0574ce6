/* Unit tests of the streaming pieces that need no broker: the offset window (the at-least-once
 * rule), the configuration table and kite.json, the CSV -> JSON event conversion, the by-name
 * event mapping and the output of the stats blocks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/config.h>
#include "event_map.h"
#include "kite_test.h"
#include "offsets.h"
#include <kite/replay.h>
#include <kite/stats.h>
#include <kite/xgb_model.h>

static void test_offsets(void)
{
    kite_offsets *t = kite__offsets_new("events", NULL, 3, 8);
    CHECK(t != NULL);
    /* Offsets 10, 11, 13 (12 compacted away), each with one output in flight. */
    uint64_t a = kite_offsets_add(t, 10, 0), b = kite_offsets_add(t, 11, 0),
             c = kite_offsets_add(t, 13, 0);
    kite_offsets_expect(t, a);
    kite_offsets_expect(t, b);
    kite_offsets_expect(t, b); /* prediction + alert */
    kite_offsets_expect(t, c);
    for (uint64_t s = a; s <= c; s++) kite__offsets_done(t, s); /* holds dropped */
    CHECK(t->ko_done_next == -1);
    kite__offsets_done(t, c); /* the last event completes first: nothing may be stored */
    CHECK(t->ko_done_next == -1);
    kite__offsets_done(t, a);
    CHECK(t->ko_done_next == 11);
    kite__offsets_done(t, b); /* one of b's two outputs: b still in flight */
    CHECK(t->ko_done_next == 11);
    kite__offsets_done(t, b);
    CHECK_MSG(t->ko_done_next == 14, "after all: %lld", (long long)t->ko_done_next);
    CHECK(kite_offsets_inflight(t) == 0);
    for (int i = 0; i < 8; i++) kite_offsets_add(t, 20 + i, 0);
    CHECK(kite_offsets_full(t));
    kite__offsets_free(t);
}

static void test_config(void)
{
    kite_config c;
    char err[512];
    CHECK(kite_config_init(&c, err, sizeof err) == KITE_ERR_OK);
    CHECK(c.kc_batch_size == 256 && !strcmp(c.kc_topics, "events") && c.kc_exit_on_eof == 0);
    CHECK(kite_config_set(&c, "batch-size", "512", err, sizeof err) == KITE_ERR_OK);
    CHECK(c.kc_batch_size == 512);
    CHECK(kite_config_set(&c, "batch_size", "0", err, sizeof err) == KITE_ERR_CONFIG);
    CHECK_MSG(strstr(err, "batch_size") != NULL, "%s", err);
    CHECK(kite_config_set(&c, "nope", "1", err, sizeof err) == KITE_ERR_CONFIG);
    CHECK(kite_config_set_kafka(&c, "linger.ms=5", err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_config_set_kafka(&c, "=5", err, sizeof err) == KITE_ERR_CONFIG);
    char path[] = "/tmp/kite_test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"topics\": \"a,b\", \"workers\": 2, \"exit_on_eof\": true, \"alert_threshold\": 0.7,"
          " \"kafka\": {\"fetch.wait.max.ms\": 5, \"client.id\": \"k\"}}", f);
    fclose(f);
    CHECK(kite_config_load(&c, path, err, sizeof err) == KITE_ERR_OK);
    CHECK(!strcmp(c.kc_topics, "a,b") && c.kc_workers == 2 && c.kc_exit_on_eof == 1 &&
          fabs(c.kc_alert_threshold - 0.7) < 1e-12);
    CHECK(c.kc_nkafka == 3 && !strcmp(c.kc_kafka[1][0], "fetch.wait.max.ms") &&
          !strcmp(c.kc_kafka[1][1], "5"));
    f = fopen(path, "w");
    fputs("{\"workers\": \"many\"}", f);
    fclose(f);
    CHECK(kite_config_load(&c, path, err, sizeof err) == KITE_ERR_CONFIG);
    CHECK_MSG(strstr(err, path) && strstr(err, "workers"), "%s", err);
    remove(path);
    kite_config_free(&c);
}

static void test_row_json(void)
{
    char buf[256];
    char *names[] = {"a", "b\"q", "c", "d", "e"};
    char *fields[] = {"2,5", "x\ty", "-200", "", "007"};
    kite_csv_options o = {';', 1, "-200"};
    size_t n = kite_replay_row_json(buf, sizeof buf, &o, names, fields, 5);
    CHECK_MSG(n && !strcmp(buf, "{\"a\":2.5,\"b\\\"q\":\"x\\u0009y\",\"c\":null,\"d\":null,\"e\":7}"),
              "%s", buf);
    CHECK(kite_replay_row_json(buf, 8, &o, names, fields, 5) == 0); /* does not fit */
}

static void test_event_map(void)
{
    kite_model model;
    char err[512];
    CHECK(kite_model_load("models/titanic.json", &model, err, sizeof err) == KITE_ERR_OK);
    kite_event_map *m = NULL;
    CHECK(kite__event_map_new(&model, NULL, "Sex=male:0,female:1", &m, err, sizeof err) == KITE_ERR_OK);
    CHECK(kite__event_map_new(&model, NULL, "Nope=a:1", &(kite_event_map *){0}, err, sizeof err) ==
          KITE_ERR_CONFIG);
    float row[16];
    int missing, warming;
    kite_event_json ev = {0};
    size_t at;
#define EVENT(text) kite__event_json_parse(&ev, text, strlen(text), &at)
    CHECK(EVENT("{\"Age\": null, \"Sex\": \"female\", \"Pclass\": 3, \"x\": [1], \"Fare\": \"7.5\"}") == 0);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_OK);
    CHECK(row[0] == 3 && row[1] == 1 && isnan(row[2]) && row[5] == 7.5f && missing == 3);
    CHECK(EVENT("{\"Sex\": \"alien\"}") == 0);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "Sex") && strstr(err, "alien"), "%s", err);
    CHECK(EVENT("[1, 2]") == 0 && !ev.ej_is_object);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK(EVENT("{\"Pclass\": {\"a\": 1}}") == 0);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK(EVENT("{\"Pclass\": 1, \"Pclass\": 2}") == 0); /* refused, as HTTP and kite score do */
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "\"Pclass\" given twice"), "%s", err);
    CHECK(EVENT("{\"Pclass\": null, \"Pclass\": 2}") == 0); /* null counts as given */
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK(EVENT("{\"Fare\": 1e39}") == 0);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "\"Fare\"") && strstr(err, "out of float32 range"), "%s", err);
    CHECK(EVENT("{\"Fare\": \"-Infinity\"}") == 0);
    CHECK(kite__event_map_row(m, NULL, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "out of float32 range"), "%s", err);
    CHECK(kite__event_map_parse(&ev, "{\"Age\": NaN}", 12, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "NaN is not allowed; send null for a missing value"), "%s", err);
    CHECK(kite__event_map_parse(&ev, "{\"Age\":-Infinity}", 17, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "-Infinity is not allowed"), "%s", err);
    CHECK(kite__event_map_parse(&ev, "", 0, err, sizeof err) == KITE_ERR_PARSE && !strcmp(err, "empty event"));
    kite__event_map_free(m);
    /* With the spec: inputs by the spec's names, features computed by the spec. */
    CHECK(kite__event_map_new(&model, "models/titanic.spec.json", NULL, &m, err, sizeof err) == KITE_ERR_OK);
    kite_event_state *st = NULL;
    CHECK(kite__event_state_new(m, &st, err, sizeof err) == KITE_ERR_OK && st);
    CHECK(EVENT("{\"Pclass\": \"first\"}") == 0);
    CHECK(kite__event_map_row(m, st, &ev, row, &missing, &warming, err, sizeof err) == KITE_ERR_PARSE);
#undef EVENT
    kite__event_json_free(&ev);
    kite__event_state_free(st);
    kite__event_map_free(m);
    kite_model_free(&model);
}

static void test_stats(void)
{
    kite_stats s;
    CHECK(kite_stats_init(&s, 3) == 0);
    kite_stats_add(&s.ks_blocks[0], KITE_C_CONSUMED, 5);
    kite_stats_add(&s.ks_blocks[2], KITE_C_CONSUMED, 2);
    CHECK(kite_stats_sum(&s, KITE_C_CONSUMED) == 7);
    for (int i = 0; i < 100; i++) kite_stats_observe_latency_us(&s.ks_blocks[1], 1000);
    double p50 = kite_stats_latency_percentile_us(&s, 0.5);
    CHECK_MSG(p50 > 1000 / 1.25 && p50 < 1000 * 1.25, "p50 %.1f", p50);
    kite_prom p;
    kite_prom_init(&p);
    kite_stats_render(&s, &p);
    CHECK(p.kpr_buf && strstr(p.kpr_buf, "kite_events_consumed_total 7\n") &&
          strstr(p.kpr_buf, "kite_event_latency_seconds_count 100\n"));
    kite_prom_free(&p);
    kite_stats_free(&s);
}

int main(void)
{
    test_offsets();
    test_config();
    test_row_json();
    test_event_map();
    test_stats();
    return kt_finish("test_stream_units");
}
