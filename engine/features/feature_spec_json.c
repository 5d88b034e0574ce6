/* The JSON helpers of the feature-spec reader (feature_spec_json.h): members checked by type
 * and range, unknown keys refused. Their own file because both feature_spec.c (top level,
 * inputs, time) and feature_spec_features.c (the features array) use them, while
 * feature_spec.c calls feature_spec_features.c: beside either one they made the two a cycle. */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feature_spec_json.h"

/* Integer member in [lo, hi]; *out keeps its default when the key is absent and !required. */
kite_err kite__spec_json_int(const cJSON *obj, const char *key, long lo, long hi, int required,
                         long *out, const char *path, const char *ctx, char *errstr, size_t size)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (!required) return KITE_ERR_OK;
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"%s\" is required", path, ctx, key);
    }
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
        it->valuedouble < (double)lo || it->valuedouble > (double)hi)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: %s: \"%s\" must be an integer in [%ld, %ld]", path, ctx, key, lo, hi);
    *out = (long)it->valuedouble;
    return KITE_ERR_OK;
}

/* Optional number member; null means NaN (missing). */
kite_err kite__spec_json_number(const cJSON *obj, const char *key, double *out, const char *path,
                            const char *ctx, char *errstr, size_t size)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return KITE_ERR_OK;
    if (cJSON_IsNull(it)) {
        *out = NAN;
        return KITE_ERR_OK;
    }
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"%s\" must be a finite number or null",
                         path, ctx, key);
    *out = it->valuedouble;
    return KITE_ERR_OK;
}

const char *kite__spec_json_string(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

kite_err kite__spec_json_check_keys(const cJSON *obj, const char *const *allowed, const char *path,
                                const char *ctx, char *errstr, size_t size)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(it->string, *a);
        if (!ok)
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: unknown key \"%s\"", path, ctx,
                             it->string);
    }
    return KITE_ERR_OK;
}
