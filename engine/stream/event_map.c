#include "event_map.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <kite/feature_state.h>
#include <kite/f32.h>
#include <kite/num.h>

#include <stdio.h>

/* Field names hash into an open-addressing table twice the size of the feature list, so one
 * pass over the event's fields finds each feature in O(1) whatever the field order. */
typedef struct map_code {
    char *mc_text;
    float mc_value;
} map_code;

typedef struct map_feature {
    const char *mf_name;      /* model feature (direct) or spec input name; not owned */
    size_t mf_name_len;
    map_code *mf_codes;       /* encode table for text values                  */
    int mf_ncodes;
} map_feature;

struct kite_event_map {
    map_feature *em_features; /* hashed names: model features or spec inputs   */
    int em_nnames;
    int em_nfeatures;         /* values per output row                         */
    kite_feature_spec *em_spec; /* NULL: direct mapping                        */
    int *em_slots;            /* feature index + 1, 0 = empty                  */
    const kite_model *em_model; /* direct mapping: its category dictionaries code text
                                 * (the model outlives the map; NULL with a spec)   */
    size_t em_mask;
};

/* A name and its length (events give the length, so no strlen per field). */
static int map_lookup_n(const kite_event_map *m, const char *name, size_t len)
{
    for (size_t i = XXH3_64bits(name, len) & m->em_mask;; i = (i + 1) & m->em_mask) {
        int f = m->em_slots[i];
        if (!f) return -1;
        const map_feature *mf = &m->em_features[f - 1];
        if (mf->mf_name_len == len && !memcmp(mf->mf_name, name, len)) return f - 1;
    }
}

static int map_lookup(const kite_event_map *m, const char *name)
{
    return map_lookup_n(m, name, strlen(name));
}

static kite_err map_parse_encode(kite_event_map *m, const char *encode, char *errstr,
                                 size_t errstr_size)
{
    /* "Sex=male:0,female:1;Embarked=S:0,C:1" */
    char *copy = strdup(encode), *save1 = NULL;
    if (!copy) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "encode table");
    kite_err err = KITE_ERR_OK;
    for (char *part = strtok_r(copy, ";", &save1); part && !err; part = strtok_r(NULL, ";", &save1)) {
        char *eq = strchr(part, '=');
        if (!eq) {
            err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                            "encode \"%s\": expected Field=text:value,...", part);
            break;
        }
        *eq = 0;
        int f = map_lookup(m, part);
        if (f < 0) {
            err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                            "encode: \"%s\" is not one of the model's feature_names", part);
            break;
        }
        map_feature *mf = &m->em_features[f];
        char *save2 = NULL;
        for (char *pair = strtok_r(eq + 1, ",", &save2); pair; pair = strtok_r(NULL, ",", &save2)) {
            char *colon = strrchr(pair, ':'), *end = NULL;
            float v = colon ? kite_num_parse_float(colon + 1, &end) : 0;
            if (!colon || end == colon + 1 || *end) {
                err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                                "encode %s: \"%s\" is not text:number", mf->mf_name, pair);
                break;
            }
            *colon = 0;
            map_code *codes = realloc(mf->mf_codes, (size_t)(mf->mf_ncodes + 1) * sizeof *codes);
            char *text = strdup(pair);
            if (!codes || !text) {
                free(text);
                if (codes) mf->mf_codes = codes;
                err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "encode table");
                break;
            }
            mf->mf_codes = codes;
            codes[mf->mf_ncodes++] = (map_code){text, v};
        }
    }
    free(copy);
    return err;
}

/* Which names an event has given, to refuse a name given twice (the rule on every path: HTTP
 * answers 422 and `kite score` exits 1 for the same input; see docs/bad-input.md). A stamp per
 * name instead of a cleared bitmap: an event costs nothing for the names it does not carry. */
typedef struct map_seen {
    uint32_t *msn_stamp;       /* em_nnames stamps                                      */
    uint32_t msn_event;        /* the current event's stamp                             */
} map_seen;

