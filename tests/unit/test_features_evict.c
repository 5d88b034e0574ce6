/* "when_full": "evict" (engine/features/features.c): a full key table gives the least recently seen
 * key's slot to a new key.
 *   lru        40 keys through a table of 16, random order: the test keeps its own LRU list;
 *              every event's features equal, bit for bit, those of a private state that holds
 *              that key alone and is reset exactly when the test's LRU evicts the key (so the
 *              order is exact LRU, an evicted key warms up again, and lookups stay right after
 *              thousands of backward-shift deletions); the eviction count matches.
 *   explosion  10,000,000 distinct keys (KITE_EVICT_KEYS to change) through a table of 65,536:
 *              every event is taken, evictions = keys - max_keys, resident memory after the
 *              first tenth stays within 10% (the table and slots are allocated once); the
 *              rate per million keys is printed (bench/RESULTS.md), not asserted.
 *   refuse     the default policy still refuses a new key when full. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kite/feature_state.h>
#include "kite_test.h"

static const char *spec_json(char *buf, size_t size, long max_keys, const char *when)
{
    snprintf(buf, size,
             "{\"inputs\": [{\"name\": \"x\"}], \"key\": \"k\", \"max_keys\": %ld, \"when_full\": \"%s\","
             " \"warmup\": 3,"
             " \"features\": [{\"name\": \"x\", \"kind\": \"value\", \"input\": \"x\"},"
             "  {\"name\": \"lag1\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 1},"
             "  {\"name\": \"m\", \"kind\": \"rolling_mean\", \"input\": \"x\", \"window\": 8},"
             "  {\"name\": \"s\", \"kind\": \"rolling_std\", \"input\": \"x\", \"window\": 5, \"shift\": 1},"
             "  {\"name\": \"hi\", \"kind\": \"rolling_max\", \"input\": \"x\", \"window\": 6}]}",
             max_keys, when);
    return buf;
}

static kite_feature_spec *load(long max_keys, const char *when)
{
    char json[2048], err[512];
    kite_feature_spec *spec = NULL;
    spec_json(json, sizeof json, max_keys, when);
    if (kite_feature_spec_parse(json, strlen(json), "evict.json", &spec, err, sizeof err)) {
        fprintf(stderr, "spec: %s\n", err);
        return NULL;
    }
    return spec;
}

static void event(kite_raw_value *in, const char *key, double x)
{
    in[0] = (kite_raw_value){KITE_RAW_NUMBER, x, NULL, 0};
    in[1] = (kite_raw_value){KITE_RAW_TEXT, 0, key, strlen(key)};
}

static void test_lru(void)
{
    enum { KEYS = 40, CAP = 16, EVENTS = 20000 };
    kite_feature_spec *spec = load(CAP, "evict"), *one = load(1, "refuse");
    CHECK(spec && one);
    if (!spec || !one) return;
    int ix = kite_feature_spec_input_index(spec, "x"), ik = kite_feature_spec_input_index(spec, "k");
    CHECK(ix == 0 && ik == 1);
    char err[512], names[KEYS][8];
    kite_feature_state *st = NULL, *ref[KEYS] = {0};
    CHECK(!kite_feature_state_new(spec, 0, &st, err, sizeof err));
    int lru[CAP], nlru = 0; /* the test's own list, most recent first */
    unsigned long long evicted = 0;
    int mismatches = 0, warm_mismatch = 0;
    srand(12345);
    for (int e = 0; st && e < EVENTS; e++) {
        /* Skewed choice: a few hot keys and a long tail, so both hits and evictions happen. */
        int k = rand() % 3 ? rand() % 12 : rand() % KEYS;
        snprintf(names[k], sizeof names[k], "key%d", k);
        int at = -1;
        for (int i = 0; i < nlru; i++)
            if (lru[i] == k) at = i;
        if (at < 0 && nlru == CAP) { /* the test's LRU evicts its tail */
            int victim = lru[--nlru];
            kite_feature_state_free(ref[victim]);
            ref[victim] = NULL;
            evicted++;
        }
        if (at >= 0) memmove(lru + 1, lru, (size_t)at * sizeof *lru);
        else memmove(lru + 1, lru, (size_t)nlru++ * sizeof *lru);
        lru[0] = k;
        if (!ref[k]) CHECK(!kite_feature_state_new(one, 1, &ref[k], err, sizeof err));
        kite_raw_value in[2];
        event(in, names[k], (double)((e * 7919) % 1000) / 8.0);
        float got[5], want[5];
        kite_features_status gs, ws;
        CHECK(!kite_features_update(st, in, got, &gs, err, sizeof err));
        CHECK(!kite_features_update(ref[k], in, want, &ws, err, sizeof err));
        mismatches += memcmp(got, want, sizeof got) != 0;
        warm_mismatch += gs != ws;
    }
    CHECK(mismatches == 0);
    CHECK(warm_mismatch == 0);
    CHECK(st && kite_features_evicted_count(st) == evicted);
    CHECK(evicted > 1000); /* the schedule really evicts */
    CHECK(st && kite_features_num_keys(st) == CAP);
    printf("lru: %d events, %llu evictions, %d feature rows differ\n", EVENTS, evicted, mismatches);
    for (int k = 0; k < KEYS; k++) kite_feature_state_free(ref[k]);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
    kite_feature_spec_free(one);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_explosion(void)
{
    const long cap = 65536;
    long keys = getenv("KITE_EVICT_KEYS") ? atol(getenv("KITE_EVICT_KEYS")) : 10000000;
    kite_feature_spec *spec = load(cap, "evict");
    CHECK(spec != NULL);
    if (!spec) return;
    char err[512];
    kite_feature_state *st = NULL;
    CHECK(!kite_feature_state_new(spec, 0, &st, err, sizeof err));
    if (!st) return;
    long tenth = keys / 10, failed = 0, rss_lo = 0, rss_hi = 0;
    double t = now_s();
    char name[32];
    for (long i = 0; i < keys; i++) {
        snprintf(name, sizeof name, "sensor-%ld", i);
        kite_raw_value in[2];
        event(in, name, (double)(i % 977));
        float out[5];
        failed += kite_features_update(st, in, out, NULL, err, sizeof err) != KITE_ERR_OK;
        if ((i + 1) % tenth == 0) {
            long rss = rss_kib();
            double t2 = now_s();
            printf("explosion: %ld keys  rss %ld KiB  %.2f M keys/s\n", i + 1, rss,
                   (double)tenth / (t2 - t) * 1e-6);
            t = t2;
            if ((i + 1) / tenth >= 2) { /* after the first tenth */
                if (!rss_lo || rss < rss_lo) rss_lo = rss;
                if (rss > rss_hi) rss_hi = rss;
            }
        }
    }
    CHECK(failed == 0);
    CHECK(kite_features_evicted_count(st) == (unsigned long long)(keys - cap));
    CHECK(kite_features_num_keys(st) == (size_t)cap);
    CHECK(rss_lo > 0 && rss_hi <= rss_lo + rss_lo / 10);
    printf("explosion: %ld keys through max_keys %ld: %llu evicted, rss %ld..%ld KiB after the "
           "first tenth (slot %zu bytes)\n",
           keys, cap, kite_features_evicted_count(st), rss_lo, rss_hi, kite_features_key_bytes(st));
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
}

