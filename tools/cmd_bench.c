/* kite bench: how fast each kernel this CPU runs scores a user's model, one thread.
 * The rows come from --input (CSV with a header, columns matched to the model's
 * feature_names like kite score) or are random (--rows N, values uniform in [-3, 3), 2% NaN).
 * Before timing, every kernel's margins are compared with the scalar kernel's.
 *
 * The perf gate (--json, --baseline, --measure; tools/bench_gate.h) measures each kernel and
 * batch either by callgrind instruction counts (kite runs itself under valgrind with the
 * hidden --callgrind-child option, which scores every row once with collection on) or by the
 * median of --repeat timed runs, and compares a candidate with a stored baseline. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_gate.h"
#include "cli.h"
#include <kite/clock.h>
#include <kite/dispatch.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: kite bench --model M [--input data.csv] [options]\n\n"
            "Times every traversal kernel this build and CPU can run on the model (one thread)\n"
            "and prints ns per tree per row, rows/s and microseconds per call for each batch\n"
            "size (thread CPU time). Margins of every kernel are checked against the scalar\n"
            "kernel first.\n\n"
            "  -m, --model FILE     XGBoost model (.json or .ubj)\n"
            "  -i, --input FILE     rows to score (CSV with a header); default: random rows\n"
            "  -n, --rows N         random rows to generate without --input (default 4096)\n"
            "  -b, --batch LIST     batch sizes, comma separated (default 1,16,256,4096)\n"
            "  -s, --seconds S      time spent per kernel and batch size (default 0.3)\n"
            "  -k, --kernel ISA     only this kernel (scalar|avx2|avx512|neon)\n"
            "  -d, --delimiter C    field delimiter of --input (default ',')\n"
            "  -h, --help           this text\n\n"
            "Perf gate (for CI; see perf/README.md):\n"
            "  --json               write the figures as JSON on stdout (store it as a baseline)\n"
            "  --baseline FILE      compare with figures a previous --json run wrote; exit 1 when\n"
            "                       an entry regressed more than --max-regression\n"
            "  --max-regression P   allowed growth per row, percent (default 5%%)\n"
            "  --measure M          auto|instructions|time (default auto: callgrind instruction\n"
            "                       counts where valgrind runs the kernel, i.e. not avx512, and\n"
            "                       the median of --repeat timings otherwise)\n"
            "  --repeat N           timed runs per kernel and batch for time (default 5)\n");
}

/* Random rows: a fixed LCG, so two runs on one model time the same work. */
static float *random_rows(size_t nrows, size_t cols)
{
    float *x = malloc(nrows * cols * sizeof(float) + 1);
    if (!x) return NULL;
    uint32_t s = 12345;
    for (size_t i = 0; i < nrows * cols; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (s >> 8) % 50 == 0 ? NAN : ((float)(s >> 8) / 16777216.0f) * 6.0f - 3.0f;
    }
    return x;
}

static double time_kernel(kite_margins_fn fn, const kite_forest *f, const float *x, size_t nrows,
                          size_t cols, size_t batch, float *out, double seconds, size_t *calls)
{
    double t0 = ((double)kite_clock_thread_cpu_ns() * 1e-9), t;
    size_t n = 0, r = 0;
    do {
        for (int k = 0; k < 8; k++, n++) {
            if (r + batch > nrows) r = 0;
            fn(f, x + r * cols, batch, cols, out);
            r += batch;
        }
        t = ((double)kite_clock_thread_cpu_ns() * 1e-9);
    } while (t - t0 < seconds);
    *calls = n;
    return t - t0;
}


static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n timed runs: seconds per row (and calls per run of the median's run). */
static double time_median(kite_margins_fn fn, const kite_forest *f, const float *x, size_t nrows,
                          size_t cols, size_t batch, float *out, double seconds, int n,
                          double *us_per_call)
{
    double per_row[64], per_call[64];
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++) {
        size_t calls;
        double s = time_kernel(fn, f, x, nrows, cols, batch, out, seconds, &calls);
        per_row[i] = s / ((double)calls * (double)batch);
        per_call[i] = s / (double)calls * 1e6;
    }
    qsort(per_row, (size_t)n, sizeof *per_row, bench_cmp_double);
    qsort(per_call, (size_t)n, sizeof *per_call, bench_cmp_double);
    *us_per_call = per_call[n / 2];
    return per_row[n / 2];
}

/* valgrind runs x86-64 up to AVX2 (and AArch64 NEON), not AVX-512. */
static int bench_valgrind_runs(kite_isa isa) { return strncmp(kite_isa_name(isa), "avx512", 6) != 0; }

