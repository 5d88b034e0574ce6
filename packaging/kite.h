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

#include <kite/error.h>
#include <kite/model.h>
#include <kite/forest.h>
#include <kite/dispatch.h>
#include <kite/xgb_model.h>
#include <kite/csv.h>
#include <kite/num.h>
#include <kite/feature_spec.h>
#include <kite/feature_state.h>
#include <kite/profile.h>
#include <kite/drift.h>
#include <kite/drift_report.h>
#include <kite/http_server.h>
#include <kite/config.h>
#include <kite/pipeline.h>

#endif
