/* The C side of the peer benchmark (bench/peers.py drives it): times one engine group on one
 * model over batch sizes x thread counts, and writes the margins that group gives every row.
 *
 *   kite_bench_peers --model M.json --rows rows.csv --engine ENGINE [--batches 1,16,256,4096]
 *                    [--threads 1,2] [--reps 5] [--min-ms 40] [--predictions DIR]
 *
 * ENGINE is one of
 *   kite          every kite kernel this CPU runs (kite-scalar, kite-avx2, ...);
 *   xgboost=LIB   XGBoost's C API from the shared library LIB (dlopen'ed, so one binary times
 *                 Debian's 1.7.4 and the venv's 3.4 alike): XGBoosterPredictFromDense, margins,
 *                 nthread set to the thread count; the engine is named xgboost-<version>-c;
 *   tl2cgen=SO    a TL2cgen-generated predictor compiled into SO (peers.py builds it with
 *                 -O3 -march=native): one predict() per row, each row first copied into the
 *                 union Entry array the generated code reads (NaN -> missing), as TL2cgen's
 *                 own runtime does.
 *
 * Call k of batch b scores the (k mod (rows / b))-th block of b rows, so consecutive calls see
 * different rows (a branchy scorer fed one row over and over would have every branch learnt).
 * kite and tl2cgen split a batch over an OpenMP team the way
 * `kite score --threads` splits its input (contiguous parts, here whole 16-row blocks, so a
 * batch of 16 or fewer rows runs on the calling thread alone); XGBoost threads itself.
 *
 * Output, one line per engine x batch x threads (tab-separated, after a '#' header):
 *   engine  batch  threads  wall_ns_per_call  cpu_ns_per_call  calls
 * where each of --reps repetitions makes calls until --min-ms have passed and reports its mean
 * wall-clock and calling-thread CPU time per call; both are medians over repetitions. One-thread
 * runs last --min-ms of CPU time (the time descheduled on a shared machine is not the
 * engine's), runs on more threads --min-ms of wall clock (the other threads' work is in it). With
 * --predictions DIR, DIR/<engine>.f32 holds the margins of all rows (float32, row-major).
 * Exit 1 with one line on stderr on any failure. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgboost/c_api.h>

#include <kite/csv.h>
#include <kite/dispatch.h>
#include <kite/xgb_model.h>

#define PEERS_MAX_LIST 16
#define PEERS_BLOCK 16 /* rows per part boundary: kite's widest vector (AVX-512, 16 lanes) */

typedef struct peers_opts {
    const char *model, *rows, *engine, *predictions;
    int batches[PEERS_MAX_LIST], nbatches;
    int threads[PEERS_MAX_LIST], nthreads;
    int reps;
    double min_ms;
} peers_opts;

/* An engine scores rows [0, n) into out (one margin per row); ctx is the engine's own. */
typedef int (*peers_score_fn)(void *ctx, const float *rows, size_t n, int threads, float *out);

typedef struct peers_engine {
    char name[64];
    peers_score_fn score;
    void (*close)(void *ctx); /* frees ctx and what it holds; NULL when ctx is not the engine's */
    void *ctx;
} peers_engine;

static const float *peers_rows;
static size_t peers_nrows, peers_ncols;

/* One thread's CPU time: what a one-thread run is timed by, since on a shared machine the time
 * it spends descheduled is not the engine's. */
#define PEERS_CPU_CLOCK CLOCK_THREAD_CPUTIME_ID

static double peers_now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int peers_parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 1 << 24 || n == max || (*end && *end != ',')) return -1;
        out[n++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return n;
}

static int peers_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Contiguous parts of whole blocks: how many of the team's threads get work. */
static int peers_parts(size_t n, int threads) {
    size_t blocks = (n + PEERS_BLOCK - 1) / PEERS_BLOCK;
    return blocks < (size_t)threads ? (int)blocks : threads;
}

