/* POST /predict: request body (JSON or CSV) -> float rows in the worker's scratch -> the
 * active kernel -> JSON (or CSV) response in the connection's buffer.
 *
 * Accepted JSON bodies (numbers as JSON numbers, null = missing value):
 *   {"features": [v0, v1, ...]}                   one row, the model's feature order
 *   {"Pclass": 3, "Sex": 0, ...}                  one row, by the model's feature names
 *   {"rows": [[...], {...}, ...]}                 many rows, either form per row
 * plus optional "margin": true (margins as well as predictions) and "key": "..." (a stream
 * key; accepted, unused until feature specs are served over HTTP).
 * Classes of refusal: 400 malformed JSON/CSV; 415 other content types; 422 a well-formed
 * body that does not fit the model (count, names, NaN/Infinity, non-numbers, float range). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kite/csv.h>
#include <kite/mem.h>
#include <kite/dispatch.h>
#include <kite/feature_spec.h>
#include "http_internal.h"
#include "http_json.h"
#include <kite/num.h>
#include <kite/f32.h>

/* Longest field name compared after unescaping; longer ones cannot match any model name
 * worth having and are reported as unknown. */
#define PREDICT_MAX_KEY 256

enum { MODE_NONE, MODE_FEATURES, MODE_FIELDS, MODE_ROWS };

typedef struct predict {
    kite_http_server *p_srv;
    kite_http_slot *p_slot;
    const kite_http_model *p_model;
    const kite_feature_spec *p_spec; /* NULL: object rows name model features          */
    int p_ni;                        /* spec inputs                                   */
    kite_raw_value p_key;            /* top-level "key": default for rows without one */
    int p_nf;
    size_t p_nrows;
    char p_err[512];
    unsigned p_status;
} predict;

static int refuse(predict *p, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(predict *p, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->p_err, sizeof p->p_err, fmt, ap);
    va_end(ap);
    p->p_status = status;
    return -1;
}

/* Room for row index r (and a seen[] map of nf bytes); grows the worker's scratch. */
static int row_reserve(predict *p, size_t r)
{
    kite_http_slot *s = p->p_slot;
    size_t need = (r + 1) * (size_t)p->p_nf;
    if (kite_mem_grow((void **)&s->hs_rows, &s->hs_rows_cap, need, sizeof *s->hs_rows, 256))
        return refuse(p, 500, "out of memory for %zu rows", r + 1);
    size_t nseen = (size_t)(p->p_nf > p->p_ni ? p->p_nf : p->p_ni);
    if (kite_mem_grow((void **)&s->hs_seen, &s->hs_seen_cap, nseen, 1, 64))
        return refuse(p, 500, "out of memory");
    if (kite_mem_grow((void **)&s->hs_flags, &s->hs_flags_cap, r + 1, 1, 64))
        return refuse(p, 500, "out of memory for %zu rows", r + 1);
    s->hs_flags[r] = 0;
    size_t nraw = (r + 1) * (size_t)p->p_ni;
    if (kite_mem_grow((void **)&s->hs_raw, &s->hs_raw_cap, nraw, sizeof *s->hs_raw, 64))
        return refuse(p, 500, "out of memory for %zu rows", r + 1);
    return 0;
}

static const char *feature_name(const predict *p, int col)
{
    return col >= 0 && col < p->p_nf ? p->p_model->hm_names[col] : "?";
}

/* ---- raw rows (with a feature spec) ------------------------------------------------------ */

static void raw_names(const predict *p, char *dst, size_t size)
{
    size_t o = 0;
    dst[0] = 0;
    for (int i = 0; i < p->p_ni && o + 1 < size; i++) {
        if (i == 8) {
            snprintf(dst + o, size - o, ", ... (%d in all)", p->p_ni);
            return;
        }
        int n = snprintf(dst + o, size - o, "%s\"%s\"", i ? ", " : "",
                         kite_feature_spec_input_name(p->p_spec, i));
        if (n < 0) return;
        o += (size_t)n;
    }
}

