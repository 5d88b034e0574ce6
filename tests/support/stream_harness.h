/* Shared pieces of the streaming integration tests: an in-process mock cluster (or, with
 * KITE_TEST_KAFKA_DIR=D, the real Kafka cluster tools/kafka-cluster.sh started in D), a producer
 * of Titanic-like JSON events (some malformed on purpose), and a reader of the output topics
 * that checks every input event by (partition, offset) and key. */
#ifndef KITE_STREAM_HARNESS_H
#define KITE_STREAM_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "kite_test.h"
#include <kite/mock_broker.h>

#define SH_PARTITIONS 4
#define SH_MAX_OFFSETS 20000

typedef struct sh_event {
    char key[32];
    int bad;          /* 1: must become a dead letter   */
    int predictions;  /* predictions seen for it        */
    int dead_letters; /* dead letters seen for it       */
    int key_ok;       /* every output had the right key */
    double prediction; /* last prediction seen          */
} sh_event;

typedef struct sh_world {
    kite_mock_broker *broker; /* NULL on the real cluster */
    const char *bootstrap;
    const char *kafka_dir;    /* the real cluster's tools/kafka-cluster.sh --dir, or NULL */
    char bootstrap_buf[512];
    sh_event ev[SH_PARTITIONS][SH_MAX_OFFSETS]; /* by input partition and offset */
    int64_t count[SH_PARTITIONS];               /* offsets produced per partition */
    size_t produced, bad;
    /* Delivery reports with success but no offset (offset -1): librdkafka's idempotent producer
     * reports a retried batch the broker already had (DUPLICATE_SEQUENCE_NUMBER) that way.
     * sh_read_inputs then takes the truth from the input log itself. */
    size_t acked_without_offset;
} sh_world;

static void sh_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    sh_world *w = opaque;
    if (!m->err && m->offset < 0) {
        w->acked_without_offset++;
        w->produced++;
        w->bad += (size_t)(intptr_t)m->_private;
        return;
    }
    if (m->err || m->partition < 0 || m->partition >= SH_PARTITIONS || m->offset >= SH_MAX_OFFSETS) {
        fprintf(stderr, "harness: produce failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    sh_event *e = &w->ev[m->partition][m->offset];
    memcpy(e->key, m->key, m->key_len < sizeof e->key ? m->key_len : sizeof e->key - 1);
    e->bad = (int)(intptr_t)m->_private;
    e->key_ok = 1;
    if (m->offset + 1 > w->count[m->partition]) w->count[m->partition] = m->offset + 1;
    w->produced++;
    w->bad += (size_t)e->bad;
}

/* tools/kafka-cluster.sh ARGS --dir <the real cluster's dir> (run from the source tree, as
 * ctest does); its first output line in out when out is given. Returns the exit status. */
static int sh_cluster(const sh_world *w, const char *args, char *out, size_t out_size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tools/kafka-cluster.sh %s --dir '%s'", args, w->kafka_dir);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    char line[512] = "";
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    while (fgetc(f) != EOF) {}
    int rc = pclose(f);
    line[strcspn(line, "\n")] = 0;
    if (out) snprintf(out, out_size, "%s", line);
    return rc;
}

static sh_world *sh_world_new(void)
{
    sh_world *w = calloc(1, sizeof *w);
    char err[256];
    const char *dir = getenv("KITE_TEST_KAFKA_DIR");
    if (dir && *dir) {
        /* A clean slate on the real cluster: every topic deleted (their group offsets with
         * them), the four created with SH_PARTITIONS partitions, replicated 3 times. */
        w->kafka_dir = dir;
        if (sh_cluster(w, "bootstrap", w->bootstrap_buf, sizeof w->bootstrap_buf) ||
            !w->bootstrap_buf[0] ||
            sh_cluster(w, "topics --partitions 4 events predictions alerts dead-letters", NULL, 0)) {
            fprintf(stderr, "harness: no real Kafka cluster in %s (tools/kafka-cluster.sh start)\n", dir);
            exit(1);
        }
        w->bootstrap = w->bootstrap_buf;
        return w;
    }
    if (kite_mock_broker_new(1, &w->broker, err, sizeof err)) {
        fprintf(stderr, "harness: %s\n", err);
        exit(1);
    }
    const char *topics[] = {"events", "predictions", "alerts", "dead-letters"};
    for (int i = 0; i < 4; i++)
        if (kite_mock_broker_create_topic(w->broker, topics[i], SH_PARTITIONS, err, sizeof err)) {
            fprintf(stderr, "harness: %s\n", err);
            exit(1);
        }
    w->bootstrap = kite_mock_broker_bootstrap(w->broker);
    return w;
}

static rd_kafka_t *sh_producer(sh_world *w)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", w->bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "2", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, sh_dr);
    rd_kafka_conf_set_opaque(conf, w);
    return rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
}

