#include "ubjson.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UBJ_MAX_DEPTH 64

typedef struct ubj_reader {
    const unsigned char *ur_buf;
    size_t ur_len;
    size_t ur_pos;
    char *ur_err;
    size_t ur_err_size;
} ubj_reader;

static kite_err ubj_fail(ubj_reader *r, const char *what)
{
    return kite_errf(KITE_ERR_PARSE, r->ur_err, r->ur_err_size, "UBJSON offset %zu: %s", r->ur_pos,
                     what);
}

static int ubj_need(ubj_reader *r, size_t n) { return r->ur_len - r->ur_pos >= n; }

static uint64_t ubj_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Payload size of a fixed-size scalar type, or -1 for variable/container types. */
static int ubj_fixed_size(unsigned char type)
{
    switch (type) {
    case 'Z': case 'N': case 'T': case 'F': return 0;
    case 'i': case 'U': case 'C': return 1;
    case 'I': return 2;
    case 'l': case 'd': return 4;
    case 'L': case 'D': return 8;
    default: return -1;
    }
}

static kite_err ubj_int(ubj_reader *r, unsigned char type, int64_t *out)
{
    int size = ubj_fixed_size(type);
    if (size <= 0 || type == 'd' || type == 'D' || type == 'C') return ubj_fail(r, "expected an integer type");
    if (!ubj_need(r, (size_t)size)) return ubj_fail(r, "truncated integer");
    uint64_t u = ubj_be(r->ur_buf + r->ur_pos, size);
    r->ur_pos += (size_t)size;
    switch (type) {
    case 'i': *out = (int8_t)u; break;
    case 'U': *out = (uint8_t)u; break;
    case 'I': *out = (int16_t)u; break;
    case 'l': *out = (int32_t)u; break;
    default: *out = (int64_t)u; break;
    }
    return KITE_ERR_OK;
}

static kite_err ubj_length(ubj_reader *r, size_t *out)
{
    if (!ubj_need(r, 1)) return ubj_fail(r, "truncated length");
    unsigned char type = r->ur_buf[r->ur_pos++];
    int64_t v = 0;
    KITE_TRY(ubj_int(r, type, &v));
    if (v < 0) return ubj_fail(r, "negative length");
    *out = (size_t)v;
    return KITE_ERR_OK;
}

static kite_err ubj_value(ubj_reader *r, unsigned char type, int depth, cJSON **out);

static kite_err ubj_string(ubj_reader *r, char **out)
{
    size_t n = 0;
    KITE_TRY(ubj_length(r, &n));
    if (!ubj_need(r, n)) return ubj_fail(r, "string runs past end of file");
    char *s = malloc(n + 1);
    if (!s) return kite_errf(KITE_ERR_NOMEM, r->ur_err, r->ur_err_size, "out of memory");
    memcpy(s, r->ur_buf + r->ur_pos, n);
    s[n] = 0;
    r->ur_pos += n;
    *out = s;
    return KITE_ERR_OK;
}

static kite_err ubj_scalar(ubj_reader *r, unsigned char type, cJSON **out)
{
    switch (type) {
    case 'Z': *out = cJSON_CreateNull(); break;
    case 'T': *out = cJSON_CreateTrue(); break;
    case 'F': *out = cJSON_CreateFalse(); break;
    case 'd': case 'D': {
        int size = type == 'd' ? 4 : 8;
        if (!ubj_need(r, (size_t)size)) return ubj_fail(r, "truncated float");
        uint64_t bits = ubj_be(r->ur_buf + r->ur_pos, size);
        r->ur_pos += (size_t)size;
        double v;
        if (size == 4) {
            uint32_t b32 = (uint32_t)bits;
            float fv;
            memcpy(&fv, &b32, 4);
            v = fv;
        } else {
            memcpy(&v, &bits, 8);
        }
        /* cJSON has no NaN; null stands for it and the model reader maps null to NaN. */
        *out = isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
        break;
    }
    case 'C': {
        if (!ubj_need(r, 1)) return ubj_fail(r, "truncated char");
        char s[2] = {(char)r->ur_buf[r->ur_pos++], 0};
        *out = cJSON_CreateString(s);
        break;
    }
    case 'S': case 'H': {
        char *s;
        KITE_TRY(ubj_string(r, &s));
        *out = cJSON_CreateString(s);
        free(s);
        break;
    }
    default: {
        int64_t v = 0;
        KITE_TRY(ubj_int(r, type, &v));
        *out = cJSON_CreateNumber((double)v);
        break;
    }
    }
    if (!*out) return kite_errf(KITE_ERR_NOMEM, r->ur_err, r->ur_err_size, "out of memory");
    return KITE_ERR_OK;
}