struct kite_event_state {
    kite_feature_state *es_features; /* spec only                                      */
    kite_raw_value *es_inputs;       /* spec only                                      */
    map_seen es_seen;
};

/* Starts an event. */
static void map_seen_begin(map_seen *ms, int nnames)
{
    if (++ms->msn_event == 0) { /* wrapped: old stamps could match again */
        memset(ms->msn_stamp, 0, (size_t)nnames * sizeof *ms->msn_stamp);
        ms->msn_event = 1;
    }
}

/* 1 when name i was already given in this event (and marks it given). */
static int map_seen_twice(map_seen *ms, int i)
{
    if (ms->msn_stamp[i] == ms->msn_event) return 1;
    ms->msn_stamp[i] = ms->msn_event;
    return 0;
}

static kite_err map_names(kite_event_map *m, int n, const char *(*name)(const void *, int),
                          const void *ctx, char *errstr, size_t errstr_size)
{
    size_t size = 16;
    while (size < 2 * (size_t)n) size *= 2;
    m->em_features = calloc((size_t)n, sizeof *m->em_features);
    m->em_slots = calloc(size, sizeof *m->em_slots);
    if (!m->em_features || !m->em_slots)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event map");
    m->em_nnames = n;
    m->em_mask = size - 1;
    for (int f = 0; f < n; f++) {
        m->em_features[f].mf_name = name(ctx, f);
        m->em_features[f].mf_name_len = strlen(m->em_features[f].mf_name);
        if (map_lookup(m, m->em_features[f].mf_name) >= 0) continue; /* duplicate: first wins */
        size_t i = XXH3_64bits(m->em_features[f].mf_name, m->em_features[f].mf_name_len) & m->em_mask;
        while (m->em_slots[i]) i = (i + 1) & m->em_mask;
        m->em_slots[i] = f + 1;
    }
    return KITE_ERR_OK;
}

static const char *map_spec_input(const void *spec, int i)
{
    return kite_feature_spec_input_name(spec, i);
}

static const char *map_model_feature(const void *model, int i)
{
    return ((const kite_model *)model)->km_feature_names[i];
}

static kite_err map_new_spec(const kite_model *model, const char *path, kite_event_map *m,
                             char *errstr, size_t errstr_size)
{
    KITE_TRY(kite_feature_spec_load(path, &m->em_spec, errstr, errstr_size));
    char inner[384];
    if (kite_feature_spec_check_model(m->em_spec, model, inner, sizeof inner))
        return kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s: %s", path, inner);
    m->em_nfeatures = kite_feature_spec_num_outputs(m->em_spec);
    return map_names(m, kite_feature_spec_num_inputs(m->em_spec), map_spec_input, m->em_spec,
                     errstr, errstr_size);
}

/* Whether direct-mapped feature f has a category dictionary in the model (XGBoost 3.1+). */
static int map_has_dict(const kite_event_map *m, int f)
{
    return m->em_model && m->em_model->km_cats && m->em_model->km_cats[f].kcd_count > 0;
}

/* An encode table entry must agree with the model's own dictionary where it has one. */
static kite_err map_check_encode(const kite_event_map *m, char *errstr, size_t errstr_size)
{
    for (int f = 0; f < m->em_nfeatures; f++) {
        const map_feature *mf = &m->em_features[f];
        if (!map_has_dict(m, f)) continue;
        for (int c = 0; c < mf->mf_ncodes; c++) {
            float code;
            char why[256];
            if (kite_model_category_code(m->em_model, f, mf->mf_codes[c].mc_text, &code, why,
                                         sizeof why) != KITE_ERR_OK)
                return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "encode %s: %s", mf->mf_name, why);
            if (code != mf->mf_codes[c].mc_value)
                return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                                 "encode %s: \"%s\" is %g here but %g in the model's own category "
                                 "dictionary (drop the encode entry: kite codes by the model's)",
                                 mf->mf_name, mf->mf_codes[c].mc_text, (double)mf->mf_codes[c].mc_value,
                                 (double)code);
        }
    }
    return KITE_ERR_OK;
}

