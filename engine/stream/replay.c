#include <kite/clock.h>
#include <kite/replay.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "kafka_conf.h"
#include <kite/num.h>

#define REPLAY_BUF 65536

/* kro_stop may be stored by a signal handler; only a lock-free atomic is async-signal-safe.
 * int64_t is long or long long, whichever is 64 bits. */
_Static_assert(sizeof(int64_t) == sizeof(long) ? ATOMIC_LONG_LOCK_FREE == 2
                                               : ATOMIC_LLONG_LOCK_FREE == 2,
               "kro_stop needs a lock-free 64-bit atomic");

typedef struct replay_state {
    size_t rs_delivered;
    size_t rs_failed;
    char rs_first_error[256];
} replay_state;

static void replay_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    replay_state *s = opaque;
    if (m->err) {
        if (!s->rs_failed++)
            snprintf(s->rs_first_error, sizeof s->rs_first_error, "%s", rd_kafka_err2str(m->err));
    } else s->rs_delivered++;
}

static size_t json_string(char *o, size_t room, const char *s)
{
    size_t n = 0;
    if (room < 3) return 0;
    o[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (n + 8 >= room) return 0;
        if (c == '"' || c == '\\') o[n++] = '\\', o[n++] = (char)c;
        else if (c < 0x20) n += (size_t)snprintf(o + n, room - n, "\\u%04x", c);
        else o[n++] = (char)c;
    }
    o[n++] = '"';
    return n;
}

/* A number as JSON wants it, from CSV text: returns 1 and writes it, or 0 if not a number. */
static int json_number(char *dst, size_t size, const kite_csv_options *csv, const char *text)
{
    char tmp[64];
    size_t len = strlen(text);
    if (!len || len >= sizeof tmp) return 0;
    memcpy(tmp, text, len + 1);
    if (csv->kco_decimal_comma)
        for (char *c = tmp; *c; c++)
            if (*c == ',') *c = '.';
    char *end = NULL;
    double v = kite_num_parse_double(tmp, &end); /* strtod's value, locale-free (num.h) */
    if (*end || !isfinite(v)) return 0;
    /* Keep the text when it is already a JSON number; else print the parsed value. */
    int plain = tmp[0] != '+' && tmp[0] != '.' && !(tmp[0] == '-' && tmp[1] == '.') &&
                !strchr(tmp, 'x') && !strchr(tmp, 'X') && tmp[len - 1] != '.' &&
                !(tmp[0] == '0' && len > 1 && tmp[1] != '.' && tmp[1] != 'e' && tmp[1] != 'E') &&
                !(tmp[0] == '-' && tmp[1] == '0' && len > 2 && tmp[2] != '.');
    if (plain) snprintf(dst, size, "%s", tmp);
    else snprintf(dst, size, "%.17g", v);
    return 1;
}

size_t kite_replay_row_json(char *buf, size_t size, const kite_csv_options *csv,
                            char *const *names, char *const *fields, int nfields)
{
    size_t n = 0;
    if (size < 2) return 0;
    buf[n++] = '{';
    for (int i = 0; i < nfields; i++) {
        if (i) {
            if (n + 1 >= size) return 0;
            buf[n++] = ',';
        }
        size_t k = json_string(buf + n, size - n, names[i]);
        if (!k || n + k + 1 >= size) return 0;
        n += k;
        buf[n++] = ':';
        char num[64];
        const char *f = fields[i];
        if (kite_csv_is_missing(csv, f) || !*f) {
            if (n + 5 >= size) return 0;
            memcpy(buf + n, "null", 4);
            n += 4;
        } else if (json_number(num, sizeof num, csv, f)) {
            size_t l = strlen(num);
            if (n + l + 1 >= size) return 0;
            memcpy(buf + n, num, l);
            n += l;
        } else {
            k = json_string(buf + n, size - n, f);
            if (!k) return 0;
            n += k;
        }
    }
    if (n + 2 >= size) return 0;
    buf[n++] = '}';
    buf[n] = 0;
    return n;
}

static int replay_stopped(const kite_replay_opts *o)
{
    /* Relaxed: pairs with the caller's store, and orders nothing else (no data rides on it). */
    return o->kro_stop && atomic_load_explicit(o->kro_stop, memory_order_relaxed);
}

/* Serves delivery reports until the time `due` (CLOCK_MONOTONIC seconds) or a stop request:
 * polling 1 ms at a time bounds how late a stop is seen, and keeps reports flowing. */
static void replay_wait_until(rd_kafka_t *rk, const kite_replay_opts *o, double due)
{
    while (!replay_stopped(o) && kite_clock_mono_s() < due) rd_kafka_poll(rk, 1);
}

/* Waits for every delivery report. Not stopped: as long as it takes (librdkafka fails a
 * message after message.timeout.ms, so this ends). Stopped: KITE_REPLAY_STOP_FLUSH_MS more at
 * most, then purges what is left; purged messages report __PURGE_QUEUE/__PURGE_INFLIGHT
 * through replay_dr, so they are counted as not delivered rather than lost silently. */
