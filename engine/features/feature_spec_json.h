/* Private to kite_features (engine/features/), not installed.
 * JSON helpers shared by the feature-spec reader's files (defined in feature_spec_json.c; used
 * by feature_spec.c for the top level, inputs and time, and feature_spec_features.c for the
 * features array). Each error names the file, the context (e.g. "features[3] (\"co_mean24\")")
 * and the key. */
#ifndef KITE_FEATURE_SPEC_JSON_H
#define KITE_FEATURE_SPEC_JSON_H

#include <cjson/cJSON.h>

#include "feature_spec_int.h"

/* Integer member in [lo, hi]; *out keeps its default when the key is absent and !required. */
kite_err kite__spec_json_int(const cJSON *obj, const char *key, long lo, long hi, int required,
                            long *out, const char *path, const char *ctx, char *errstr, size_t size);
/* Optional finite number member; null means NaN (missing). */
kite_err kite__spec_json_number(const cJSON *obj, const char *key, double *out, const char *path,
                               const char *ctx, char *errstr, size_t size);
/* String member or NULL. */
const char *kite__spec_json_string(const cJSON *obj, const char *key);
/* Refuses keys not in allowed (NULL-terminated): a typo must not silently do nothing. */
kite_err kite__spec_json_check_keys(const cJSON *obj, const char *const *allowed, const char *path,
                                   const char *ctx, char *errstr, size_t size);

kite_err kite__feature_spec_parse_features(kite_feature_spec *s, const cJSON *root, char *errstr,
                                          size_t size);

#endif
