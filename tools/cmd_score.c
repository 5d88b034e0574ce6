/* kite score: CSV in, predictions CSV out, optionally an accuracy summary against a label. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include <kite/clock.h>
#include <kite/dispatch.h>
#include <kite/num.h>
#include "featurize_csv.h"
#include <kite/pin.h>

/* Rows scored per progress update and per work unit of a thread. */
#define SCORE_CHUNK_ROWS 65536
#define SCORE_PROGRESS_MIN_ROWS 1000000

static void score_usage(FILE *out)
{
    fprintf(out,
            "usage: kite score --model M --input data.csv [options]\n\n"
            "Scores every row of a CSV file and writes one prediction row per input row.\n\n"
            "  -m, --model FILE        XGBoost model (.json or .ubj, as Booster.save_model writes)\n"
            "  -i, --input FILE        CSV with a header row ('-' for stdin)\n"
            "  -o, --output FILE       predictions CSV (default: stdout)\n"
            "      --margin            write raw margins (margin, margin_0..k-1) instead of\n"
            "                          transformed predictions\n"
            "  -t, --threads N         scoring threads (default 1); with N > 1 thread t is\n"
            "                          pinned to core t mod cores (hwloc)\n"
            "  -d, --delimiter C       field delimiter (default ','; 'tab' for tab)\n"
            "      --decimal-comma     numbers use a decimal comma (\"2,6\")\n"
            "      --missing MARKER    a value that means missing, e.g. -200 (empty, NA, NaN\n"
            "                          and null always do)\n"
            "      --by-position       take the first num_feature columns in order instead of\n"
            "                          matching the model's feature_names to the header\n"
            "  -s, --spec FILE         the input has raw rows: turn each into the model's features\n"
            "                          with this feature spec first (its CSV dialect and missing\n"
            "                          markers apply; its feature order must match the model's)\n"
            "      --iteration-range A:B  score boosting rounds A to B-1 only (XGBoost's\n"
            "                          iteration_range; default: every round, as Booster.predict)\n"
            "      --best-iteration    score rounds 0..best_iteration when the model was early\n"
            "                          stopped, as the sklearn wrapper's predict does\n"
            "      --label COLUMN      compare predictions with this column; print accuracy\n"
            "                          (classification) or RMSE (regression) on stderr\n"
            "  -q, --quiet             no summary on stderr\n"
            "      --json              one JSON summary line on stdout (needs -o): command, result,\n"
            "                          exit, rows, model, fingerprint, trees, output, seconds\n"
            "  -h, --help              this text\n\n"
            "Floats are printed with the fewest digits (at most 9) that read back as the same\n"
            "float32.\n"
            "Exit status: 0 on success, 1 on a bad model/input, 2 on a usage error.\n");
}

typedef struct score_job {
    const kite_forest *forest;
    const float *rows;
    size_t nrows;
    size_t stride;
    float *out;
    int margin_only;
    int core;  /* pin to this core (-1: don't pin) */
    int quiet;
} score_job;

static void *score_thread(void *arg)
{
    score_job *job = arg;
    if (job->core >= 0) {
        char err[256];
        if (kite_pin_thread_to_core(job->core, err, sizeof err) != 0)
            fprintf(stderr, "kite: not pinning scoring thread: %s\n", err);
        else if (!job->quiet)
            fprintf(stderr, "kite: scoring thread %d pinned to core %d of %d\n", job->core,
                    job->core % kite_pin_num_cores(), kite_pin_num_cores());
    }
    size_t groups = (size_t)job->forest->kf_num_group;
    for (size_t r = 0; r < job->nrows; r += SCORE_CHUNK_ROWS) {
        size_t n = job->nrows - r < SCORE_CHUNK_ROWS ? job->nrows - r : SCORE_CHUNK_ROWS;
        kite_forest_predict(job->forest, job->rows + r * job->stride, n, job->stride,
                            job->out + r * groups, job->margin_only);
    }
    return NULL;
}

static int score_rows(const kite_forest *f, const kite_matrix *x, float *out, int threads,
                      int margin_only, int progress, int quiet)
{
    size_t groups = (size_t)f->kf_num_group;
    if (threads <= 1) {
        for (size_t r = 0; r < x->kmx_rows; r += SCORE_CHUNK_ROWS) {
            size_t n = x->kmx_rows - r < SCORE_CHUNK_ROWS ? x->kmx_rows - r : SCORE_CHUNK_ROWS;
            kite_forest_predict(f, x->kmx_data + r * x->kmx_cols, n, x->kmx_cols, out + r * groups,
                                margin_only);
            if (progress)
                fprintf(stderr, "\rkite: scored %zu / %zu rows", r + n, x->kmx_rows);
        }
        if (progress) fputc('\n', stderr);
        return 0;
    }
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    score_job *jobs = calloc((size_t)threads, sizeof *jobs);
    char *created = calloc((size_t)threads, 1);
    if (!tids || !jobs || !created) {
        free(tids);
        free(jobs);
        free(created);
        return -1;
    }
    size_t per = (x->kmx_rows + (size_t)threads - 1) / (size_t)threads;
    for (int t = 0; t < threads; t++) {
        size_t begin = per * (size_t)t;
        if (begin >= x->kmx_rows) break;
        size_t n = x->kmx_rows - begin < per ? x->kmx_rows - begin : per;
        jobs[t] = (score_job){f, x->kmx_data + begin * x->kmx_cols, n, x->kmx_cols,
                              out + begin * groups, margin_only, t, quiet};
        if (pthread_create(&tids[t], NULL, score_thread, &jobs[t]) == 0)
            created[t] = 1;
        else {
            jobs[t].core = -1; /* could not start a thread: do its share here, unpinned */
            score_thread(&jobs[t]);
        }
    }
    for (int t = 0; t < threads; t++)
        if (created[t]) pthread_join(tids[t], NULL);
    free(tids);
    free(jobs);
    free(created);
    return 0;
}

