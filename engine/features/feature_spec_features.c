/* The "features" array of a feature spec: one object per model feature, in the model's
 * feature order. Resolves input names, assigns history rings and shared window accumulators. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feature_spec_json.h"

static const struct {
    const char *name;
    kite_feature_kind kind;
} spec_kinds[] = {
    {"value", KITE_FEAT_VALUE},          {"lag", KITE_FEAT_LAG},
    {"diff", KITE_FEAT_DIFF},            {"diff2", KITE_FEAT_DIFF2},
    {"rolling_mean", KITE_FEAT_MEAN},    {"rolling_std", KITE_FEAT_STD},
    {"rolling_min", KITE_FEAT_MIN},      {"rolling_max", KITE_FEAT_MAX},
    {"rolling_sum", KITE_FEAT_SUM},      {"rolling_count", KITE_FEAT_COUNT},
    {"ratio", KITE_FEAT_RATIO},          {"product", KITE_FEAT_PRODUCT},
    {"cyclic", KITE_FEAT_CYCLIC},
};

static int spec_is_rolling(kite_feature_kind k)
{
    return k == KITE_FEAT_MEAN || k == KITE_FEAT_STD || k == KITE_FEAT_MIN || k == KITE_FEAT_MAX ||
           k == KITE_FEAT_SUM || k == KITE_FEAT_COUNT;
}

static uint32_t spec_pow2_above(uint32_t n) /* smallest power of two > n */
{
    uint32_t p = 1;
    while (p <= n) p <<= 1;
    return p;
}

/* Input named by key (a string) that a feature may compute on: number or category. */
static kite_err spec_feature_input(const kite_feature_spec *s, const cJSON *name, const char *ctx,
                                   const char *key, int *out, char *errstr, size_t size)
{
    if (!cJSON_IsString(name))
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"%s\" must name an input", s->ksp_path,
                         ctx, key);
    int k = kite_feature_spec_input_index(s, name->valuestring);
    if (k < 0)
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"%s\": no input named \"%s\"",
                         s->ksp_path, ctx, key, name->valuestring);
    if (s->ksp_inputs[k].ksi_type == KITE_INPUT_TEXT)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: %s: \"%s\": input \"%s\" is text (a key or time field), not a number",
                         s->ksp_path, ctx, key, name->valuestring);
    *out = k;
    return KITE_ERR_OK;
}