/* A JSON value as a raw input: number, string (decoded in place in the body), null = absent. */
static int take_raw_value(predict *p, kite_json *j, size_t r, const char *name, kite_raw_value *out,
                          char *jerr, size_t jerr_size)
{
    kite_json_scalar v;
    kite_json_kind k = kite__json_value(j, &v, jerr, jerr_size);
    switch (k) {
    case KITE_JSON_ERROR: return refuse(p, 400, "%s", jerr);
    case KITE_JSON_NULL: *out = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0}; return 0;
    case KITE_JSON_NUMBER:
        if (isinf(v.kjs_number))
            return refuse(p, 422, "row %zu field \"%s\": %.*s is out of range", r, name,
                          (int)v.kjs_len, v.kjs_str);
        *out = (kite_raw_value){KITE_RAW_NUMBER, v.kjs_number, NULL, 0};
        return 0;
    case KITE_JSON_STRING: {
        /* The body buffer is the connection's own: decoding escapes over it is safe. */
        size_t len = v.kjs_escaped ? kite__json_unescape_in_place((char *)v.kjs_str, v.kjs_len) : v.kjs_len;
        *out = (kite_raw_value){KITE_RAW_TEXT, 0, v.kjs_str, len};
        return 0;
    }
    case KITE_JSON_NONFINITE:
        return refuse(p, 422,
                      "row %zu field \"%s\": %.*s is not allowed; send null for a missing value",
                      r, name, (int)v.kjs_len, v.kjs_str);
    default:
        return refuse(p, 422, "row %zu field \"%s\": expected a number, a string or null", r, name);
    }
}

/* One "name": value of a raw row: name must be a spec input. */
static int take_raw_field(predict *p, kite_json *j, size_t r, const kite_json_scalar *key,
                          char *jerr, size_t jerr_size)
{
    char name[PREDICT_MAX_KEY];
    int n = key->kjs_escaped ? kite__json_unescape(key->kjs_str, key->kjs_len, name, sizeof name)
                            : (key->kjs_len < sizeof name ? (int)key->kjs_len : -1);
    if (n < 0) return refuse(p, 422, "row %zu: field name longer than %d bytes", r, PREDICT_MAX_KEY);
    if (!key->kjs_escaped) {
        memcpy(name, key->kjs_str, (size_t)n);
        name[n] = 0;
    }
    int in = (int)strlen(name) == n ? kite_feature_spec_input_index(p->p_spec, name) : -1;
    if (in < 0) {
        char names[300];
        raw_names(p, names, sizeof names);
        return refuse(p, 422, "row %zu: unknown field \"%.64s\"; the feature spec's inputs are %s",
                      r, name, names);
    }
    if (p->p_slot->hs_seen[in]) return refuse(p, 422, "row %zu: field \"%s\" given twice", r, name);
    p->p_slot->hs_seen[in] = 1;
    return take_raw_value(p, j, r, name, p->p_slot->hs_raw + r * (size_t)p->p_ni + in, jerr, jerr_size);
}

/* Starts raw row r: every input absent until given. */
static int raw_row_begin(predict *p, size_t r)
{
    if (row_reserve(p, r)) return -1;
    memset(p->p_slot->hs_seen, 0, (size_t)p->p_ni);
    kite_raw_value *raw = p->p_slot->hs_raw + r * (size_t)p->p_ni;
    for (int i = 0; i < p->p_ni; i++) raw[i] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
    p->p_slot->hs_flags[r] = KITE_ROW_RAW;
    return 0;
}

/* Runs the raw rows through the spec, in request order, under the state lock. Rows before a
 * refused one have updated their keys' state (as events of a stream would have). */
static int featurize(predict *p)
{
    if (!p->p_spec) return 0;
    kite_http_server *srv = p->p_srv;
    kite_http_slot *s = p->p_slot;
    int ki = srv->s_key_input;
    int locked = 0, bad = 0;
    for (size_t r = 0; r < p->p_nrows && !bad; r++) {
        if (!(s->hs_flags[r] & KITE_ROW_RAW)) continue;
        kite_raw_value *raw = s->hs_raw + r * (size_t)p->p_ni;
        if (ki >= 0 && raw[ki].kind == KITE_RAW_ABSENT) raw[ki] = p->p_key;
        if (!locked) {
            pthread_mutex_lock(&srv->s_state_lock);
            locked = 1;
        }
        kite_features_status status;
        char why[400];
        if (kite_features_update(srv->s_state, raw, s->hs_rows + r * (size_t)p->p_nf, &status, why,
                                 sizeof why) != KITE_ERR_OK)
            bad = refuse(p, 422, "row %zu: %s", r, why);
        else if (status == KITE_FEATURES_WARMING_UP)
            s->hs_flags[r] |= KITE_ROW_WARMING;
        const float *row = s->hs_rows + r * (size_t)p->p_nf;
        for (int j = 0; j < p->p_nf && !bad; j++)
            if (isinf(row[j])) /* e.g. 1e308 standardised, or beyond float32 */
                bad = refuse(p, 422, "row %zu: feature \"%s\" is out of float32 range", r,
                             feature_name(p, j));
    }
    if (locked) pthread_mutex_unlock(&srv->s_state_lock);
    return bad;
}