/* --- kite: one kernel; the part split is the harness's, the kernel is kite's --- */
typedef struct peers_kite {
    const kite_forest *forest;
    kite_margins_fn fn;
} peers_kite;

static int peers_kite_score(void *ctx, const float *rows, size_t n, int threads, float *out) {
    const peers_kite *k = ctx;
    int parts = peers_parts(n, threads);
    if (parts <= 1) {
        k->fn(k->forest, rows, n, peers_ncols, out);
        return 0;
    }
    size_t per = ((n + (size_t)parts - 1) / (size_t)parts + PEERS_BLOCK - 1) / PEERS_BLOCK *
                 PEERS_BLOCK;
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int p = 0; p < parts; p++) {
        size_t lo = (size_t)p * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi) k->fn(k->forest, rows + lo * peers_ncols, hi - lo, peers_ncols, out + lo);
    }
    return 0;
}

/* --- XGBoost C API through dlopen --- */
typedef struct peers_xgb {
    void *lib;
    BoosterHandle booster;
    int nthread; /* last value set, so SetParam runs only when the thread count changes */
    __typeof__(XGBoosterCreate) *create;
    __typeof__(XGBoosterFree) *free_booster;
    __typeof__(XGBoosterLoadModel) *load;
    __typeof__(XGBoosterSetParam) *set_param;
    __typeof__(XGBoosterPredictFromDense) *predict_dense;
    __typeof__(XGBGetLastError) *last_error;
    __typeof__(XGBoostVersion) *version;
} peers_xgb;

static int peers_xgb_score(void *ctx, const float *rows, size_t n, int threads, float *out) {
    peers_xgb *x = ctx;
    if (x->nthread != threads) {
        char v[16];
        snprintf(v, sizeof v, "%d", threads);
        if (x->set_param(x->booster, "nthread", v)) goto fail;
        x->nthread = threads;
    }
    char iface[256];
    snprintf(iface, sizeof iface,
             "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (unsigned long long)(uintptr_t)rows, n, peers_ncols);
    /* type 1: margins; the models here have one output per row. */
    const char *config = "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
                         "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
                         "\"cache_id\": 0}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *result;
    if (x->predict_dense(x->booster, iface, config, NULL, &shape, &dim, &result)) goto fail;
    memcpy(out, result, n * sizeof *out);
    return 0;
fail:
    fprintf(stderr, "kite_bench_peers: xgboost: %s\n", x->last_error());
    return -1;
}

static void peers_xgb_close(void *ctx) {
    peers_xgb *x = ctx;
    if (x->booster) x->free_booster(x->booster);
    if (x->lib) dlclose(x->lib);
    free(x);
}

static int peers_xgb_open(const char *lib, const char *model, peers_engine *e) {
    peers_xgb *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!x->lib) {
        fprintf(stderr, "kite_bench_peers: %s\n", dlerror());
        peers_xgb_close(x);
        return -1;
    }
#define PEERS_SYM(field, name)                                                                  \
    if (!(*(void **)&x->field = dlsym(x->lib, name))) {                                         \
        fprintf(stderr, "kite_bench_peers: %s: no symbol %s\n", lib, name);                     \
        peers_xgb_close(x);                                                                     \
        return -1;                                                                              \
    }
    PEERS_SYM(create, "XGBoosterCreate")
    PEERS_SYM(free_booster, "XGBoosterFree")
    PEERS_SYM(load, "XGBoosterLoadModel")
    PEERS_SYM(set_param, "XGBoosterSetParam")
    PEERS_SYM(predict_dense, "XGBoosterPredictFromDense")
    PEERS_SYM(last_error, "XGBGetLastError")
    PEERS_SYM(version, "XGBoostVersion")
#undef PEERS_SYM
    if (x->create(NULL, 0, &x->booster) || x->load(x->booster, model)) {
        fprintf(stderr, "kite_bench_peers: xgboost %s: %s\n", model, x->last_error());
        peers_xgb_close(x);
        return -1;
    }
    int major, minor, patch;
    x->version(&major, &minor, &patch);
    snprintf(e->name, sizeof e->name, "xgboost-%d.%d.%d-c", major, minor, patch);
    e->score = peers_xgb_score;
    e->close = peers_xgb_close;
    e->ctx = x;
    return 0;
}