static kite_err spec_parse_one(kite_feature_spec *s, const cJSON *it, const char *ctx,
                               kite_spec_feature *f, char *errstr, size_t size)
{
    const char *path = s->ksp_path;
    static const char *const keys[] = {"name", "kind", "input", "inputs", "lag", "shift", "window",
                                       "unit", "fn", "impute", "standardize", NULL};
    const cJSON *kjs = cJSON_GetObjectItemCaseSensitive(it, "kind");
    const char *kind = cJSON_IsString(kjs) ? kjs->valuestring : NULL;
    size_t nk = sizeof spec_kinds / sizeof spec_kinds[0], k;
    for (k = 0; kind && k < nk; k++)
        if (!strcmp(kind, spec_kinds[k].name)) break;
    if (!kind || k == nk)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: %s: \"kind\" must be one of value, lag, diff, diff2, rolling_mean, "
                         "rolling_std, rolling_min, rolling_max, rolling_sum, rolling_count, ratio, "
                         "product, cyclic", path, ctx);
    KITE_TRY(kite__spec_json_check_keys(it, keys, path, ctx, errstr, size));
    f->ksf_kind = spec_kinds[k].kind;
    f->ksf_input = f->ksf_input_b = f->ksf_acc = -1;
    f->ksf_impute = NAN;
    f->ksf_center = 0;
    f->ksf_scale = 1;
    long lag = 0, shift = 0, window = 0;
    switch (f->ksf_kind) {
    case KITE_FEAT_RATIO:
    case KITE_FEAT_PRODUCT: {
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(it, "inputs");
        if (!cJSON_IsArray(ins) || cJSON_GetArraySize(ins) != 2)
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: \"inputs\" must name two inputs [a, b]", path, ctx);
        KITE_TRY(spec_feature_input(s, cJSON_GetArrayItem(ins, 0), ctx, "inputs", &f->ksf_input,
                                    errstr, size));
        KITE_TRY(spec_feature_input(s, cJSON_GetArrayItem(ins, 1), ctx, "inputs", &f->ksf_input_b,
                                    errstr, size));
        break;
    }
    case KITE_FEAT_CYCLIC: {
        if (s->ksp_time_format == KITE_TIME_NONE)
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: a cyclic feature needs a \"time\" field in the spec", path, ctx);
        const char *unit = kite__spec_json_string(it, "unit"), *fn = kite__spec_json_string(it, "fn");
        if (unit && !strcmp(unit, "hour")) f->ksf_unit = KITE_UNIT_HOUR;
        else if (unit && !strcmp(unit, "weekday")) f->ksf_unit = KITE_UNIT_WEEKDAY;
        else if (unit && !strcmp(unit, "month")) f->ksf_unit = KITE_UNIT_MONTH;
        else
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: \"unit\" must be \"hour\", \"weekday\" or \"month\"", path, ctx);
        if (!fn || (strcmp(fn, "sin") && strcmp(fn, "cos")))
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"fn\" must be \"sin\" or \"cos\"",
                             path, ctx);
        f->ksf_cos = !strcmp(fn, "cos");
        break;
    }
    default:
        KITE_TRY(spec_feature_input(s, cJSON_GetObjectItemCaseSensitive(it, "input"), ctx, "input",
                                    &f->ksf_input, errstr, size));
        break;
    }
    if (f->ksf_kind == KITE_FEAT_LAG)
        KITE_TRY(kite__spec_json_int(it, "lag", 1, KITE_SPEC_MAX_WINDOW, 1, &lag, path, ctx, errstr, size));
    if (f->ksf_kind == KITE_FEAT_DIFF || f->ksf_kind == KITE_FEAT_DIFF2 || spec_is_rolling(f->ksf_kind))
        KITE_TRY(kite__spec_json_int(it, "shift", 0, KITE_SPEC_MAX_WINDOW, 0, &shift, path, ctx, errstr,
                                 size));
    if (spec_is_rolling(f->ksf_kind))
        KITE_TRY(kite__spec_json_int(it, "window", 1, KITE_SPEC_MAX_WINDOW, 1, &window, path, ctx, errstr,
                                 size));
    f->ksf_lag = (int)(f->ksf_kind == KITE_FEAT_LAG ? lag : shift);
    f->ksf_window = (int)window;
    KITE_TRY(kite__spec_json_number(it, "impute", &f->ksf_impute, path, ctx, errstr, size));
    const cJSON *std = cJSON_GetObjectItemCaseSensitive(it, "standardize");
    if (std) {
        static const char *const skeys[] = {"mean", "std", NULL};
        double mean = NAN, sd = NAN;
        if (cJSON_IsObject(std)) {
            KITE_TRY(kite__spec_json_check_keys(std, skeys, path, ctx, errstr, size));
            KITE_TRY(kite__spec_json_number(std, "mean", &mean, path, ctx, errstr, size));
            KITE_TRY(kite__spec_json_number(std, "std", &sd, path, ctx, errstr, size));
        }
        if (!isfinite(mean) || !(sd > 0))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: \"standardize\" must be {\"mean\": m, \"std\": s} with s > 0",
                             path, ctx);
        f->ksf_center = mean;
        f->ksf_scale = sd;
    }
    return KITE_ERR_OK;
}

/* Longest look-back a feature needs on its input's ring (0: none). */
static int spec_lookback(const kite_spec_feature *f)
{
    switch (f->ksf_kind) {
    case KITE_FEAT_LAG: return f->ksf_lag;
    case KITE_FEAT_DIFF: return f->ksf_lag + 1;
    case KITE_FEAT_DIFF2: return f->ksf_lag + 2;
    default: return spec_is_rolling(f->ksf_kind) ? f->ksf_lag + f->ksf_window : 0;
    }
}