/* Event i: every 9th is malformed in one of four ways. */
static int sh_event_json(char *buf, size_t size, int i)
{
    if (i % 9 == 4) {
        switch ((i / 9) % 4) {
        case 0: snprintf(buf, size, "{\"Pclass\": 3, \"Sex\": "); return 1;       /* cut JSON   */
        case 1: snprintf(buf, size, "[1, 2, 3]"); return 1;                      /* not object */
        case 2: snprintf(buf, size, "{\"Pclass\": \"first\", \"Sex\": \"male\"}"); return 1; /* text */
        default: buf[0] = 0; return 1;                                           /* empty      */
        }
    }
    snprintf(buf, size,
             "{\"PassengerId\": %d, \"Pclass\": %d, \"Name\": \"P \\\"%d\\\"\", \"Sex\": \"%s\","
             " \"Age\": %s, \"SibSp\": %d, \"Parch\": %d, \"Fare\": %.2f}",
             i, 1 + i % 3, i, i % 2 ? "female" : "male", i % 7 ? "30.5" : "null", i % 3, i % 2,
             5.0 + (i % 50));
    return 0;
}

/* Produces events [from, to) round-robin over the partitions; rate 0 = as fast as possible. */
static void sh_produce(sh_world *w, rd_kafka_t *p, int from, int to, double rate)
{
    (void)w;
    char buf[512], key[32];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = from; i < to; i++) {
        int bad = sh_event_json(buf, sizeof buf, i);
        snprintf(key, sizeof key, "k%d", i);
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC("events"), RD_KAFKA_V_PARTITION(i % SH_PARTITIONS),
                                 RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, strlen(buf)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_OPAQUE((void *)(intptr_t)bad), RD_KAFKA_V_END))
            rd_kafka_poll(p, 10);
        rd_kafka_poll(p, 0);
        if (rate > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) * 1e-9;
            double due = (double)(i - from + 1) / rate;
            if (due > el) usleep((useconds_t)((due - el) * 1e6));
        }
    }
    rd_kafka_flush(p, 30000);
}

/* Reads every partition of the given topics from the beginning to its end (one EOF each),
 * calling on_message for each message; a consumer of its own (group only for the API, nothing
 * committed), so it shares no state with the caller's threads. Returns the partitions that
 * reached their end; the caller checks it against ntopics * SH_PARTITIONS. */
typedef void (*sh_on_message)(void *ctx, const rd_kafka_message_t *m);
static int sh_read_to_end(const char *bootstrap, const char *group, const char *const *topics,
                          int ntopics, sh_on_message on_message, void *ctx)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(ntopics * SH_PARTITIONS);
    for (int t = 0; t < ntopics; t++)
        for (int p = 0; p < SH_PARTITIONS; p++)
            rd_kafka_topic_partition_list_add(parts, topics[t], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, parts);
    int eofs = 0, idle = 0;
    while (eofs < parts->cnt && idle < 100) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) {
            idle++;
            continue;
        }
        idle = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) eofs++;
        else if (!m->err) on_message(ctx, m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return eofs;
}

typedef struct sh_input_read {
    sh_world *w;
    int events;
    unsigned char *seen;
    size_t distinct, foreign;
} sh_input_read;

static void sh_take_input(void *ctx, const rd_kafka_message_t *m)
{
    sh_input_read *r = ctx;
    sh_world *w = r->w;
    if (m->partition < 0 || m->partition >= SH_PARTITIONS || m->offset < 0 || m->offset >= SH_MAX_OFFSETS)
        return;
    char key[32] = {0}, buf[512];
    memcpy(key, m->key, m->key_len < sizeof key ? m->key_len : sizeof key - 1);
    int i = key[0] == 'k' ? atoi(key + 1) : -1;
    if (i < 0 || i >= r->events) {
        r->foreign++;
        return;
    }
    sh_event *e = &w->ev[m->partition][m->offset];
    memcpy(e->key, key, sizeof e->key);
    e->bad = sh_event_json(buf, sizeof buf, i);
    e->key_ok = 1;
    if (m->offset + 1 > w->count[m->partition]) w->count[m->partition] = m->offset + 1;
    w->produced++;
    w->bad += (size_t)e->bad;
    r->distinct += !r->seen[i];
    r->seen[i] = 1;
}

/* Rebuilds the expected events from the input log itself (what kite can consume), not from the
 * producer's delivery reports: under injected faults a report may carry no offset (see
 * acked_without_offset). Each message's key "k<i>" names its event, so whether it must become a
 * dead letter follows from sh_event_json(i). Returns the number of messages in the log; events
 * stored twice by producer retries count twice (kite must answer each message). */
