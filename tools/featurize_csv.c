/* Raw CSV rows through a feature spec (see featurize_csv.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "featurize_csv.h"

kite_err kite__featurizer_open(kite_featurizer *fz, const kite_feature_spec *spec, const char *path,
                              size_t max_keys, char *errstr, size_t errstr_size)
{
    memset(fz, 0, sizeof *fz);
    fz->kz_spec = spec;
    kite_csv_options opts = KITE_CSV_OPTIONS_DEFAULT;
    opts.kco_delimiter = kite_feature_spec_csv_delimiter(spec);
    opts.kco_decimal_comma = kite_feature_spec_csv_decimal_comma(spec);
    KITE_TRY(kite_csv_open(path, &opts, &fz->kz_csv, errstr, errstr_size));
    int n = fz->kz_num_inputs = kite_feature_spec_num_inputs(spec);
    fz->kz_cols = calloc((size_t)n, sizeof *fz->kz_cols);
    fz->kz_raw = calloc((size_t)n, sizeof *fz->kz_raw);
    if (!fz->kz_cols || !fz->kz_raw) {
        kite__featurizer_close(fz);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        const char *name = kite_feature_spec_input_name(spec, i);
        if ((fz->kz_cols[i] = kite_csv_find_column(fz->kz_csv, name)) < 0) {
            kite__featurizer_close(fz);
            return kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                             "%s: no column \"%s\" (an input of the feature spec)", path, name);
        }
    }
    kite_err err = kite_feature_state_new(spec, max_keys, &fz->kz_state, errstr, errstr_size);
    if (err) kite__featurizer_close(fz);
    return err;
}

void kite__featurizer_close(kite_featurizer *fz)
{
    kite_feature_state_free(fz->kz_state);
    if (fz->kz_csv) kite_csv_close(fz->kz_csv);
    free(fz->kz_cols);
    free(fz->kz_raw);
    memset(fz, 0, sizeof *fz);
}

int kite__featurizer_next(kite_featurizer *fz, float *out, kite_features_status *status,
                         char *errstr, size_t errstr_size)
{
    kite_csv_row *row = &fz->kz_row;
    if (kite_csv_next(fz->kz_csv, row, errstr, errstr_size)) return -2;
    if (row->kcr_nfields == 0) return 0;
    for (int i = 0; i < fz->kz_num_inputs; i++) {
        int c = fz->kz_cols[i];
        kite_raw_value *rv = &fz->kz_raw[i];
        if (c < row->kcr_nfields) {
            rv->kind = KITE_RAW_TEXT;
            rv->text = row->kcr_fields[c];
            rv->text_len = strlen(row->kcr_fields[c]);
        } else {
            rv->kind = KITE_RAW_ABSENT;
            rv->text = NULL;
            rv->text_len = 0;
        }
    }
    char why[400];
    if (kite_features_update(fz->kz_state, fz->kz_raw, out, status, why, sizeof why)) {
        kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s:%zu: %s", kite_csv_path(fz->kz_csv),
                  row->kcr_line, why);
        return -1;
    }
    return 1;
}

void kite__featurizer_write_raw(const kite_featurizer *fz, int col, FILE *fp)
{
    const kite_csv_row *row = &fz->kz_row;
    if (col >= row->kcr_nfields) return;
    const char *t = row->kcr_fields[col];
    size_t n = strlen(t);
    double v;
    if (kite_feature_spec_text_is_missing(fz->kz_spec, t, n)) return;
    if (!kite_feature_spec_text_number(fz->kz_spec, t, n, &v)) {
        if (kite_feature_spec_number_is_missing(fz->kz_spec, v)) return;
        char buf[40]; /* shortest of %.15g / %.17g that reads back as the same double */
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, fp);
        return;
    }
    fputc('"', fp);
    for (; *t; t++) {
        if (*t == '"') fputc('"', fp);
        fputc(*t, fp);
    }
    fputc('"', fp);
}

kite_err kite__featurizer_load_matrix(const kite_feature_spec *spec, const char *path,
                                     const char *label, kite_matrix *x, float **labels,
                                     char *errstr, size_t errstr_size)
{
    memset(x, 0, sizeof *x);
    if (labels) *labels = NULL;
    kite_featurizer fz;
    KITE_TRY(kite__featurizer_open(&fz, spec, path, 0, errstr, errstr_size));
    int label_col = -1;
    if (label && (label_col = kite_csv_find_column(fz.kz_csv, label)) < 0) {
        kite__featurizer_close(&fz);
        return kite_errf(KITE_ERR_CSV, errstr, errstr_size, "%s: no column \"%s\" (--label)", path, label);
    }
    size_t cols = (size_t)kite_feature_spec_num_outputs(spec), cap = 0;
    float *data = NULL, *lab = NULL;
    kite_err err = KITE_ERR_OK;
    for (;;) {
        if (x->kmx_rows == cap) {
            cap = cap ? cap * 2 : 1024;
            float *grown = realloc(data, cap * cols * sizeof *data);
            float *lgrown = grown && label ? realloc(lab, cap * sizeof *lab) : lab;
            if (grown) data = grown;
            if (lgrown) lab = lgrown;
            if (!grown || (label && !lgrown)) {
                err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
                break;
            }
        }
        kite_features_status status;
        int got = kite__featurizer_next(&fz, data + x->kmx_rows * cols, &status, errstr, errstr_size);
        if (got == 0) break;
        if (got < 0) {
            err = got == -1 ? KITE_ERR_PARSE : KITE_ERR_CSV;
            break;
        }
        if (label) {
            const kite_csv_row *row = &fz.kz_row;
            const char *t = label_col < row->kcr_nfields ? row->kcr_fields[label_col] : "";
            double v = NAN;
            if (!kite_feature_spec_text_is_missing(spec, t, strlen(t)) &&
                !kite_feature_spec_text_number(spec, t, strlen(t), &v) &&
                kite_feature_spec_number_is_missing(spec, v))
                v = NAN;
            lab[x->kmx_rows] = (float)v;
        }
        x->kmx_rows++;
    }
    kite__featurizer_close(&fz);
    if (err) {
        free(data);
        free(lab);
        x->kmx_rows = 0;
        return err;
    }
    x->kmx_data = data;
    x->kmx_cols = cols;
    if (labels) *labels = lab;
    else free(lab);
    return KITE_ERR_OK;
}
