/* kite's public C API in one include: `#include <kite/kite.h>`, link with -lkite
 * (pkg-config kite, or find_package(kite) and kite::kite in CMake).
 *
 *   kite_model_load / kite_forest_build / kite_forest_predict   load and score XGBoost models
 *   kite_csv_*, kite_num_*                                      the CSV loader, number text <-> float
 *   kite_feature_spec_* / kite_feature_state_*                  raw events -> feature rows
 *   kite_profile_* / kite_drift_*                               reference profiles and drift
 *   kite_http_server_*                                          the HTTP scoring server
 *   kite_pipeline_*                                             the Kafka pipeline (kite serve)
 * Each header documents its functions; errors are kite_err values with a message in errstr. */
#ifndef KITE_KITE_H
#define KITE_KITE_H

#include "kite_error.h"
#include "model.h"
#include "forest.h"
#include "dispatch.h"
#include "xgb_model.h"
#include "csv.h"
#include "num.h"
#include "feature_spec.h"
#include "feature_state.h"
#include "profile.h"
#include "drift.h"
#include "drift_report.h"
#include "http_server.h"
#include "config.h"
#include "pipeline.h"

#endif
