#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include <kite/clock.h>
#include <kite/loaded_model.h>
#include <kite/registry.h>
#include <kite/xgb_model.h>

/* "A:B" (rounds A to B-1), "A:" or ":B"; B 0 or absent means the last round. */
static int parse_range(const char *s, int32_t *begin, int32_t *end)
{
    char *colon = strchr(s, ':'), *e;
    if (!colon) return -1;
    long a = 0, b = 0;
    if (colon != s) {
        a = strtol(s, &e, 10);
        if (e != colon || a < 0 || a > 1 << 30) return -1;
    }
    if (colon[1]) {
        b = strtol(colon + 1, &e, 10);
        if (*e || b < 0 || b > 1 << 30) return -1;
    }
    *begin = (int32_t)a, *end = (int32_t)b;
    return 0;
}

int kite__cli_load_forest_rounds(const char *path, const char *range, int best_iteration,
                                kite_model *model, kite_forest *forest)
{
    char err[512];
    int32_t begin = 0, end = 0;
    if (range && parse_range(range, &begin, &end)) {
        fprintf(stderr, "kite: --iteration-range \"%s\": expected BEGIN:END (rounds BEGIN to END-1)\n",
                range);
        return -1;
    }
    /* A registry reference (models:/NAME@ALIAS, an MLflow model directory, a versioned
     * directory: loaders/xgb/include/kite/registry.h) names the file to load; a plain file is itself. */
    kite_model_ref ref;
    if (kite_registry_resolve(path, getenv("KITE_REGISTRY_URI"), &ref, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s\n", err);
        return -1;
    }
    kite_loaded_model_opts o = {begin, end, range != NULL, best_iteration};
    kite_loaded_model *lm;
    if (kite_loaded_model_load(ref.kmr_model, &o, &lm, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s\n", err);
        return -1;
    }
    /* The batch commands own their model and forest outright: take them out of the shell. */
    *model = lm->klm_model;
    *forest = lm->klm_forest;
    free(lm);
    return 0;
}

int kite__cli_load_forest(const char *path, kite_model *model, kite_forest *forest)
{
    return kite__cli_load_forest_rounds(path, NULL, 0, model, forest);
}

static char cli_delimiter(const char *arg)
{
    if (!strcmp(arg, "\\t") || !strcmp(arg, "tab")) return '\t';
    if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n') return arg[0];
    return 0;
}

int kite_cli_csv_option(const char *command, const char *prefix, int opt, const char *arg,
                        kite_csv_options *csv)
{
    switch (opt) {
    case 'd':
        if (!(csv->kco_delimiter = cli_delimiter(arg))) {
            fprintf(stderr, "kite %s: --%sdelimiter: '%s' is not one character (or 'tab')\n",
                    command, prefix, arg);
            return -1;
        }
        return 0;
    case KITE_CLI_OPT_DECIMAL_COMMA: csv->kco_decimal_comma = 1; return 0;
    case KITE_CLI_OPT_MISSING: csv->kco_missing = arg; return 0;
    default: return -1;
    }
}

int kite__cli_number(const char *command, const char *opt, const char *arg, double lo, double hi,
                    double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: %s: '%s' is not a number in [%g, %g]\n", command, opt, arg, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}
