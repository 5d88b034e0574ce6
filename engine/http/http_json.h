/* Private to kite_http (engine/http/), not installed.
 * A small strict JSON scanner for request bodies (RFC 8259), allocation-free.
 *
 * Why not cJSON: cJSON builds a tree with one malloc per value; a /predict body is one flat
 * object, so the request path scans it in place instead, straight into the float row, and can
 * name the byte offset of a mistake. Strings are returned as spans of the (NUL-terminated)
 * body; kite__json_unescape decodes one into a caller buffer when it holds escapes.
 *
 * One extension: the tokens NaN, Infinity and -Infinity (what Python's json.dumps writes by
 * default) are recognised as KITE_JSON_NONFINITE so the caller can refuse them with a message
 * that says so, instead of a vague "malformed JSON". */
#ifndef KITE_HTTP_JSON_H
#define KITE_HTTP_JSON_H

#include <stddef.h>

typedef struct kite_json {
    const char *kj_begin;  /* body start (offsets in messages are from here) */
    const char *kj_p;      /* cursor                                         */
    const char *kj_end;    /* one past the last byte; *kj_end must be 0      */
    int kj_depth;          /* nesting of kite__json_skip                      */
} kite_json;

typedef enum kite_json_kind {
    KITE_JSON_ERROR = 0,   /* malformed: errstr says where and what          */
    KITE_JSON_NUMBER,      /* kjs_number                                      */
    KITE_JSON_NULL,
    KITE_JSON_TRUE,
    KITE_JSON_FALSE,
    KITE_JSON_STRING,      /* kjs_str/kjs_len raw span (escapes not decoded)   */
    KITE_JSON_NONFINITE,   /* NaN, Infinity, -Infinity                       */
    KITE_JSON_OBJECT,      /* cursor is just past '{' (not consumed further) */
    KITE_JSON_ARRAY        /* cursor is just past '['                        */
} kite_json_kind;

typedef struct kite_json_scalar {
    kite_json_kind kjs_kind;
    double kjs_number;
    const char *kjs_str;    /* STRING: raw span; NUMBER/NONFINITE: token text  */
    size_t kjs_len;
    int kjs_escaped;        /* STRING contains backslash escapes              */
} kite_json_scalar;

void kite__json_init(kite_json *j, const char *body, size_t len);

/* Skips whitespace; returns the next byte (0 at the end). */
char kite__json_peek(kite_json *j);

/* Consumes byte c after whitespace; on mismatch returns -1 and writes
 * "byte N: expected 'c' what" into errstr. */
int kite__json_expect(kite_json *j, char c, const char *what, char *errstr, size_t errstr_size);

/* Reads the next value's head: scalars completely, objects/arrays only their opening bracket. */
kite_json_kind kite__json_value(kite_json *j, kite_json_scalar *out, char *errstr,
                               size_t errstr_size);

/* Reads a string (a key); returns -1 with errstr on error. */
int kite__json_string(kite_json *j, kite_json_scalar *out, char *errstr, size_t errstr_size);

/* Skips the rest of a container whose opening bracket kite__json_value consumed (kind is
 * OBJECT or ARRAY), validating it; nesting is limited to 32 levels. */
int kite__json_skip(kite_json *j, kite_json_kind kind, char *errstr, size_t errstr_size);

/* After the last value: only whitespace may follow. */
int kite__json_end(kite_json *j, char *errstr, size_t errstr_size);

/* Decodes a raw string span into dst (UTF-8, NUL-terminated); -1 if it does not fit. */
int kite__json_unescape(const char *raw, size_t len, char *dst, size_t dst_size);

/* Decodes a raw string span over itself (the body is ours and writable); returns the new
 * length. The result is not NUL-terminated. */
size_t kite__json_unescape_in_place(char *s, size_t len);

/* Byte offset of the cursor (for messages). */
size_t kite__json_offset(const kite_json *j);

#endif
