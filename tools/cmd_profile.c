/* kite profile: learn a reference profile (bins, frequencies, missing rates, baseline quality)
 * from training data, for `kite drift` and the streaming drift monitor. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_cli.h"
#include <kite/profile.h>

static void profile_usage(FILE *out)
{
    fprintf(out,
            "usage: kite profile --input train.csv --output ref.json (--model M | --columns A,B,..)\n"
            "                    [options]\n\n"
            "Learns a reference profile: per feature (and for the model's prediction) quantile bin\n"
            "edges with underflow/overflow bins, a fine grid for KS/Wasserstein, category\n"
            "frequencies with an \"other\" bin, missing rates, and the model's quality on labelled\n"
            "rows.\n\n"
            "  -m, --model FILE         XGBoost model: its feature_names pick the columns, and its\n"
            "                           predictions are profiled too\n"
            "  -s, --spec FILE          the input has raw rows: featurize them with this feature\n"
            "                           spec first (its outputs are the profiled columns)\n"
            "  -c, --columns A,B,...    columns to profile (without --model)\n"
            "  -i, --input FILE         training CSV with a header row\n"
            "  -o, --output FILE        reference profile JSON to write\n"
            "      --label COLUMN       labelled rows: store the model's baseline quality\n"
            "      --bins N             quantile bins per numeric feature (default 10)\n"
            "      --fine-bins N        fine grid bins (default 256)\n"
            "      --max-categories N   integer columns with <= N distinct values are categorical\n"
            "                           (default 10; 0 = never)\n"
            "      --categorical A,B    force these columns categorical\n"
            "      --numeric A,B        force these columns numeric\n"
            "      --by-position        take the model's features from the first columns in order\n"
            "  -d, --delimiter C        field delimiter (default ',')\n"
            "      --decimal-comma      numbers use a decimal comma\n"
            "      --missing MARKER     a value that means missing, e.g. -200\n"
            "      --json               one JSON summary line on stdout: command, result, exit,\n"
            "                           rows, columns, task, output\n"
            "  -h, --help               this text\n\n"
            "Exit status: 0 on success, 1 on bad input, 2 on a usage error.\n");
}

static int parse_int(const char *what, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < lo || v > hi) {
        fprintf(stderr, "kite profile: %s: '%s' is not a number in [%d, %d]\n", what, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int kite__cmd_profile(int argc, char **argv)
{
    enum { OPT_LABEL = 256, OPT_BINS, OPT_FINE, OPT_MAXCAT, OPT_CAT, OPT_NUM,
           OPT_POS, OPT_JSON };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"spec", required_argument, 0, 's'},
        {"columns", required_argument, 0, 'c'}, {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},  {"label", required_argument, 0, OPT_LABEL},
        {"bins", required_argument, 0, OPT_BINS}, {"fine-bins", required_argument, 0, OPT_FINE},
        {"max-categories", required_argument, 0, OPT_MAXCAT},
        {"categorical", required_argument, 0, OPT_CAT}, {"numeric", required_argument, 0, OPT_NUM},
        {"by-position", no_argument, 0, OPT_POS}, KITE_CLI_CSV_LONGOPTS,
        {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int json = 0;
    const char *model_path = NULL, *spec = NULL, *columns = NULL, *input = NULL, *output = NULL;
    const char *label = NULL, *cat_list = NULL, *num_list = NULL;
    int by_position = 0;
    kite_profile_options po = KITE_PROFILE_OPTIONS_DEFAULT;
    kite_csv_options csv = KITE_CSV_OPTIONS_DEFAULT;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:s:c:i:o:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 's': spec = optarg; break;
        case 'c': columns = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case OPT_LABEL: label = optarg; break;
        case OPT_BINS:
            if (parse_int("--bins", optarg, 1, 1000, &po.kpo_bins)) return KITE_EXIT_USAGE;
            break;
        case OPT_FINE:
            if (parse_int("--fine-bins", optarg, 1, 4000, &po.kpo_fine_bins)) return KITE_EXIT_USAGE;
            break;
        case OPT_MAXCAT:
            if (parse_int("--max-categories", optarg, 0, 256, &po.kpo_max_categories))
                return KITE_EXIT_USAGE;
            break;
        case OPT_CAT: cat_list = optarg; break;
        case OPT_NUM: num_list = optarg; break;
        case OPT_POS: by_position = 1; break;
        case 'd':
        case KITE_CLI_OPT_DECIMAL_COMMA:
        case KITE_CLI_OPT_MISSING:
            if (kite_cli_csv_option("profile", "", c, optarg, &csv)) return KITE_EXIT_USAGE;
            break;
        case OPT_JSON: json = 1; break;
        case 'h': profile_usage(stdout); return KITE_EXIT_OK;
        default: profile_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!input || !output || optind < argc || (!model_path && !columns && !spec)) {
        fprintf(stderr, "kite profile: %s\n",
                optind < argc ? "unexpected argument"
                              : "--input, --output and --model, --spec or --columns are required");
        profile_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    if (label && !model_path) { /* checked before reading anything */
        fprintf(stderr, "kite profile: --label needs --model (quality is the model's)\n");
        return KITE_EXIT_USAGE;
    }

    int rc = KITE_EXIT_ERROR, ncols = 0, ncat = 0, nnum = 0;
    char err[512];
    kite_model model = {0};
    kite_forest forest = {0};
    int have_model = 0;
    char **names = NULL, **cats = NULL, **nums = NULL, **generated = NULL;
    kite_matrix x = {0};
    float *pred = NULL, *labels = NULL;
    kite_profile prof = {0};
    kite_feature_spec *fspec = NULL;
    char **spec_names = NULL;
    size_t nlabels_spec = 0;
    if (model_path) {
        if (kite__cli_load_forest(model_path, &model, &forest)) return KITE_EXIT_ERROR;
        have_model = 1;
        ncols = model.km_num_feature;
        if (!by_position && model.km_feature_names)
            names = model.km_feature_names;
    } else {
        names = generated = kite__drift_cli_split(columns, &ncols);
        if (!generated || ncols == 0) {
            fprintf(stderr, "kite profile: --columns: no column names\n");
            goto out;
        }
    }
    if ((cat_list && !(cats = kite__drift_cli_split(cat_list, &ncat))) ||
        (num_list && !(nums = kite__drift_cli_split(num_list, &nnum)))) {
        fprintf(stderr, "kite profile: out of memory\n");
        goto out;
    }
    po.kpo_categorical = (const char *const *)cats;
    po.kpo_numeric = (const char *const *)nums;
    if (spec) {
        if (kite__drift_cli_featurize(spec, have_model ? &model : NULL, input, label, &fspec,
                                     &spec_names, &x, &labels, &nlabels_spec))
            goto out;
        names = spec_names;
        ncols = (int)x.kmx_cols;
    } else if (kite_csv_load_matrix(input, &csv, names, ncols, &x, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out;
    }
    /* Unnamed model features (by position) are profiled as f0, f1, ... as XGBoost names them. */
    char **colnames = names;
    char (*fnames)[16] = NULL;
    char **fptrs = NULL;
    if (!colnames) {
        fnames = calloc((size_t)ncols, sizeof *fnames);
        fptrs = calloc((size_t)ncols, sizeof *fptrs);
        if (!fnames || !fptrs) goto out_names;
        for (int j = 0; j < ncols; j++) {
            snprintf(fnames[j], sizeof fnames[j], "f%d", j);
            fptrs[j] = fnames[j];
        }
        colnames = fptrs;
    }
    if (have_model && !(pred = kite__drift_cli_predict(&forest, &x))) {
        fprintf(stderr, "kite profile: out of memory scoring %zu rows\n", x.kmx_rows);
        goto out_names;
    }
    if (kite_profile_build(x.kmx_data, x.kmx_rows, x.kmx_cols, ncols, (const char *const *)colnames,
                           pred, &po, &prof, err, sizeof err)) {
        fprintf(stderr, "kite: %s: %s\n", input, err);
        goto out_names;
    }
    if (label) {
        size_t nl = nlabels_spec;
        if (!spec && kite_csv_load_column(input, &csv, label, &labels, &nl, err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            goto out_names;
        }
        kite_task task = kite__drift_cli_task(&forest);
        double sums[KITE_QUALITY_SLOTS] = {0};
        for (size_t r = 0; r < nl && r < x.kmx_rows; r++)
            if (!isnan(labels[r]) && !isnan(pred[r])) kite_quality_add(sums, pred[r], labels[r]);
        kite_quality q;
        kite_quality_compute(sums, task, &q);
        const char *mn[16];
        double mv[16];
        int nm = kite_quality_list(&q, task, mn, mv, 16);
        snprintf(prof.kpf_task, sizeof prof.kpf_task, "%s", kite_task_name(task));
        snprintf(prof.kpf_label, sizeof prof.kpf_label, "%s", label);
        for (int k = 0; k < nm; k++) kite_profile_set_metric(&prof, mn[k], mv[k]);
    }
    if (have_model && !prof.kpf_task[0]) /* lets the drift monitor track quality later */
        snprintf(prof.kpf_task, sizeof prof.kpf_task, "%s", kite_task_name(kite__drift_cli_task(&forest)));
    if (kite_profile_save(&prof, output, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto out_names;
    }
    fprintf(stderr, "kite: profiled %zu rows, %d columns%s -> %s\n", x.kmx_rows, prof.kpf_ncolumns,
            pred ? " (incl. prediction)" : "", output);
    rc = KITE_EXIT_OK;
    if (json) {
        char o[2200];
        kite__cli_json_string(o, sizeof o, output);
        kite__cli_json_result("profile", rc, "\"rows\":%zu,\"columns\":%d,\"task\":\"%s\",\"output\":%s",
                             x.kmx_rows, prof.kpf_ncolumns, prof.kpf_task, o);
    }
out_names:
    free(fnames);
    free(fptrs);
out:
    kite_profile_free(&prof);
    free(spec_names);
    kite_feature_spec_free(fspec);
    free(pred);
    free(labels);
    kite_matrix_free(&x);
    free(generated);
    free(cats);
    free(nums);
    if (have_model) {
        kite_forest_free(&forest);
        kite_model_free(&model);
    }
    return rc;
}