/* One JSON value for feature col of row r. */
static int take_value(predict *p, kite_json *j, size_t r, int col, float *out, char *jerr,
                      size_t jerr_size)
{
    kite_json_scalar v;
    kite_json_kind k = kite__json_value(j, &v, jerr, jerr_size);
    switch (k) {
    case KITE_JSON_ERROR: return refuse(p, 400, "%s", jerr);
    case KITE_JSON_NULL: *out = NAN; return 0;
    case KITE_JSON_TRUE: *out = 1.0f; return 0; /* as the Kafka path maps booleans */
    case KITE_JSON_FALSE: *out = 0.0f; return 0;
    case KITE_JSON_STRING:
    case KITE_JSON_NUMBER: {
        const kite_model *model = &p->p_model->hm_loaded->klm_model;
        const kite_category_dict *d = model->km_cats ? &model->km_cats[col] : NULL;
        if (d && d->kcd_count > 0 && (k == KITE_JSON_STRING || d->kcd_numeric)) {
            /* A category (or a numeric category's value) coded by the model's own dictionary. */
            char text[256], why[256];
            size_t len = k == KITE_JSON_STRING && v.kjs_escaped
                             ? kite__json_unescape_in_place((char *)v.kjs_str, v.kjs_len) : v.kjs_len;
            if (len >= sizeof text)
                return refuse(p, 422, "row %zu field \"%s\": category longer than %zu bytes", r,
                              feature_name(p, col), sizeof text - 1);
            memcpy(text, v.kjs_str, len);
            text[len] = 0;
            if (kite_model_category_code(model, col, text, out, why, sizeof why) != KITE_ERR_OK)
                return refuse(p, 422, "row %zu field \"%s\": %s", r, feature_name(p, col), why);
            return 0;
        }
        if (k == KITE_JSON_STRING) {
            /* Number text is read as a number, as the Kafka path (engine/stream/event_map.c) and CSV
             * read it; other text is refused in the same words (docs/bad-input.md). */
            char text[64], *end = NULL;
            size_t len = v.kjs_escaped ? kite__json_unescape_in_place((char *)v.kjs_str, v.kjs_len) : v.kjs_len;
            if (len < sizeof text) {
                memcpy(text, v.kjs_str, len);
                text[len] = 0;
            }
            float f = len < sizeof text ? kite_num_parse_float(text, &end) : 0;
            if (!len || len >= sizeof text || end == text || *end)
                return refuse(p, 422, "row %zu field \"%s\": \"%.*s\" is not a number", r,
                              feature_name(p, col), (int)(len > 40 ? 40 : len), v.kjs_str);
            if (isinf(f))
                return refuse(p, 422, "row %zu field \"%s\": \"%s\" is out of float32 range", r,
                              feature_name(p, col), text);
            *out = f; /* "NaN" text: a missing value, as in CSV */
            return 0;
        }
        /* strtod then a cast to float, as kite score (loaders/csv/csv.c) converts CSV text: the
         * same digits give the same float32. */
        float f = kite_f32(v.kjs_number);
        if (isinf(f))
            return refuse(p, 422, "row %zu field \"%s\": %.*s is out of float32 range", r,
                          feature_name(p, col), (int)v.kjs_len, v.kjs_str);
        *out = f;
        return 0;
    }
    case KITE_JSON_NONFINITE:
        return refuse(p, 422,
                      "row %zu field \"%s\": %.*s is not allowed; send null for a missing value",
                      r, feature_name(p, col), (int)v.kjs_len, v.kjs_str);
    default:
        return refuse(p, 422, "row %zu field \"%s\": expected a number or null, got %s", r,
                      feature_name(p, col),
                      k == KITE_JSON_STRING ? "a string"
                      : k == KITE_JSON_OBJECT ? "an object"
                      : k == KITE_JSON_ARRAY ? "an array" : "a boolean");
    }
}

/* [v0, v1, ...] after its '[': exactly nf values. */
static int parse_array_row(predict *p, kite_json *j, size_t r, char *jerr, size_t jerr_size)
{
    if (row_reserve(p, r)) return -1;
    float *row = p->p_slot->hs_rows + r * (size_t)p->p_nf;
    int n = 0;
    if (kite__json_peek(j) == ']') {
        j->kj_p++;
    } else {
        for (;;) {
            float dummy;
            if (take_value(p, j, r, n, n < p->p_nf ? &row[n] : &dummy, jerr, jerr_size))
                return -1;
            n++;
            char c = kite__json_peek(j);
            if (c == ',') { j->kj_p++; continue; }
            if (c == ']') { j->kj_p++; break; }
            kite__json_expect(j, ']', "expected ',' or ']'", jerr, jerr_size);
            return refuse(p, 400, "%s", jerr);
        }
    }
    if (n != p->p_nf)
        return refuse(p, 422, "row %zu: %d feature values, the model takes %d", r, n, p->p_nf);
    return 0;
}