kite_err kite__event_map_new(const kite_model *model, const char *spec_path, const char *encode,
                            kite_event_map **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (spec_path && *spec_path) {
        kite_event_map *m = calloc(1, sizeof *m);
        if (!m) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event map");
        kite_err err = encode && *encode
                           ? kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                                       "encode: not used with a feature spec (the spec's "
                                       "category maps apply)")
                           : map_new_spec(model, spec_path, m, errstr, errstr_size);
        if (err) {
            kite__event_map_free(m);
            return err;
        }
        *out = m;
        return KITE_ERR_OK;
    }
    if (!model->km_feature_names)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "the model has no feature_names: events cannot be mapped by field name");
    kite_event_map *m = calloc(1, sizeof *m);
    if (!m) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event map");
    m->em_nfeatures = model->km_num_feature;
    kite_err nerr = map_names(m, model->km_num_feature, map_model_feature, model, errstr,
                              errstr_size);
    if (nerr) {
        kite__event_map_free(m);
        return nerr;
    }
    m->em_model = model;
    if (encode && *encode) {
        kite_err err = map_parse_encode(m, encode, errstr, errstr_size);
        if (!err) err = map_check_encode(m, errstr, errstr_size);
        if (err) {
            kite__event_map_free(m);
            return err;
        }
    }
    *out = m;
    return KITE_ERR_OK;
}

void kite__event_map_free(kite_event_map *m)
{
    if (!m) return;
    kite_feature_spec_free(m->em_spec);
    for (int f = 0; m->em_features && f < m->em_nnames; f++) {
        for (int c = 0; c < m->em_features[f].mf_ncodes; c++)
            free(m->em_features[f].mf_codes[c].mc_text);
        free(m->em_features[f].mf_codes);
    }
    free(m->em_features);
    free(m->em_slots);
    free(m);
}

int kite__event_map_num_features(const kite_event_map *m) { return m->em_nfeatures; }

static kite_err map_text(const map_feature *mf, const char *text, float *out, char *errstr,
                         size_t errstr_size)
{
    for (int c = 0; c < mf->mf_ncodes; c++)
        if (!strcmp(mf->mf_codes[c].mc_text, text)) {
            *out = mf->mf_codes[c].mc_value;
            return KITE_ERR_OK;
        }
    char *end = NULL;
    float v = kite_num_parse_float(text, &end); /* strtof's float, locale-free */
    if (*text && end != text && !*end) {
        if (isinf(v))
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "field \"%s\": \"%.40s\" is out of float32 range", mf->mf_name, text);
        *out = v; /* "NaN" text: a missing value, as in CSV */
        return KITE_ERR_OK;
    }
    return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                     "field \"%s\": \"%.40s\" is not a number and has no encoding",
                     mf->mf_name, text);
}

kite_err kite__event_state_new(const kite_event_map *m, kite_event_state **out, char *errstr,
                              size_t errstr_size)
{
    *out = NULL;
    kite_event_state *s = calloc(1, sizeof *s);
    if (!s) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event state");
    s->es_seen.msn_stamp = calloc((size_t)m->em_nnames + 1, sizeof *s->es_seen.msn_stamp);
    kite_err err = s->es_seen.msn_stamp ? KITE_ERR_OK
                                       : kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event state");
    if (!err && m->em_spec) { /* the direct mapping keeps no feature state */
        s->es_inputs = calloc((size_t)m->em_nnames + 1, sizeof *s->es_inputs);
        err = s->es_inputs ? kite_feature_state_new(m->em_spec, 0, &s->es_features, errstr,
                                                    errstr_size)
                           : kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event state");
    }
    if (err) {
        kite__event_state_free(s);
        return err;
    }
    *out = s;
    return KITE_ERR_OK;
}

