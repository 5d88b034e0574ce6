/* Strict JSON scanning over a NUL-terminated body; see http_json.h. */
#include "http_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/error.h>
#include <kite/num.h>

/* Deepest nesting kite__json_skip follows: request bodies are two or three levels deep, so
 * anything past this is refused rather than walked (a bound on work per byte). */
#define JSON_MAX_DEPTH 32
/* Longest number token: far more digits than a double carries. */
#define JSON_MAX_NUMBER 64

void kite__json_init(kite_json *j, const char *body, size_t len)
{
    j->kj_begin = body;
    j->kj_p = body;
    j->kj_end = body + len;
    j->kj_depth = 0;
}

size_t kite__json_offset(const kite_json *j) { return (size_t)(j->kj_p - j->kj_begin); }

static void skip_ws(kite_json *j)
{
    while (j->kj_p < j->kj_end &&
           (*j->kj_p == ' ' || *j->kj_p == '\t' || *j->kj_p == '\n' || *j->kj_p == '\r'))
        j->kj_p++;
}

char kite__json_peek(kite_json *j)
{
    skip_ws(j);
    return j->kj_p < j->kj_end ? *j->kj_p : 0;
}

static int fail(kite_json *j, char *errstr, size_t errstr_size, const char *what)
{
    if (j->kj_p >= j->kj_end)
        kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "malformed JSON: body ends early, %s",
                  what);
    else
        kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "malformed JSON at byte %zu: %s",
                  kite__json_offset(j), what);
    return -1;
}

int kite__json_expect(kite_json *j, char c, const char *what, char *errstr, size_t errstr_size)
{
    skip_ws(j);
    if (j->kj_p < j->kj_end && *j->kj_p == c) {
        j->kj_p++;
        return 0;
    }
    return fail(j, errstr, errstr_size, what);
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

int kite__json_string(kite_json *j, kite_json_scalar *out, char *errstr, size_t errstr_size)
{
    skip_ws(j);
    if (j->kj_p >= j->kj_end || *j->kj_p != '"')
        return fail(j, errstr, errstr_size, "expected a string");
    const char *s = ++j->kj_p;
    int escaped = 0;
    while (j->kj_p < j->kj_end) {
        unsigned char c = (unsigned char)*j->kj_p;
        if (c == '"') {
            out->kjs_kind = KITE_JSON_STRING;
            out->kjs_str = s;
            out->kjs_len = (size_t)(j->kj_p - s);
            out->kjs_escaped = escaped;
            j->kj_p++;
            return 0;
        }
        if (c < 0x20) return fail(j, errstr, errstr_size, "control character in a string");
        if (c == '\\') {
            escaped = 1;
            if (j->kj_end - j->kj_p < 2) break;
            char e = j->kj_p[1];
            if (e == 'u') {
                if (j->kj_end - j->kj_p < 6 || hex4(j->kj_p + 2) < 0)
                    return fail(j, errstr, errstr_size, "bad \\u escape");
                j->kj_p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || !e)
                return fail(j, errstr, errstr_size, "bad escape in a string");
            j->kj_p += 2;
            continue;
        }
        j->kj_p++;
    }
    return fail(j, errstr, errstr_size, "unterminated string");
}

static int literal(kite_json *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->kj_end - j->kj_p) < n || memcmp(j->kj_p, word, n)) return 0;
    j->kj_p += n;
    return 1;
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(kite_json *j, kite_json_scalar *out, char *errstr, size_t errstr_size)
{
    const char *s = j->kj_p, *p = s, *e = j->kj_end;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') p++;
    else if (p < e && *p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9') p++;
    else return fail(j, errstr, errstr_size, "expected a value");
    if (p < e && *p == '.') {
        p++;
        if (!(p < e && *p >= '0' && *p <= '9'))
            return j->kj_p = p, fail(j, errstr, errstr_size, "expected a digit after '.'");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p < e && *p >= '0' && *p <= '9'))
            return j->kj_p = p, fail(j, errstr, errstr_size, "expected an exponent digit");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    size_t n = (size_t)(p - s);
    if (n >= JSON_MAX_NUMBER) return fail(j, errstr, errstr_size, "number too long");
    /* strtod's double over exactly the token (loaders/csv/include/kite/num.h: bit for bit, locale-free). */
    size_t used;
    out->kjs_kind = KITE_JSON_NUMBER;
    out->kjs_number = kite_num_parse_double_n(s, n, &used);
    if (used != n) return fail(j, errstr, errstr_size, "expected a number"); /* grammar above */
    out->kjs_str = s;
    out->kjs_len = n;
    j->kj_p = p;
    return 0;
}

