/* Reads a feature spec (JSON, see docs/feature-spec.md) into its resolved form
 * (feature_spec_int.h): names become indices, rolling features on the same window share one
 * accumulator, history rings get their lengths. Every error names the file, the JSON key and
 * why, in one line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feature_spec_json.h"
#include <kite/model.h>

#define SPEC_MAX_BYTES (64u << 20)

static char *spec_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static double spec_text_number(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    return (*s && !*end && !errno) ? v : NAN;
}

static int spec_add_input(kite_feature_spec *s, const char *name, kite_input_type type)
{
    kite_spec_input *grown = realloc(s->ksp_inputs, (size_t)(s->ksp_num_inputs + 1) * sizeof *grown);
    if (!grown) return -1;
    s->ksp_inputs = grown;
    kite_spec_input *in = &s->ksp_inputs[s->ksp_num_inputs];
    memset(in, 0, sizeof *in);
    in->ksi_name = spec_strdup(name);
    in->ksi_type = type;
    in->ksi_unseen = NAN;
    in->ksi_ring = -1;
    if (!in->ksi_name) return -1;
    return s->ksp_num_inputs++;
}

static kite_err spec_parse_categories(kite_spec_input *in, const cJSON *item, const char *path,
                                      const char *ctx, char *errstr, size_t size)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(item, "map");
    if (!cJSON_IsObject(map) || !map->child)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: %s: a category input needs \"map\": {\"text\": number, ...}", path, ctx);
    const cJSON *unseen = cJSON_GetObjectItemCaseSensitive(item, "unseen");
    if (!unseen)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: %s: a category input needs an explicit \"unseen\" (a number, or null "
                         "for missing)", path, ctx);
    KITE_TRY(kite__spec_json_number(item, "unseen", &in->ksi_unseen, path, ctx, errstr, size));
    int n = cJSON_GetArraySize(map);
    if (n > KITE_SPEC_MAX_CATS)
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: \"map\" has %d categories (max %d)",
                         path, ctx, n, KITE_SPEC_MAX_CATS);
    in->ksi_cat_names = calloc((size_t)n, sizeof *in->ksi_cat_names);
    in->ksi_cat_lens = calloc((size_t)n, sizeof *in->ksi_cat_lens);
    in->ksi_cat_nums = calloc((size_t)n, sizeof *in->ksi_cat_nums);
    in->ksi_cat_values = calloc((size_t)n, sizeof *in->ksi_cat_values);
    if (!in->ksi_cat_names || !in->ksi_cat_lens || !in->ksi_cat_nums || !in->ksi_cat_values)
        return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
    for (const cJSON *c = map->child; c; c = c->next) {
        if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: map[\"%s\"] must be a finite number", path, ctx, c->string);
        int k = in->ksi_num_cats++;
        if (!(in->ksi_cat_names[k] = spec_strdup(c->string)))
            return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
        in->ksi_cat_lens[k] = strlen(c->string);
        in->ksi_cat_nums[k] = spec_text_number(c->string);
        in->ksi_cat_values[k] = c->valuedouble;
    }
    return KITE_ERR_OK;
}

static kite_err spec_parse_inputs(kite_feature_spec *s, const cJSON *root, char *errstr, size_t size)
{
    const char *path = s->ksp_path;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    if (!cJSON_IsArray(inputs) || !inputs->child)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: \"inputs\" must be a non-empty array of {\"name\", \"type\"}", path);
    static const char *const keys[] = {"name", "type", "map", "unseen", NULL};
    int i = 0;
    for (const cJSON *it = inputs->child; it; it = it->next, i++) {
        char ctx[320];
        const char *name = kite__spec_json_string(it, "name");
        snprintf(ctx, sizeof ctx, "inputs[%d] (\"%.200s\")", i, name ? name : "?");
        if (!cJSON_IsObject(it) || !name || !*name)
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: needs a non-empty \"name\"",
                             path, ctx);
        KITE_TRY(kite__spec_json_check_keys(it, keys, path, ctx, errstr, size));
        if (kite_feature_spec_input_index(s, name) >= 0)
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: input named twice", path, ctx);
        const char *type = kite__spec_json_string(it, "type");
        kite_input_type t;
        if (!type || !strcmp(type, "number")) t = KITE_INPUT_NUMBER;
        else if (!strcmp(type, "category")) t = KITE_INPUT_CATEGORY;
        else if (!strcmp(type, "text")) t = KITE_INPUT_TEXT;
        else
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: \"type\" must be \"number\", \"category\" or \"text\"", path, ctx);
        int k = spec_add_input(s, name, t);
        if (k < 0) return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
        if (t == KITE_INPUT_CATEGORY)
            KITE_TRY(spec_parse_categories(&s->ksp_inputs[k], it, path, ctx, errstr, size));
        else if (cJSON_GetObjectItemCaseSensitive(it, "map"))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: %s: \"map\" needs \"type\": \"category\"", path, ctx);
    }
    return KITE_ERR_OK;
}

/* Finds (or adds, as text) the input a key/time field names. */
static kite_err spec_text_field(kite_feature_spec *s, const char *name, const char *what, int *out,
                                char *errstr, size_t size)
{
    int k = kite_feature_spec_input_index(s, name);
    if (k < 0) k = spec_add_input(s, name, KITE_INPUT_TEXT);
    if (k < 0) return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", s->ksp_path);
    if (s->ksp_inputs[k].ksi_type == KITE_INPUT_CATEGORY)
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: %s: field \"%s\" is a category input",
                         s->ksp_path, what, name);
    *out = k;
    return KITE_ERR_OK;
}

