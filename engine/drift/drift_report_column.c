/* The JSON pieces the drift summary (drift_report_json.c) and its shadow part
 * (drift_shadow_report.c) both write: a number (null when not finite) and one column's drift. */
#include <cjson/cJSON.h>
#include <math.h>

#include "drift_int.h"

void kite__drift_report_num(void *obj, const char *key, double v)
{
    cJSON *o = obj;
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

void *kite__drift_report_column(const kite_drift_monitor *m, int c, const kite_drift_feature *f,
                                int with_kind)
{
    const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
    cJSON *x = cJSON_CreateObject();
    if (!x) return NULL;
    cJSON_AddStringToObject(x, "name", pc->kpc_name);
    cJSON_AddStringToObject(x, "role", pc->kpc_role == KITE_PROFILE_PREDICTION ? "prediction" : "feature");
    if (with_kind)
        cJSON_AddStringToObject(x, "kind", pc->kpc_kind == KITE_PROFILE_CATEGORICAL ? "categorical" : "numeric");
    kite__drift_report_num(x, "psi", f->kdf_psi);
    cJSON_AddStringToObject(x, "status", kite_drift_level_name(f->kdf_level));
    cJSON_AddStringToObject(x, "test", kite_drift_test_name(f->kdf_test));
    kite__drift_report_num(x, "statistic", f->kdf_stat);
    kite__drift_report_num(x, "p_value", f->kdf_pvalue);
    cJSON_AddBoolToObject(x, "drifted", f->kdf_drifted);
    kite__drift_report_num(x, "count", f->kdf_count);
    kite__drift_report_num(x, "missing_rate", f->kdf_missing_rate);
    return x;
}