static void name_list(const predict *p, char *dst, size_t size)
{
    size_t o = 0;
    dst[0] = 0;
    for (int i = 0; i < p->p_nf && o + 1 < size; i++) {
        if (i == 8) {
            snprintf(dst + o, size - o, ", ... (%d in all)", p->p_nf);
            return;
        }
        int n = snprintf(dst + o, size - o, "%s\"%s\"", i ? ", " : "", p->p_model->hm_names[i]);
        if (n < 0) return;
        o += (size_t)n;
    }
}

/* One field "name": value of an object row. */
static int take_field(predict *p, kite_json *j, size_t r, const kite_json_scalar *key,
                      int *hint, char *jerr, size_t jerr_size)
{
    const char *name = key->kjs_str;
    size_t len = key->kjs_len;
    char decoded[PREDICT_MAX_KEY];
    if (key->kjs_escaped) {
        int n = kite__json_unescape(key->kjs_str, key->kjs_len, decoded, sizeof decoded);
        if (n < 0) return refuse(p, 422, "row %zu: field name longer than %d bytes", r, PREDICT_MAX_KEY);
        name = decoded;
        len = (size_t)n;
    }
    int col = kite__http_model_feature(p->p_model, name, len, *hint);
    if (col < 0) {
        char names[300];
        name_list(p, names, sizeof names);
        return refuse(p, 422, "row %zu: unknown field \"%.*s\"; the model's features are %s", r,
                      (int)(len > 64 ? 64 : len), name, names);
    }
    uint8_t *seen = p->p_slot->hs_seen;
    if (seen[col]) return refuse(p, 422, "row %zu: field \"%s\" given twice", r, feature_name(p, col));
    seen[col] = 1;
    *hint = col + 1;
    return take_value(p, j, r, col, p->p_slot->hs_rows + r * (size_t)p->p_nf + col, jerr, jerr_size);
}

static int check_all_seen(predict *p, size_t r)
{
    for (int i = 0; i < p->p_nf; i++)
        if (!p->p_slot->hs_seen[i])
            return refuse(p, 422, "row %zu: field \"%s\" is missing (send null for a missing value)",
                          r, feature_name(p, i));
    return 0;
}

/* {"name": v, ...} after its '{'. */
static int parse_object_row(predict *p, kite_json *j, size_t r, char *jerr, size_t jerr_size)
{
    if (p->p_spec) { /* raw inputs, featurized later */
        if (raw_row_begin(p, r)) return -1;
        if (kite__json_peek(j) == '}') {
            j->kj_p++;
            return 0;
        }
        for (;;) {
            kite_json_scalar key;
            if (kite__json_string(j, &key, jerr, jerr_size) ||
                kite__json_expect(j, ':', "expected ':' after a key", jerr, jerr_size))
                return refuse(p, 400, "%s", jerr);
            if (take_raw_field(p, j, r, &key, jerr, jerr_size)) return -1;
            char c = kite__json_peek(j);
            if (c == ',') { j->kj_p++; continue; }
            if (c == '}') { j->kj_p++; return 0; }
            kite__json_expect(j, '}', "expected ',' or '}'", jerr, jerr_size);
            return refuse(p, 400, "%s", jerr);
        }
    }
    if (row_reserve(p, r)) return -1;
    memset(p->p_slot->hs_seen, 0, (size_t)p->p_nf);
    int hint = 0;
    if (kite__json_peek(j) == '}') {
        j->kj_p++;
        return check_all_seen(p, r);
    }
    for (;;) {
        kite_json_scalar key;
        if (kite__json_string(j, &key, jerr, jerr_size) ||
            kite__json_expect(j, ':', "expected ':' after a key", jerr, jerr_size))
            return refuse(p, 400, "%s", jerr);
        if (take_field(p, j, r, &key, &hint, jerr, jerr_size)) return -1;
        char c = kite__json_peek(j);
        if (c == ',') { j->kj_p++; continue; }
        if (c == '}') { j->kj_p++; break; }
        kite__json_expect(j, '}', "expected ',' or '}'", jerr, jerr_size);
        return refuse(p, 400, "%s", jerr);
    }
    return check_all_seen(p, r);
}