static kite_err spec_parse_time(kite_feature_spec *s, const cJSON *root, char *errstr, size_t size)
{
    const char *path = s->ksp_path;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "time");
    s->ksp_time_inputs[0] = s->ksp_time_inputs[1] = -1;
    if (!t || cJSON_IsNull(t)) return KITE_ERR_OK;
    static const char *const keys[] = {"field", "fields", "format", "step_seconds", "gaps",
                                       "duplicates", "out_of_order", NULL};
    if (!cJSON_IsObject(t))
        return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: \"time\" must be an object", path);
    KITE_TRY(kite__spec_json_check_keys(t, keys, path, "time", errstr, size));
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(t, "fields");
    const char *field = kite__spec_json_string(t, "field");
    const char *names[2] = {field, NULL};
    if (cJSON_IsArray(fields)) {
        int n = cJSON_GetArraySize(fields);
        if (n < 1 || n > 2)
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: time: \"fields\" must name one or two fields", path);
        for (int i = 0; i < n; i++) {
            const cJSON *f = cJSON_GetArrayItem(fields, i);
            if (!cJSON_IsString(f))
                return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: time: fields[%d] must be a string",
                                 path, i);
            names[i] = f->valuestring;
        }
    }
    if (!names[0])
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: time: needs \"field\": \"ts\" or \"fields\": [\"Date\", \"Time\"]", path);
    for (int i = 0; i < 2 && names[i]; i++)
        KITE_TRY(spec_text_field(s, names[i], "time", &s->ksp_time_inputs[i], errstr, size));
    const char *fmt = kite__spec_json_string(t, "format");
    if (!fmt)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: time: \"format\" is required (\"iso8601\", \"epoch\", \"epoch_ms\" or a "
                         "pattern such as \"%%d/%%m/%%Y %%H.%%M.%%S\")", path);
    if (!strcmp(fmt, "iso8601")) s->ksp_time_format = KITE_TIME_ISO8601;
    else if (!strcmp(fmt, "epoch")) s->ksp_time_format = KITE_TIME_EPOCH;
    else if (!strcmp(fmt, "epoch_ms")) s->ksp_time_format = KITE_TIME_EPOCH_MS;
    else {
        for (const char *p = fmt; *p; p++)
            if (*p == '%' && (!p[1] || !strchr("dmYHMS%", *++p)))
                return kite_errf(KITE_ERR_SPEC, errstr, size,
                                 "%s: time: \"format\" \"%s\": only %%d %%m %%Y %%H %%M %%S %%%% are "
                                 "supported", path, fmt);
        s->ksp_time_format = KITE_TIME_PATTERN;
        if (!(s->ksp_time_pattern = spec_strdup(fmt)))
            return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
    }
    long step = 0;
    KITE_TRY(kite__spec_json_int(t, "step_seconds", 0, 366L * 86400, 0, &step, path, "time", errstr, size));
    s->ksp_step_ms = (int64_t)step * 1000;
    const char *gaps = kite__spec_json_string(t, "gaps");
    if (gaps && strcmp(gaps, "fill") && strcmp(gaps, "ignore"))
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: time: \"gaps\" must be \"fill\" or \"ignore\"", path);
    s->ksp_fill_gaps = gaps && !strcmp(gaps, "fill");
    if (s->ksp_fill_gaps && !step)
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: time: \"gaps\": \"fill\" needs \"step_seconds\" > 0", path);
    const char *pol[2] = {kite__spec_json_string(t, "duplicates"), kite__spec_json_string(t, "out_of_order")};
    kite_order_policy *dst[2] = {&s->ksp_on_duplicate, &s->ksp_on_out_of_order};
    static const char *const pol_keys[2] = {"duplicates", "out_of_order"};
    for (int i = 0; i < 2; i++) {
        if (!pol[i] || !strcmp(pol[i], "reject")) *dst[i] = KITE_ORDER_REJECT;
        else if (!strcmp(pol[i], "accept")) *dst[i] = KITE_ORDER_ACCEPT;
        else
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: time: \"%s\" must be \"reject\" or \"accept\"", path, pol_keys[i]);
    }
    return KITE_ERR_OK;
}

