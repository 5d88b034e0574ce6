/* Private to the kite command (tools/), not installed.
 * Raw CSV rows through a feature spec: the shared reading loop of `kite featurize` and
 * `kite score --spec` (one code path, so the offline features equal the online ones). */
#ifndef KITE_FEATURIZE_CSV_H
#define KITE_FEATURIZE_CSV_H

#include <kite/csv.h>
#include <kite/feature_state.h>

typedef struct kite_featurizer {
    const kite_feature_spec *kz_spec;
    kite_feature_state *kz_state;
    kite_csv_reader *kz_csv;
    int kz_num_inputs;
    int *kz_cols;             /* CSV column of each spec input                               */
    kite_raw_value *kz_raw;   /* this row's inputs                                           */
    kite_csv_row kz_row;      /* the row last read                                           */
} kite_featurizer;

/* Opens path with the spec's CSV dialect and maps every spec input to a header column.
 * max_keys 0: the spec's. Errors: "raw.csv: no column \"T\" (input of spec s.json)". */
kite_err kite__featurizer_open(kite_featurizer *fz, const kite_feature_spec *spec, const char *path,
                              size_t max_keys, char *errstr, size_t errstr_size);
void kite__featurizer_close(kite_featurizer *fz);

/* Next row's features into out. Returns 1 with a row, 0 at end of file, -1 for a bad row
 * (errstr: "raw.csv:LINE: key \"k\": field \"X\": ...", the row is skipped and the state is
 * unchanged; keep going), -2 for a CSV error that ends the file. */
int kite__featurizer_next(kite_featurizer *fz, float *out, kite_features_status *status,
                         char *errstr, size_t errstr_size);

/* A kept raw column of the row last read, written as a CSV field: a number in the spec's
 * dialect becomes %.17g, a missing marker an empty field, other text is quoted. */
void kite__featurizer_write_raw(const kite_featurizer *fz, int col, FILE *fp);

/* Featurizes a whole raw CSV into a matrix (rows x num_outputs) for `kite score --spec`; a bad
 * row ends it with a one-line error ("raw.csv:LINE: key ...: field ..."). label (may be NULL)
 * names a raw column read alongside as float labels (missing -> NaN) into *labels. */
kite_err kite__featurizer_load_matrix(const kite_feature_spec *spec, const char *path,
                                     const char *label, kite_matrix *x, float **labels,
                                     char *errstr, size_t errstr_size);
#endif