/* --- TL2cgen: the generated predict() per row --- */
union peers_entry { /* TL2cgen's union Entry: missing is -1 for an absent feature */
    int missing;
    float fvalue;
    int qvalue;
};

typedef struct peers_tl2 {
    void *lib;
    void (*predict)(union peers_entry *data, int pred_margin, float *result);
    union peers_entry *entries; /* one row's worth per thread of the team */
    int max_threads;
} peers_tl2;

static void peers_tl2_rows(const peers_tl2 *t, union peers_entry *e, const float *rows, size_t lo,
                           size_t hi, float *out) {
    for (size_t r = lo; r < hi; r++) {
        const float *row = rows + r * peers_ncols;
        for (size_t j = 0; j < peers_ncols; j++) {
            if (isnan(row[j]))
                e[j].missing = -1;
            else
                e[j].fvalue = row[j];
        }
        float result = 0.0f; /* predict() adds every tree onto it */
        t->predict(e, 1, &result);
        out[r] = result;
    }
}

static int peers_tl2_score(void *ctx, const float *rows, size_t n, int threads, float *out) {
    const peers_tl2 *t = ctx;
    int parts = peers_parts(n, threads);
    if (parts > t->max_threads) parts = t->max_threads;
    if (parts <= 1) {
        peers_tl2_rows(t, t->entries, rows, 0, n, out);
        return 0;
    }
    size_t per = ((n + (size_t)parts - 1) / (size_t)parts + PEERS_BLOCK - 1) / PEERS_BLOCK *
                 PEERS_BLOCK;
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int p = 0; p < parts; p++) {
        size_t lo = (size_t)p * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi) peers_tl2_rows(t, t->entries + (size_t)p * peers_ncols, rows, lo, hi, out);
    }
    return 0;
}

static void peers_tl2_close(void *ctx) {
    peers_tl2 *t = ctx;
    free(t->entries);
    if (t->lib) dlclose(t->lib);
    free(t);
}

static int peers_tl2_open(const char *so, int max_threads, peers_engine *e) {
    peers_tl2 *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!t->lib) {
        fprintf(stderr, "kite_bench_peers: %s\n", dlerror());
        peers_tl2_close(t);
        return -1;
    }
    int32_t (*num_feature)(void), (*num_target)(void);
    *(void **)&t->predict = dlsym(t->lib, "predict");
    *(void **)&num_feature = dlsym(t->lib, "get_num_feature");
    *(void **)&num_target = dlsym(t->lib, "get_num_target");
    if (!t->predict || !num_feature || !num_target) {
        fprintf(stderr, "kite_bench_peers: %s: not a TL2cgen predictor (predict, "
                        "get_num_feature, get_num_target)\n", so);
        peers_tl2_close(t);
        return -1;
    }
    if (num_target() != 1 || (size_t)num_feature() > peers_ncols) {
        fprintf(stderr, "kite_bench_peers: %s: %d targets, %d features; want 1 target and at "
                        "most %zu features\n", so, num_target(), num_feature(), peers_ncols);
        peers_tl2_close(t);
        return -1;
    }
    t->max_threads = max_threads;
    t->entries = calloc((size_t)max_threads * peers_ncols, sizeof *t->entries);
    if (!t->entries) {
        peers_tl2_close(t);
        return -1;
    }
    snprintf(e->name, sizeof e->name, "tl2cgen");
    e->score = peers_tl2_score;
    e->close = peers_tl2_close;
    e->ctx = t;
    return 0;
}

