/* Output records, as JSON, written into the worker's preallocated buffer (grown only for a
 * dead letter whose payload does not fit, a rare path).
 *
 *   prediction:  {"key","topic","partition","offset","prediction","margin","model",
 *                 "model_fingerprint","model_version","event_ts_ms","processed_ts_ms"}
 *                (model*: the version that scored the event's batch, engine/stream/model_swap.h)
 *                ("prediction"/"margin" are arrays for multi-output models)
 *   alert:       {"key","topic","partition","offset","rule","prediction"}
 *   dead letter: {"reason","topic","partition","offset","key","payload"} (payload as text;
 *   when it is not UTF-8, U+FFFD for each byte past ASCII and the bytes in "payload_base64") */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/mem.h>
#include <kite/num.h>
#include "output.h"

typedef struct out_buf {
    kite_worker *ob_w;
    size_t ob_len;
} out_buf;

static int out_reserve(out_buf *b, size_t more)
{
    kite_worker *w = b->ob_w;
    return kite_mem_grow((void **)&w->kw_out, &w->kw_out_cap, b->ob_len + more + 1, 1, 4096);
}

__attribute__((format(printf, 2, 3))) static void out_printf(out_buf *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->ob_w->kw_out_cap - b->ob_len;
        int n = vsnprintf(b->ob_w->kw_out + b->ob_len, room, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < room) {
            b->ob_len += (size_t)n;
            return;
        }
        if (out_reserve(b, (size_t)n + 1)) return;
    }
}

/* Literal text and integers without printf: on the per-event path, format-string parsing was
 * the largest single cost of building an output (perf, bench/stream_bench.sh). */
static void out_lit(out_buf *b, const char *text, size_t len)
{
    if (out_reserve(b, len + 1)) return;
    memcpy(b->ob_w->kw_out + b->ob_len, text, len);
    b->ob_len += len;
}
#define OUT_LIT(b, s) out_lit((b), (s), sizeof(s) - 1)

/* Two digits per division: offsets and millisecond timestamps have 6-13 digits. */
static void out_i64(out_buf *b, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                "34353637383940414243444546474849505152535455565758596061626364656667"
                                "6869707172737475767778798081828384858687888990919293949596979899";
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0) *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    if (out_reserve(b, n + 1)) return;
    memcpy(b->ob_w->kw_out + b->ob_len, p, n);
    b->ob_len += n;
}

/* A JSON string of arbitrary bytes: quotes, backslashes and control bytes escaped; other
 * bytes pass through (a non-UTF-8 key stays as sent). */
/* A JSON string of data[0..len); with lossy, each byte >= 0x80 becomes U+FFFD (for text that
 * is not UTF-8, so the record stays valid JSON). */
static void out_string_as(out_buf *b, const void *data, size_t len, int lossy)
{
    if (out_reserve(b, len * 6 + 3)) return;
    char *o = b->ob_w->kw_out + b->ob_len;
    const unsigned char *s = data;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else if (c >= 0x80 && lossy) {
            memcpy(o, "\\ufffd", 6);
            o += 6;
        } else *o++ = (char)c;
    }
    *o++ = '"';
    b->ob_len = (size_t)(o - b->ob_w->kw_out);
}

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int output_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, lo = c == 0xE0 ? 0xA0 : lo, hi = c == 0xED ? 0x9F : hi;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, lo = c == 0xF0 ? 0x90 : lo, hi = c == 0xF4 ? 0x8F : hi;
        else return 0;
        if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += n + 1;
    }
    return 1;
}

/* A JSON string that is always valid UTF-8: text that is not UTF-8 (a key, a reason quoting an
 * event's bytes) gets U+FFFD for each byte past ASCII. */
static void out_string(out_buf *b, const void *data, size_t len)
{
    out_string_as(b, data, len, !output_utf8_valid(data, len));
}

/* data[0..len) as a quoted base64 (RFC 4648, padded) string. */
static void out_base64(out_buf *b, const unsigned char *s, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (out_reserve(b, (len + 2) / 3 * 4 + 3)) return;
    char *o = b->ob_w->kw_out + b->ob_len;
    *o++ = '"';
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len) v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len) v |= s[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? abc[v & 63] : '=';
    }
    *o++ = '"';
    b->ob_len = (size_t)(o - b->ob_w->kw_out);
}