/* Reads the optional "$type#count" or "#count" header of a container. */
static kite_err ubj_container_header(ubj_reader *r, int *typed, unsigned char *elem_type,
                                     int *counted, size_t *count)
{
    *typed = *counted = 0;
    if (ubj_need(r, 1) && r->ur_buf[r->ur_pos] == '$') {
        r->ur_pos++;
        if (!ubj_need(r, 1)) return ubj_fail(r, "truncated container type");
        *elem_type = r->ur_buf[r->ur_pos++];
        *typed = 1;
        if (!ubj_need(r, 1) || r->ur_buf[r->ur_pos] != '#')
            return ubj_fail(r, "typed container without a count");
    }
    if (ubj_need(r, 1) && r->ur_buf[r->ur_pos] == '#') {
        r->ur_pos++;
        KITE_TRY(ubj_length(r, count));
        *counted = 1;
        /* Every element takes at least one byte unless it is a typed zero-size scalar; either
         * way a count larger than the remaining input is corrupt, and refusing it here bounds
         * every allocation by the file size. */
        int size = *typed ? ubj_fixed_size(*elem_type) : 1;
        size_t min_bytes = size > 0 ? (size_t)size : 1;
        if (*count > (r->ur_len - r->ur_pos) / min_bytes)
            return ubj_fail(r, "element count larger than the file");
    }
    return KITE_ERR_OK;
}

static kite_err ubj_array(ubj_reader *r, int depth, cJSON **out)
{
    int typed, counted;
    unsigned char elem_type = 0;
    size_t count = 0;
    KITE_TRY(ubj_container_header(r, &typed, &elem_type, &counted, &count));
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return kite_errf(KITE_ERR_NOMEM, r->ur_err, r->ur_err_size, "out of memory");
    for (size_t i = 0;; i++) {
        if (counted && i == count) break;
        unsigned char type;
        if (typed) {
            type = elem_type;
        } else {
            if (!ubj_need(r, 1)) { cJSON_Delete(arr); return ubj_fail(r, "unterminated array"); }
            type = r->ur_buf[r->ur_pos++];
            if (!counted && type == ']') break;
        }
        cJSON *item = NULL;
        kite_err err = ubj_value(r, type, depth + 1, &item);
        if (err != KITE_ERR_OK) { cJSON_Delete(arr); return err; }
        cJSON_AddItemToArray(arr, item);
    }
    *out = arr;
    return KITE_ERR_OK;
}

static kite_err ubj_object(ubj_reader *r, int depth, cJSON **out)
{
    int typed, counted;
    unsigned char elem_type = 0;
    size_t count = 0;
    KITE_TRY(ubj_container_header(r, &typed, &elem_type, &counted, &count));
    cJSON *obj = cJSON_CreateObject();
    if (!obj) return kite_errf(KITE_ERR_NOMEM, r->ur_err, r->ur_err_size, "out of memory");
    for (size_t i = 0;; i++) {
        if (counted && i == count) break;
        if (!counted) {
            if (!ubj_need(r, 1)) { cJSON_Delete(obj); return ubj_fail(r, "unterminated object"); }
            if (r->ur_buf[r->ur_pos] == '}') { r->ur_pos++; break; }
        }
        char *key = NULL;
        kite_err err = ubj_string(r, &key);
        unsigned char type = elem_type;
        if (err == KITE_ERR_OK && !typed) {
            if (!ubj_need(r, 1)) err = ubj_fail(r, "truncated object value");
            else type = r->ur_buf[r->ur_pos++];
        }
        cJSON *item = NULL;
        if (err == KITE_ERR_OK) err = ubj_value(r, type, depth + 1, &item);
        if (err != KITE_ERR_OK) { free(key); cJSON_Delete(obj); return err; }
        cJSON_AddItemToObject(obj, key, item);
        free(key);
    }
    *out = obj;
    return KITE_ERR_OK;
}

static kite_err ubj_value(ubj_reader *r, unsigned char type, int depth, cJSON **out)
{
    if (depth > UBJ_MAX_DEPTH) return ubj_fail(r, "nesting deeper than 64");
    while (type == 'N') { /* no-op marker */
        if (!ubj_need(r, 1)) return ubj_fail(r, "truncated value");
        type = r->ur_buf[r->ur_pos++];
    }
    if (type == '[') return ubj_array(r, depth, out);
    if (type == '{') return ubj_object(r, depth, out);
    if (ubj_fixed_size(type) < 0 && type != 'S' && type != 'H') {
        r->ur_pos--;
        return ubj_fail(r, "unknown type marker");
    }
    return ubj_scalar(r, type, out);
}

kite_err kite__ubjson_parse(const unsigned char *buf, size_t len, cJSON **out, char *errstr,
                           size_t errstr_size)
{
    ubj_reader r = {buf, len, 0, errstr, errstr_size};
    *out = NULL;
    if (len == 0) return ubj_fail(&r, "empty file");
    unsigned char type = buf[r.ur_pos++];
    return ubj_value(&r, type, 0, out);
}
