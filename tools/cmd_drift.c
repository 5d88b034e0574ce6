/* kite drift: offline batch comparison of a CSV with a reference profile. Feeds the rows
 * through the same drift monitor the streaming engine uses (engine/drift/include/kite/drift.h), in batches. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/drift.h>
#include "drift_cli.h"
#include <kite/drift_report.h>

#define DRIFT_CLI_BATCH 1024
#define DRIFT_EXIT_DRIFT 3

static void drift_usage(FILE *out)
{
    fprintf(out,
            "usage: kite drift --reference ref.json --input current.csv [--report out.html]\n"
            "                  [--json out.json] [options]\n\n"
            "Compares a CSV with a reference profile (from `kite profile`): PSI, the per-column\n"
            "drift test, dataset and prediction drift, and quality when labels are given.\n"
            "The whole input is one window named \"all\"; --window adds more (the same\n"
            "windows the streaming engine runs).\n\n"
            "  -r, --reference FILE     reference profile JSON\n"
            "  -i, --input FILE         current data CSV with a header (columns by profile name)\n"
            "      --report FILE        HTML report (self-contained, inline SVG)\n"
            "      --report-window NAME window the HTML report shows (default: all)\n"
            "      --report-dir DIR     a report per closed tumbling or time window (e.g. daily,\n"
            "                           weekly): DIR/<window>-<check>.html and .json\n"
            "      --json FILE          JSON summary of every window into FILE, and one summary\n"
            "                           line on stdout (last): command, result, ok, exit, rows,\n"
            "                           features, drifted_features, drifted_share, dataset_drift,\n"
            "                           prediction_drift, report (README \"Exit codes and --json\")\n"
            "      --events FILE        status-change events, one JSON object per line\n"
            "      --metrics FILE       Prometheus text of the drift gauges\n"
            "  -s, --spec FILE          the input has raw rows: featurize them with this feature\n"
            "                           spec first (its outputs must be the profile's features)\n"
            "  -m, --model FILE         score the rows: prediction drift and quality\n"
            "      --label COLUMN       labels for quality (needs --model)\n"
            "  -w, --window SPEC        extra window, repeatable: sliding:SIZE:STEP, tumbling:SIZE,\n"
            "                           decay:STEP:FACTOR, hourly, daily, weekly, time:SECONDS\n"
            "                           (NAME=SPEC names it)\n"
            "      --time-column A[,B]  event time of each row (columns joined by a space) for\n"
            "                           hourly, daily, weekly and time:SECONDS windows\n"
            "      --time-format F      iso8601 (default), epoch, epoch_ms or a pattern such as\n"
            "                           '%%d/%%m/%%Y %%H.%%M.%%S' (AirQualityUCI.csv's Date,Time)\n"
            "      --test NAME          override the per-column test: psi, ks, chisquare, z,\n"
            "                           jensenshannon, wasserstein (default: auto, as Evidently)\n"
            "      --drift-share X      dataset drift when this share of features drifted (0.5)\n"
            "      --fail-on-drift      exit 3 when the \"all\" window shows dataset drift\n"
            "  -d, --delimiter C        field delimiter (default ',')\n"
            "      --decimal-comma      numbers use a decimal comma\n"
            "      --missing MARKER     a value that means missing, e.g. -200\n"
            "  -q, --quiet              no table on stdout\n"
            "  -h, --help               this text\n\n"
            "Exit status: 0 ok, 1 bad input, 2 usage error, 3 drift (with --fail-on-drift).\n");
}

static void print_table(const kite_drift_monitor *m, const kite_drift_result *r)
{
    const kite_profile *p = kite_drift_profile(m);
    printf("%-24s %-12s %-14s %12s %12s %10s %-12s\n", "column", "kind", "test", "statistic",
           "p_value", "psi", "status");
    for (int c = 0; c < p->kpf_ncolumns; c++) {
        const kite_drift_feature *f = &r->kdr_columns[c];
        printf("%-24s %-12s %-14s %12.6g %12.6g %10.6f %-12s%s\n", p->kpf_columns[c].kpc_name,
               p->kpf_columns[c].kpc_kind ? "categorical" : "numeric",
               kite_drift_test_name(f->kdf_test), f->kdf_stat, f->kdf_pvalue, f->kdf_psi,
               kite_drift_level_name(f->kdf_level), f->kdf_drifted ? " drifted" : "");
    }
    printf("drifted features: %d of %d (share %.3f): %s\n", r->kdr_ndrifted, r->kdr_nfeatures,
           r->kdr_drifted_share, r->kdr_dataset_drift ? "DATASET DRIFT" : "no dataset drift");
}

static int drain_events(kite_drift_monitor *m, FILE *fp)
{
    kite_drift_event ev[64];
    char line[1024];
    size_t n;
    while ((n = kite_drift_events(m, ev, 64)) > 0)
        for (size_t i = 0; fp && i < n; i++) {
            kite_drift_event_json(m, &ev[i], line, sizeof line);
            if (fprintf(fp, "%s\n", line) < 0) return -1;
        }
    return 0;
}

int kite__cmd_drift(int argc, char **argv)
{
    enum { OPT_REPORT = 256, OPT_RWIN, OPT_JSON, OPT_EVENTS, OPT_METRICS, OPT_LABEL, OPT_TEST,
           OPT_SHARE, OPT_FAIL, OPT_TIME, OPT_TIME_FORMAT, OPT_RDIR };
    static const struct option opts[] = {
        {"reference", required_argument, 0, 'r'}, {"input", required_argument, 0, 'i'},
        {"report", required_argument, 0, OPT_REPORT}, {"report-window", required_argument, 0, OPT_RWIN},
        {"report-dir", required_argument, 0, OPT_RDIR},
        {"json", required_argument, 0, OPT_JSON}, {"events", required_argument, 0, OPT_EVENTS},
        {"metrics", required_argument, 0, OPT_METRICS}, {"model", required_argument, 0, 'm'}, {"spec", required_argument, 0, 's'},
        {"label", required_argument, 0, OPT_LABEL}, {"window", required_argument, 0, 'w'},
        {"test", required_argument, 0, OPT_TEST}, {"drift-share", required_argument, 0, OPT_SHARE},
        {"fail-on-drift", no_argument, 0, OPT_FAIL}, KITE_CLI_CSV_LONGOPTS,
        {"time-column", required_argument, 0, OPT_TIME},
        {"time-format", required_argument, 0, OPT_TIME_FORMAT}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *ref_path = NULL, *input = NULL, *report = NULL, *report_window = "all";
    const char *json = NULL, *events_path = NULL, *metrics_path = NULL, *model_path = NULL;
    const char *label = NULL, *spec_path = NULL, *time_column = NULL, *time_format = "iso8601";
    int fail_on_drift = 0, quiet = 0;
    kite_drift_report_dir report_dir = {.krd_title = "kite drift"};
    char err[512];
    kite_csv_options csv = KITE_CSV_OPTIONS_DEFAULT;
    kite_drift_config cfg;
    kite_drift_config_default(&cfg);
    cfg.kdc_windows[0] = (kite_drift_window_config){"all", KITE_WINDOW_TUMBLING, 0, 0, 0, 0};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "r:i:m:s:w:d:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': ref_path = optarg; break;
        case 'i': input = optarg; break;
        case OPT_REPORT: report = optarg; break;
        case OPT_RWIN: report_window = optarg; break;
        case OPT_RDIR: report_dir.krd_dir = optarg; break;
        case OPT_JSON: json = optarg; break;
        case OPT_EVENTS: events_path = optarg; break;
        case OPT_METRICS: metrics_path = optarg; break;
        case 'm': model_path = optarg; break;
        case 's': spec_path = optarg; break;
        case OPT_LABEL: label = optarg; break;
        case 'w':
            if (cfg.kdc_nwindows == KITE_DRIFT_MAX_WINDOWS) {
                fprintf(stderr, "kite drift: at most %d windows\n", KITE_DRIFT_MAX_WINDOWS - 1);
                return KITE_EXIT_USAGE;
            }
            if (kite_drift_window_parse(optarg, &cfg.kdc_windows[cfg.kdc_nwindows], err, sizeof err)) {
                fprintf(stderr, "kite drift: --window: %s\n", err);
                return KITE_EXIT_USAGE;
            }
            cfg.kdc_nwindows++;
            break;
        case OPT_TEST:
            if (kite_drift_test_parse(optarg, &cfg.kdc_test)) {
                fprintf(stderr, "kite drift: --test: unknown test '%s'\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        case OPT_SHARE: {
            char *end;
            cfg.kdc_drift_share = strtod(optarg, &end);
            if (*end || !(cfg.kdc_drift_share > 0 && cfg.kdc_drift_share <= 1)) {
                fprintf(stderr, "kite drift: --drift-share: '%s' is not in (0, 1]\n", optarg);
                return KITE_EXIT_USAGE;
            }
            break;
        }
        case OPT_FAIL: fail_on_drift = 1; break;
        case OPT_TIME: time_column = optarg; break;
        case OPT_TIME_FORMAT: time_format = optarg; break;
        case 'd':
        case KITE_CLI_OPT_DECIMAL_COMMA:
        case KITE_CLI_OPT_MISSING:
            if (kite_cli_csv_option("drift", "", c, optarg, &csv)) return KITE_EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': drift_usage(stdout); return KITE_EXIT_OK;
        default: drift_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!ref_path || !input || optind < argc || (label && !model_path)) {
        fprintf(stderr, "kite drift: %s\n",
                optind < argc         ? "unexpected argument"
                : !ref_path || !input ? "--reference and --input are required"
                                      : "--label needs --model");
        drift_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    for (int w = 0; w < cfg.kdc_nwindows; w++)
        if (cfg.kdc_windows[w].kwc_kind == KITE_WINDOW_TIME && !time_column) {
            fprintf(stderr, "kite drift: window %s needs --time-column\n", cfg.kdc_windows[w].kwc_name);
            return KITE_EXIT_USAGE;
        }
    int report_w = -1;
    for (int w = 0; w < cfg.kdc_nwindows; w++)
        if (!strcmp(cfg.kdc_windows[w].kwc_name, report_window)) report_w = w;
    if (report_w < 0) {
        fprintf(stderr, "kite drift: --report-window: no window named '%s'\n", report_window);
        return KITE_EXIT_USAGE;
    }

    int rc = KITE_EXIT_ERROR, have_model = 0;
    kite_profile prof;
    kite_model model = {0};
    kite_forest forest = {0};
    kite_matrix x = {0};
    float *pred = NULL, *labels = NULL;
    double *times = NULL;
    size_t ntimes = 0;
    char **names = NULL;
    kite_drift_monitor *m = NULL;
    FILE *events = NULL;
    kite_feature_spec *fspec = NULL;
    char **spec_names = NULL;
    if (kite_profile_load(ref_path, &prof, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    int nfeat = kite_profile_num_features(&prof);
    if (model_path) {
        if (kite__cli_load_forest(model_path, &model, &forest)) goto out;
        have_model = 1;
        if (model.km_num_feature != nfeat) {
            fprintf(stderr, "kite: %s has %d features but the profile %s has %d\n", model_path,
                    model.km_num_feature, ref_path, nfeat);
            goto out;
        }
        if (nfeat == prof.kpf_ncolumns) {
            fprintf(stderr, "kite: warning: %s has no prediction column (profiled without a "
                            "model): no prediction drift\n", ref_path);
        }
        if (cfg.kdc_task == KITE_TASK_NONE) cfg.kdc_task = kite__drift_cli_task(&forest);
    }
    names = calloc((size_t)nfeat + 1, sizeof *names);
    if (!names) goto out;
    for (int j = 0; j < nfeat; j++) names[j] = prof.kpf_columns[j].kpc_name;
    size_t nlabels = 0;
    if (spec_path) {
        if (kite__drift_cli_featurize(spec_path, have_model ? &model : NULL, input, label, &fspec,
                                     &spec_names, &x, &labels, &nlabels))
            goto out;
        for (int j = 0; j < nfeat; j++)
            if (j >= (int)x.kmx_cols || strcmp(spec_names[j], names[j])) {
                fprintf(stderr, "kite: %s: output %d is \"%s\" but the profile's feature %d is \"%s\"\n",
                        spec_path, j, j < (int)x.kmx_cols ? spec_names[j] : "(none)", j, names[j]);
                goto out;
            }
        if ((int)x.kmx_cols != nfeat) {
            fprintf(stderr, "kite: %s has %zu outputs but the profile %s has %d features\n",
                    spec_path, x.kmx_cols, ref_path, nfeat);
            goto out;
        }
    } else if (kite_csv_load_matrix(input, &csv, names, nfeat, &x, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out;
    }
    if (have_model && !(pred = kite__drift_cli_predict(&forest, &x))) {
        fprintf(stderr, "kite: out of memory scoring %zu rows\n", x.kmx_rows);
        goto out;
    }
    if (label && !spec_path && kite_csv_load_column(input, &csv, label, &labels, &nlabels, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out;
    }
    if (time_column) {
        if (!(times = kite__drift_cli_times(input, &csv, time_column, time_format, &ntimes))) goto out;
        if (ntimes != x.kmx_rows) {
            fprintf(stderr, "kite: %s: %zu event times for %zu rows\n", input, ntimes, x.kmx_rows);
            goto out;
        }
    }
    if (kite_drift_monitor_new(&prof, &cfg, &m, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out;
    }
    if (report_dir.krd_dir) {
        if (kite_drift_report_dir_prepare(report_dir.krd_dir, err, sizeof err)) {
            fprintf(stderr, "kite: --report-dir %s\n", err);
            goto out;
        }
        kite_drift_set_check_hook(m, kite_drift_report_dir_hook, &report_dir);
    }
    if (events_path && !(events = fopen(events_path, "w"))) {
        fprintf(stderr, "kite: %s: cannot write\n", events_path);
        goto out;
    }
    int has_pred_col = nfeat < prof.kpf_ncolumns;
    /* With labels, batches never straddle a window step, so each row's (prediction, label)
     * pair counts in the same sub-window as the row: the gcd of every step and size. */
    size_t batch = DRIFT_CLI_BATCH;
    for (int w = 0; labels && w < cfg.kdc_nwindows; w++) {
        const kite_drift_window_config *wc = &cfg.kdc_windows[w];
        size_t step = wc->kwc_kind == KITE_WINDOW_TUMBLING ? wc->kwc_size : wc->kwc_step;
        if (wc->kwc_kind == KITE_WINDOW_TIME) step = 1;
        for (size_t a = batch, b = step; b;) { /* batch = gcd(batch, step) */
            size_t t = a % b;
            a = b;
            b = t;
            batch = a;
        }
    }
    for (size_t r = 0; r < x.kmx_rows; r += batch) {
        size_t n = x.kmx_rows - r < batch ? x.kmx_rows - r : batch;
        /* Labels first: a pair counts in the window its row lands in. */
        for (size_t k = 0; labels && k < n && r + k < nlabels; k++)
            kite_drift_observe_pair(m, pred[r + k], labels[r + k]);
        kite_drift_observe(m, x.kmx_data + r * x.kmx_cols, n, x.kmx_cols,
                           pred && has_pred_col ? pred + r : NULL, times ? times + r : NULL);
        if (drain_events(m, events)) break;
    }
    kite_drift_flush(m);
    if (drain_events(m, events) || (events && fclose(events) != 0)) {
        events = NULL;
        fprintf(stderr, "kite: %s: cannot write\n", events_path);
        goto out;
    }
    events = NULL;
    const kite_drift_result *all = kite_drift_latest(m, 0);
    if (!all) {
        fprintf(stderr, "kite: %s: no data rows\n", input);
        goto out;
    }
    if (!quiet) print_table(m, all);
    if (json && kite_drift_report_json_write(m, json, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out;
    }
    if (report) {
        char title[256];
        snprintf(title, sizeof title, "kite drift: %s vs %s", input, ref_path);
        if (kite_drift_report_html_write(m, report_w, title, report, err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            goto out;
        }
    }
    if (metrics_path) {
        kite_prom p;
        kite_prom_init(&p);
        kite_drift_metrics_render(m, &p);
        FILE *fp = fopen(metrics_path, "w");
        int ok = fp && !p.kpr_oom && fputs(p.kpr_buf ? p.kpr_buf : "", fp) >= 0;
        if (fp && fclose(fp) != 0) ok = 0;
        kite_prom_free(&p);
        if (!ok) {
            fprintf(stderr, "kite: %s: cannot write\n", metrics_path);
            goto out;
        }
    }
    if (report_dir.krd_dir) {
        if (!quiet)
            printf("%llu window reports written to %s\n", (unsigned long long)report_dir.krd_written,
                   report_dir.krd_dir);
        if (report_dir.krd_failed) goto out; /* each failure printed its line */
    }
    rc = fail_on_drift && all->kdr_dataset_drift ? DRIFT_EXIT_DRIFT : KITE_EXIT_OK;
    if (json) { /* --json FILE: the report there, the line a DAG step branches on here */
        char jf[2200];
        kite__cli_json_string(jf, sizeof jf, json);
        kite__cli_json_result("drift", rc, "\"rows\":%zu,\"features\":%d,\"drifted_features\":%d,"
                             "\"drifted_share\":%.6g,\"dataset_drift\":%s,\"prediction_drift\":%s,"
                             "\"report\":%s",
                             x.kmx_rows, all->kdr_nfeatures, all->kdr_ndrifted, all->kdr_drifted_share,
                             all->kdr_dataset_drift ? "true" : "false",
                             all->kdr_prediction_drift < 0 ? "null" : all->kdr_prediction_drift ? "true" : "false",
                             jf);
    }
out:
    if (events) fclose(events);
    kite_drift_monitor_free(m);
    free(names);
    free(spec_names);
    kite_feature_spec_free(fspec);
    free(pred);
    free(labels);
    free(times);
    kite_matrix_free(&x);
    if (have_model) {
        kite_forest_free(&forest);
        kite_model_free(&model);
    }
    kite_profile_free(&prof);
    return rc;
}