static kite_err spec_parse_top(kite_feature_spec *s, const cJSON *root, char *errstr, size_t size)
{
    const char *path = s->ksp_path;
    static const char *const keys[] = {"kite_feature_spec", "name", "description", "csv", "missing",
                                       "key", "max_keys", "when_full", "time", "warmup", "inputs",
                                       "features", NULL};
    KITE_TRY(kite__spec_json_check_keys(root, keys, path, "top level", errstr, size));
    s->ksp_delimiter = ',';
    const cJSON *csv = cJSON_GetObjectItemCaseSensitive(root, "csv");
    if (csv) {
        static const char *const ckeys[] = {"delimiter", "decimal_comma", NULL};
        if (!cJSON_IsObject(csv))
            return kite_errf(KITE_ERR_SPEC, errstr, size, "%s: \"csv\" must be an object", path);
        KITE_TRY(kite__spec_json_check_keys(csv, ckeys, path, "csv", errstr, size));
        const char *d = kite__spec_json_string(csv, "delimiter");
        if (d && (strlen(d) != 1 || *d == '"' || *d == '\n'))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: csv: \"delimiter\" must be one character", path);
        if (d) s->ksp_delimiter = *d;
        const cJSON *dc = cJSON_GetObjectItemCaseSensitive(csv, "decimal_comma");
        if (dc && !cJSON_IsBool(dc))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: csv: \"decimal_comma\" must be true or false", path);
        s->ksp_decimal_comma = cJSON_IsTrue(dc);
    }
    const cJSON *miss = cJSON_GetObjectItemCaseSensitive(root, "missing");
    if (miss) {
        if (!cJSON_IsArray(miss))
            return kite_errf(KITE_ERR_SPEC, errstr, size,
                             "%s: \"missing\" must be an array of strings such as [\"-200\"]", path);
        int n = cJSON_GetArraySize(miss);
        s->ksp_missing = calloc((size_t)n + 1, sizeof *s->ksp_missing);
        s->ksp_missing_nums = calloc((size_t)n + 1, sizeof *s->ksp_missing_nums);
        if (!s->ksp_missing || !s->ksp_missing_nums)
            return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
        for (int i = 0; i < n; i++) {
            const cJSON *m = cJSON_GetArrayItem(miss, i);
            if (!cJSON_IsString(m) || !*m->valuestring)
                return kite_errf(KITE_ERR_SPEC, errstr, size,
                                 "%s: missing[%d] must be a non-empty string", path, i);
            if (!(s->ksp_missing[i] = spec_strdup(m->valuestring)))
                return kite_errf(KITE_ERR_NOMEM, errstr, size, "%s: out of memory", path);
            s->ksp_missing_nums[i] = spec_text_number(m->valuestring);
            s->ksp_num_missing++;
        }
    }
    long warmup = 0, max_keys = 10000;
    KITE_TRY(kite__spec_json_int(root, "warmup", 0, KITE_SPEC_MAX_WINDOW, 0, &warmup, path, "top level",
                      errstr, size));
    KITE_TRY(kite__spec_json_int(root, "max_keys", 1, 100000000, 0, &max_keys, path, "top level", errstr, size));
    s->ksp_warmup = (int)warmup;
    s->ksp_max_keys = (size_t)max_keys;
    const cJSON *wf = cJSON_GetObjectItemCaseSensitive(root, "when_full");
    const char *when = kite__spec_json_string(root, "when_full");
    if (wf && (!when || (strcmp(when, "refuse") && strcmp(when, "evict"))))
        return kite_errf(KITE_ERR_SPEC, errstr, size,
                         "%s: \"when_full\" must be \"refuse\" or \"evict\"", path);
    s->ksp_evict = when && !strcmp(when, "evict");
    return KITE_ERR_OK;
}