static kite_err spec_resolve(kite_feature_spec *s, char *errstr, size_t size)
{
    int nf = s->ksp_num_features;
    s->ksp_accs = calloc((size_t)nf + 1, sizeof *s->ksp_accs);
    s->ksp_rings = calloc((size_t)s->ksp_num_inputs + 1, sizeof *s->ksp_rings);
    if (!s->ksp_accs || !s->ksp_rings)
        return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", s->ksp_path);
    /* Rings: one per input with any look-back, long enough for the longest. */
    for (int j = 0; j < nf; j++) {
        kite_spec_feature *f = &s->ksp_features[j];
        int need = spec_lookback(f);
        if (!need) continue;
        kite_spec_input *in = &s->ksp_inputs[f->ksf_input];
        if (in->ksi_ring < 0) {
            in->ksi_ring = s->ksp_num_rings++;
            s->ksp_rings[in->ksi_ring].ksr_input = f->ksf_input;
        }
        kite_spec_ring *r = &s->ksp_rings[in->ksi_ring];
        uint32_t len = spec_pow2_above((uint32_t)need);
        if (len > r->ksr_len) r->ksr_len = len;
        if (need > s->ksp_max_lookback) s->ksp_max_lookback = need;
    }
    /* Accumulators: one per distinct (input, window, shift). */
    for (int j = 0; j < nf; j++) {
        kite_spec_feature *f = &s->ksp_features[j];
        if (!spec_is_rolling(f->ksf_kind)) continue;
        int a;
        for (a = 0; a < s->ksp_num_accs; a++) {
            kite_spec_acc *c = &s->ksp_accs[a];
            if (c->ksa_input == f->ksf_input && c->ksa_window == f->ksf_window &&
                c->ksa_shift == f->ksf_lag)
                break;
        }
        if (a == s->ksp_num_accs) {
            kite_spec_acc *c = &s->ksp_accs[s->ksp_num_accs++];
            c->ksa_input = f->ksf_input;
            c->ksa_ring = s->ksp_inputs[f->ksf_input].ksi_ring;
            c->ksa_window = f->ksf_window;
            c->ksa_shift = f->ksf_lag;
        }
        kite_spec_acc *c = &s->ksp_accs[a];
        c->ksa_want_var |= f->ksf_kind == KITE_FEAT_STD;
        c->ksa_want_min |= f->ksf_kind == KITE_FEAT_MIN;
        c->ksa_want_max |= f->ksf_kind == KITE_FEAT_MAX;
        f->ksf_acc = a;
    }
    return KITE_ERR_OK;
}

kite_err kite__feature_spec_parse_features(kite_feature_spec *s, const cJSON *root, char *errstr,
                                          size_t size)
{
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (!cJSON_IsArray(feats) || !feats->child)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: \"features\" must be a non-empty array, in the model's feature order",
                         s->ksp_path);
    int n = cJSON_GetArraySize(feats);
    if (n > KITE_SPEC_MAX_FEATURES)
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %d features (max %d)", s->ksp_path, n,
                         KITE_SPEC_MAX_FEATURES);
    s->ksp_features = calloc((size_t)n, sizeof *s->ksp_features);
    if (!s->ksp_features) return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", s->ksp_path);
    int j = 0;
    for (const cJSON *it = feats->child; it; it = it->next, j++) {
        char ctx[320];
        const char *name = kite__spec_json_string(it, "name");
        snprintf(ctx, sizeof ctx, "features[%d] (\"%.200s\")", j, name ? name : "?");
        if (!cJSON_IsObject(it) || !name || !*name)
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: needs a non-empty \"name\"",
                             s->ksp_path, ctx);
        for (int i = 0; i < j; i++)
            if (!strcmp(s->ksp_features[i].ksf_name, name))
                return kite_errf(KITE_ERR_SPEC, errstr, size,
                                 "%s: %s: name already used by features[%d]", s->ksp_path, ctx, i);
        kite_spec_feature *f = &s->ksp_features[j];
        if (!(f->ksf_name = malloc(strlen(name) + 1)))
            return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", s->ksp_path);
        strcpy(f->ksf_name, name);
        s->ksp_num_features = j + 1;
        KITE_TRY(spec_parse_one(s, it, ctx, f, errstr, size));
    }
    return spec_resolve(s, errstr, size);
}