/* --- the timing loop --- */
static double peers_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, peers_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int peers_time(const peers_engine *e, const peers_opts *o, float *out) {
    int rc = -1;
    double *wall = calloc((size_t)o->reps, sizeof *wall);
    double *cpu = calloc((size_t)o->reps, sizeof *cpu);
    if (!wall || !cpu) goto done;
    for (int ti = 0; ti < o->nthreads; ti++)
        for (int bi = 0; bi < o->nbatches; bi++) {
            size_t b = (size_t)o->batches[bi];
            int th = o->threads[ti];
            size_t windows = peers_nrows / b, w = 0;
            double t0 = peers_now_ns(CLOCK_MONOTONIC);
            if (e->score(e->ctx, peers_rows, b, th, out)) goto done; /* warm-up */
            /* Clocks are read every `stride` calls (about 20 us of work) so that reading them
             * (a system call for the thread CPU clock) stays out of the per-call figure. */
            double warm = peers_now_ns(CLOCK_MONOTONIC) - t0;
            long stride = warm > 20e3 ? 1 : warm < 20 ? 1000 : (long)(20e3 / warm);
            long calls = 0;
            for (int r = 0; r < o->reps; r++) {
                long c = 0;
                double w0 = peers_now_ns(CLOCK_MONOTONIC), c0 = peers_now_ns(PEERS_CPU_CLOCK);
                double w_el, c_el;
                do {
                    for (long k = 0; k < stride; k++) {
                        if (e->score(e->ctx, peers_rows + w * b * peers_ncols, b, th, out))
                            goto done;
                        w = w + 1 == windows ? 0 : w + 1;
                    }
                    c += stride;
                    w_el = peers_now_ns(CLOCK_MONOTONIC) - w0;
                    c_el = peers_now_ns(PEERS_CPU_CLOCK) - c0;
                } while ((th == 1 ? c_el : w_el) < o->min_ms * 1e6);
                wall[r] = w_el / (double)c;
                cpu[r] = c_el / (double)c;
                calls += c;
            }
            printf("%s\t%zu\t%d\t%.1f\t%.1f\t%ld\n", e->name, b, th, peers_median(wall, o->reps),
                   peers_median(cpu, o->reps), calls);
            fflush(stdout);
        }
    rc = 0;
done:
    free(wall);
    free(cpu);
    return rc;
}

