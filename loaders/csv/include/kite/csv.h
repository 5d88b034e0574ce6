/* CSV reading: a streaming tokenizer (fields as text, with line numbers) and a loader of
 * numeric matrices on top of it.
 *
 * Dialect: RFC 4180 quoting ("a, b" and "" for a quote), CRLF or LF, a configurable delimiter
 * and decimal comma. Rows whose fields are all empty (AirQualityUCI.csv ends with ~100 of
 * ";;;;;;" lines) are skipped and counted. Fields past the header's count are ignored only
 * when empty. When the delimiter is not ',', trailing commas of header names are dropped
 * (AirQualityUCI.csv's header ends "AH,,,,,"). */
#ifndef KITE_CSV_H
#define KITE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include <kite/error.h>
#include <kite/model.h>

typedef struct kite_csv_options {
    char kco_delimiter;          /* ',' by default; ';' for AirQualityUCI.csv              */
    int kco_decimal_comma;       /* 1: "2,6" means 2.6                                     */
    const char *kco_missing;     /* extra missing marker, e.g. "-200"; NULL for none       */
} kite_csv_options;

#define KITE_CSV_OPTIONS_DEFAULT ((kite_csv_options){',', 0, NULL})

typedef struct kite_csv_reader kite_csv_reader;

typedef struct kite_csv_row {
    char **kcr_fields;   /* kcr_nfields pointers into the reader's buffer, valid until next */
    size_t *kcr_columns; /* 1-based column (byte offset in the line + 1) of each field      */
    int kcr_nfields;
    size_t kcr_line;     /* 1-based line number where the row starts                       */
} kite_csv_row;

/* path "-" reads stdin. Reads the header row immediately. */
kite_err kite_csv_open(const char *path, const kite_csv_options *opts, kite_csv_reader **out,
                       char *errstr, size_t errstr_size);
/* As kite_csv_open, over a stream the caller opened and closes after kite_csv_close; name
 * stands for the path in messages. POST /predict reads its body this way (fmemopen), so the
 * HTTP API and kite score share one CSV grammar. */
kite_err kite_csv_open_stream(FILE *fp, const char *name, const kite_csv_options *opts,
                              kite_csv_reader **out, char *errstr, size_t errstr_size);
void kite_csv_close(kite_csv_reader *r);

const char *kite_csv_path(const kite_csv_reader *r);
int kite_csv_num_columns(const kite_csv_reader *r);
const char *kite_csv_column_name(const kite_csv_reader *r, int col);
/* Column index of a header name, or -1. */
int kite_csv_find_column(const kite_csv_reader *r, const char *name);
size_t kite_csv_blank_rows(const kite_csv_reader *r);

/* Next data row: returns KITE_ERR_OK with row filled, KITE_ERR_OK with row->kcr_nfields == 0
 * at end of file, or an error ("file:line:column: what") for unterminated quotes and too many
 * non-empty fields. */
kite_err kite_csv_next(kite_csv_reader *r, kite_csv_row *row, char *errstr, size_t errstr_size);

/* Parses one field as a float: empty, NA, NaN, null and the missing marker give NaN.
 * Returns 0 on success, -1 if the text is not a number. */
int kite_csv_parse_float(const kite_csv_options *opts, const char *text, float *out);

/* Whether text is one of the missing markers. */
int kite_csv_is_missing(const kite_csv_options *opts, const char *text);

/* A dense row-major float matrix. */
typedef struct kite_matrix {
    float *kmx_data;
    size_t kmx_rows;
    size_t kmx_cols;
} kite_matrix;

void kite_matrix_free(kite_matrix *m);

/* Loads the columns named in names[0..ncols) (or, when names is NULL, the first ncols
 * columns by position) of every data row into a matrix. Errors name file:line:column. */
kite_err kite_csv_load_matrix(const char *path, const kite_csv_options *opts,
                              char *const *names, int ncols, kite_matrix *out, char *errstr,
                              size_t errstr_size);

/* The model's feature columns (by its feature_names, or the first ones by position when it has
 * none or by_position is set), with
 * category strings coded by the model's own dictionary (XGBoost 3.1+ `cats`): a category the
 * model never saw is an error naming it, as in XGBoost. */
kite_err kite_csv_load_model_rows(const char *path, const kite_csv_options *opts,
                                  const kite_model *model, int by_position, kite_matrix *out,
                                  char *errstr, size_t errstr_size);

/* One field as model feature j: a number (as kite_csv_parse_float), or a category coded by
 * the model's dictionary when it has one for j. 0, or -1 with the reason in why. */
int kite_csv_parse_model_value(const kite_csv_options *opts, const kite_model *model, int j,
                               const char *text, float *v, char *why, size_t why_size);

/* Loads one named column as floats (e.g. a label column). */
kite_err kite_csv_load_column(const char *path, const kite_csv_options *opts, const char *name,
                              float **out, size_t *nrows, char *errstr, size_t errstr_size);

#endif