/* The --callgrind-child run: every row once, in batches, with callgrind collecting. */
static void bench_child_score(kite_margins_fn fn, const kite_forest *f, const float *x,
                              size_t nrows, size_t cols, size_t batch, float *out)
{
#ifdef BENCH_HAVE_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_TOGGLE_COLLECT;
#endif
    for (size_t r = 0; r < nrows; r += batch)
        fn(f, x + r * cols, nrows - r < batch ? nrows - r : batch, cols, out);
#ifdef BENCH_HAVE_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

typedef struct bench_opts {
    const char *bo_model, *bo_input, *bo_only, *bo_batch_list, *bo_baseline, *bo_delim_text;
    long bo_rows;
    double bo_seconds, bo_max_regression;
    int bo_json, bo_child, bo_repeat, bo_measure; /* bo_measure: -1 auto, or a bench_measure */
    int bo_gate;                                  /* --json, --baseline or --measure given   */
} bench_opts;

/* The perf-gate figures of every kernel and batch; 0, or -1 after printing why. */
static int bench_gate_figures(const bench_opts *o, const kite_model *model, const kite_forest *forest,
                              const kite_matrix *x, const size_t *batches, size_t nbatches,
                              int only_isa, float *out, bench_figures *fig)
{
    memset(fig, 0, sizeof *fig);
    snprintf(fig->bf_model, sizeof fig->bf_model, "%s", o->bo_model);
    snprintf(fig->bf_input, sizeof fig->bf_input, "%s", o->bo_input ? o->bo_input : "random");
    snprintf(fig->bf_fingerprint, sizeof fig->bf_fingerprint, "%016llx",
             (unsigned long long)model->km_fingerprint);
    fig->bf_trees = forest->kf_num_trees;
    fig->bf_groups = forest->kf_num_group;
    fig->bf_max_depth = forest->kf_max_depth;
    fig->bf_features = model->km_num_feature;
    fig->bf_rows = x->kmx_rows;
    fig->bf_repeat = o->bo_repeat;
    fig->bf_seconds = o->bo_seconds;
    char vbuf[4096];
    const char *valgrind = NULL;
#ifdef BENCH_HAVE_CALLGRIND
    if (o->bo_measure != BENCH_TIME) valgrind = bench_find_valgrind(vbuf, sizeof vbuf);
#else
    (void)vbuf;
#endif
    if (o->bo_measure == BENCH_INSTRUCTIONS && !valgrind) {
        fprintf(stderr, "kite bench: --measure instructions: valgrind %s\n",
#ifdef BENCH_HAVE_CALLGRIND
                "is not on PATH (or $KITE_VALGRIND)"
#else
                "support was not built in (no valgrind/callgrind.h)"
#endif
        );
        return -1;
    }
    size_t nrows = x->kmx_rows, cols = x->kmx_cols;
    char rows_text[24], batch_text[24];
    snprintf(rows_text, sizeof rows_text, "%ld", o->bo_rows);
    for (int i = 0; i < KITE_ISA__COUNT; i++) {
        if (!kite_isa_available((kite_isa)i) || (only_isa >= 0 && i != only_isa)) continue;
        bench_measure m = o->bo_measure >= 0 ? (bench_measure)o->bo_measure
                          : valgrind && bench_valgrind_runs((kite_isa)i) ? BENCH_INSTRUCTIONS
                                                                          : BENCH_TIME;
        if (m == BENCH_INSTRUCTIONS && !bench_valgrind_runs((kite_isa)i)) {
            fprintf(stderr, "kite bench: %s skipped: valgrind cannot run it (use --measure time "
                            "or auto for it)\n", kite_isa_name((kite_isa)i));
            continue;
        }
        for (size_t bi = 0; bi < nbatches && fig->bf_nentries < BENCH_MAX_ENTRIES; bi++) {
            size_t batch = batches[bi] < nrows ? batches[bi] : nrows;
            bench_entry *e = &fig->bf_entries[fig->bf_nentries++];
            snprintf(e->be_kernel, sizeof e->be_kernel, "%s", kite_isa_name((kite_isa)i));
            e->be_batch = batches[bi];
            e->be_measure = m;
            double per_row = time_median(kite_isa_kernel((kite_isa)i), forest, x->kmx_data, nrows,
                                         cols, batch, out, o->bo_seconds,
                                         m == BENCH_TIME ? o->bo_repeat : 1, &e->be_us_per_call);
            e->be_ns_per_tree_row = per_row * 1e9 / (forest->kf_num_trees ? forest->kf_num_trees : 1);
            e->be_rows_per_s = 1.0 / per_row;
            e->be_per_row = per_row * 1e9;
            if (m != BENCH_INSTRUCTIONS) continue;
            snprintf(batch_text, sizeof batch_text, "%zu", batch);
            char *args[16];
            int n = 0;
            args[n++] = "bench";
            args[n++] = "--callgrind-child";
            args[n++] = "--model";
            args[n++] = (char *)o->bo_model;
            args[n++] = o->bo_input ? "--input" : "--rows";
            args[n++] = o->bo_input ? (char *)o->bo_input : rows_text;
            if (o->bo_delim_text) {
                args[n++] = "--delimiter";
                args[n++] = (char *)o->bo_delim_text;
            }
            args[n++] = "--kernel";
            args[n++] = (char *)kite_isa_name((kite_isa)i);
            args[n++] = "--batch";
            args[n++] = batch_text;
            args[n] = NULL;
            char err[512];
            double ir;
            if (bench_callgrind_count(valgrind, args, &ir, err, sizeof err)) {
                fprintf(stderr, "kite bench: %s batch %zu: %s\n", e->be_kernel, batch, err);
                return -1;
            }
            e->be_per_row = ir / (double)nrows;
        }
    }
    if (!fig->bf_nentries) {
        fprintf(stderr, "kite bench: no kernel could be measured this way\n");
        return -1;
    }
    return 0;
}

static void bench_print_figures(FILE *fp, const bench_figures *fig)
{
    fprintf(fp, "%-10s %8s %-12s %14s %16s %14s %14s\n", "kernel", "batch", "measure", "per row",
            "ns/tree/row", "rows/s", "us/call");
    int instr = 0, timed = 0;
    for (int i = 0; i < fig->bf_nentries; i++) {
        const bench_entry *e = &fig->bf_entries[i];
        instr += e->be_measure == BENCH_INSTRUCTIONS;
        timed += e->be_measure == BENCH_TIME;
        fprintf(fp, "%-10s %8zu %-12s %14.2f %16.3f %14.0f %14.3f\n", e->be_kernel, e->be_batch,
                bench_measure_name(e->be_measure), e->be_per_row, e->be_ns_per_tree_row,
                e->be_rows_per_s, e->be_us_per_call);
    }
    if (instr)
        fprintf(fp, "instructions: callgrind's count inside the scoring loop per row "
                    "(deterministic; its ns/tree/row is one timed run, for reading)\n");
    if (timed)
        fprintf(fp, "time: ns per row, the median of %d timed runs of %g s thread CPU each\n",
                fig->bf_repeat, fig->bf_seconds);
}

/* --json: the figures (bench_write_json's object, which --baseline reads back) on one line,
 * with the command's result members first, so a DAG step reads the last stdout line. */
static void bench_json_line(const bench_figures *fig, const bench_figures *base, double max_regression, int rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *ms = open_memstream(&text, &len);
    if (ms) {
        bench_write_json(ms, fig, base, max_regression);
        fclose(ms);
    }
    if (!text) {
        kite__cli_json_result("bench", KITE_EXIT_ERROR, "\"error\":\"out of memory\"");
        return;
    }
    size_t n = 0; /* drop the layout: newlines and the indentation after them (strings hold none) */
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            while (i + 1 < len && text[i + 1] == ' ') i++;
            continue;
        }
        text[n++] = text[i];
    }
    while (n && text[n - 1] != '}') n--;
    text[n ? n - 1 : 0] = 0; /* the members alone: between the outer braces */
    kite__cli_json_result("bench", rc, "%s", text[0] == '{' ? text + 1 : text);
    free(text);
}

