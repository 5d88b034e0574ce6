/* The input side: a consumer group member whose partitions each get their own librdkafka
 * queue, forwarded to one worker's queue (rd_kafka_queue_get_partition +
 * rd_kafka_queue_forward), so a worker consumes its partitions with no lock shared with the
 * other workers. The control thread serves the consumer's own queue: rebalances and errors.
 * The rebalance sequence is the pipeline's (pipeline_rebalance.c), passed in as a callback:
 * this file only forwards queues, applies assignments and leaves the group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/clock.h>

#include "acks.h"
#include "kafka_conf.h"
#include "pipeline_fatal.h"
#include "source.h"
#include "txn.h"

#define SOURCE_LEAVE_TIMEOUT_S 30

void kite__source_forward(kite_pipeline *pl, const rd_kafka_topic_partition_list_t *parts,
                          int assign)
{
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        rd_kafka_queue_t *pq = rd_kafka_queue_get_partition(pl->pl_consumer, p->topic, p->partition);
        if (!pq) continue;
        kite_worker *w = &pl->pl_workers[p->partition % pl->pl_nworkers];
        rd_kafka_queue_forward(pq, assign ? w->kw_queue : NULL);
        rd_kafka_queue_destroy(pq);
    }
}

static int source_assigned(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *now = NULL;
    int n = rd_kafka_assignment(rk, &now) ? 0 : now->cnt;
    if (now) rd_kafka_topic_partition_list_destroy(now);
    return n;
}

/* Cooperative protocols take only the partitions that move (a plain assign is refused there,
 * and the consumer would silently consume nothing). */
int kite__source_apply(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int assign)
{
    const char *what = assign ? "assign" : "unassign";
    if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE")) {
        rd_kafka_error_t *e = assign ? rd_kafka_incremental_assign(rk, parts)
                                     : rd_kafka_incremental_unassign(rk, parts);
        if (e) {
            fprintf(stderr, "kite: incremental %s: %s\n", what, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign ? parts : NULL);
        if (e) fprintf(stderr, "kite: %s: %s\n", what, rd_kafka_err2str(e));
    }
    return source_assigned(rk);
}

static void source_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kite_pipeline *pl = opaque;
    kite__pipeline_kafka_error(pl, pl->pl_stats_control, "consumer", rk, err, reason);
}

kite_err kite__source_start(kite_pipeline *pl, kite__source_rebalance_fn *on_rebalance,
                            char *errstr, size_t errstr_size)
{
    const kite_config *c = &pl->pl_cfg;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const fixed[][2] = {
        /* At least once: kite stores an offset only after its outputs are delivered. */
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        /* Eager protocol, so revoke means "everything" and members never mix protocols. */
        {"partition.assignment.strategy", "range"},
        /* Stored offsets reach the broker every second (a crash redoes at most ~1 s). */
        {"auto.commit.interval.ms", "1000"},
        /* librdkafka's mock cluster holds every fetch for this long even when data arrives
         * (a real broker answers as soon as fetch.min.bytes are there); 500 ms would be the
         * latency floor on the embedded broker. */
        {"fetch.wait.max.ms", "10"},
    };
    kite_err err = kite__kafka_conf_set(conf, "bootstrap.servers", pl->pl_brokers, errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "group.id", c->kc_group_id, errstr, errstr_size);
    for (size_t i = 0; !err && i < sizeof fixed / sizeof fixed[0]; i++)
        err = kite__kafka_conf_set(conf, fixed[i][0], fixed[i][1], errstr, errstr_size);
    if (!err) err = kite__kafka_conf_apply_user(conf, c, "consumer", errstr, errstr_size);
    /* The user may not turn the offset store back on: that would break at-least-once. */
    if (!err) err = kite__kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size);
    if (!err && pl->pl_txn) err = kite__txn_consumer_conf(pl, conf, errstr, errstr_size);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return err;
    }
    rd_kafka_conf_set_opaque(conf, pl);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, source_error);
    char kerr[256];
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof kerr);
    pthread_mutex_lock(&pl->pl_handles_lock); /* the metrics renderer reads it */
    pl->pl_consumer = consumer;
    pthread_mutex_unlock(&pl->pl_handles_lock);
    if (!pl->pl_consumer) {
        rd_kafka_conf_destroy(conf);
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "consumer: %s", kerr);
    }
    for (int i = 0; i < pl->pl_nworkers; i++)
        pl->pl_workers[i].kw_queue = rd_kafka_queue_new(pl->pl_consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
    char *names = strdup(c->kc_topics), *save = NULL;
    for (char *t = strtok_r(names, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA);
    free(names);
    if (*c->kc_labels_topic) /* labels arrive through the same workers (engine/stream/worker.c) */
        rd_kafka_topic_partition_list_add(topics, c->kc_labels_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr =
        topics->cnt ? rd_kafka_subscribe(pl->pl_consumer, topics) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_topic_partition_list_destroy(topics);
    if (serr)
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "subscribe to \"%s\": %s",
                         c->kc_topics, rd_kafka_err2str(serr));
    return KITE_ERR_OK;
}

/* Leaves the group in two steps. librdkafka 2.0.x (Debian's) can crash or hang when
 * rd_kafka_consumer_close runs while a cooperative rebalance is in flight (its issues #4312 and
 * #4527, fixed in 2.2-2.4), and a rolling restart of a cooperative-sticky group is exactly that.
 * So: unsubscribe, and serve the consumer queue (the revoke callback runs there) until nothing
 * is assigned and, under a cooperative protocol, no callback has come for a quiet spell (an
 * incremental assign may still be on its way); then close, which has nothing left to revoke. */
static void source_leave(kite_pipeline *pl)
{
    rd_kafka_t *rk = pl->pl_consumer;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_resp_err_t e = rd_kafka_unsubscribe(rk);
    if (e) {
        fprintf(stderr, "kite: unsubscribe: %s\n", rd_kafka_err2str(e));
        return;
    }
    const double quiet_s = cooperative ? 0.3 : 0.0;
    const double start = kite_clock_mono_s();
    double last_call = start;
    uint64_t calls = kite_stats_sum(&pl->pl_stats, KITE_C_REBALANCES);
    for (double now = start; now - start < SOURCE_LEAVE_TIMEOUT_S; now = kite_clock_mono_s()) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 20);
        if (m) rd_kafka_message_destroy(m); /* unforwarded leftovers or errors: not consumed */
        uint64_t seen = kite_stats_sum(&pl->pl_stats, KITE_C_REBALANCES);
        if (seen != calls) { /* a callback came in this round */
            calls = seen;
            last_call = now;
        }
        if (!source_assigned(rk) && now - last_call >= quiet_s) return;
    }
    fprintf(stderr, "kite: leaving the group: partitions still assigned after %d s; closing anyway\n",
            SOURCE_LEAVE_TIMEOUT_S);
}

void kite__source_close(kite_pipeline *pl)
{
    if (!pl->pl_consumer) return;
    source_leave(pl);
    rd_kafka_consumer_close(pl->pl_consumer);
    kite__acks_drop_windows(pl);
    for (int i = 0; i < pl->pl_nworkers; i++)
        if (pl->pl_workers[i].kw_queue) {
            rd_kafka_queue_destroy(pl->pl_workers[i].kw_queue);
            pl->pl_workers[i].kw_queue = NULL;
        }
    pthread_mutex_lock(&pl->pl_handles_lock); /* a /metrics render may be using it */
    rd_kafka_t *consumer = pl->pl_consumer;
    pl->pl_consumer = NULL;
    pthread_mutex_unlock(&pl->pl_handles_lock);
    rd_kafka_destroy(consumer);
}