static int parse_rows(predict *p, kite_json *j, char *jerr, size_t jerr_size)
{
    if (kite__json_peek(j) == ']') return refuse(p, 422, "\"rows\" is empty");
    for (size_t r = 0;; r++) {
        kite_json_scalar v;
        kite_json_kind k = kite__json_value(j, &v, jerr, jerr_size);
        if (k == KITE_JSON_ERROR) return refuse(p, 400, "%s", jerr);
        if (k == KITE_JSON_ARRAY) {
            if (parse_array_row(p, j, r, jerr, jerr_size)) return -1;
        } else if (k == KITE_JSON_OBJECT) {
            if (parse_object_row(p, j, r, jerr, jerr_size)) return -1;
        } else {
            return refuse(p, 422, "rows[%zu]: expected an array of values or an object of fields", r);
        }
        p->p_nrows = r + 1;
        char c = kite__json_peek(j);
        if (c == ',') { j->kj_p++; continue; }
        if (c == ']') { j->kj_p++; return 0; }
        kite__json_expect(j, ']', "expected ',' or ']'", jerr, jerr_size);
        return refuse(p, 400, "%s", jerr);
    }
}

static int key_is(const kite_json_scalar *k, const char *word)
{
    size_t n = strlen(word);
    return !k->kjs_escaped && k->kjs_len == n && !memcmp(k->kjs_str, word, n);
}

/* Top-level object. Sets *mode and *margin. */
static int parse_json(predict *p, const char *body, size_t len, int *mode, int *margin)
{
    char jerr[200];
    kite_json j;
    kite__json_init(&j, body, len);
    if (kite__json_peek(&j) == 0) return refuse(p, 400, "empty body: send a JSON object");
    if (kite__json_expect(&j, '{', "expected a JSON object", jerr, sizeof jerr))
        return refuse(p, 400, "%s", jerr);
    int hint = 0;
    *mode = MODE_NONE;
    if (kite__json_peek(&j) != '}') {
        for (;;) {
            kite_json_scalar key, v;
            if (kite__json_string(&j, &key, jerr, sizeof jerr) ||
                kite__json_expect(&j, ':', "expected ':' after a key", jerr, sizeof jerr))
                return refuse(p, 400, "%s", jerr);
            if (key_is(&key, "features") || key_is(&key, "rows")) {
                int rows = key_is(&key, "rows");
                if (*mode != MODE_NONE)
                    return refuse(p, 422, "\"%s\" cannot be combined with %s", rows ? "rows" : "features",
                                  *mode == MODE_FIELDS ? "feature fields" : "\"features\" or \"rows\"");
                kite_json_kind k = kite__json_value(&j, &v, jerr, sizeof jerr);
                if (k == KITE_JSON_ERROR) return refuse(p, 400, "%s", jerr);
                if (k != KITE_JSON_ARRAY) return refuse(p, 422, "\"%s\" must be an array", rows ? "rows" : "features");
                if (rows) {
                    if (parse_rows(p, &j, jerr, sizeof jerr)) return -1;
                    *mode = MODE_ROWS;
                } else {
                    if (parse_array_row(p, &j, 0, jerr, sizeof jerr)) return -1;
                    p->p_nrows = 1;
                    *mode = MODE_FEATURES;
                }
            } else if (key_is(&key, "margin")) {
                kite_json_kind k = kite__json_value(&j, &v, jerr, sizeof jerr);
                if (k == KITE_JSON_ERROR) return refuse(p, 400, "%s", jerr);
                if (k != KITE_JSON_TRUE && k != KITE_JSON_FALSE)
                    return refuse(p, 422, "\"margin\" must be true or false");
                *margin = k == KITE_JSON_TRUE;
            } else if (key_is(&key, "key")) {
                kite_json_kind k = kite__json_value(&j, &v, jerr, sizeof jerr);
                if (k == KITE_JSON_ERROR) return refuse(p, 400, "%s", jerr);
                if (k != KITE_JSON_STRING && k != KITE_JSON_NUMBER)
                    return refuse(p, 422, "\"key\" must be a string or a number");
                if (k == KITE_JSON_STRING)
                    p->p_key = (kite_raw_value){KITE_RAW_TEXT, 0, v.kjs_str,
                        v.kjs_escaped ? kite__json_unescape_in_place((char *)v.kjs_str, v.kjs_len) : v.kjs_len};
                else
                    p->p_key = (kite_raw_value){KITE_RAW_NUMBER, v.kjs_number, NULL, 0};
            } else {
                if (*mode == MODE_FEATURES || *mode == MODE_ROWS)
                    return refuse(p, 422, "unknown field \"%.*s\" beside \"features\"/\"rows\"",
                                  (int)(key.kjs_len > 64 ? 64 : key.kjs_len), key.kjs_str);
                if (*mode == MODE_NONE) {
                    if (p->p_spec ? raw_row_begin(p, 0) : row_reserve(p, 0)) return -1;
                    if (!p->p_spec) memset(p->p_slot->hs_seen, 0, (size_t)p->p_nf);
                    *mode = MODE_FIELDS;
                    p->p_nrows = 1;
                }
                if (p->p_spec ? take_raw_field(p, &j, 0, &key, jerr, sizeof jerr)
                              : take_field(p, &j, 0, &key, &hint, jerr, sizeof jerr))
                    return -1;
            }
            char c = kite__json_peek(&j);
            if (c == ',') { j.kj_p++; continue; }
            if (c == '}') break;
            kite__json_expect(&j, '}', "expected ',' or '}'", jerr, sizeof jerr);
            return refuse(p, 400, "%s", jerr);
        }
    }
    j.kj_p++; /* the closing '}' */
    if (kite__json_end(&j, jerr, sizeof jerr)) return refuse(p, 400, "%s", jerr);
    if (*mode == MODE_NONE)
        return refuse(p, 422, "no row: send {\"features\": [...]}, {\"rows\": [...]} or the model's fields");
    if (*mode == MODE_FIELDS && !p->p_spec) return check_all_seen(p, 0);
    return 0;
}