static size_t sh_read_inputs(sh_world *w, int events)
{
    memset(w->ev, 0, sizeof w->ev);
    memset(w->count, 0, sizeof w->count);
    w->produced = w->bad = 0;
    sh_input_read r = {w, events, calloc((size_t)events, 1), 0, 0};
    static const char *const topics[] = {"events"};
    int eofs = sh_read_to_end(w->bootstrap, "harness-input-reader", topics, 1, sh_take_input, &r);
    CHECK_MSG(eofs == SH_PARTITIONS, "input topic read to its end (%d of %d)", eofs, SH_PARTITIONS);
    CHECK_MSG(r.foreign == 0, "%zu input messages name no produced event", r.foreign);
    /* Every event acknowledged with an offset is in the log; one acknowledged without an offset
     * may be the mock broker's duplicate of an earlier try, so at most that many are absent. */
    CHECK_MSG(r.distinct + w->acked_without_offset >= (size_t)events,
              "the input log holds %zu of %d events (%zu acknowledged without an offset)",
              r.distinct, events, w->acked_without_offset);
    if (r.distinct != (size_t)events || w->produced != r.distinct)
        printf("harness: input log holds %zu messages for %zu of %d events (%zu acknowledged "
               "without an offset)\n", w->produced, r.distinct, events, w->acked_without_offset);
    free(r.seen);
    return w->produced;
}

/* Reads every output topic from the beginning to its end and tallies outputs per input. */
typedef struct sh_tally {
    size_t predictions, dead_letters, alerts, duplicates, unknown, bad_reason;
} sh_tally;

static void sh_apply(sh_world *w, const char *topic, const rd_kafka_message_t *m, sh_tally *t)
{
    cJSON *j = cJSON_ParseWithLength(m->payload, m->len);
    cJSON *jp = cJSON_GetObjectItemCaseSensitive(j, "partition");
    cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "offset");
    if (!cJSON_IsNumber(jp) || !cJSON_IsNumber(jo) || jp->valueint < 0 ||
        jp->valueint >= SH_PARTITIONS || jo->valuedouble < 0 ||
        jo->valuedouble >= (double)w->count[jp->valueint]) {
        t->unknown++;
        cJSON_Delete(j);
        return;
    }
    sh_event *e = &w->ev[jp->valueint][(int64_t)jo->valuedouble];
    if (!m->key || m->key_len != strlen(e->key) || memcmp(m->key, e->key, m->key_len))
        e->key_ok = 0;
    if (!strcmp(topic, "predictions")) {
        t->predictions++;
        cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "prediction");
        e->prediction = cJSON_IsNumber(pr) ? pr->valuedouble : -1;
        if (e->predictions++) t->duplicates++;
    } else if (!strcmp(topic, "dead-letters")) {
        t->dead_letters++;
        if (e->dead_letters++) t->duplicates++;
        cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reason");
        cJSON *pl = cJSON_GetObjectItemCaseSensitive(j, "payload");
        if (!cJSON_IsString(r) || !r->valuestring[0] || !cJSON_IsString(pl)) t->bad_reason++;
    } else t->alerts++;
    cJSON_Delete(j);
}

typedef struct sh_output_read {
    sh_world *w;
    sh_tally *t;
} sh_output_read;

static void sh_take_output(void *ctx, const rd_kafka_message_t *m)
{
    sh_output_read *r = ctx;
    sh_apply(r->w, rd_kafka_topic_name(m->rkt), m, r->t);
}

static sh_tally sh_read_outputs(sh_world *w)
{
    sh_tally t = {0};
    sh_output_read r = {w, &t};
    static const char *const topics[] = {"predictions", "dead-letters", "alerts"};
    int eofs = sh_read_to_end(w->bootstrap, "harness-reader", topics, 3, sh_take_output, &r);
    CHECK_MSG(eofs == 3 * SH_PARTITIONS, "output topics read to their end (%d of %d)", eofs,
              3 * SH_PARTITIONS);
    return t;
}

/* Every good event has >= 1 prediction and no dead letter; every bad one >= 1 dead letter and
 * no prediction; keys kept. Returns the number of inputs missing an output. */
static size_t sh_check(sh_world *w, const sh_tally *t, const char *name)
{
    size_t missing = 0, wrong = 0, badkey = 0;
    for (int p = 0; p < SH_PARTITIONS; p++)
        for (int64_t o = 0; o < w->count[p]; o++) {
            sh_event *e = &w->ev[p][o];
            if (e->bad ? !e->dead_letters : !e->predictions) missing++;
            if (e->bad ? e->predictions : e->dead_letters) wrong++;
            if (!e->key_ok) badkey++;
        }
    printf("%s: %zu events (%zu malformed) -> %zu predictions, %zu dead letters, %zu alerts; "
           "missing %zu, duplicates %zu\n",
           name, w->produced, w->bad, t->predictions, t->dead_letters, t->alerts, missing,
           t->duplicates);
    CHECK_MSG(missing == 0, "%zu events have no output", missing);
    CHECK_MSG(wrong == 0, "%zu events went to the wrong output", wrong);
    CHECK_MSG(badkey == 0, "%zu outputs lost their event's key", badkey);
    CHECK_MSG(t->unknown == 0, "%zu outputs name no produced event", t->unknown);
    CHECK_MSG(t->bad_reason == 0, "%zu dead letters without reason/payload", t->bad_reason);
    return missing;
}

#endif