static void replay_flush(rd_kafka_t *rk, const kite_replay_opts *o)
{
    double give_up = 0;
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 100);
        if (!replay_stopped(o)) continue;
        if (!give_up) give_up = kite_clock_mono_s() + KITE_REPLAY_STOP_FLUSH_MS / 1000.0;
        if (kite_clock_mono_s() >= give_up) {
            rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_flush(rk, 1000); /* serves the purged messages' reports */
            break;
        }
    }
}

/* Produces one event, retrying on __QUEUE_FULL after serving delivery reports (never
 * dropped); a stop request ends the retries and returns __QUEUE_FULL, so a full queue cannot
 * hold a stop. */
static rd_kafka_resp_err_t replay_produce(rd_kafka_t *rk, const kite_replay_opts *o,
                                          const char *key, const char *json, size_t len)
{
    for (;;) {
        rd_kafka_resp_err_t perr = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(o->kro_topic),
            RD_KAFKA_V_PARTITION(o->kro_partition >= 0 ? o->kro_partition : RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)json, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (perr != RD_KAFKA_RESP_ERR__QUEUE_FULL || replay_stopped(o)) return perr;
        rd_kafka_poll(rk, 10);
    }
}

static rd_kafka_t *replay_producer(const char *brokers, const kite_replay_opts *o,
                                   replay_state *st, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kite_err err = kite__kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "linger.ms", "5", errstr, errstr_size);
    if (!err && o->kro_kafka) err = kite__kafka_conf_apply_user(conf, o->kro_kafka, "producer", errstr, errstr_size);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, replay_dr);
    rd_kafka_conf_set_opaque(conf, st);
    char kerr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "producer: %s", kerr);
    }
    return rk;
}

kite_err kite_replay_csv(const char *brokers, const kite_replay_opts *o, size_t *produced,
                         char *errstr, size_t errstr_size)
{
    *produced = 0;
    replay_state st = {0};
    errstr[0] = 0;
    rd_kafka_t *rk = replay_producer(brokers, o, &st, errstr, errstr_size);
    if (!rk) return KITE_ERR_KAFKA;
    char *buf = malloc(REPLAY_BUF);
    kite_err err = buf ? KITE_ERR_OK : KITE_ERR_NOMEM;
    size_t sent = 0;
    double start = kite_clock_mono_s();
    /* The limit ends the repeats too: kite capacity repeats up to 1,000,000 times to reach its
     * --events, and each repeat opens the file again. */
    for (long rep = 0; rep < (o->kro_repeat > 0 ? o->kro_repeat : 1) && !err && !replay_stopped(o) &&
                       (!o->kro_limit || (long)sent < o->kro_limit);
         rep++) {
        kite_csv_reader *r = NULL;
        err = kite_csv_open(o->kro_path, &o->kro_csv, &r, errstr, errstr_size);
        if (err) break;
        int ncols = kite_csv_num_columns(r);
        char **names = calloc((size_t)ncols, sizeof *names);
        for (int c = 0; names && c < ncols; c++) names[c] = (char *)kite_csv_column_name(r, c);
        int key_col = o->kro_key ? kite_csv_find_column(r, o->kro_key) : -1;
        if (!names) err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "replay");
        else if (o->kro_key && key_col < 0)
            err = kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "%s: no column \"%s\" for --key",
                            o->kro_path, o->kro_key);
        kite_csv_row row;
        while (!err && !replay_stopped(o) && (!o->kro_limit || (long)sent < o->kro_limit)) {
            err = kite_csv_next(r, &row, errstr, errstr_size);
            if (err || row.kcr_nfields == 0) break;
            int nf = row.kcr_nfields < ncols ? row.kcr_nfields : ncols;
            size_t len = kite_replay_row_json(buf, REPLAY_BUF, &o->kro_csv, names,
                                              row.kcr_fields, nf);
            if (!len) {
                err = kite_errf(KITE_ERR_LIMIT, errstr, errstr_size,
                                "%s:%zu: row longer than %d bytes as JSON", o->kro_path,
                                row.kcr_line, REPLAY_BUF);
                break;
            }
            const char *key = key_col >= 0 && key_col < row.kcr_nfields ? row.kcr_fields[key_col] : NULL;
            if (o->kro_rate > 0) replay_wait_until(rk, o, start + (double)sent / o->kro_rate);
            if (replay_stopped(o)) break; /* the row read is not sent: stop means now */
            rd_kafka_resp_err_t perr = replay_produce(rk, o, key, buf, len);
            if (perr == RD_KAFKA_RESP_ERR__QUEUE_FULL) break; /* stopped while full */
            if (perr) {
                err = kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "produce to %s: %s",
                                o->kro_topic, rd_kafka_err2str(perr));
                break;
            }
            sent++;
            rd_kafka_poll(rk, 0);
        }
        free(names);
        kite_csv_close(r);
    }
    replay_flush(rk, o);
    if (!err && st.rs_failed)
        err = kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "%zu event(s) not delivered: %s",
                        st.rs_failed, st.rs_first_error);
    *produced = st.rs_delivered;
    free(buf);
    rd_kafka_destroy(rk);
    return err;
}
