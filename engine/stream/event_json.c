/* A Kafka event's JSON, parsed the way cJSON 1.7 parses it, into a flat field list (see
 * event_json.h). Each function below mirrors the cJSON function named in its comment, so the
 * accepted inputs, the values and the position of a failure are cJSON's; test_event_json
 * checks that against cJSON itself on generated and mutated events. */
#include "event_json.h"

#include <stdlib.h>
#include <string.h>

#include <kite/num.h>

#define EJ_NESTING_LIMIT 1000 /* CJSON_NESTING_LIMIT */

static int ej_can(const kite_event_json *ev, size_t i) { return ev->ej_p + i < ev->ej_end; }

/* buffer_skip_whitespace: bytes <= 32; at the end it steps back onto the last byte. */
static void ej_skip_ws(kite_event_json *ev)
{
    if (!ej_can(ev, 0)) return;
    while (ej_can(ev, 0) && *ev->ej_p <= 32) ev->ej_p++;
    if (ev->ej_p == ev->ej_end) ev->ej_p--;
}

/* The bytes a string scan stops at: its end, an escape, a NUL (which ends a C string). */
static const unsigned char ej_special[256] = {[0] = 1, ['"'] = 1, ['\\'] = 1};

/* The bytes cJSON copies into a number for strtod. */
static const unsigned char ej_number_byte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1, ['e'] = 1, ['E'] = 1, ['.'] = 1};

static unsigned ej_hex4(const unsigned char *s) /* parse_hex4: an invalid digit gives 0 */
{
    unsigned h = 0;
    for (int i = 0; i < 4; i++) {
        unsigned d;
        if (s[i] >= '0' && s[i] <= '9') d = (unsigned)s[i] - '0';
        else if (s[i] >= 'A' && s[i] <= 'F') d = 10u + s[i] - 'A';
        else if (s[i] >= 'a' && s[i] <= 'f') d = 10u + s[i] - 'a';
        else return 0;
        h = (h << 4) | d;
    }
    return h;
}

/* utf16_literal_to_utf8: returns the escape's length (6 or 12), 0 when invalid. */
static int ej_utf16(const unsigned char *in, const unsigned char *end, char **out)
{
    if (end - in < 6) return 0;
    unsigned long cp;
    unsigned first = ej_hex4(in + 2);
    int len = 6;
    if (first >= 0xDC00 && first <= 0xDFFF) return 0;
    if (first >= 0xD800 && first <= 0xDBFF) {
        const unsigned char *second = in + 6;
        if (end - second < 6 || second[0] != '\\' || second[1] != 'u') return 0;
        unsigned lo = ej_hex4(second + 2);
        if (lo < 0xDC00 || lo > 0xDFFF) return 0;
        cp = 0x10000 + (((unsigned long)(first & 0x3FF) << 10) | (lo & 0x3FF));
        len = 12;
    } else {
        cp = first;
    }
    unsigned char *o = (unsigned char *)*out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        *out += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        *out += 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        *out += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        *out += 4;
    }
    return len;
}

/* parse_string, at a '"'. *text (if not NULL) gets the unescaped, NUL-terminated copy in
 * ej_text and *len (if not NULL) its strlen; a string that is not kept gives its room back. On failure ej_p is where the copy
 * stopped, as cJSON reports it. */
