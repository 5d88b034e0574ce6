/* kite bench: how fast each kernel this CPU runs scores a user's model, one thread.
 * The rows come from --input (CSV with a header, columns matched to the model's
 * feature_names like kite score) or are random (--rows N, values uniform in [-3, 3), 2% NaN).
 * Before timing, every kernel's margins are compared with the scalar kernel's. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dispatch.h"

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
            "  -h, --help           this text\n");
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

/* CPU time of this thread: on a shared machine, time slices given to other processes do not
 * count against the kernel (what is left is cache and SMT sharing). */
static double thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_kernel(kite_margins_fn fn, const kite_forest *f, const float *x, size_t nrows,
                          size_t cols, size_t batch, float *out, double seconds, size_t *calls)
{
    double t0 = thread_cpu_now(), t;
    size_t n = 0, r = 0;
    do {
        for (int k = 0; k < 8; k++, n++) {
            if (r + batch > nrows) r = 0;
            fn(f, x + r * cols, batch, cols, out);
            r += batch;
        }
        t = thread_cpu_now();
    } while (t - t0 < seconds);
    *calls = n;
    return t - t0;
}

int kite_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"input", required_argument, 0, 'i'},
        {"rows", required_argument, 0, 'n'},    {"batch", required_argument, 0, 'b'},
        {"seconds", required_argument, 0, 's'}, {"kernel", required_argument, 0, 'k'},
        {"delimiter", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model_path = NULL, *input = NULL, *only = NULL, *batch_list = "1,16,256,4096";
    long nrows_random = 4096;
    double seconds = 0.3;
    kite_csv_options csv = KITE_CSV_OPTIONS_DEFAULT;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "m:i:n:b:s:k:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'i': input = optarg; break;
        case 'n':
            nrows_random = strtol(optarg, &end, 10);
            if (*end || nrows_random < 1 || nrows_random > 10000000) {
                fprintf(stderr, "kite bench: --rows: '%s' is not a number in [1, 10000000]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case 'b': batch_list = optarg; break;
        case 's':
            seconds = strtod(optarg, &end);
            if (*end || !(seconds > 0 && seconds <= 60)) {
                fprintf(stderr, "kite bench: --seconds: '%s' is not a number in (0, 60]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case 'k': only = optarg; break;
        case 'd':
            if (!(csv.kco_delimiter = kite_cli_delimiter(optarg))) {
                fprintf(stderr, "kite bench: --delimiter: '%s' is not one character\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case 'h': bench_usage(stdout); return KITE_EXIT_OK;
        default: bench_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!model_path || optind < argc) {
        fprintf(stderr, "kite bench: %s\n", optind < argc ? "unexpected argument" : "--model is required");
        bench_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    size_t batches[16], nbatches = 0;
    for (const char *p = batch_list; *p && nbatches < 16;) {
        long b = strtol(p, &end, 10);
        if (end == p || b < 1 || b > 10000000 || (*end && *end != ',')) {
            fprintf(stderr, "kite bench: --batch: '%s' is not a list of numbers in [1, 10000000]\n",
                    batch_list);
            return KITE_EXIT_USAGE;
        }
        batches[nbatches++] = (size_t)b;
        p = *end ? end + 1 : end;
    }
    int only_isa = -1;
    if (only) {
        for (int i = 0; i < KITE_ISA__COUNT; i++)
            if (!strcmp(only, kite_isa_name((kite_isa)i))) only_isa = i;
        if (only_isa < 0 || !kite_isa_available((kite_isa)only_isa)) {
            fprintf(stderr, "kite bench: --kernel: '%s' is not available on this CPU/build\n", only);
            return KITE_EXIT_USAGE;
        }
    }

    kite_model model;
    kite_forest forest;
    if (kite_cli_load_forest(model_path, &model, &forest)) return KITE_EXIT_ERROR;
    char err[512];
    kite_matrix x = {0};
    size_t cols = (size_t)model.km_num_feature ? (size_t)model.km_num_feature : 1;
    if (input) {
        if (kite_csv_load_matrix(input, &csv, model.km_feature_names, model.km_num_feature, &x, err,
                                 sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            kite_forest_free(&forest);
            kite_model_free(&model);
            return KITE_EXIT_ERROR;
        }
        cols = x.km_cols;
    } else {
        x.km_rows = (size_t)nrows_random;
        x.km_cols = cols;
        x.km_data = random_rows(x.km_rows, cols);
    }
    size_t nrows = x.km_rows, groups = (size_t)forest.kf_num_group;
    size_t max_batch = 1;
    for (size_t i = 0; i < nbatches; i++)
        if (batches[i] > max_batch) max_batch = batches[i];
    float *out = malloc((nrows > max_batch ? nrows : max_batch) * groups * sizeof(float));
    float *ref = malloc(nrows * groups * sizeof(float) + 1);
    int rc = KITE_EXIT_OK;
    if (!x.km_data || !out || !ref || nrows == 0) {
        fprintf(stderr, "kite bench: %s\n", nrows == 0 ? "no rows to score" : "out of memory");
        rc = KITE_EXIT_ERROR;
        goto done;
    }

    printf("model %s: %d trees, %d groups, max depth %d, %zu rows (%s), kernel chosen: %s\n",
           model_path, forest.kf_num_trees, forest.kf_num_group, forest.kf_max_depth, nrows,
           input ? input : "random", kite_isa_name(kite_isa_active()));
    kite_margins_scalar(&forest, x.km_data, nrows, cols, ref);
    for (int i = 1; i < KITE_ISA__COUNT; i++) {
        kite_margins_fn fn = kite_isa_kernel((kite_isa)i);
        if (!fn) continue;
        fn(&forest, x.km_data, nrows, cols, out);
        if (memcmp(out, ref, nrows * groups * sizeof(float))) {
            fprintf(stderr, "kite bench: kernel %s disagrees with scalar on this model; please "
                            "report it\n", kite_isa_name((kite_isa)i));
            rc = KITE_EXIT_ERROR;
        }
    }
    printf("%-8s %8s %16s %14s %14s\n", "kernel", "batch", "ns/tree/row", "rows/s", "us/call");
    for (int i = 0; i < KITE_ISA__COUNT; i++) {
        if (!kite_isa_available((kite_isa)i) || (only_isa >= 0 && i != only_isa)) continue;
        for (size_t bi = 0; bi < nbatches; bi++) {
            size_t batch = batches[bi] < nrows ? batches[bi] : nrows;
            size_t calls;
            double s = time_kernel(kite_isa_kernel((kite_isa)i), &forest, x.km_data, nrows, cols,
                                   batch, out, seconds, &calls);
            double per_row = s / ((double)calls * (double)batch);
            printf("%-8s %8zu %16.3f %14.0f %14.3f\n", kite_isa_name((kite_isa)i), batch,
                   per_row * 1e9 / (forest.kf_num_trees ? forest.kf_num_trees : 1), 1.0 / per_row,
                   s / (double)calls * 1e6);
        }
    }
done:
    free(out);
    free(ref);
    kite_matrix_free(&x);
    kite_forest_free(&forest);
    kite_model_free(&model);
    return rc;
}
