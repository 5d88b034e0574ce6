/* kite featurize: raw CSV rows through a feature spec into a features CSV (the offline path of
 * the feature pipeline; training scripts call it, so training sees the serving code's values). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/clock.h>
#include "cli.h"
#include "featurize_csv.h"

#define FEATURIZE_MAX_KEEP 16

static void featurize_usage(FILE *out)
{
    fprintf(out,
            "usage: kite featurize --spec S --input raw.csv [options]\n\n"
            "Turns raw rows into model features with a feature spec (docs/feature-spec.md).\n"
            "The CSV dialect (delimiter, decimal comma) and missing markers come from the spec.\n\n"
            "  -s, --spec FILE         feature spec (JSON)\n"
            "  -i, --input FILE        raw CSV with a header row ('-' for stdin)\n"
            "  -o, --output FILE       features CSV (default: stdout): one column per feature, in\n"
            "                          the spec's order; missing values are empty fields\n"
            "  -k, --keep COLUMN       also copy this raw column (e.g. a label) after the features;\n"
            "                          numbers are rewritten with a decimal point (repeatable)\n"
            "      --drop-warmup       leave out rows whose key is still warming up\n"
            "      --max-keys N        most stream keys held (default: the spec's max_keys)\n"
            "      --max-bad N         bad rows tolerated before the exit status is 1 (default 0);\n"
            "                          every bad row is skipped and reported on stderr\n"
            "  -q, --quiet             no summary on stderr\n"
            "      --json              one JSON summary line on stdout (needs -o): command, result,\n"
            "                          exit, rows, warming_up, bad, features, keys, output, seconds\n"
            "  -h, --help              this text\n\n"
            "Floats are printed with %%.9g, so they read back as the same float32.\n"
            "Exit status: 0 on success, 1 on a bad spec/input or too many bad rows, 2 on a usage error.\n");
}

static long featurize_count(const char *opt, const char *arg, long max)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || !*arg || v < 0 || v > max) {
        fprintf(stderr, "kite featurize: %s: '%s' is not a number in [0, %ld]\n", opt, arg, max);
        return -1;
    }
    return v;
}

int kite__cmd_featurize(int argc, char **argv)
{
    enum { OPT_DROP_WARMUP = 256, OPT_MAX_KEYS, OPT_MAX_BAD, OPT_JSON };
    static const struct option opts[] = {
        {"spec", required_argument, 0, 's'},      {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},    {"keep", required_argument, 0, 'k'},
        {"drop-warmup", no_argument, 0, OPT_DROP_WARMUP},
        {"max-keys", required_argument, 0, OPT_MAX_KEYS},
        {"max-bad", required_argument, 0, OPT_MAX_BAD},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"json", no_argument, 0, OPT_JSON},
        {0, 0, 0, 0}};
    const char *spec_path = NULL, *input = NULL, *output = NULL, *keep[FEATURIZE_MAX_KEEP];
    int nkeep = 0, drop_warmup = 0, quiet = 0, json = 0;
    long max_keys = 0, max_bad = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "s:i:o:k:qh", opts, NULL)) != -1) {
        switch (c) {
        case 's': spec_path = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'k':
            if (nkeep == FEATURIZE_MAX_KEEP) {
                fprintf(stderr, "kite featurize: --keep: at most %d columns\n", FEATURIZE_MAX_KEEP);
                return KITE_EXIT_USAGE;
            }
            keep[nkeep++] = optarg;
            break;
        case 'q': quiet = 1; break;
        case 'h': featurize_usage(stdout); return KITE_EXIT_OK;
        case OPT_DROP_WARMUP: drop_warmup = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_MAX_KEYS:
            if ((max_keys = featurize_count("--max-keys", optarg, 100000000)) < 0) return KITE_EXIT_USAGE;
            break;
        case OPT_MAX_BAD:
            if ((max_bad = featurize_count("--max-bad", optarg, 1L << 40)) < 0) return KITE_EXIT_USAGE;
            break;
        default: featurize_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!spec_path || !input || optind < argc) {
        fprintf(stderr, "kite featurize: %s\n",
                optind < argc ? "unexpected argument" : "--spec and --input are required");
        featurize_usage(stderr);
        return KITE_EXIT_USAGE;
    }

    if (json && !output) {
        fprintf(stderr, "kite featurize: --json writes the summary on stdout: give the features -o FILE\n");
        return KITE_EXIT_USAGE;
    }
    double t0 = kite_clock_mono_s();
    char err[1024];
    kite_feature_spec *spec;
    if (kite_feature_spec_load(spec_path, &spec, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    kite_featurizer fz;
    if (kite__featurizer_open(&fz, spec, input, (size_t)max_keys, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        kite_feature_spec_free(spec);
        return KITE_EXIT_ERROR;
    }
    int keep_cols[FEATURIZE_MAX_KEEP];
    for (int k = 0; k < nkeep; k++) {
        if ((keep_cols[k] = kite_csv_find_column(fz.kz_csv, keep[k])) < 0) {
            fprintf(stderr, "kite: %s: no column \"%s\" (--keep)\n", input, keep[k]);
            kite__featurizer_close(&fz);
            kite_feature_spec_free(spec);
            return KITE_EXIT_ERROR;
        }
    }
    FILE *fp = output ? fopen(output, "w") : stdout;
    if (!fp) {
        fprintf(stderr, "kite: cannot write %s\n", output);
        kite__featurizer_close(&fz);
        kite_feature_spec_free(spec);
        return KITE_EXIT_ERROR;
    }
    int nout = kite_feature_spec_num_outputs(spec);
    float *row = malloc((size_t)nout * sizeof *row);
    int rc = row ? KITE_EXIT_OK : KITE_EXIT_ERROR;
    for (int j = 0; j < nout; j++) fprintf(fp, j ? ",%s" : "%s", kite_feature_spec_output_name(spec, j));
    for (int k = 0; k < nkeep; k++) fprintf(fp, ",%s", keep[k]);
    fputc('\n', fp);
    size_t rows = 0, bad = 0, warming = 0;
    while (rc == KITE_EXIT_OK) {
        kite_features_status status;
        int got = kite__featurizer_next(&fz, row, &status, err, sizeof err);
        if (got == 0) break;
        if (got == -2) {
            fprintf(stderr, "kite: %s\n", err);
            rc = KITE_EXIT_ERROR;
            break;
        }
        if (got == -1) {
            fprintf(stderr, "kite: %s\n", err);
            bad++;
            continue;
        }
        if (status == KITE_FEATURES_WARMING_UP) {
            warming++;
            if (drop_warmup) continue;
        }
        for (int j = 0; j < nout; j++) {
            if (j) fputc(',', fp);
            if (!isnan(row[j])) fprintf(fp, "%.9g", (double)row[j]);
        }
        for (int k = 0; k < nkeep; k++) {
            fputc(',', fp);
            kite__featurizer_write_raw(&fz, keep_cols[k], fp);
        }
        fputc('\n', fp);
        rows++;
    }
    if (ferror(fp) || (fp != stdout && fclose(fp))) {
        fprintf(stderr, "kite: cannot write %s\n", output ? output : "stdout");
        rc = KITE_EXIT_ERROR;
    } else if (fp == stdout) {
        fflush(stdout);
    }
    if (rc == KITE_EXIT_OK && bad > (size_t)max_bad) {
        fprintf(stderr, "kite: %zu bad rows (--max-bad %ld)\n", bad, max_bad);
        rc = KITE_EXIT_ERROR;
    }
    if (!quiet)
        fprintf(stderr,
                "kite: featurized %zu rows (%zu warming up%s, %zu bad) into %d features, %zu keys, "
                "%.1f ms\n", rows + (drop_warmup ? warming : 0), warming,
                drop_warmup ? ", dropped" : "", bad, nout, kite_features_num_keys(fz.kz_state),
                (kite_clock_mono_s() - t0) * 1e3);
    if (json) {
        char o[2200];
        kite__cli_json_string(o, sizeof o, output);
        kite__cli_json_result("featurize", rc, "\"rows\":%zu,\"warming_up\":%zu,\"bad\":%zu,\"features\":%d,"
                             "\"keys\":%zu,\"output\":%s,\"seconds\":%.6f",
                             rows + (drop_warmup ? warming : 0), warming, bad, nout,
                             (size_t)kite_features_num_keys(fz.kz_state), o, kite_clock_mono_s() - t0);
    }
    free(row);
    kite__featurizer_close(&fz);
    kite_feature_spec_free(spec);
    return rc;
}