/* Inlined into its two callers: ~15 strings an event, and the call was a fifth of each. */
static inline __attribute__((always_inline)) int ej_string(kite_event_json *ev, const char **text,
                                                         size_t *len)
{
    const unsigned char *in = ev->ej_p + 1, *end = ev->ej_p + 1;
    if (!ej_can(ev, 0) || *ev->ej_p != '"') goto fail; /* cJSON then reports the next byte */
    char *o = ev->ej_out, *start = o;
    int plain = 1; /* no backslash and no NUL byte: one copy, the length known */
    for (;;) {
        /* One table load a byte over the run of ordinary ones (eight bytes a step was slower:
         * event names and values are mostly under 16 bytes). */
        while (end < ev->ej_end && !ej_special[*end]) end++;
        if (end >= ev->ej_end) goto fail;
        if (*end == '"') break;
        plain = 0;
        if (*end == '\\') {
            if (end + 1 >= ev->ej_end) goto fail;
            end++;
        }
        end++;
    }
    if (plain) { /* the common case; no copy at all for a string nobody keeps */
        if (text) {
            size_t n = (size_t)(end - in);
            memcpy(o, in, n);
            o[n] = 0;
            *text = start;
            if (len) *len = n;
            ev->ej_out = o + n + 1;
        }
        ev->ej_p = end + 1;
        return 0;
    }
    while (in < end) {
        if (*in != '\\') {
            *o++ = (char)*in++;
            continue;
        }
        int seq = 2;
        switch (in[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case '"':
        case '\\':
        case '/': *o++ = (char)in[1]; break;
        case 'u':
            if (!(seq = ej_utf16(in, end, &o))) goto fail;
            break;
        default: goto fail;
        }
        in += seq;
    }
    *o = 0;
    if (text) {
        *text = start;
        if (len) *len = strlen(start); /* up to a \u0000, as C code reads it */
        ev->ej_out = o + 1;
    }
    ev->ej_p = end + 1;
    return 0;
fail:
    ev->ej_p = in;
    return -1;
}

/* parse_number, at a '-' or digit: strtod over the whole run of number bytes (Debian's cJSON
 * 1.7.15 copies all of it; upstream 1.7.15 stopped at 63). */
static int ej_number(kite_event_json *ev, double *out)
{
    size_t n = 0, left = (size_t)(ev->ej_end - ev->ej_p);
    while (n < left && ej_number_byte[ev->ej_p[n]]) n++;
    size_t used;
    double v = kite_num_parse_double_n((const char *)ev->ej_p, n, &used);
    if (!used) return -1;
    *out = v;
    ev->ej_p += used;
    return 0;
}

static int ej_value(kite_event_json *ev, kite_event_field *f);

/* parse_array and parse_object (top: the event itself, whose fields are listed). */
static int ej_container(kite_event_json *ev, int object, int top)
{
    if (ev->ej_depth >= EJ_NESTING_LIMIT) return -1;
    ev->ej_depth++;
    unsigned char close = object ? '}' : ']';
    ev->ej_p++; /* the '{' or '[' parse_value saw */
    ej_skip_ws(ev);
    if (ej_can(ev, 0) && *ev->ej_p == close) goto done;
    if (!ej_can(ev, 0)) {
        ev->ej_p--;
        return -1;
    }
    ev->ej_p--; /* onto the byte before the first element, as cJSON steps */
    do {
        ev->ej_p++;
        ej_skip_ws(ev);
        kite_event_field *f = NULL;
        if (object) {
            const char *name = NULL;
            size_t name_len = 0;
            if (ej_string(ev, top ? &name : NULL, &name_len)) return -1;
            ej_skip_ws(ev);
            if (!ej_can(ev, 0) || *ev->ej_p != ':') return -1;
            ev->ej_p++;
            ej_skip_ws(ev);
            if (top) {
                if (ev->ej_nfields == ev->ej_cap) {
                    int cap = ev->ej_cap ? ev->ej_cap * 2 : 32;
                    kite_event_field *nf = realloc(ev->ej_fields, (size_t)cap * sizeof *nf);
                    if (!nf) {
                        ev->ej_p = ev->ej_end; /* reported as out of memory by the caller */
                        return -2;
                    }
                    ev->ej_fields = nf;
                    ev->ej_cap = cap;
                }
                f = &ev->ej_fields[ev->ej_nfields++];
                *f = (kite_event_field){name, name_len, KITE_EV_NULL, 0, NULL};
            }
        }
        int rc = ej_value(ev, f);
        if (rc) return rc;
        ej_skip_ws(ev);
    } while (ej_can(ev, 0) && *ev->ej_p == ',');
    if (!ej_can(ev, 0) || *ev->ej_p != close) return -1;
done:
    ev->ej_depth--;
    ev->ej_p++;
    return 0;
}

/* parse_value. f: the top-level field being filled, or NULL inside nested values. */
static int ej_value(kite_event_json *ev, kite_event_field *f)
{
    kite_event_field dummy;
    if (!f) f = &dummy;
    const unsigned char *p = ev->ej_p;
    size_t left = (size_t)(ev->ej_end - p);
    if (!left) return -1;
    /* cJSON tries null, false, true, then looks at the first byte; each literal can only match
     * on its own first byte, so switching on it first is the same test. */
    switch (*p) {
    case 'n':
        if (left < 4 || memcmp(p, "null", 4)) return -1;
        f->ef_kind = KITE_EV_NULL;
        ev->ej_p += 4;
        return 0;
    case 'f':
        if (left < 5 || memcmp(p, "false", 5)) return -1;
        f->ef_kind = KITE_EV_FALSE;
        ev->ej_p += 5;
        return 0;
    case 't':
        if (left < 4 || memcmp(p, "true", 4)) return -1;
        f->ef_kind = KITE_EV_TRUE;
        ev->ej_p += 4;
        return 0;
    case '"':
        f->ef_kind = KITE_EV_TEXT;
        return ej_string(ev, f == &dummy ? NULL : &f->ef_text, NULL);
    case '[':
    case '{':
        f->ef_kind = KITE_EV_NESTED;
        return ej_container(ev, *p == '{', 0);
    default:
        if (*p != '-' && !(*p >= '0' && *p <= '9')) return -1;
        f->ef_kind = KITE_EV_NUMBER;
        return ej_number(ev, &f->ef_number);
    }
}

int kite__event_json_parse(kite_event_json *ev, const void *payload, size_t len, size_t *error_at)
{
    ev->ej_nfields = 0;
    ev->ej_is_object = 0;
    *error_at = 0;
    if (!len) return -1;
    /* Every string's unescaped copy and its NUL fit in the bytes of its quoted form. */
    if (ev->ej_text_cap < len + 1) {
        char *t = realloc(ev->ej_text, len + 1);
        if (!t) {
            *error_at = len;
            return -2;
        }
        ev->ej_text = t;
        ev->ej_text_cap = len + 1;
    }
    ev->ej_start = ev->ej_p = payload;
    ev->ej_end = ev->ej_start + len;
    ev->ej_out = ev->ej_text;
    ev->ej_depth = 0;
    if (len >= 5 && !memcmp(ev->ej_p, "\xEF\xBB\xBF", 3)) ev->ej_p += 3; /* skip_utf8_bom */
    ej_skip_ws(ev);
    int rc;
    if (ej_can(ev, 0) && *ev->ej_p == '{') {
        ev->ej_is_object = 1;
        rc = ej_container(ev, 1, 1);
    } else {
        rc = ej_value(ev, NULL);
    }
    if (rc) {
        size_t at = (size_t)(ev->ej_p - ev->ej_start);
        *error_at = at < len ? at : len - 1;
        ev->ej_nfields = 0;
        return rc == -2 ? -2 : -1;
    }
    return 0;
}

const kite_event_field *kite__event_json_get(const kite_event_json *ev, const char *name)
{
    for (int i = 0; i < ev->ej_nfields; i++)
        if (!strcmp(ev->ej_fields[i].ef_name, name)) return &ev->ej_fields[i];
    return NULL;
}

void kite__event_json_free(kite_event_json *ev)
{
    free(ev->ej_fields);
    free(ev->ej_text);
    *ev = (kite_event_json){0};
}