/* Writes the text of make(b) and keeps a copy in cache (when it fits) for the next call. */
static void out_cached(out_buf *b, char *cache, size_t cache_size, size_t *cache_len,
                       void (*make)(out_buf *, const void *), const void *arg)
{
    size_t at = b->ob_len;
    make(b, arg);
    size_t n = b->ob_len - at;
    if (n <= cache_size && b->ob_len <= b->ob_w->kw_out_cap) {
        memcpy(cache, b->ob_w->kw_out + at, n);
        *cache_len = n;
    }
}

static void out_make_source(out_buf *b, const void *topic)
{
    OUT_LIT(b, "\"topic\":");
    out_string(b, topic, strlen(topic));
    OUT_LIT(b, ",\"partition\":");
}

static void out_source(out_buf *b, const rd_kafka_message_t *m)
{
    kite_worker *w = b->ob_w;
    const char *topic = rd_kafka_topic_name(m->rkt);
    /* Per source topic, not per event: the topic's escaped name (checked by name as well as
     * by handle, so a handle reused for another topic cannot pass). */
    if (w->kw_src_len && m->rkt == w->kw_src_rkt && !strcmp(topic, w->kw_src_topic)) {
        out_lit(b, w->kw_src_text, w->kw_src_len);
    } else {
        w->kw_src_len = 0;
        out_cached(b, w->kw_src_text, sizeof w->kw_src_text, &w->kw_src_len, out_make_source, topic);
        w->kw_src_rkt = m->rkt;
        w->kw_src_topic = topic;
    }
    out_i64(b, m->partition);
    OUT_LIT(b, ",\"offset\":");
    out_i64(b, m->offset);
}

static void out_key(out_buf *b, const rd_kafka_message_t *m)
{
    OUT_LIT(b, "\"key\":");
    if (m->key)
        out_string(b, m->key, m->key_len);
    else OUT_LIT(b, "null");
}

/* The shortest text that reads back as the same float32 (loaders/csv/include/kite/num.h), without printf. */
static void out_float(out_buf *b, float v)
{
    if (out_reserve(b, KITE_NUM_FLOAT_CHARS)) return;
    b->ob_len += kite_num_format_float(v, b->ob_w->kw_out + b->ob_len);
}

static void out_floats(out_buf *b, const float *v, int n)
{
    if (n == 1) {
        out_float(b, v[0]);
        return;
    }
    OUT_LIT(b, "[");
    for (int i = 0; i < n; i++) {
        if (i) OUT_LIT(b, ",");
        out_float(b, v[i]);
    }
    OUT_LIT(b, "]");
}

static void out_make_model(out_buf *b, const void *arg)
{
    const kite_served *sv = arg;
    OUT_LIT(b, ",\"model\":\"");
    out_lit(b, sv->ksv_name, strlen(sv->ksv_name)); /* quotes removed at load */
    OUT_LIT(b, "\",\"model_fingerprint\":\"");
    out_lit(b, sv->ksv_fingerprint, strlen(sv->ksv_fingerprint));
    OUT_LIT(b, "\",\"model_version\":\"");
    out_lit(b, sv->ksv_version, strlen(sv->ksv_version));
    OUT_LIT(b, "\",\"event_ts_ms\":");
}