/* Fields per CSV line at most; a header wider than this is refused. */
#define PREDICT_CSV_MAX_FIELDS 4096

/* Copies a raw row's field text into the slot's text buffer (it must outlive the reader's
 * row, until the rows are featurized). The buffer holds the whole body's size + 1, and the
 * texts of every row together are never longer than the body, so it never moves. */
static const char *csv_keep_text(predict *p, const char *text, size_t *len, size_t *used)
{
    kite_http_slot *s = p->p_slot;
    *len = strlen(text);
    char *dst = s->hs_text + *used;
    memcpy(dst, text, *len + 1);
    *used += *len + 1;
    return dst;
}

/* text/csv in: kite score's grammar (loaders/csv: RFC 4180 quotes, quoted newlines, blank rows
 * skipped), read from the body through fmemopen; the row rules (header names, field counts,
 * values) are this API's. */
static int parse_csv(predict *p, char *body, size_t len)
{
    static _Thread_local int map[PREDICT_CSV_MAX_FIELDS];
    int nf = p->p_nf;
    size_t r = 0, text_used = 0;
    size_t k = 0;
    while (k < len && isspace((unsigned char)body[k])) k++;
    if (k == len) return refuse(p, 400, "empty CSV body: send a header row and data rows");
    if (p->p_spec &&
        kite_mem_grow((void **)&p->p_slot->hs_text, &p->p_slot->hs_text_cap, len + 1, 1, 4096))
        return refuse(p, 500, "out of memory for a %zu-byte body", len);
    FILE *fp = fmemopen(body, len, "r");
    if (!fp) return refuse(p, 500, "cannot read the CSV body");
    kite_csv_reader *rd = NULL;
    char err[512];
    int status = 0;
    if (kite_csv_open_stream(fp, "CSV body", NULL, &rd, err, sizeof err)) {
        status = refuse(p, 400, "%s", err);
        goto done;
    }
    int ncols = kite_csv_num_columns(rd);
    if (ncols > PREDICT_CSV_MAX_FIELDS) {
        status = refuse(p, 400, "CSV header: more than %d fields", PREDICT_CSV_MAX_FIELDS);
        goto done;
    }
    if (p->p_spec) { /* the header: match the spec's inputs (absent: missing) */
        if (p->p_ni > PREDICT_CSV_MAX_FIELDS) {
            status = refuse(p, 422, "spec has too many inputs for CSV");
            goto done;
        }
        for (int i = 0; i < p->p_ni; i++) {
            map[i] = -1;
            for (int c = 0; c < ncols; c++)
                if (!strcmp(kite_csv_column_name(rd, c), kite_feature_spec_input_name(p->p_spec, i))) {
                    if (map[i] >= 0) {
                        status = refuse(p, 422, "CSV header: column \"%s\" given twice",
                                        kite_csv_column_name(rd, c));
                        goto done;
                    }
                    map[i] = c;
                }
        }
    } else { /* the header: match the model's features to it */
        if (nf > PREDICT_CSV_MAX_FIELDS) {
            status = refuse(p, 422, "model has too many features for CSV");
            goto done;
        }
        for (int f = 0; f < nf; f++) {
            map[f] = -1;
            if (!p->p_model->hm_loaded->klm_model.km_feature_names) { /* by position */
                if (f < ncols) map[f] = f;
            } else {
                for (int c = 0; c < ncols; c++)
                    if (!strcmp(kite_csv_column_name(rd, c), p->p_model->hm_names[f])) {
                        if (map[f] >= 0) { /* as kite score and the Kafka path refuse it */
                            status = refuse(p, 422, "CSV header: column \"%s\" given twice",
                                            kite_csv_column_name(rd, c));
                            goto done;
                        }
                        map[f] = c;
                    }
            }
            if (map[f] < 0) {
                status = refuse(p, 422, "CSV header has no column \"%s\"", feature_name(p, f));
                goto done;
            }
        }
    }
    for (;;) {
        kite_csv_row row;
        if (kite_csv_next(rd, &row, err, sizeof err)) {
            status = refuse(p, 400, "%s", err);
            goto done;
        }
        if (!row.kcr_nfields) break;
        int n = row.kcr_nfields;
        if (p->p_spec) { /* a raw row: the fields as text, featurized later */
            if (raw_row_begin(p, r)) {
                status = -1;
                goto done;
            }
            kite_raw_value *raw = p->p_slot->hs_raw + r * (size_t)p->p_ni;
            for (int i = 0; i < p->p_ni; i++)
                if (map[i] >= 0 && map[i] < n) {
                    size_t tl;
                    const char *t = csv_keep_text(p, row.kcr_fields[map[i]], &tl, &text_used);
                    raw[i] = (kite_raw_value){KITE_RAW_TEXT, 0, t, tl};
                }
            r++;
            continue;
        }
        if (row_reserve(p, r)) {
            status = -1;
            goto done;
        }
        float *out = p->p_slot->hs_rows + r * (size_t)nf;
        for (int f = 0; f < nf; f++) {
            if (map[f] >= n) {
                status = refuse(p, 422, "CSV line %zu: %d fields, the header has %d", row.kcr_line,
                                n, ncols);
                goto done;
            }
            char why[256];
            const char *text = row.kcr_fields[map[f]];
            if (kite_csv_parse_model_value(NULL, &p->p_model->hm_loaded->klm_model, f, text, &out[f], why,
                                           sizeof why)) {
                status = refuse(p, 422, "CSV line %zu column \"%s\": %s", row.kcr_line,
                                feature_name(p, f), why);
                goto done;
            }
            if (isinf(out[f])) {
                status = refuse(p, 422, "CSV line %zu column \"%s\": \"%.40s\" is out of float32 range",
                                row.kcr_line, feature_name(p, f), text);
                goto done;
            }
        }
        r++;
    }
    if (!r) status = refuse(p, 422, "CSV body has a header but no data rows");
    else p->p_nrows = r;
done:
    kite_csv_close(rd);
    fclose(fp);
    return status;
}