int kite__cmd_bench(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_BASELINE, OPT_MAX_REGRESSION, OPT_MEASURE, OPT_REPEAT, OPT_CHILD };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"input", required_argument, 0, 'i'},
        {"rows", required_argument, 0, 'n'},    {"batch", required_argument, 0, 'b'},
        {"seconds", required_argument, 0, 's'}, {"kernel", required_argument, 0, 'k'},
        {"delimiter", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
        {"json", no_argument, 0, OPT_JSON},     {"baseline", required_argument, 0, OPT_BASELINE},
        {"max-regression", required_argument, 0, OPT_MAX_REGRESSION},
        {"measure", required_argument, 0, OPT_MEASURE}, {"repeat", required_argument, 0, OPT_REPEAT},
        {"callgrind-child", no_argument, 0, OPT_CHILD}, {0, 0, 0, 0}};
    bench_opts o = {.bo_batch_list = "1,16,256,4096", .bo_rows = 4096, .bo_seconds = 0.3,
                    .bo_max_regression = 0.05, .bo_repeat = 5, .bo_measure = -1};
    kite_csv_options csv = KITE_CSV_OPTIONS_DEFAULT;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "m:i:n:b:s:k:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.bo_model = optarg; break;
        case 'i': o.bo_input = optarg; break;
        case 'n':
            o.bo_rows = strtol(optarg, &end, 10);
            if (*end || o.bo_rows < 1 || o.bo_rows > 10000000) {
                fprintf(stderr, "kite bench: --rows: '%s' is not a number in [1, 10000000]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case 'b': o.bo_batch_list = optarg; break;
        case 's':
            o.bo_seconds = strtod(optarg, &end);
            if (*end || !(o.bo_seconds > 0 && o.bo_seconds <= 60)) {
                fprintf(stderr, "kite bench: --seconds: '%s' is not a number in (0, 60]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case 'k': o.bo_only = optarg; break;
        case 'd':
            o.bo_delim_text = optarg;
            if (kite_cli_csv_option("bench", "", c, optarg, &csv)) return KITE_EXIT_USAGE;
            break;
        case OPT_JSON: o.bo_json = o.bo_gate = 1; break;
        case OPT_BASELINE: o.bo_baseline = optarg, o.bo_gate = 1; break;
        case OPT_MAX_REGRESSION:
            o.bo_max_regression = strtod(optarg, &end) / 100;
            if ((*end && strcmp(end, "%")) || end == optarg || !(o.bo_max_regression >= 0) ||
                o.bo_max_regression > 100) {
                fprintf(stderr, "kite bench: --max-regression: '%s' is not a percentage in "
                                "[0, 10000] (e.g. 5%%)\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case OPT_MEASURE:
            o.bo_gate = 1;
            if (!strcmp(optarg, "auto")) o.bo_measure = -1;
            else if (!strcmp(optarg, "instructions")) o.bo_measure = BENCH_INSTRUCTIONS;
            else if (!strcmp(optarg, "time")) o.bo_measure = BENCH_TIME;
            else {
                fprintf(stderr, "kite bench: --measure: '%s' is not auto, instructions or time\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case OPT_REPEAT:
            o.bo_repeat = (int)strtol(optarg, &end, 10);
            if (*end || o.bo_repeat < 1 || o.bo_repeat > 64) {
                fprintf(stderr, "kite bench: --repeat: '%s' is not a number in [1, 64]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case OPT_CHILD: o.bo_child = 1; break;
        case 'h': bench_usage(stdout); return KITE_EXIT_OK;
        default: bench_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!o.bo_model || optind < argc) {
        fprintf(stderr, "kite bench: %s\n", optind < argc ? "unexpected argument" : "--model is required");
        bench_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    size_t batches[16], nbatches = 0;
    for (const char *p = o.bo_batch_list; *p && nbatches < 16;) {
        long b = strtol(p, &end, 10);
        if (end == p || b < 1 || b > 10000000 || (*end && *end != ',')) {
            fprintf(stderr, "kite bench: --batch: '%s' is not a list of numbers in [1, 10000000]\n",
                    o.bo_batch_list);
            return KITE_EXIT_USAGE;
        }
        batches[nbatches++] = (size_t)b;
        p = *end ? end + 1 : end;
    }
    int only_isa = -1;
    if (o.bo_only) {
        for (int i = 0; i < KITE_ISA__COUNT; i++)
            if (!strcmp(o.bo_only, kite_isa_name((kite_isa)i))) only_isa = i;
        if (only_isa < 0 || !kite_isa_available((kite_isa)only_isa)) {
            fprintf(stderr, "kite bench: --kernel: '%s' is not available on this CPU/build\n", o.bo_only);
            return KITE_EXIT_USAGE;
        }
    }
    if (o.bo_child && only_isa < 0) {
        fprintf(stderr, "kite bench: --callgrind-child needs --kernel\n");
        return KITE_EXIT_USAGE;
    }
    bench_figures *base = NULL, *fig = NULL;
    char err[512];
    if (o.bo_baseline) { /* read first: a bad baseline fails before minutes of measuring */
        base = malloc(sizeof *base);
        if (!base || bench_read_json(o.bo_baseline, base, err, sizeof err)) {
            fprintf(stderr, "kite bench: %s\n", base ? err : "out of memory");
            free(base);
            return KITE_EXIT_ERROR;
        }
    }

    kite_model model;
    kite_forest forest;
    if (kite__cli_load_forest(o.bo_model, &model, &forest)) {
        free(base);
        return KITE_EXIT_ERROR;
    }
    kite_matrix x = {0};
    size_t cols = (size_t)model.km_num_feature ? (size_t)model.km_num_feature : 1;
    if (o.bo_input) {
        if (kite_csv_load_matrix(o.bo_input, &csv, model.km_feature_names, model.km_num_feature, &x,
                                 err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            kite_forest_free(&forest);
            kite_model_free(&model);
            free(base);
            return KITE_EXIT_ERROR;
        }
        cols = x.kmx_cols;
    } else {
        x.kmx_rows = (size_t)o.bo_rows;
        x.kmx_cols = cols;
        x.kmx_data = random_rows(x.kmx_rows, cols);
    }
    size_t nrows = x.kmx_rows, groups = (size_t)forest.kf_num_group;
    size_t max_batch = 1;
    for (size_t i = 0; i < nbatches; i++)
        if (batches[i] > max_batch) max_batch = batches[i];
    float *out = malloc((nrows > max_batch ? nrows : max_batch) * groups * sizeof(float));
    float *ref = malloc(nrows * groups * sizeof(float) + 1);
    int rc = KITE_EXIT_OK;
    if (!x.kmx_data || !out || !ref || nrows == 0) {
        fprintf(stderr, "kite bench: %s\n", nrows == 0 ? "no rows to score" : "out of memory");
        rc = KITE_EXIT_ERROR;
        goto done;
    }
    if (o.bo_child) {
        bench_child_score(kite_isa_kernel((kite_isa)only_isa), &forest, x.kmx_data, nrows, cols,
                          batches[0] < nrows ? batches[0] : nrows, out);
        goto done;
    }

    if (!o.bo_json)
        printf("model %s: %d trees, %d groups, max depth %d, %zu rows (%s), kernel chosen: %s\n",
               o.bo_model, forest.kf_num_trees, forest.kf_num_group, forest.kf_max_depth, nrows,
               o.bo_input ? o.bo_input : "random", kite_isa_name(kite_isa_active()));
    kite_margins_scalar(&forest, x.kmx_data, nrows, cols, ref);
    for (int i = 1; i < KITE_ISA__COUNT; i++) {
        kite_margins_fn fn = kite_isa_kernel((kite_isa)i);
        if (!fn) continue;
        fn(&forest, x.kmx_data, nrows, cols, out);
        if (memcmp(out, ref, nrows * groups * sizeof(float))) {
            fprintf(stderr, "kite bench: kernel %s disagrees with scalar on this model; please "
                            "report it\n", kite_isa_name((kite_isa)i));
            rc = KITE_EXIT_ERROR;
        }
    }
    if (o.bo_gate) {
        fig = malloc(sizeof *fig);
        if (!fig || bench_gate_figures(&o, &model, &forest, &x, batches, nbatches, only_isa, out, fig)) {
            if (!fig) fprintf(stderr, "kite bench: out of memory\n");
            rc = KITE_EXIT_ERROR;
            goto done;
        }
        if (!o.bo_json) bench_print_figures(stdout, fig);
        if (base) {
            /* With --json, stdout is the JSON alone; the table goes to stderr. */
            int bad = bench_compare(o.bo_json ? stderr : stdout, fig, base, o.bo_max_regression);
            if (bad) rc = KITE_EXIT_ERROR;
        }
        if (o.bo_json) bench_json_line(fig, base, o.bo_max_regression, rc);
        goto done;
    }
    printf("%-10s %8s %16s %14s %14s\n", "kernel", "batch", "ns/tree/row", "rows/s", "us/call");
    for (int i = 0; i < KITE_ISA__COUNT; i++) {
        if (!kite_isa_available((kite_isa)i) || (only_isa >= 0 && i != only_isa)) continue;
        for (size_t bi = 0; bi < nbatches; bi++) {
            size_t batch = batches[bi] < nrows ? batches[bi] : nrows;
            size_t calls;
            double s = time_kernel(kite_isa_kernel((kite_isa)i), &forest, x.kmx_data, nrows, cols,
                                   batch, out, o.bo_seconds, &calls);
            double per_row = s / ((double)calls * (double)batch);
            printf("%-10s %8zu %16.3f %14.0f %14.3f\n", kite_isa_name((kite_isa)i), batch,
                   per_row * 1e9 / (forest.kf_num_trees ? forest.kf_num_trees : 1), 1.0 / per_row,
                   s / (double)calls * 1e6);
        }
    }
done:
    free(fig);
    free(base);
    free(out);
    free(ref);
    kite_matrix_free(&x);
    kite_forest_free(&forest);
    kite_model_free(&model);
    return rc;
}
