/* Private to kite_xgb (loaders/xgb/), not installed.
 * The category dictionary of XGBoost 3.1+ models (xgb_cats.c). */
#ifndef KITE_XGB_CATS_H
#define KITE_XGB_CATS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include <kite/model.h>

/* Fills m->km_cats from gradient_booster.model.cats (needs km_num_feature); leaves it NULL
 * when no feature has categories. On failure the caller frees the model. */
kite_err kite__xgb_read_cats(const cJSON *cats, kite_model *m, char *errstr, size_t errstr_size);

#endif
