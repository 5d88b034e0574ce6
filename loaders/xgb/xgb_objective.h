/* Private to kite_xgb (loaders/xgb/), not installed.
 * Objectives and intercepts of XGBoost models (xgb_objective.c).
 * Used by xgb_model.c only. */
#ifndef KITE_XGB_OBJECTIVE_H
#define KITE_XGB_OBJECTIVE_H

#include <stddef.h>

#include <kite/model.h>

/* Longest base_score list kite reads: one value per output (num_class or num_target). */
#define KITE_XGB_MAX_OUTPUTS (1 << 16)

/* Parses learner_model_param.base_score as XGBoost writes it: "5E-1" (1.x), "[5E-1]" (2.x),
 * "[v0,v1,...]" (3.1+, one per output). Fills out[0..*n) (float32 values, as XGBoost reads
 * them). Fails with "base_score: ..." naming what is wrong. */
kite_err kite__xgb_parse_base_score(const char *text, float *out, int max, int *n, char *errstr,
                                    size_t errstr_size);

/* Sets km_objective, km_transform, km_base_scores and km_base_margins (km_num_group each)
 * from the objective's name and the base_score values (1 value is broadcast to every
 * output). Needs km_num_group and km_version. The margin of each value follows XGBoost's
 * ProbToMargin for the objective and the version that wrote the model (3.2+ clamps a
 * logistic base_score to [1e-6, 1 - 1e-6]). */
kite_err kite__xgb_apply_objective(const char *objective, const float *base, int nbase,
                                   kite_model *m, char *errstr, size_t errstr_size);

#endif
