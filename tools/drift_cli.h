/* Private to the kite command (tools/), not installed.
 * Helpers shared by `kite profile` and `kite drift`: reading the feature matrix, scoring it,
 * and the prediction column that drift tracks. */
#ifndef KITE_DRIFT_CLI_H
#define KITE_DRIFT_CLI_H

#include <stddef.h>

#include "cli.h"
#include <kite/drift_quality.h>
#include <kite/feature_spec.h>

/* Splits "a,b,c" into a NULL-terminated array of strings (one allocation; free() it).
 * Returns NULL on no memory; *n receives the count. */
char **kite__drift_cli_split(const char *list, int *n);

/* Scores x with forest and returns one prediction per row: the prediction for single-output
 * models, the most probable class for multi-class ones. NULL on no memory. */
float *kite__drift_cli_predict(const kite_forest *f, const kite_matrix *x);

/* Raw rows through a feature spec (the `kite featurize` path): loads spec_path, checks it
 * against model (may be NULL), featurizes input into x and reads label (may be NULL) into
 * *labels / *nlabels. *names gets the spec's output names (free() the array, not the strings;
 * they live in *spec, which the caller frees with kite_feature_spec_free after use).
 * Prints "kite: <reason>" and returns -1 on failure. */
int kite__drift_cli_featurize(const char *spec_path, const kite_model *model, const char *input,
                             const char *label, kite_feature_spec **spec, char ***names,
                             kite_matrix *x, float **labels, size_t *nlabels);

/* Event times (seconds since 1970, UTC) of every data row of input, from one column or
 * several joined with a space ("Date,Time"), parsed as format: "iso8601", "epoch",
 * "epoch_ms" or a strftime-like pattern ("%d/%m/%Y %H.%M.%S"). A row whose time does not
 * parse is an error naming file:line. Returns NULL after printing "kite: <reason>". */
double *kite__drift_cli_times(const char *input, const kite_csv_options *csv, const char *columns,
                             const char *format, size_t *nrows);

/* What quality metrics fit the model: classification for binary:logistic / reg:logistic /
 * binary:hinge, none for multi-class, regression otherwise. */
kite_task kite__drift_cli_task(const kite_forest *f);

#endif
