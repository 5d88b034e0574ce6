/* Feature specs and per-key state: spec errors, warm-up, gaps, duplicate and late events, key
 * limits, bad events, rolling windows against brute force, categories, time formats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/feature_state.h>
#include "kite_test.h"

static char err[1024];

static kite_feature_spec *spec_from(const char *json)
{
    kite_feature_spec *s = NULL;
    if (kite_feature_spec_parse(json, strlen(json), "t.json", &s, err, sizeof err)) {
        fprintf(stderr, "spec: %s\n", err);
        return NULL;
    }
    return s;
}

/* A spec must fail with a message containing want. */
static void spec_bad(const char *json, const char *want)
{
    kite_feature_spec *s = NULL;
    err[0] = 0;
    kite_err e = kite_feature_spec_parse(json, strlen(json), "t.json", &s, err, sizeof err);
    CHECK_MSG(e == KITE_ERR_SPEC && !s && strstr(err, want) && !strchr(err, '\n'),
              "want \"%s\", got [%d] \"%s\"", want, (int)e, err);
}

static void test_bad_specs(void)
{
    spec_bad("{", "t.json: not valid JSON");
    spec_bad("[]", "must be a JSON object");
    spec_bad("{\"inputs\": []}", "\"inputs\" must be a non-empty array");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": \"lagg\", "
             "\"input\": \"x\"}]}", "features[0] (\"a\"): \"kind\" must be one of");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": "
             "\"rolling_mean\", \"input\": \"x\", \"window\": 0}]}",
             "features[0] (\"a\"): \"window\" must be an integer in [1, 65536]");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": \"lag\", "
             "\"input\": \"y\", \"lag\": 1}]}", "features[0] (\"a\"): \"input\": no input named \"y\"");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": \"lag\", "
             "\"input\": \"x\", \"lagg\": 1}]}", "features[0] (\"a\"): unknown key \"lagg\"");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": \"value\", "
             "\"input\": \"x\"}, {\"name\": \"a\", \"kind\": \"value\", \"input\": \"x\"}]}",
             "features[1] (\"a\"): name already used by features[0]");
    spec_bad("{\"inputs\": [{\"name\": \"s\", \"type\": \"category\", \"map\": {\"m\": 0}}], "
             "\"features\": [{\"name\": \"a\", \"kind\": \"value\", \"input\": \"s\"}]}",
             "inputs[0] (\"s\"): a category input needs an explicit \"unseen\"");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"h\", \"kind\": \"cyclic\", "
             "\"unit\": \"hour\", \"fn\": \"sin\"}]}", "a cyclic feature needs a \"time\" field");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"features\": [{\"name\": \"a\", \"kind\": \"value\", "
             "\"input\": \"x\", \"standardize\": {\"mean\": 1, \"std\": 0}}]}",
             "\"standardize\" must be {\"mean\": m, \"std\": s} with s > 0");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"time\": {\"field\": \"ts\", \"format\": \"%d %Q\"}, "
             "\"features\": [{\"name\": \"a\", \"kind\": \"value\", \"input\": \"x\"}]}",
             "time: \"format\" \"%d %Q\": only");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"time\": {\"field\": \"ts\", \"format\": \"epoch\", "
             "\"gaps\": \"fill\"}, \"features\": [{\"name\": \"a\", \"kind\": \"value\", \"input\": \"x\"}]}",
             "\"gaps\": \"fill\" needs \"step_seconds\" > 0");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"key\": 7, \"features\": [{\"name\": \"a\", \"kind\": "
             "\"value\", \"input\": \"x\"}]}", "\"key\" must be a field name or null");
    spec_bad("{\"inputs\": [{\"name\": \"x\"}], \"key\": \"k\", \"features\": [{\"name\": \"a\", "
             "\"kind\": \"value\", \"input\": \"k\"}]}", "input \"k\" is text");
    kite_feature_spec *s;
    CHECK(kite_feature_spec_load("/nonexistent/s.json", &s, err, sizeof err) == KITE_ERR_IO &&
          strstr(err, "/nonexistent/s.json"));
}