static int write_predictions(FILE *fp, const kite_forest *f, const float *out, size_t nrows,
                             int margin_only)
{
    int groups = f->kf_num_group;
    int cols = margin_only ? groups : kite_forest_outputs_per_row(f);
    const char *base = margin_only ? "margin" : "prediction";
    if (cols == 1) {
        fprintf(fp, "%s\n", base);
    } else {
        for (int k = 0; k < cols; k++) fprintf(fp, "%s%s_%d", k ? "," : "", base, k);
        fputc('\n', fp);
    }
    for (size_t r = 0; r < nrows; r++) {
        const float *row = out + r * (size_t)groups;
        /* Shortest text that reads back as the same float32 (loaders/csv/include/kite/num.h), one fwrite a row. */
        char line[512], *o = line;
        for (int k = 0; k < cols; k++) {
            if (o + KITE_NUM_FLOAT_CHARS + 2 > line + sizeof line) {
                fwrite(line, 1, (size_t)(o - line), fp);
                o = line;
            }
            if (k) *o++ = ',';
            o += kite_num_format_float(row[k], o);
        }
        *o++ = '\n';
        fwrite(line, 1, (size_t)(o - line), fp);
    }
    return ferror(fp) ? -1 : 0;
}

/* Accuracy for classifiers (threshold 0.5, or argmax), RMSE otherwise. */
static void print_quality(const kite_forest *f, const float *out, const float *label, size_t n)
{
    size_t groups = (size_t)f->kf_num_group, used = 0, correct = 0;
    double se = 0;
    int classify = f->kf_transform == KITE_TRANSFORM_SIGMOID ||
                   f->kf_transform == KITE_TRANSFORM_SOFTPROB ||
                   f->kf_transform == KITE_TRANSFORM_SOFTMAX ||
                   f->kf_transform == KITE_TRANSFORM_HINGE;
    for (size_t r = 0; r < n; r++) {
        if (isnan(label[r])) continue;
        const float *p = out + r * groups;
        used++;
        if (!classify) {
            se += ((double)p[0] - label[r]) * ((double)p[0] - label[r]);
            continue;
        }
        float cls;
        if (f->kf_transform == KITE_TRANSFORM_SOFTPROB) {
            size_t best = 0;
            for (size_t k = 1; k < groups; k++)
                if (p[k] > p[best]) best = k;
            cls = (float)best;
        } else if (f->kf_transform == KITE_TRANSFORM_SOFTMAX) {
            cls = p[0];
        } else {
            cls = p[0] > 0.5f ? 1.0f : 0.0f;
        }
        correct += cls == label[r];
    }
    if (!used) return;
    if (classify)
        fprintf(stderr, "kite: accuracy %.4f (%zu of %zu labelled rows)\n",
                (double)correct / (double)used, correct, used);
    else
        fprintf(stderr, "kite: rmse %.6g over %zu labelled rows\n", sqrt(se / (double)used), used);
}