static void spec_build_tables(kite_feature_spec *s)
{
    static const int periods[3] = {24, 7, 12};
    for (int u = 0; u < 3; u++)
        for (int v = 0; v < periods[u]; v++) {
            /* Same operation order as the pandas reference: 2 * pi * v / period. */
            double a = 2.0 * M_PI * (double)v / (double)periods[u];
            s->ksp_cyc_table[u][0][v] = sin(a);
            s->ksp_cyc_table[u][1][v] = cos(a);
        }
}

kite_err kite_feature_spec_parse(const char *json, size_t len, const char *name,
                                 kite_feature_spec **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_feature_spec *s = calloc(1, sizeof *s);
    if (!s || !(s->ksp_path = spec_strdup(name))) {
        free(s);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", name);
    }
    s->ksp_key_input = -1;
    cJSON *root = cJSON_ParseWithLength(json, len);
    kite_err err = KITE_ERR_OK;
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
        err = kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s: not valid JSON near byte %zu", name,
                        off);
    } else if (!cJSON_IsObject(root)) {
        err = kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s: the spec must be a JSON object", name);
    }
    if (!err) err = spec_parse_top(s, root, errstr, errstr_size);
    if (!err) err = spec_parse_inputs(s, root, errstr, errstr_size);
    if (!err) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(root, "key");
        if (key && !cJSON_IsNull(key) && !cJSON_IsString(key))
            err = kite_errf(KITE_ERR_SPEC, errstr, errstr_size,
                            "%s: \"key\" must be a field name or null (one stream)", name);
        else if (cJSON_IsString(key))
            err = spec_text_field(s, key->valuestring, "key", &s->ksp_key_input, errstr, errstr_size);
    }
    if (!err) err = spec_parse_time(s, root, errstr, errstr_size);
    if (!err) err = kite__feature_spec_parse_features(s, root, errstr, errstr_size);
    cJSON_Delete(root);
    if (err) {
        kite_spec_one_line(errstr);
        kite_feature_spec_free(s);
        return err;
    }
    spec_build_tables(s);
    *out = s;
    return KITE_ERR_OK;
}