kite_json_kind kite__json_value(kite_json *j, kite_json_scalar *out, char *errstr,
                               size_t errstr_size)
{
    skip_ws(j);
    out->kjs_str = j->kj_p;
    out->kjs_len = 0;
    char c = j->kj_p < j->kj_end ? *j->kj_p : 0;
    switch (c) {
    case '{': j->kj_p++; return out->kjs_kind = KITE_JSON_OBJECT;
    case '[': j->kj_p++; return out->kjs_kind = KITE_JSON_ARRAY;
    case '"':
        return kite__json_string(j, out, errstr, errstr_size) ? KITE_JSON_ERROR : KITE_JSON_STRING;
    case 't': if (literal(j, "true")) return out->kjs_kind = KITE_JSON_TRUE; break;
    case 'f': if (literal(j, "false")) return out->kjs_kind = KITE_JSON_FALSE; break;
    case 'n': if (literal(j, "null")) return out->kjs_kind = KITE_JSON_NULL; break;
    case 'N':
    case 'I':
        if (literal(j, "NaN") || literal(j, "Infinity")) {
            out->kjs_len = (size_t)(j->kj_p - out->kjs_str);
            return out->kjs_kind = KITE_JSON_NONFINITE;
        }
        break;
    case '-':
        if (literal(j, "-Infinity")) {
            out->kjs_len = 9;
            return out->kjs_kind = KITE_JSON_NONFINITE;
        }
        /* fall through */
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return number(j, out, errstr, errstr_size) ? KITE_JSON_ERROR : KITE_JSON_NUMBER;
    }
    fail(j, errstr, errstr_size, "expected a value");
    return KITE_JSON_ERROR;
}

int kite__json_skip(kite_json *j, kite_json_kind kind, char *errstr, size_t errstr_size)
{
    char close = kind == KITE_JSON_OBJECT ? '}' : ']';
    if (++j->kj_depth > JSON_MAX_DEPTH) return fail(j, errstr, errstr_size, "nested too deep");
    if (kite__json_peek(j) == close) {
        j->kj_p++;
        j->kj_depth--;
        return 0;
    }
    for (;;) {
        kite_json_scalar v;
        if (kind == KITE_JSON_OBJECT) {
            if (kite__json_string(j, &v, errstr, errstr_size)) return -1;
            if (kite__json_expect(j, ':', "expected ':' after a key", errstr, errstr_size))
                return -1;
        }
        kite_json_kind k = kite__json_value(j, &v, errstr, errstr_size);
        if (k == KITE_JSON_ERROR) return -1;
        if ((k == KITE_JSON_OBJECT || k == KITE_JSON_ARRAY) && kite__json_skip(j, k, errstr, errstr_size))
            return -1;
        char c = kite__json_peek(j);
        if (c == ',') {
            j->kj_p++;
            continue;
        }
        if (c == close) {
            j->kj_p++;
            j->kj_depth--;
            return 0;
        }
        return fail(j, errstr, errstr_size,
                    kind == KITE_JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

int kite__json_end(kite_json *j, char *errstr, size_t errstr_size)
{
    skip_ws(j);
    if (j->kj_p != j->kj_end) return fail(j, errstr, errstr_size, "unexpected text after the value");
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) { dst[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* In place is safe: every escape is at least as long as the UTF-8 it decodes to, so the
 * write position never passes the read position. */
size_t kite__json_unescape_in_place(char *s, size_t len)
{
    int n = kite__json_unescape(s, len, s, len + 5);
    return n < 0 ? 0 : (size_t)n;
}

int kite__json_unescape(const char *raw, size_t len, char *dst, size_t dst_size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 5 > dst_size) return -1;
        char c = raw[i];
        if (c != '\\') {
            dst[o++] = c;
            continue;
        }
        c = raw[++i]; /* the scanner validated every escape */
        switch (c) {
        case 'b': dst[o++] = '\b'; break;
        case 'f': dst[o++] = '\f'; break;
        case 'n': dst[o++] = '\n'; break;
        case 'r': dst[o++] = '\r'; break;
        case 't': dst[o++] = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(raw + i + 1);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < len && raw[i + 1] == '\\' &&
                raw[i + 2] == 'u') {
                int lo = hex4(raw + i + 3);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                    i += 6;
                }
            }
            o += put_utf8(dst + o, cp);
            break;
        }
        default: dst[o++] = c; break;
        }
    }
    if (o >= dst_size) return -1;
    dst[o] = 0;
    return (int)o;
}