size_t kite__output_prediction(kite_worker *w, const rd_kafka_message_t *m, const float *pred,
                              const float *margin, int warming_up, int64_t now_ms)
{
    const kite_served *sv = w->kw_served; /* the version that scored this batch */
    out_buf b = {w, 0};
    int groups = sv->ksv_loaded->klm_forest.kf_num_group;
    int outs = kite_forest_outputs_per_row(&sv->ksv_loaded->klm_forest);
    OUT_LIT(&b, "{");
    out_key(&b, m);
    OUT_LIT(&b, ",");
    out_source(&b, m);
    OUT_LIT(&b, ",\"prediction\":");
    out_floats(&b, pred, outs);
    OUT_LIT(&b, ",\"margin\":");
    out_floats(&b, margin, groups);
    /* The model tail is the same for every prediction of a version: cached per worker,
     * reset by worker_model when the worker switches versions. */
    if (w->kw_model_tail_len) out_lit(&b, w->kw_model_tail, w->kw_model_tail_len);
    else
        out_cached(&b, w->kw_model_tail, sizeof w->kw_model_tail, &w->kw_model_tail_len,
                   out_make_model, sv);
    out_i64(&b, rd_kafka_message_timestamp(m, NULL));
    OUT_LIT(&b, ",\"processed_ts_ms\":");
    out_i64(&b, now_ms);
    if (warming_up) OUT_LIT(&b, ",\"warming_up\":true");
    OUT_LIT(&b, "}");
    return b.ob_len;
}

size_t kite__output_alert(kite_worker *w, const rd_kafka_message_t *m, float pred)
{
    out_buf b = {w, 0};
    OUT_LIT(&b, "{");
    out_key(&b, m);
    OUT_LIT(&b, ",");
    out_source(&b, m);
    if (!w->kw_alert_head_len) /* printf once per worker, not per alert */
        w->kw_alert_head_len = (size_t)snprintf(w->kw_alert_head, sizeof w->kw_alert_head,
                                                ",\"rule\":\"prediction >= %g\",\"prediction\":",
                                                w->kw_pl->pl_cfg.kc_alert_threshold);
    out_lit(&b, w->kw_alert_head, w->kw_alert_head_len);
    out_float(&b, pred);
    OUT_LIT(&b, "}");
    return b.ob_len;
}

size_t kite__output_dead_letter(kite_worker *w, const rd_kafka_message_t *m, const char *reason)
{
    out_buf b = {w, 0};
    out_printf(&b, "{\"reason\":");
    out_string(&b, reason, strlen(reason));
    out_printf(&b, ",");
    out_source(&b, m);
    out_printf(&b, ",");
    out_key(&b, m);
    out_printf(&b, ",\"payload\":");
    const unsigned char *p = m->payload ? m->payload : (const unsigned char *)"";
    size_t n = m->payload ? m->len : 0;
    out_string(&b, p, n);
    if (!output_utf8_valid(p, n)) {
        /* The record stays valid JSON (U+FFFD for each byte past ASCII, for people) and loses
         * nothing: the exact bytes in base64, for a replay. */
        out_printf(&b, ",\"payload_base64\":");
        out_base64(&b, p, n);
    }
    out_printf(&b, "}");
    return b.ob_len;
}

/* {"key","topic","partition","offset","prediction","serving_prediction","diff","model",
 *  "model_fingerprint","model_version"}: the candidate's first output beside the serving one. */
size_t kite__output_shadow(kite_worker *w, const rd_kafka_message_t *m, const kite_served *shadow,
                          float shadow_pred, float serving_pred)
{
    out_buf b = {w, 0};
    OUT_LIT(&b, "{");
    out_key(&b, m);
    OUT_LIT(&b, ",");
    out_source(&b, m);
    OUT_LIT(&b, ",\"prediction\":");
    out_float(&b, shadow_pred);
    OUT_LIT(&b, ",\"serving_prediction\":");
    out_float(&b, serving_pred);
    OUT_LIT(&b, ",\"diff\":");
    out_float(&b, shadow_pred - serving_pred);
    OUT_LIT(&b, ",\"model\":\"");
    out_lit(&b, shadow->ksv_name, strlen(shadow->ksv_name));
    OUT_LIT(&b, "\",\"model_fingerprint\":\"");
    out_lit(&b, shadow->ksv_fingerprint, strlen(shadow->ksv_fingerprint));
    OUT_LIT(&b, "\",\"model_version\":\"");
    out_lit(&b, shadow->ksv_version, strlen(shadow->ksv_version));
    OUT_LIT(&b, "\"}");
    return b.ob_len;
}

size_t kite__output_text(kite_worker *w, const char *text)
{
    out_buf b = {w, 0};
    out_printf(&b, "%s", text);
    return b.ob_len;
}