kite_err kite_feature_spec_load(const char *path, kite_feature_spec **out, char *errstr,
                                size_t errstr_size)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *grown = cap <= SPEC_MAX_BYTES ? realloc(buf, cap) : NULL;
            if (!grown) {
                free(buf);
                fclose(fp);
                return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size,
                                 "%s: larger than %u MiB, or out of memory", path, SPEC_MAX_BYTES >> 20);
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: read error", path);
    }
    kite_err err = kite_feature_spec_parse(buf, len, path, out, errstr, errstr_size);
    free(buf);
    return err;
}

void kite_feature_spec_free(kite_feature_spec *s)
{
    if (!s) return;
    for (int i = 0; i < s->ksp_num_inputs; i++) {
        kite_spec_input *in = &s->ksp_inputs[i];
        for (int k = 0; k < in->ksi_num_cats; k++) free(in->ksi_cat_names[k]);
        free(in->ksi_cat_names);
        free(in->ksi_cat_lens);
        free(in->ksi_cat_nums);
        free(in->ksi_cat_values);
        free(in->ksi_name);
    }
    for (int j = 0; j < s->ksp_num_features; j++) free(s->ksp_features[j].ksf_name);
    for (int i = 0; i < s->ksp_num_missing; i++) free(s->ksp_missing[i]);
    free(s->ksp_missing);
    free(s->ksp_missing_nums);
    free(s->ksp_inputs);
    free(s->ksp_features);
    free(s->ksp_accs);
    free(s->ksp_rings);
    free(s->ksp_time_pattern);
    free(s->ksp_path);
    free(s);
}

kite_err kite_feature_spec_check_model(const kite_feature_spec *s, const kite_model *model,
                                       char *errstr, size_t errstr_size)
{
    if (model->km_num_feature != s->ksp_num_features)
        return kite_errf(KITE_ERR_SPEC, errstr, errstr_size,
                         "%s: the spec has %d features, the model expects %d", s->ksp_path,
                         s->ksp_num_features, (int)model->km_num_feature);
    if (!model->km_feature_names) return KITE_ERR_OK; /* nothing to compare: order is the user's */
    for (int j = 0; j < s->ksp_num_features; j++)
        if (strcmp(s->ksp_features[j].ksf_name, model->km_feature_names[j]))
            return kite_errf(KITE_ERR_SPEC, errstr, errstr_size,
                             "%s: feature %d is \"%s\" but the model's feature %d is \"%s\"",
                             s->ksp_path, j, s->ksp_features[j].ksf_name, j,
                             model->km_feature_names[j]);
    /* A category input fed straight to a feature the model has a dictionary for (XGBoost
     * 3.1+ cats) must code every category as the model does: a map that disagrees would
     * score every such row silently wrong. */
    for (int j = 0; model->km_cats && j < s->ksp_num_features; j++) {
        const kite_spec_feature *f = &s->ksp_features[j];
        if (model->km_cats[j].kcd_count == 0 || f->ksf_kind != KITE_FEAT_VALUE) continue;
        const kite_spec_input *in = &s->ksp_inputs[f->ksf_input];
        if (in->ksi_type != KITE_INPUT_CATEGORY) continue;
        if (f->ksf_center != 0.0 || f->ksf_scale != 1.0)
            return kite_errf(KITE_ERR_SPEC, errstr, errstr_size,
                             "%s: feature \"%s\" is categorical in the model: it cannot be standardized",
                             s->ksp_path, f->ksf_name);
        for (int c = 0; c < in->ksi_num_cats; c++) {
            float code;
            char why[256];
            if (kite_model_category_code(model, j, in->ksi_cat_names[c], &code, why, sizeof why) !=
                KITE_ERR_OK)
                return kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s: input \"%s\": map: %s",
                                 s->ksp_path, in->ksi_name, why);
            if ((double)code != in->ksi_cat_values[c])
                return kite_errf(KITE_ERR_SPEC, errstr, errstr_size,
                                 "%s: input \"%s\": map[\"%s\"] is %g but the model's own category "
                                 "dictionary codes it %g", s->ksp_path, in->ksi_name,
                                 in->ksi_cat_names[c], in->ksi_cat_values[c], (double)code);
        }
    }
    return KITE_ERR_OK;
}