int kite__event_map_keeps_state(const kite_event_map *m)
{
    return kite_feature_spec_keeps_state(m->em_spec);
}

unsigned long long kite__event_state_evicted(const kite_event_state *s)
{
    return s && s->es_features ? kite_features_evicted_count(s->es_features) : 0; /* direct: none */
}

void kite__event_state_free(kite_event_state *s)
{
    if (!s) return;
    kite_feature_state_free(s->es_features);
    free(s->es_inputs);
    free(s->es_seen.msn_stamp);
    free(s);
}

static kite_err map_row_spec(const kite_event_map *m, kite_event_state *s,
                             const kite_event_json *event, float *row, int *warming_up,
                             char *errstr, size_t errstr_size)
{
    for (int i = 0; i < m->em_nnames; i++) s->es_inputs[i].kind = KITE_RAW_ABSENT;
    for (int k = 0; k < event->ej_nfields; k++) {
        const kite_event_field *it = &event->ej_fields[k];
        int i = map_lookup_n(m, it->ef_name, it->ef_name_len);
        if (i < 0) continue;
        if (map_seen_twice(&s->es_seen, i))
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "field \"%s\" given twice",
                             m->em_features[i].mf_name);
        kite_raw_value *rv = &s->es_inputs[i];
        if (it->ef_kind == KITE_EV_NUMBER && isinf(it->ef_number))
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "field \"%s\": %g is out of range",
                             m->em_features[i].mf_name, it->ef_number);
        if (it->ef_kind == KITE_EV_NUMBER)
            *rv = (kite_raw_value){KITE_RAW_NUMBER, it->ef_number, NULL, 0};
        else if (it->ef_kind == KITE_EV_TRUE || it->ef_kind == KITE_EV_FALSE)
            *rv = (kite_raw_value){KITE_RAW_NUMBER, it->ef_kind == KITE_EV_TRUE ? 1.0 : 0.0, NULL, 0};
        else if (it->ef_kind == KITE_EV_TEXT)
            *rv = (kite_raw_value){KITE_RAW_TEXT, 0, it->ef_text, strlen(it->ef_text)};
        else if (it->ef_kind != KITE_EV_NULL)
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "field \"%s\": expected a number, text, boolean or null",
                             m->em_features[i].mf_name);
    }
    kite_features_status status = KITE_FEATURES_READY;
    KITE_TRY(kite_features_update(s->es_features, s->es_inputs, row, &status, errstr, errstr_size));
    for (int j = 0; j < m->em_nfeatures; j++)
        if (isinf(row[j])) /* e.g. 1e308 standardised: as HTTP /predict refuses it */
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "feature \"%s\" is out of float32 range",
                             kite_feature_spec_output_name(m->em_spec, j));
    *warming_up = status == KITE_FEATURES_WARMING_UP;
    return KITE_ERR_OK;
}

kite_err kite__event_map_parse(kite_event_json *ev, const void *payload, size_t len, char *errstr,
                              size_t errstr_size)
{
    if (!len) return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "empty event");
    size_t at = 0;
    int rc = kite__event_json_parse(ev, payload, len, &at);
    if (rc == -2) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory parsing the event");
    if (rc) {
        /* JSON has no NaN or Infinity; say so in HTTP /predict's words when that is what broke */
        static const char *const spelled[] = {"NaN", "-NaN", "Infinity", "-Infinity", "inf", "-inf"};
        const char *p = (const char *)payload;
        for (size_t k = 0; k < sizeof spelled / sizeof spelled[0]; k++) {
            size_t n = strlen(spelled[k]);
            size_t from = at && p[at - 1] == '-' && spelled[k][0] != '-' ? at - 1 : at;
            if (len - from >= n && !memcmp(p + from, spelled[k], n))
                return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                                 "malformed JSON near byte %zu: %s is not allowed; send null for a "
                                 "missing value", from, spelled[k]);
        }
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "malformed JSON near byte %zu", at);
    }
    return KITE_ERR_OK;
}