static void put_value(kite_http_conn *c, float v)
{
    if (isnan(v) || isinf(v)) kite__http_conn_append(c, "null", 4);
    else {
        char t[KITE_NUM_FLOAT_CHARS];
        kite__http_conn_append(c, t, kite_num_format_float(v, t)); /* kite score's digits */
    }
}

static void put_row(kite_http_conn *c, const float *v, int n, int as_array)
{
    if (as_array) kite__http_conn_append(c, "[", 1);
    for (int k = 0; k < n; k++) {
        if (k) kite__http_conn_append(c, ",", 1);
        put_value(c, v[k]);
    }
    if (as_array) kite__http_conn_append(c, "]", 1);
}

/* text/csv out: the same columns and digits as kite score (margins only with margin). */
static void write_csv(kite_http_conn *c, const kite_forest *f, const float *pred,
                      const float *marg, size_t nrows)
{
    int groups = f->kf_num_group;
    int cols = marg ? groups : kite_forest_outputs_per_row(f);
    const float *v = marg ? marg : pred;
    const char *base = marg ? "margin" : "prediction";
    if (cols == 1) kite__http_conn_printf(c, "%s\n", base);
    else {
        for (int k = 0; k < cols; k++) kite__http_conn_printf(c, "%s%s_%d", k ? "," : "", base, k);
        kite__http_conn_append(c, "\n", 1);
    }
    for (size_t r = 0; r < nrows; r++) {
        for (int k = 0; k < cols; k++) {
            if (k) kite__http_conn_append(c, ",", 1);
            char t[KITE_NUM_FLOAT_CHARS];
            kite__http_conn_append(c, t, kite_num_format_float(v[r * (size_t)groups + (size_t)k], t));
        }
        kite__http_conn_append(c, "\n", 1);
    }
}

static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (!ct || strncasecmp(ct, type, n)) return 0;
    return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