/* Events: key text, time text, value number (NaN = missing). */
static kite_err push(kite_feature_state *st, const char *key, const char *time, double x, float *out,
                     kite_features_status *status)
{
    kite_raw_value in[3] = {{0}};
    in[0] = (kite_raw_value){isnan(x) ? KITE_RAW_ABSENT : KITE_RAW_NUMBER, x, NULL, 0};
    if (key) in[1] = (kite_raw_value){KITE_RAW_TEXT, 0, key, strlen(key)};
    if (time) in[2] = (kite_raw_value){KITE_RAW_TEXT, 0, time, strlen(time)};
    return kite_features_update(st, in, out, status, err, sizeof err);
}

static const char *LAG_SPEC =
    "{\"inputs\": [{\"name\": \"x\"}], \"key\": \"k\", \"warmup\": 3, \"max_keys\": 2,"
    " \"time\": {\"field\": \"ts\", \"format\": \"iso8601\", \"step_seconds\": 3600, \"gaps\": \"%s\","
    "  \"duplicates\": \"%s\", \"out_of_order\": \"%s\"},"
    " \"features\": [{\"name\": \"x\", \"kind\": \"value\", \"input\": \"x\"},"
    "  {\"name\": \"lag1\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 1},"
    "  {\"name\": \"lag2\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 2},"
    "  {\"name\": \"mean3\", \"kind\": \"rolling_mean\", \"input\": \"x\", \"window\": 3},"
    "  {\"name\": \"n3\", \"kind\": \"rolling_count\", \"input\": \"x\", \"window\": 3}]}";

static kite_feature_state *lag_state(const char *gaps, const char *dup, const char *ooo,
                                     kite_feature_spec **spec)
{
    char json[2048];
    snprintf(json, sizeof json, LAG_SPEC, gaps, dup, ooo);
    *spec = spec_from(json);
    kite_feature_state *st = NULL;
    if (*spec && kite_feature_state_new(*spec, 0, &st, err, sizeof err)) st = NULL;
    CHECK(st != NULL);
    CHECK(*spec && kite_feature_spec_input_index(*spec, "x") == 0 &&
          kite_feature_spec_input_index(*spec, "k") == 1 &&
          kite_feature_spec_input_index(*spec, "ts") == 2 &&
          !strcmp(kite_feature_spec_key_field(*spec), "k"));
    return st;
}

/* Warm-up: status per key; before history exists lags read missing, windows what there is. */
static void test_warmup(void)
{
    kite_feature_spec *spec;
    kite_feature_state *st = lag_state("fill", "reject", "reject", &spec);
    if (!st) return;
    float o[5];
    kite_features_status status;
    /* warm-up 3: the first three events of a key are WARMING_UP, the fourth READY */
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status) && status == KITE_FEATURES_WARMING_UP);
    CHECK(isnan(o[1]) && isnan(o[2]) && o[3] == 1 && o[4] == 1);
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status) && status == KITE_FEATURES_WARMING_UP);
    CHECK(o[1] == 1 && isnan(o[2]) && o[3] == 1.5f && o[4] == 2);
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 3, o, &status) && status == KITE_FEATURES_WARMING_UP);
    CHECK(!push(st, "a", "2024-01-01T03:00:00Z", 4, o, &status) && status == KITE_FEATURES_READY);
    CHECK(o[1] == 3 && o[2] == 2 && o[3] == 3 && o[4] == 3);
    /* a second key warms up on its own; the first stays READY */
    CHECK(!push(st, "b", "2024-01-01T04:00:00Z", 100, o, &status) && status == KITE_FEATURES_WARMING_UP);
    CHECK(isnan(o[1]) && o[3] == 100);
    CHECK(!push(st, "a", "2024-01-01T04:00:00Z", 5, o, &status) && status == KITE_FEATURES_READY);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

