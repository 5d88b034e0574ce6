#include "event_map.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* Field names hash into an open-addressing table twice the size of the feature list, so one
 * pass over the event's fields finds each feature in O(1) whatever the field order. */
typedef struct map_code {
    char *mc_text;
    float mc_value;
} map_code;

typedef struct map_feature {
    const char *mf_name;      /* the model's feature name (owned by the model) */
    map_code *mf_codes;       /* encode table for text values                  */
    int mf_ncodes;
} map_feature;

struct kite_event_map {
    map_feature *em_features;
    int em_nfeatures;
    int *em_slots;            /* feature index + 1, 0 = empty                  */
    size_t em_mask;
};

static uint64_t map_hash(const char *s) { return XXH3_64bits(s, strlen(s)); }

static int map_lookup(const kite_event_map *m, const char *name)
{
    for (size_t i = map_hash(name) & m->em_mask;; i = (i + 1) & m->em_mask) {
        int f = m->em_slots[i];
        if (!f) return -1;
        if (!strcmp(m->em_features[f - 1].mf_name, name)) return f - 1;
    }
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
            float v = colon ? strtof(colon + 1, &end) : 0;
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

kite_err kite_event_map_new(const kite_model *model, const char *encode, kite_event_map **out,
                            char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!model->km_feature_names)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "the model has no feature_names: events cannot be mapped by field name");
    kite_event_map *m = calloc(1, sizeof *m);
    size_t size = 16;
    while (size < 2 * (size_t)model->km_num_feature) size *= 2;
    if (m) {
        m->em_features = calloc((size_t)model->km_num_feature, sizeof *m->em_features);
        m->em_slots = calloc(size, sizeof *m->em_slots);
    }
    if (!m || !m->em_features || !m->em_slots) {
        kite_event_map_free(m);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event map");
    }
    m->em_nfeatures = model->km_num_feature;
    m->em_mask = size - 1;
    for (int f = 0; f < m->em_nfeatures; f++) {
        m->em_features[f].mf_name = model->km_feature_names[f];
        if (map_lookup(m, model->km_feature_names[f]) >= 0) continue; /* duplicate: first wins */
        size_t i = map_hash(model->km_feature_names[f]) & m->em_mask;
        while (m->em_slots[i]) i = (i + 1) & m->em_mask;
        m->em_slots[i] = f + 1;
    }
    if (encode && *encode) {
        kite_err err = map_parse_encode(m, encode, errstr, errstr_size);
        if (err) {
            kite_event_map_free(m);
            return err;
        }
    }
    *out = m;
    return KITE_ERR_OK;
}

void kite_event_map_free(kite_event_map *m)
{
    if (!m) return;
    for (int f = 0; m->em_features && f < m->em_nfeatures; f++) {
        for (int c = 0; c < m->em_features[f].mf_ncodes; c++)
            free(m->em_features[f].mf_codes[c].mc_text);
        free(m->em_features[f].mf_codes);
    }
    free(m->em_features);
    free(m->em_slots);
    free(m);
}

int kite_event_map_num_features(const kite_event_map *m) { return m->em_nfeatures; }

static kite_err map_text(const map_feature *mf, const char *text, float *out, char *errstr,
                         size_t errstr_size)
{
    for (int c = 0; c < mf->mf_ncodes; c++)
        if (!strcmp(mf->mf_codes[c].mc_text, text)) {
            *out = mf->mf_codes[c].mc_value;
            return KITE_ERR_OK;
        }
    char *end = NULL;
    float v = strtof(text, &end);
    if (*text && end != text && !*end) {
        *out = v;
        return KITE_ERR_OK;
    }
    return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                     "field \"%s\": text \"%.40s\" is not a number and has no encoding",
                     mf->mf_name, text);
}

kite_err kite_event_map_row(const kite_event_map *m, const cJSON *event, float *row, int *missing,
                            int *warming_up, char *errstr, size_t errstr_size)
{
    *warming_up = 0;
    if (!cJSON_IsObject(event))
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "event is not a JSON object");
    for (int f = 0; f < m->em_nfeatures; f++) row[f] = NAN;
    for (const cJSON *it = event->child; it; it = it->next) {
        int f = map_lookup(m, it->string);
        if (f < 0) continue;
        const map_feature *mf = &m->em_features[f];
        if (cJSON_IsNumber(it)) row[f] = (float)it->valuedouble;
        else if (cJSON_IsBool(it)) row[f] = cJSON_IsTrue(it) ? 1.0f : 0.0f;
        else if (cJSON_IsNull(it)) row[f] = NAN;
        else if (cJSON_IsString(it)) KITE_TRY(map_text(mf, it->valuestring, &row[f], errstr, errstr_size));
        else
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                             "field \"%s\": expected a number, text, boolean or null", mf->mf_name);
    }
    int n = 0;
    for (int f = 0; f < m->em_nfeatures; f++) n += isnan(row[f]);
    *missing = n;
    return KITE_ERR_OK;
}