unsigned kite__http_predict(kite_http_server *srv, kite_http_slot *slot, kite_http_conn *c,
                           const char *content_type, const char *accept, int margin_query,
                           int *csv_out)
{
    int is_json = media_is(content_type, "application/json");
    int is_csv = media_is(content_type, "text/csv");
    *csv_out = 0;
    if (!is_json && !is_csv) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "content type \"%.60s\" is not supported: send application/json or text/csv",
                 content_type ? content_type : "(none)");
        kite__http_conn_error(c, 415, msg);
        return 415;
    }
    predict p = {.p_srv = srv, .p_slot = slot, .p_status = 200, .p_spec = srv->s_spec};
    p.p_ni = p.p_spec ? kite_feature_spec_num_inputs(p.p_spec) : 0;
    kite_http_model *m = kite__http_model_acquire(srv, slot);
    p.p_model = m;
    p.p_nf = m->hm_loaded->klm_model.km_num_feature;
    int mode = MODE_ROWS, margin = margin_query;
    int bad = is_json ? parse_json(&p, c->hc_body, c->hc_body_len, &mode, &margin)
                      : parse_csv(&p, c->hc_body, c->hc_body_len);
    if (!bad) bad = featurize(&p);
    const kite_forest *f = &m->hm_loaded->klm_forest;
    size_t groups = (size_t)f->kf_num_group, nval = p.p_nrows * groups;
    if (!bad && kite_mem_grow((void **)&slot->hs_out, &slot->hs_out_cap, nval * 2, sizeof *slot->hs_out, 256))
        bad = refuse(&p, 500, "out of memory for %zu predictions", p.p_nrows);
    if (bad) {
        kite__http_model_release(slot);
        kite__http_conn_error(c, p.p_status, p.p_err);
        return p.p_status;
    }
    float *pred = slot->hs_out, *marg = margin ? slot->hs_out + nval : NULL;
    if (margin) {
        /* margins, then the transform on a copy: exactly what kite_forest_predict does */
        kite_forest_predict(f, slot->hs_rows, p.p_nrows, (size_t)p.p_nf, marg, 1);
        memcpy(pred, marg, nval * sizeof *pred);
        kite_forest_transform(f, pred, p.p_nrows);
    } else {
        kite_forest_predict(f, slot->hs_rows, p.p_nrows, (size_t)p.p_nf, pred, 0);
    }
    /* relaxed: a statistic of this thread's own slot (single writer) */
    atomic_store_explicit(&slot->hs_counters.hct_rows,
                          atomic_load_explicit(&slot->hs_counters.hct_rows, memory_order_relaxed) +
                              p.p_nrows, memory_order_relaxed);
    kite__http_conn_reset_resp(c);
    int outs = kite_forest_outputs_per_row(f);
    if (is_csv || media_is(accept, "text/csv")) {
        *csv_out = 1;
        write_csv(c, f, pred, marg, p.p_nrows);
    } else if (mode != MODE_ROWS) {
        kite__http_conn_append(c, "{\"prediction\":", 14);
        put_row(c, pred, outs, outs > 1);
        if (marg) {
            kite__http_conn_append(c, ",\"margin\":", 10);
            put_row(c, marg, (int)groups, groups > 1);
        }
        if (p.p_spec)
            kite__http_conn_printf(c, ",\"warming_up\":%s",
                                  slot->hs_flags[0] & KITE_ROW_WARMING ? "true" : "false");
        kite__http_conn_printf(c, ",\"model_version\":\"%s\"}\n", m->hm_version);
    } else {
        kite__http_conn_append(c, "{\"predictions\":[", 16);
        for (size_t r = 0; r < p.p_nrows; r++) {
            if (r) kite__http_conn_append(c, ",", 1);
            put_row(c, pred + r * groups, outs, outs > 1);
        }
        kite__http_conn_append(c, "]", 1);
        if (marg) {
            kite__http_conn_append(c, ",\"margins\":[", 12);
            for (size_t r = 0; r < p.p_nrows; r++) {
                if (r) kite__http_conn_append(c, ",", 1);
                put_row(c, marg + r * groups, (int)groups, groups > 1);
            }
            kite__http_conn_append(c, "]", 1);
        }
        if (p.p_spec) {
            kite__http_conn_append(c, ",\"warming_up\":[", 15);
            for (size_t r = 0; r < p.p_nrows; r++)
                kite__http_conn_printf(c, "%s%s", r ? "," : "",
                                      slot->hs_flags[r] & KITE_ROW_WARMING ? "true" : "false");
            kite__http_conn_append(c, "]", 1);
        }
        kite__http_conn_printf(c, ",\"rows\":%zu,\"model_version\":\"%s\"}\n", p.p_nrows,
                              m->hm_version);
    }
    kite__http_model_release(slot);
    if (c->hc_resp_oom) {
        kite__http_conn_error(c, 500, "out of memory writing the response");
        return 500;
    }
    return 200;
}
