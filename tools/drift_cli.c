/* Helpers shared by `kite profile` and `kite drift` (see drift_cli.h). */
#include "drift_cli.h"

#include <stdlib.h>
#include <string.h>

#include <kite/mem.h>
#include <kite/dispatch.h>
#include <kite/event_time.h>
#include "featurize_csv.h"

#include <stdio.h>

char **kite__drift_cli_split(const char *list, int *n)
{
    size_t len = strlen(list), count = 1;
    for (const char *s = list; *s; s++) count += *s == ',';
    char **out = malloc((count + 1) * sizeof *out + len + 1);
    if (!out) return NULL;
    char *text = (char *)(out + count + 1);
    memcpy(text, list, len + 1);
    int k = 0;
    for (char *tok = text;; tok = NULL) {
        char *t = strtok(tok, ",");
        if (!t) break;
        out[k++] = t;
    }
    out[k] = NULL;
    *n = k;
    return out;
}

float *kite__drift_cli_predict(const kite_forest *f, const kite_matrix *x)
{
    size_t groups = (size_t)f->kf_num_group, rows = x->kmx_rows ? x->kmx_rows : 1;
    float *out = malloc(rows * groups * sizeof *out);
    float *pred = malloc(rows * sizeof *pred);
    if (!out || !pred) {
        free(out);
        free(pred);
        return NULL;
    }
    for (size_t r = 0; r < x->kmx_rows; r += 65536) {
        size_t n = x->kmx_rows - r < 65536 ? x->kmx_rows - r : 65536;
        kite_forest_predict(f, x->kmx_data + r * x->kmx_cols, n, x->kmx_cols, out + r * groups, 0);
    }
    int per_row = kite_forest_outputs_per_row(f);
    for (size_t r = 0; r < x->kmx_rows; r++) {
        const float *p = out + r * groups;
        if (per_row == 1) {
            pred[r] = p[0];
            continue;
        }
        size_t best = 0;
        for (size_t k = 1; k < (size_t)per_row; k++)
            if (p[k] > p[best]) best = k;
        pred[r] = (float)best;
    }
    free(out);
    return pred;
}

kite_task kite__drift_cli_task(const kite_forest *f)
{
    if (kite_forest_outputs_per_row(f) != 1 || f->kf_transform == KITE_TRANSFORM_SOFTMAX)
        return KITE_TASK_NONE;
    if (f->kf_transform == KITE_TRANSFORM_SIGMOID || f->kf_transform == KITE_TRANSFORM_HINGE)
        return KITE_TASK_CLASSIFICATION;
    return KITE_TASK_REGRESSION;
}

int kite__drift_cli_featurize(const char *spec_path, const kite_model *model, const char *input,
                             const char *label, kite_feature_spec **spec, char ***names,
                             kite_matrix *x, float **labels, size_t *nlabels)
{
    char err[512];
    *spec = NULL;
    *names = NULL;
    kite_err e = kite_feature_spec_load(spec_path, spec, err, sizeof err);
    if (!e && model) e = kite_feature_spec_check_model(*spec, model, err, sizeof err);
    if (!e) e = kite__featurizer_load_matrix(*spec, input, label, x, labels, err, sizeof err);
    if (e) {
        fprintf(stderr, "kite: %s\n", err);
        kite_feature_spec_free(*spec);
        *spec = NULL;
        return -1;
    }
    int n = kite_feature_spec_num_outputs(*spec);
    *names = calloc((size_t)n + 1, sizeof **names);
    if (!*names) {
        fprintf(stderr, "kite: out of memory\n");
        return -1;
    }
    for (int j = 0; j < n; j++) (*names)[j] = (char *)kite_feature_spec_output_name(*spec, j);
    if (nlabels) *nlabels = label ? x->kmx_rows : 0;
    return 0;
}

double *kite__drift_cli_times(const char *input, const kite_csv_options *csv, const char *columns,
                             const char *format, size_t *nrows)
{
    kite_time_format fmt = !strcmp(format, "iso8601")    ? KITE_TIME_ISO8601
                           : !strcmp(format, "epoch")    ? KITE_TIME_EPOCH
                           : !strcmp(format, "epoch_ms") ? KITE_TIME_EPOCH_MS
                                                         : KITE_TIME_PATTERN;
    char err[512];
    kite_csv_reader *rd = NULL;
    int ncols = 0;
    char **names = kite__drift_cli_split(columns, &ncols);
    int cols[8];
    double *t = NULL;
    size_t n = 0, cap = 0;
    if (!names || ncols < 1 || ncols > 8) {
        fprintf(stderr, "kite: --time-column: 1 to 8 column names\n");
        goto fail;
    }
    if (kite_csv_open(input, csv, &rd, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        goto fail;
    }
    for (int i = 0; i < ncols; i++)
        if ((cols[i] = kite_csv_find_column(rd, names[i])) < 0) {
            fprintf(stderr, "kite: %s: no column \"%s\" (--time-column)\n", input, names[i]);
            goto fail;
        }
    for (;;) {
        kite_csv_row row;
        if (kite_csv_next(rd, &row, err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            goto fail;
        }
        if (row.kcr_nfields == 0) break;
        char text[256];
        size_t len = 0;
        for (int i = 0; i < ncols; i++) {
            const char *f = cols[i] < row.kcr_nfields ? row.kcr_fields[cols[i]] : "";
            len += (size_t)snprintf(text + len, len < sizeof text ? sizeof text - len : 0, "%s%s",
                                    i ? " " : "", f);
            if (len >= sizeof text) break;
        }
        int64_t ms;
        const char *why = "too long";
        if (len >= sizeof text || kite_event_time_parse(fmt, format, text, len, &ms, &why)) {
            fprintf(stderr, "kite: %s:%zu: time \"%.60s\": %s\n", input, row.kcr_line, text, why);
            goto fail;
        }
        if (kite_mem_grow((void **)&t, &cap, n + 1, sizeof *t, 4096)) {
            fprintf(stderr, "kite: out of memory\n");
            goto fail;
        }
        t[n++] = (double)ms / 1000.0;
    }
    kite_csv_close(rd);
    free(names);
    *nrows = n;
    if (!t) t = malloc(sizeof *t); /* no rows: an empty, non-NULL array */
    return t;
fail:
    if (rd) kite_csv_close(rd);
    free(names);
    free(t);
    return NULL;
}
