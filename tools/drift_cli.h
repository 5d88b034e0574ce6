/* Helpers shared by `kite profile` and `kite drift`: reading the feature matrix, scoring it,
 * and the prediction column that drift tracks. */
#ifndef KITE_DRIFT_CLI_H
#define KITE_DRIFT_CLI_H

#include <stddef.h>

#include "cli.h"
#include "drift_quality.h"

/* Splits "a,b,c" into a NULL-terminated array of strings (one allocation; free() it).
 * Returns NULL on no memory; *n receives the count. */
char **kite_drift_cli_split(const char *list, int *n);

/* Scores x with forest and returns one prediction per row: the prediction for single-output
 * models, the most probable class for multi-class ones. NULL on no memory. */
float *kite_drift_cli_predict(const kite_forest *f, const kite_matrix *x);

/* What quality metrics fit the model: classification for binary:logistic / reg:logistic /
 * binary:hinge, none for multi-class, regression otherwise. */
kite_task kite_drift_cli_task(const kite_forest *f);

#endif