static void test_refuse(void)
{
    kite_feature_spec *spec = load(2, "refuse");
    CHECK(spec != NULL);
    if (!spec) return;
    char err[512];
    kite_feature_state *st = NULL;
    CHECK(!kite_feature_state_new(spec, 0, &st, err, sizeof err));
    kite_raw_value in[2];
    float out[5];
    event(in, "a", 1);
    CHECK(!kite_features_update(st, in, out, NULL, err, sizeof err));
    event(in, "b", 1);
    CHECK(!kite_features_update(st, in, out, NULL, err, sizeof err));
    event(in, "c", 1);
    CHECK(kite_features_update(st, in, out, NULL, err, sizeof err) == KITE_ERR_LIMIT);
    CHECK(strstr(err, "key table full") != NULL);
    CHECK(kite_features_evicted_count(st) == 0);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
    /* A bad policy is one line naming the field. */
    const char *bad = "{\"inputs\": [{\"name\": \"x\"}], \"when_full\": \"drop\","
                      " \"features\": [{\"name\": \"x\", \"kind\": \"value\", \"input\": \"x\"}]}";
    kite_feature_spec *s2 = NULL;
    CHECK(kite_feature_spec_parse(bad, strlen(bad), "bad.json", &s2, err, sizeof err) != KITE_ERR_OK);
    CHECK(strstr(err, "when_full") != NULL);
    kite_feature_spec_free(s2);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    if (!strcmp(which, "all") || !strcmp(which, "lru")) test_lru();
    if (!strcmp(which, "all") || !strcmp(which, "refuse")) test_refuse();
    if (!strcmp(which, "all") || !strcmp(which, "explosion")) test_explosion();
    return kt_finish("test_features_evict");
}
