#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "xgb_model.h"

int kite_cli_load_forest(const char *path, kite_model *model, kite_forest *forest)
{
    char err[512];
    if (kite_model_load(path, model, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s\n", err);
        return -1;
    }
    if (kite_forest_build(model, forest, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s: %s\n", path, err);
        kite_model_free(model);
        return -1;
    }
    return 0;
}

char kite_cli_delimiter(const char *arg)
{
    if (!strcmp(arg, "\\t") || !strcmp(arg, "tab")) return '\t';
    if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n') return arg[0];
    return 0;
}

double kite_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int kite_cli_number(const char *command, const char *opt, const char *arg, double lo, double hi,
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