int kite__cmd_score(int argc, char **argv)
{
    enum { OPT_MARGIN = 256, OPT_BY_POSITION, OPT_LABEL,
           OPT_RANGE, OPT_BEST, OPT_JSON };
    const char *spec_path = NULL; /* --spec: raw rows through a feature spec */
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},     {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},    {"margin", no_argument, 0, OPT_MARGIN},
        {"threads", required_argument, 0, 't'},   KITE_CLI_CSV_LONGOPTS,
        {"by-position", no_argument, 0, OPT_BY_POSITION},
        {"label", required_argument, 0, OPT_LABEL}, {"quiet", no_argument, 0, 'q'},
        {"spec", required_argument, 0, 's'},
        {"iteration-range", required_argument, 0, OPT_RANGE},
        {"best-iteration", no_argument, 0, OPT_BEST},
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    const char *range = NULL;
    int best = 0, json = 0;
    const char *model_path = NULL, *input = NULL, *output = NULL, *label = NULL;
    int margin_only = 0, threads = 1, by_position = 0, quiet = 0;
    kite_csv_options csv = KITE_CSV_OPTIONS_DEFAULT;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:i:o:t:d:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1024) {
                fprintf(stderr, "kite score: --threads: '%s' is not a number in [1, 1024]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            threads = (int)v;
            break;
        }
        case 'd':
        case KITE_CLI_OPT_DECIMAL_COMMA:
        case KITE_CLI_OPT_MISSING:
            if (kite_cli_csv_option("score", "", c, optarg, &csv)) return KITE_EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 's': spec_path = optarg; break;
        case 'h': score_usage(stdout); return KITE_EXIT_OK;
        case OPT_MARGIN: margin_only = 1; break;
        case OPT_BY_POSITION: by_position = 1; break;
        case OPT_LABEL: label = optarg; break;
        case OPT_RANGE: range = optarg; break;
        case OPT_BEST: best = 1; break;
        case OPT_JSON: json = 1; break;
        default: score_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!model_path || !input || optind < argc) {
        fprintf(stderr, "kite score: %s\n",
                optind < argc ? "unexpected argument" : "--model and --input are required");
        score_usage(stderr);
        return KITE_EXIT_USAGE;
    }

    if (json && !output) {
        fprintf(stderr, "kite score: --json writes the summary on stdout: give the predictions -o FILE\n");
        return KITE_EXIT_USAGE;
    }
    double t0 = kite_clock_mono_s();
    kite_model model;
    kite_forest forest;
    if (kite__cli_load_forest_rounds(model_path, range, best, &model, &forest)) return KITE_EXIT_ERROR;
    double t_model = kite_clock_mono_s();

    char err[1024];
    kite_matrix x;
    float *labels = NULL;
    size_t nlabels = 0;
    if (spec_path) {
        kite_feature_spec *spec = NULL;
        kite_err e = kite_feature_spec_load(spec_path, &spec, err, sizeof err);
        if (!e) e = kite_feature_spec_check_model(spec, &model, err, sizeof err);
        if (!e) e = kite__featurizer_load_matrix(spec, input, label, &x, &labels, err, sizeof err);
        kite_feature_spec_free(spec);
        if (e) {
            fprintf(stderr, "kite: %s\n", err);
            kite_forest_free(&forest);
            kite_model_free(&model);
            return KITE_EXIT_ERROR;
        }
        nlabels = labels ? x.kmx_rows : 0;
    } else if (kite_csv_load_model_rows(input, &csv, &model, by_position, &x, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        kite_forest_free(&forest);
        kite_model_free(&model);
        return KITE_EXIT_ERROR;
    }
    if (label && !spec_path && kite_csv_load_column(input, &csv, label, &labels, &nlabels, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        kite_matrix_free(&x);
        kite_forest_free(&forest);
        kite_model_free(&model);
        return KITE_EXIT_ERROR;
    }
    double t_load = kite_clock_mono_s();

    int rc = KITE_EXIT_OK;
    float *out = malloc((x.kmx_rows ? x.kmx_rows : 1) * (size_t)forest.kf_num_group * sizeof(float));
    int progress = isatty(STDERR_FILENO) && x.kmx_rows >= SCORE_PROGRESS_MIN_ROWS && !quiet;
    if (!out || score_rows(&forest, &x, out, threads, margin_only, progress, quiet)) {
        fprintf(stderr, "kite: out of memory scoring %zu rows\n", x.kmx_rows);
        rc = KITE_EXIT_ERROR;
    }
    double t_score = kite_clock_mono_s();

    if (rc == KITE_EXIT_OK) {
        FILE *fp = output ? fopen(output, "w") : stdout;
        if (!fp || write_predictions(fp, &forest, out, x.kmx_rows, margin_only)) {
            fprintf(stderr, "kite: cannot write %s\n", output ? output : "stdout");
            rc = KITE_EXIT_ERROR;
        }
        if (fp && fp != stdout && fclose(fp)) {
            fprintf(stderr, "kite: cannot write %s\n", output);
            rc = KITE_EXIT_ERROR;
        }
    }
    if (rc == KITE_EXIT_OK && !quiet) {
        double score_s = t_score - t_load;
        fprintf(stderr,
                "kite: %zu rows, %d trees, kernel %s, %d thread%s: model %.1f ms, read %.1f ms, "
                "score %.3f ms (%.0f rows/s), total %.1f ms\n",
                x.kmx_rows, forest.kf_num_trees, kite_isa_name(kite_isa_active()), threads,
                threads == 1 ? "" : "s", (t_model - t0) * 1e3, (t_load - t_model) * 1e3,
                score_s * 1e3, score_s > 0 ? (double)x.kmx_rows / score_s : 0.0,
                (kite_clock_mono_s() - t0) * 1e3);
        if (labels && !margin_only) print_quality(&forest, out, labels, nlabels);
    }
    if (json) {
        char m[2200], o[2200];
        kite__cli_json_string(m, sizeof m, model_path);
        kite__cli_json_string(o, sizeof o, output);
        kite__cli_json_result("score", rc, "\"rows\":%zu,\"model\":%s,\"fingerprint\":\"%016llx\","
                             "\"trees\":%d,\"output\":%s,\"seconds\":%.6f", x.kmx_rows, m,
                             (unsigned long long)model.km_fingerprint, forest.kf_num_trees, o,
                             kite_clock_mono_s() - t0);
    }
    free(out);
    free(labels);
    kite_matrix_free(&x);
    kite_forest_free(&forest);
    kite_model_free(&model);
    return rc;
}