/* Gaps in event time: "fill" makes missing steps all-missing events; "ignore" counts events. */
static void test_gaps(void)
{
    const char *json =
        "{\"inputs\": [{\"name\": \"x\"}], \"time\": {\"field\": \"ts\", \"format\": \"epoch\","
        " \"step_seconds\": 3600, \"gaps\": \"%s\"}, \"features\": ["
        " {\"name\": \"lag1\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 1},"
        " {\"name\": \"lag2\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 2},"
        " {\"name\": \"mean3\", \"kind\": \"rolling_mean\", \"input\": \"x\", \"window\": 3},"
        " {\"name\": \"n3\", \"kind\": \"rolling_count\", \"input\": \"x\", \"window\": 3},"
        " {\"name\": \"min3\", \"kind\": \"rolling_min\", \"input\": \"x\", \"window\": 3},"
        " {\"name\": \"max5\", \"kind\": \"rolling_max\", \"input\": \"x\", \"window\": 5}]}";
    for (int fill = 1; fill >= 0; fill--) {
        char text[2048];
        snprintf(text, sizeof text, json, fill ? "fill" : "ignore");
        kite_feature_spec *spec = spec_from(text);
        kite_feature_state *st = NULL;
        CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
        if (!st) {
            kite_feature_spec_free(spec);
            continue;
        }
        float o[6];
        kite_features_status status;
        double hours[] = {0, 1, 2, 3, 5, 6, 24 * 60, 24 * 60 + 1}, xs[] = {1, 2, 3, 4, 6, 7, 9, 8};
        for (int e = 0; e < 8; e++) {
            kite_raw_value in[2] = {{KITE_RAW_NUMBER, xs[e], NULL, 0},
                                    {KITE_RAW_NUMBER, 1.7e9 + 3600 * hours[e], NULL, 0}};
            CHECK(!kite_features_update(st, in, o, &status, err, sizeof err));
            if (fill && e == 4) /* 05:00 after 03:00: 04:00 is all-missing */
                CHECK(isnan(o[0]) && o[1] == 4 && o[2] == 5 && o[3] == 2 && o[4] == 4 && o[5] == 6);
            if (!fill && e == 4) /* events, not hours */
                CHECK(o[0] == 4 && o[1] == 3 && o[2] == 13.0f / 3 && o[3] == 3 && o[4] == 3 && o[5] == 6);
            if (fill && e == 6) /* two months later: every window and lag is empty but this event */
                CHECK(isnan(o[0]) && isnan(o[1]) && o[2] == 9 && o[3] == 1 && o[4] == 9 && o[5] == 9);
            if (fill && e == 7)
                CHECK(o[0] == 9 && isnan(o[1]) && o[2] == 8.5f && o[3] == 2 && o[4] == 8 && o[5] == 9);
            if (!fill && e == 7)
                CHECK(o[0] == 9 && o[1] == 7 && o[2] == 8 && o[3] == 3 && o[4] == 7 && o[5] == 9);
        }
        kite_feature_state_free(st);
        kite_feature_spec_free(spec);
    }
}

/* Duplicate event times: reject (one line, state unchanged) or accept (next event). */
static void test_duplicates(void)
{
    kite_feature_spec *spec;
    kite_feature_state *st = lag_state("fill", "reject", "accept", &spec);
    if (!st) return;
    float o[5];
    kite_features_status status;
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status));
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status));
    CHECK(push(st, "a", "2024-01-01T01:00:00Z", 50, o, &status) == KITE_ERR_STATE &&
          !strcmp(err, "key \"a\": duplicate event time 2024-01-01T01:00:00Z (duplicates: reject)"));
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 3, o, &status));
    CHECK(o[1] == 2 && o[2] == 1 && o[3] == 2 && o[4] == 3); /* the 50 left no trace */
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);

    st = lag_state("fill", "accept", "reject", &spec);
    if (!st) return;
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status));
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status));
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 3, o, &status) && o[1] == 2 && o[2] == 1);
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 4, o, &status) && o[1] == 3 && o[2] == 2);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