static kite_err map_row_direct(const kite_event_map *m, map_seen *seen, const kite_event_json *event,
                               float *row, char *errstr, size_t errstr_size);

kite_err kite__event_map_row(const kite_event_map *m, kite_event_state *s,
                            const kite_event_json *event, float *row, int *missing,
                            int *warming_up, char *errstr, size_t errstr_size)
{
    *warming_up = 0;
    if (!event->ej_is_object)
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "event is not a JSON object");
    if (m->em_spec) {
        map_seen_begin(&s->es_seen, m->em_nnames);
        KITE_TRY(map_row_spec(m, s, event, row, warming_up, errstr, errstr_size));
        int n = 0;
        for (int f = 0; f < m->em_nfeatures; f++) n += isnan(row[f]);
        *missing = n;
        return KITE_ERR_OK;
    }
    /* No state (a caller of the direct mapping may pass NULL): a scratch for this event. */
    map_seen scratch = {NULL, 0}, *seen = s ? &s->es_seen : &scratch;
    if (!s && !(scratch.msn_stamp = calloc((size_t)m->em_nnames + 1, sizeof *scratch.msn_stamp)))
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory mapping the event");
    map_seen_begin(seen, m->em_nnames);
    kite_err err = map_row_direct(m, seen, event, row, errstr, errstr_size);
    free(scratch.msn_stamp);
    if (err) return err;
    int n = 0;
    for (int f = 0; f < m->em_nfeatures; f++) n += isnan(row[f]);
    *missing = n;
    return KITE_ERR_OK;
}

static kite_err map_row_direct(const kite_event_map *m, map_seen *seen, const kite_event_json *event,
                               float *row, char *errstr, size_t errstr_size)
{
    for (int f = 0; f < m->em_nfeatures; f++) row[f] = NAN;
    for (int k = 0; k < event->ej_nfields; k++) {
        const kite_event_field *it = &event->ej_fields[k];
        int f = map_lookup_n(m, it->ef_name, it->ef_name_len);
        if (f < 0) continue;
        const map_feature *mf = &m->em_features[f];
        if (map_seen_twice(seen, f))
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "field \"%s\" given twice",
                             mf->mf_name);
        if (map_has_dict(m, f) && (it->ef_kind == KITE_EV_TEXT ||
                                   (it->ef_kind == KITE_EV_NUMBER &&
                                    m->em_model->km_cats[f].kcd_numeric))) {
            /* Category text (or a numeric category's value) coded by the model's dictionary. */
            char num[40], why[256];
            const char *text = it->ef_text;
            if (it->ef_kind != KITE_EV_TEXT) snprintf(num, sizeof num, "%.17g", it->ef_number), text = num;
            if (kite_model_category_code(m->em_model, f, text, &row[f], why, sizeof why) != KITE_ERR_OK)
                return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "field \"%s\": %s", mf->mf_name, why);
        } else if (it->ef_kind == KITE_EV_NUMBER) {
            row[f] = kite_f32(it->ef_number);
            if (isinf(row[f]))
                return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                                 "field \"%s\": %g is out of float32 range", mf->mf_name,
                                 it->ef_number);
        }
        else if (it->ef_kind == KITE_EV_TRUE || it->ef_kind == KITE_EV_FALSE)
            row[f] = it->ef_kind == KITE_EV_TRUE ? 1.0f : 0.0f;
        else if (it->ef_kind == KITE_EV_NULL) row[f] = NAN;
        else if (it->ef_kind == KITE_EV_TEXT)
            KITE_TRY(map_text(mf, it->ef_text, &row[f], errstr, errstr_size));
        else
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "field \"%s\": expected a number, text, boolean or null", mf->mf_name);
    }
    return KITE_ERR_OK;
}