static int peers_predictions(const peers_engine *e, const char *dir, float *out) {
    if (e->score(e->ctx, peers_rows, peers_nrows, 1, out)) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.f32", dir, e->name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(out, sizeof *out, peers_nrows, f) != peers_nrows || fclose(f)) {
        fprintf(stderr, "kite_bench_peers: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int peers_usage(void) {
    fprintf(stderr, "usage: kite_bench_peers --model M.json --rows rows.csv --engine "
                    "kite|xgboost=LIB|tl2cgen=SO [--batches 1,16,256,4096] [--threads 1,2] "
                    "[--reps 5] [--min-ms 40] [--predictions DIR]\n");
    return 2;
}

int main(int argc, char **argv) {
    peers_opts o = {.reps = 5, .min_ms = 40};
    o.nbatches = peers_parse_list("1,16,256,4096", o.batches, PEERS_MAX_LIST);
    o.nthreads = peers_parse_list("1,2", o.threads, PEERS_MAX_LIST);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return peers_usage();
        i++;
        if (!strcmp(a, "--model")) o.model = v;
        else if (!strcmp(a, "--rows")) o.rows = v;
        else if (!strcmp(a, "--engine")) o.engine = v;
        else if (!strcmp(a, "--predictions")) o.predictions = v;
        else if (!strcmp(a, "--reps")) o.reps = atoi(v);
        else if (!strcmp(a, "--min-ms")) o.min_ms = atof(v);
        else if (!strcmp(a, "--batches")) {
            if ((o.nbatches = peers_parse_list(v, o.batches, PEERS_MAX_LIST)) <= 0)
                return peers_usage();
        } else if (!strcmp(a, "--threads")) {
            if ((o.nthreads = peers_parse_list(v, o.threads, PEERS_MAX_LIST)) <= 0)
                return peers_usage();
        } else
            return peers_usage();
    }
    if (!o.model || !o.rows || !o.engine || o.reps < 1 || o.min_ms < 0) return peers_usage();

    /* Every failure below goes to done, which frees what was made (zeroed structs free to
     * nothing), so a sanitizer build reports no leak on an error exit either. */
    int rc = 1, n = 0;
    char err[512];
    kite_model model = {0};
    kite_forest forest = {0};
    kite_matrix x = {0};
    float *out = NULL;
    peers_engine engines[KITE_ISA__COUNT];
    peers_kite kites[KITE_ISA__COUNT];
    if (kite_model_load(o.model, &model, err, sizeof err) ||
        kite_forest_build(&model, &forest, err, sizeof err)) {
        fprintf(stderr, "kite_bench_peers: %s\n", err);
        goto done;
    }
    if (forest.kf_num_group != 1) {
        fprintf(stderr, "kite_bench_peers: %s: %d outputs per row; the peer bench takes "
                        "single-output models\n", o.model, (int)forest.kf_num_group);
        goto done;
    }
    if (kite_csv_load_matrix(o.rows, NULL, NULL, forest.kf_num_feature, &x, err, sizeof err)) {
        fprintf(stderr, "kite_bench_peers: %s\n", err);
        goto done;
    }
    peers_rows = x.kmx_data;
    peers_nrows = x.kmx_rows;
    peers_ncols = x.kmx_cols;
    int max_threads = 1;
    for (int i = 0; i < o.nbatches; i++)
        if ((size_t)o.batches[i] > peers_nrows) {
            fprintf(stderr, "kite_bench_peers: %s: batch %d > %zu rows\n", o.rows, o.batches[i],
                    peers_nrows);
            goto done;
        }
    for (int i = 0; i < o.nthreads; i++)
        if (o.threads[i] > max_threads) max_threads = o.threads[i];

    if (!strcmp(o.engine, "kite")) {
        for (int isa = 0; isa < KITE_ISA__COUNT; isa++) {
            if (!kite_isa_available((kite_isa)isa)) continue;
            kites[n] = (peers_kite){&forest, kite_isa_kernel((kite_isa)isa)};
            snprintf(engines[n].name, sizeof engines[n].name, "kite-%s",
                     kite_isa_name((kite_isa)isa));
            engines[n].score = peers_kite_score;
            engines[n].close = NULL;
            engines[n].ctx = &kites[n];
            n++;
        }
    } else if (!strncmp(o.engine, "xgboost=", 8)) {
        if (peers_xgb_open(o.engine + 8, o.model, &engines[n])) goto done;
        n++;
    } else if (!strncmp(o.engine, "tl2cgen=", 8)) {
        if (peers_tl2_open(o.engine + 8, max_threads, &engines[n])) goto done;
        n++;
    } else {
        rc = peers_usage();
        goto done;
    }

    out = calloc(peers_nrows, sizeof *out);
    if (!out) goto done;
    printf("# engine\tbatch\tthreads\twall_ns_per_call\tcpu_ns_per_call\tcalls\n");
    for (int i = 0; i < n; i++) {
        if (o.predictions && peers_predictions(&engines[i], o.predictions, out)) goto done;
        if (peers_time(&engines[i], &o, out)) goto done;
    }
    rc = 0;
done:
    for (int i = 0; i < n; i++)
        if (engines[i].close) engines[i].close(engines[i].ctx);
    free(out);
    kite_matrix_free(&x);
    kite_forest_free(&forest);
    kite_model_free(&model);
    return rc;
}
