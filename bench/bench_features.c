/* Feature-pipeline bench: ns per event, events/s and features/s of kite_features_update with
 * the air-quality spec (models/airquality.spec.json, 101 features), for one stream key and for
 * 10,000 keys, and heap allocations per event after warm-up (counted by interposing malloc and
 * friends, tests/support/alloc_count.h).
 *
 *   build/kite_bench_features [models/airquality.spec.json] [data/AirQualityUCI.csv] [1|10000]
 *
 * Events are AirQualityUCI.csv's rows, values as numbers (as the stream's JSON parser hands
 * them over) and Date/Time as text (parsed per event with the spec's pattern), at consecutive
 * hours; with 10,000 keys the keys take turns, each key seeing consecutive hours. The clock
 * reads before and after a whole pass (no per-event timer); it is the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so time spent descheduled on a shared machine does not count.
 * Best of 3 passes is reported. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alloc_count.h"
#include <kite/csv.h>
#include <kite/event_time.h>
#include <kite/feature_state.h>

#define BENCH_PASSES 3

/* CPU time of this thread: the machine is shared, and time spent descheduled is not ours. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct bench_data {
    int ninputs, date_in, time_in, key_in;
    size_t nrows;
    double *values;        /* nrows x ninputs                                              */
    size_t nhours;
    char (*dates)[16];     /* per hour: "dd/mm/yyyy", "HH.MM.SS"                           */
    char (*times)[16];
    char (*keys)[16];
} bench_data;

static kite_feature_spec *load_spec(const char *path, int keyed)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = 0;
    cJSON *root = cJSON_Parse(text);
    if (!root) return NULL;
    if (keyed) cJSON_AddStringToObject(root, "key", "station");
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char err[512];
    kite_feature_spec *spec = NULL;
    if (kite_feature_spec_parse(out, strlen(out), path, &spec, err, sizeof err))
        fprintf(stderr, "bench: %s\n", err);
    free(out);
    return spec;
}