/* Out-of-order (late) events: reject (one line, state unchanged) or accept (arrival order). */
static void test_out_of_order(void)
{
    kite_feature_spec *spec;
    kite_feature_state *st = lag_state("fill", "accept", "reject", &spec);
    if (!st) return;
    float o[5];
    kite_features_status status;
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status));
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status));
    CHECK(push(st, "a", "2024-01-01T00:30:00Z", 60, o, &status) == KITE_ERR_STATE &&
          !strcmp(err, "key \"a\": event time 2024-01-01T00:30:00Z is before the latest "
                  "2024-01-01T01:00:00Z (out_of_order: reject)"));
    /* another key is not affected by a's clock */
    CHECK(!push(st, "b", "2023-01-01T00:00:00Z", 9, o, &status));
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 3, o, &status));
    CHECK(o[1] == 2 && o[2] == 1 && o[3] == 2 && o[4] == 3);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);

    st = lag_state("fill", "reject", "accept", &spec);
    if (!st) return;
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status));
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status));
    CHECK(!push(st, "a", "2024-01-01T00:30:00Z", 4, o, &status) && o[1] == 2 && o[3] == 7.0f / 3);
    /* the latest time stays 01:00: 02:00 is the next step (no gap), and 01:00 a duplicate */
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 5, o, &status) && o[1] == 4 && o[2] == 2);
    CHECK(push(st, "a", "2024-01-01T02:00:00Z", 6, o, &status) == KITE_ERR_STATE);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

static void test_keys_and_bad_events(void)
{
    kite_feature_spec *spec;
    kite_feature_state *st = lag_state("fill", "reject", "reject", &spec);
    if (!st) return;
    float o[5];
    kite_features_status status;
    CHECK(!push(st, "a", "2024-01-01T00:00:00Z", 1, o, &status));
    CHECK(!push(st, "b", "2024-01-01T00:00:00Z", 10, o, &status));
    /* max_keys 2: a third key is refused, known keys keep working */
    CHECK(push(st, "c", "2024-01-01T00:00:00Z", 5, o, &status) == KITE_ERR_LIMIT &&
          strstr(err, "key \"c\": key table full (max_keys 2)"));
    CHECK(kite_features_num_keys(st) == 2);
    CHECK(!push(st, "b", "2024-01-01T01:00:00Z", 11, o, &status) && o[1] == 10);
    CHECK(!push(st, "a", "2024-01-01T01:00:00Z", 2, o, &status) && o[1] == 1);
    /* bad events name the key and the field; nothing changes */
    kite_raw_value in[3] = {{KITE_RAW_TEXT, 0, "abc", 3}, {KITE_RAW_TEXT, 0, "a", 1},
                            {KITE_RAW_TEXT, 0, "2024-01-01T02:00:00Z", 20}};
    CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
          !strcmp(err, "key \"a\": field \"x\": \"abc\" is not a number"));
    in[0] = (kite_raw_value){KITE_RAW_TEXT, 0, "1", 1};
    in[2] = (kite_raw_value){KITE_RAW_TEXT, 0, "2024-13-01T02:00:00Z", 20};
    CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
          strstr(err, "key \"a\": event time field \"ts\": \"2024-13-01T02:00:00Z\" month out of range"));
    in[2] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
    CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
          strstr(err, "event time field \"ts\" is missing"));
    in[2] = (kite_raw_value){KITE_RAW_TEXT, 0, "2024-01-01T02:00:00Z", 20};
    in[1] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
    CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
          !strcmp(err, "key field \"k\" is missing"));
    char longkey[200];
    memset(longkey, 'k', sizeof longkey);
    in[1] = (kite_raw_value){KITE_RAW_TEXT, 0, longkey, sizeof longkey};
    CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
          strstr(err, "longer than"));
    CHECK(!push(st, "a", "2024-01-01T02:00:00Z", 3, o, &status) && o[1] == 2 && o[2] == 1);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

/* Rolling windows (shifted, with missing values) against brute force over a long series, so
 * the rings and min/max blocks wrap many times. */