static int load_rows(const kite_feature_spec *spec, const char *path, bench_data *d)
{
    kite_csv_options opts = KITE_CSV_OPTIONS_DEFAULT;
    opts.kco_delimiter = kite_feature_spec_csv_delimiter(spec);
    kite_csv_reader *r;
    char err[512];
    if (kite_csv_open(path, &opts, &r, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    d->ninputs = kite_feature_spec_num_inputs(spec);
    int *cols = calloc((size_t)d->ninputs, sizeof *cols);
    for (int i = 0; i < d->ninputs; i++)
        cols[i] = kite_csv_find_column(r, kite_feature_spec_input_name(spec, i));
    size_t cap = 16384;
    d->values = malloc(cap * (size_t)d->ninputs * sizeof(double));
    kite_csv_row row;
    while (!kite_csv_next(r, &row, err, sizeof err) && row.kcr_nfields && d->nrows < cap) {
        for (int i = 0; i < d->ninputs; i++) {
            double v = NAN;
            const char *t = cols[i] >= 0 && cols[i] < row.kcr_nfields ? row.kcr_fields[cols[i]] : "";
            if (kite_feature_spec_text_number(spec, t, strlen(t), &v)) v = NAN;
            d->values[d->nrows * (size_t)d->ninputs + (size_t)i] = v;
        }
        d->nrows++;
    }
    free(cols);
    kite_csv_close(r);
    return d->nrows ? 0 : -1;
}

static void make_hours(bench_data *d, size_t nhours)
{
    d->nhours = nhours;
    d->dates = malloc(nhours * sizeof *d->dates);
    d->times = malloc(nhours * sizeof *d->times);
    int64_t t0 = kite_time_days_from_civil(2004, 3, 10) * 86400000LL + 18 * 3600000LL;
    for (size_t h = 0; h < nhours; h++) {
        char iso[40];
        kite_time_format_iso(t0 + (int64_t)h * 3600000LL, iso, sizeof iso); /* YYYY-MM-DDTHH:.. */
        snprintf(d->dates[h], sizeof d->dates[h], "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
        snprintf(d->times[h], sizeof d->times[h], "%.2s.%.2s.%.2s", iso + 11, iso + 14, iso + 17);
    }
}

/* Feeds events [first, first + n): event e is key e % nkeys at hour e / nkeys. With
 * prefetch_ahead, calls kite_features_prefetch for event e + prefetch_ahead first (the way a
 * stream worker holding a batch would): kite_features_prefetch_key 2 x ahead, then
 * kite_features_prefetch 1 x ahead. */
static int run_events(kite_feature_state *st, const bench_data *d, size_t nkeys, size_t first,
                      size_t n, kite_raw_value *in, float *out, size_t *ready, size_t prefetch_ahead)
{
    char err[512];
    for (size_t e = first; e < first + n; e++) {
        if (prefetch_ahead && d->key_in >= 0) {
            kite_raw_value ahead[64];
            size_t k1 = (e + 2 * prefetch_ahead) % nkeys, k2 = (e + prefetch_ahead) % nkeys;
            ahead[d->key_in] = (kite_raw_value){KITE_RAW_TEXT, 0, d->keys[k1], strlen(d->keys[k1])};
            kite_features_prefetch_key(st, ahead);
            ahead[d->key_in] = (kite_raw_value){KITE_RAW_TEXT, 0, d->keys[k2], strlen(d->keys[k2])};
            kite_features_prefetch(st, ahead);
        }
        size_t key = e % nkeys, hour = e / nkeys;
        const double *v = d->values + ((hour + key) % d->nrows) * (size_t)d->ninputs;
        for (int i = 0; i < d->ninputs; i++) in[i].number = v[i];
        in[d->date_in] = (kite_raw_value){KITE_RAW_TEXT, 0, d->dates[hour], 10};
        in[d->time_in] = (kite_raw_value){KITE_RAW_TEXT, 0, d->times[hour], 8};
        if (d->key_in >= 0)
            in[d->key_in] = (kite_raw_value){KITE_RAW_TEXT, 0, d->keys[key], strlen(d->keys[key])};
        kite_features_status status;
        if (kite_features_update(st, in, out, &status, err, sizeof err)) {
            fprintf(stderr, "bench: event %zu: %s\n", e, err);
            return -1;
        }
        *ready += status == KITE_FEATURES_READY;
    }
    return 0;
}

static int bench(const char *spec_path, const char *data_path, size_t nkeys, size_t warm_hours,
                 size_t timed_events, size_t prefetch_ahead)
{
    kite_feature_spec *spec = load_spec(spec_path, nkeys > 1);
    if (!spec) return -1;
    bench_data d = {0};
    d.key_in = nkeys > 1 ? kite_feature_spec_input_index(spec, "station") : -1;
    d.date_in = kite_feature_spec_input_index(spec, "Date");
    d.time_in = kite_feature_spec_input_index(spec, "Time");
    if (load_rows(spec, data_path, &d)) return -1;
    size_t warm_events = warm_hours * nkeys;
    make_hours(&d, (warm_events + BENCH_PASSES * timed_events) / nkeys + 2);
    d.keys = malloc(nkeys * sizeof *d.keys);
    for (size_t k = 0; k < nkeys; k++) snprintf(d.keys[k], sizeof d.keys[k], "station-%05zu", k);
    kite_feature_state *st;
    char err[512];
    if (kite_feature_state_new(spec, nkeys, &st, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    kite_raw_value *in = calloc((size_t)d.ninputs, sizeof *in);
    for (int i = 0; i < d.ninputs; i++) in[i].kind = KITE_RAW_NUMBER;
    int nout = kite_feature_spec_num_outputs(spec);
    float *out = malloc((size_t)nout * sizeof *out);
    size_t ready = 0;
    if (run_events(st, &d, nkeys, 0, warm_events, in, out, &ready, 0)) return -1; /* warm-up */
    double best = 1e30;
    unsigned long allocs = 0;
    size_t first = warm_events;
    for (int pass = 0; pass < BENCH_PASSES; pass++) {
        unsigned long a0 = kite_alloc_calls;
        ready = 0;
        double t0 = now_s();
        if (run_events(st, &d, nkeys, first, timed_events, in, out, &ready, prefetch_ahead)) return -1;
        double dt = now_s() - t0;
        allocs += kite_alloc_calls - a0;
        first += timed_events;
        if (dt < best) best = dt;
        if (ready != timed_events) fprintf(stderr, "bench: %zu events still warming up\n", timed_events - ready);
    }
    double ns = best * 1e9 / (double)timed_events;
    printf("%-6zu keys  %-12s %3d features  %9zu events/pass  %7.1f ns/event  %10.0f events/s  %6.2f M "
           "features/s  heap allocations after warm-up: %lu in %zu events  key slot %zu bytes\n",
           nkeys, prefetch_ahead ? "prefetch 8/16" : "no prefetch", nout, timed_events, ns, 1e9 / ns, 1e9 / ns * nout / 1e6, allocs,
           (size_t)BENCH_PASSES * timed_events, kite_features_key_bytes(st));
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
    free(in);
    free(out);
    free(d.values);
    free(d.dates);
    free(d.times);
    free(d.keys);
    return allocs ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "models/airquality.spec.json";
    const char *data = argc > 2 ? argv[2] : "data/AirQualityUCI.csv";
    const char *only = argc > 3 ? argv[3] : NULL; /* "1" or "10000": one configuration */
    int rc = 0;
    if (!only || !strcmp(only, "1")) rc |= bench(spec, data, 1, 200, 500000, 0);
    if (!only || !strcmp(only, "10000")) {
        rc |= bench(spec, data, 10000, 200, 1000000, 0);
        rc |= bench(spec, data, 10000, 200, 1000000, 8);
    }
    return rc ? 1 : 0;
}