static void test_rolling_brute_force(void)
{
    const char *json =
        "{\"inputs\": [{\"name\": \"x\"}], \"features\": ["
        " {\"name\": \"mean\", \"kind\": \"rolling_mean\", \"input\": \"x\", \"window\": 7, \"shift\": 2},"
        " {\"name\": \"std\", \"kind\": \"rolling_std\", \"input\": \"x\", \"window\": 7, \"shift\": 2},"
        " {\"name\": \"min\", \"kind\": \"rolling_min\", \"input\": \"x\", \"window\": 7, \"shift\": 2},"
        " {\"name\": \"max\", \"kind\": \"rolling_max\", \"input\": \"x\", \"window\": 7, \"shift\": 2},"
        " {\"name\": \"sum\", \"kind\": \"rolling_sum\", \"input\": \"x\", \"window\": 7, \"shift\": 2},"
        " {\"name\": \"d2\", \"kind\": \"diff2\", \"input\": \"x\"}]}";
    kite_feature_spec *spec = spec_from(json);
    kite_feature_state *st = NULL;
    CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
    if (!st) {
        kite_feature_spec_free(spec);
        return;
    }
    enum { N = 5000, W = 7, S = 2 };
    static double xs[N];
    unsigned seed = 12345;
    int bad = 0;
    for (int t = 0; t < N; t++) {
        seed = seed * 1103515245u + 12345u;
        int r = (int)((seed >> 16) % 100);
        /* missing runs, repeated values and a wide range */
        xs[t] = r < 15 ? NAN : r < 30 ? 5.0 : (double)r * 3.25 - 100;
        if (t > 2000 && t < 2020) xs[t] = NAN;
        kite_raw_value in = {isnan(xs[t]) ? KITE_RAW_ABSENT : KITE_RAW_NUMBER, xs[t], NULL, 0};
        float o[6];
        kite_features_status status;
        if (kite_features_update(st, &in, o, &status, err, sizeof err)) {
            bad++;
            continue;
        }
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        int n = 0;
        for (int i = t - S - W + 1; i <= t - S; i++)
            if (i >= 0 && !isnan(xs[i])) sum += xs[i], n++, mn = fmin(mn, xs[i]), mx = fmax(mx, xs[i]);
        double mean = n ? sum / n : NAN, ss = 0;
        for (int i = t - S - W + 1; i <= t - S; i++)
            if (i >= 0 && !isnan(xs[i])) ss += (xs[i] - mean) * (xs[i] - mean);
        double sd = n >= 2 ? sqrt(ss / (n - 1)) : NAN;
        double want[6] = {mean, sd, n ? mn : NAN, n ? mx : NAN, n ? sum : NAN,
                          t >= 2 ? (xs[t] - xs[t - 1]) - (xs[t - 1] - xs[t - 2]) : NAN};
        for (int j = 0; j < 6; j++) {
            int ok = (isnan(want[j]) && isnan(o[j])) ||
                     fabs((double)o[j] - want[j]) <= 1e-5 * fmax(1.0, fabs(want[j]));
            if (!ok && bad++ < 5)
                fprintf(stderr, "t=%d feature %d: got %.9g want %.9g\n", t, j, (double)o[j], want[j]);
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

static void test_categories_impute_standardize(void)
{
    const char *json =
        "{\"inputs\": [{\"name\": \"Sex\", \"type\": \"category\", \"map\": {\"male\": 0, \"female\": 1},"
        "  \"unseen\": -1}, {\"name\": \"Age\"}, {\"name\": \"Pclass\", \"type\": \"category\","
        "  \"map\": {\"1\": 10, \"2\": 20}, \"unseen\": null}],"
        " \"features\": [{\"name\": \"Sex\", \"kind\": \"value\", \"input\": \"Sex\"},"
        "  {\"name\": \"Age\", \"kind\": \"value\", \"input\": \"Age\", \"impute\": 28,"
        "   \"standardize\": {\"mean\": 30, \"std\": 4}},"
        "  {\"name\": \"P\", \"kind\": \"value\", \"input\": \"Pclass\"}]}";
    kite_feature_spec *spec = spec_from(json);
    kite_feature_state *st = NULL;
    CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
    if (!st) {
        kite_feature_spec_free(spec);
        return;
    }
    CHECK(kite_feature_spec_key_field(spec) == NULL && kite_feature_spec_num_outputs(spec) == 3);
    float o[3];
    kite_features_status status;
    kite_raw_value in[3] = {{KITE_RAW_TEXT, 0, "female", 6}, {KITE_RAW_TEXT, 0, "38", 2},
                            {KITE_RAW_NUMBER, 2, NULL, 0}};
    CHECK(!kite_features_update(st, in, o, &status, err, sizeof err) && status == KITE_FEATURES_READY);
    CHECK(o[0] == 1 && o[1] == 2 && o[2] == 20);
    in[0] = (kite_raw_value){KITE_RAW_TEXT, 0, "other", 5};
    in[1] = (kite_raw_value){KITE_RAW_TEXT, 0, "", 0};
    in[2] = (kite_raw_value){KITE_RAW_TEXT, 0, "3", 1};
    CHECK(!kite_features_update(st, in, o, &status, err, sizeof err));
    CHECK(o[0] == -1 && o[1] == -0.5f && isnan(o[2])); /* unseen, imputed 28, unseen = missing */
    in[0] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
    CHECK(!kite_features_update(st, in, o, &status, err, sizeof err) && isnan(o[0]));
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

static void test_time_formats(void)
{
    static const struct {
        const char *format, *a, *b;
        double hour_sin, weekday_idx;
    } cases[] = {
        /* 2004-03-10 18:00 was a Wednesday (weekday 2) */
        {"%d/%m/%Y %H.%M.%S", "10/03/2004", "18.00.00", -1.0, 2},
        {"iso8601", "2004-03-10T18:00:00Z", NULL, -1.0, 2},
        {"iso8601", "2004-03-10T20:30:00+02:30", NULL, -1.0, 2},
        {"iso8601", "2004-03-10 18:00:00.250", NULL, -1.0, 2},
        {"epoch", "1078941600", NULL, -1.0, 2},
        {"epoch_ms", "1078941600000", NULL, -1.0, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"inputs\": [{\"name\": \"x\"}], \"time\": {\"fields\": [\"d\"%s], \"format\": \"%s\"},"
                 " \"features\": [{\"name\": \"hs\", \"kind\": \"cyclic\", \"unit\": \"hour\", \"fn\": \"sin\"},"
                 " {\"name\": \"wc\", \"kind\": \"cyclic\", \"unit\": \"weekday\", \"fn\": \"cos\"},"
                 " {\"name\": \"mc\", \"kind\": \"cyclic\", \"unit\": \"month\", \"fn\": \"cos\"}]}",
                 cases[c].b ? ", \"t\"" : "", cases[c].format);
        kite_feature_spec *spec = spec_from(json);
        kite_feature_state *st = NULL;
        CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
        if (!st) {
            kite_feature_spec_free(spec);
            continue;
        }
        kite_raw_value in[3] = {{KITE_RAW_ABSENT, 0, NULL, 0},
                                {KITE_RAW_TEXT, 0, cases[c].a, strlen(cases[c].a)},
                                {KITE_RAW_TEXT, 0, cases[c].b, cases[c].b ? strlen(cases[c].b) : 0}};
        float o[3];
        kite_features_status status;
        kite_err e = kite_features_update(st, in, o, &status, err, sizeof err);
        CHECK_MSG(!e, "%s: %s", cases[c].a, err);
        CHECK_MSG(!e && fabs(o[0] - cases[c].hour_sin) < 1e-6 &&
                      fabs(o[1] - cos(2 * M_PI * cases[c].weekday_idx / 7)) < 1e-6 &&
                      fabs(o[2] - cos(2 * M_PI * 2 / 12)) < 1e-6,
                  "%s: %g %g %g", cases[c].a, (double)o[0], (double)o[1], (double)o[2]);
        kite_feature_state_free(st);
        kite_feature_spec_free(spec);
    }
    /* bad times: one line naming the fields */
    kite_feature_spec *spec = spec_from(
        "{\"inputs\": [{\"name\": \"x\"}], \"time\": {\"fields\": [\"Date\", \"Time\"],"
        " \"format\": \"%d/%m/%Y %H.%M.%S\"}, \"features\": [{\"name\": \"x\", \"kind\": \"value\", \"input\": \"x\"}]}");
    kite_feature_state *st = NULL;
    CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
    if (st) {
        kite_raw_value in[3] = {{KITE_RAW_NUMBER, 1, NULL, 0}, {KITE_RAW_TEXT, 0, "31/02/2004", 10},
                                {KITE_RAW_TEXT, 0, "18.00.00", 8}};
        float o[1];
        kite_features_status status;
        CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
              !strcmp(err, "event time fields \"Date\" + \"Time\": \"31/02/2004 18.00.00\" day out of range"));
        in[2] = (kite_raw_value){KITE_RAW_TEXT, 0, "18:00:00", 8};
        in[1] = (kite_raw_value){KITE_RAW_TEXT, 0, "10/03/2004", 10};
        CHECK(kite_features_update(st, in, o, &status, err, sizeof err) == KITE_ERR_PARSE &&
              strstr(err, "does not match the time format"));
    }
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

/* Mutated specs and random events: every outcome is OK or one line of error, never a crash
 * (the ASan/UBSan run of this test is the point). */
static void test_garbage(void)
{
    FILE *fp = fopen("models/airquality.spec.json", "rb");
    CHECK(fp != NULL);
    if (!fp) return;
    static char base[1 << 16], text[1 << 16];
    size_t n = fread(base, 1, sizeof base, fp);
    fclose(fp);
    unsigned seed = 7;
    int parsed = 0, refused = 0, multiline = 0;
    static const char junk[] = "{}[]\",:0-9e.nul \\x";
    for (int it = 0; it < 1500; it++) {
        memcpy(text, base, n);
        size_t len = n;
        int edits = 1 + it % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            if (it % 5 == 0) len = at + 1; /* truncate */
            else text[at] = junk[(seed >> 8) % (sizeof junk - 1)];
        }
        kite_feature_spec *s = NULL;
        err[0] = 0;
        if (kite_feature_spec_parse(text, len, "m.json", &s, err, sizeof err)) {
            refused++;
            if (strchr(err, '\n') || !strstr(err, "m.json")) multiline++, fprintf(stderr, "spec error: %s\n", err);
            continue;
        }
        parsed++;
        kite_feature_state *st = NULL;
        if (kite_feature_state_new(s, 4, &st, err, sizeof err)) {
            kite_feature_spec_free(s);
            continue;
        }
        int ni = kite_feature_spec_num_inputs(s), no = kite_feature_spec_num_outputs(s);
        kite_raw_value in[64];
        float out[256];
        static const char *texts[] = {"10/03/2004", "18.00.00", "2,5", "-200", "", "abc", "1e308",
                                      "31/12/9999", "24.00.00", "nan", "-0", "2004-03-10T18:00:00Z"};
        for (int ev = 0; ev < 200 && ni <= 64 && no <= 256; ev++) {
            for (int i = 0; i < ni; i++) {
                seed = seed * 1103515245u + 12345u;
                unsigned r = seed >> 8;
                if (r % 3 == 0) in[i] = (kite_raw_value){KITE_RAW_NUMBER, (double)(r % 2000) - 1000, NULL, 0};
                else if (r % 3 == 1) in[i] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
                else {
                    const char *t = texts[(r >> 4) % (sizeof texts / sizeof texts[0])];
                    in[i] = (kite_raw_value){KITE_RAW_TEXT, 0, t, strlen(t)};
                }
            }
            kite_features_status status;
            err[0] = 0;
            if (kite_features_update(st, in, out, &status, err, sizeof err))
                if (strchr(err, '\n') || !err[0]) multiline++, fprintf(stderr, "event error: [%s]\n", err);
        }
        kite_feature_state_free(st);
        kite_feature_spec_free(s);
    }
    CHECK_MSG(multiline == 0, "%d errors were not one line naming the file", multiline);
    CHECK(parsed > 0 && refused > 0);
}

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    {"bad_specs", test_bad_specs},     {"warmup", test_warmup},
    {"gaps", test_gaps},               {"duplicates", test_duplicates},
    {"out_of_order", test_out_of_order}, {"keys_and_bad_events", test_keys_and_bad_events},
    {"rolling", test_rolling_brute_force}, {"categories", test_categories_impute_standardize},
    {"time_formats", test_time_formats}, {"garbage", test_garbage},
};

/* test_features [NAME]: one group (ctest registers the acceptance groups by name), or all. */
int main(int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (argc < 2 || !strcmp(argv[1], tests[i].name)) tests[i].run(), ran++;
    if (!ran) {
        fprintf(stderr, "test_features: no test group named %s\n", argv[1]);
        return 1;
    }
    return kt_finish(argc < 2 ? "test_features" : argv[1]);
}
