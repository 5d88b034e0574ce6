/* The output side: one idempotent producer shared by every worker, and the delivery thread
 * that serves its delivery reports and hands each tag back to the worker that owns the
 * event, through that worker's SPSC ring (the delivery thread is the ring's only producer).
 *
 * A failed delivery (the producer gave up after its own retries) is produced again with the
 * same tag, so the event's offset stays unstored until a copy is acknowledged: at least once,
 * never dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kafka_conf.h"
#include <kite/mem.h>
#include <kite/clock.h>

#include "acks.h"
#include "pipeline_fatal.h"
#include "sink.h"
#include "txn.h"

/* A failed output awaiting a new produce (delivery thread only; rare path, so malloc). */
typedef struct kite_retry {
    rd_kafka_topic_t *krt_rkt;
    void *krt_key;
    size_t krt_key_len;
    void *krt_payload;
    size_t krt_len;
    int64_t krt_ts;
    uint64_t krt_tag;
} kite_retry;

static void sink_queue_retry(kite_pipeline *pl, const rd_kafka_message_t *m)
{
    kite_sink *sk = &pl->pl_sink;
    if (kite_mem_grow((void **)&sk->sk_retry, &sk->sk_retry_cap, sk->sk_nretry + 1, sizeof *sk->sk_retry, 64))
        goto fatal;
    kite_retry *r = &pl->pl_sink.sk_retry[pl->pl_sink.sk_nretry];
    r->krt_key = m->key_len ? malloc(m->key_len) : NULL;
    r->krt_payload = malloc(m->len ? m->len : 1);
    if ((m->key_len && !r->krt_key) || !r->krt_payload) {
        free(r->krt_key);
        free(r->krt_payload);
        goto fatal;
    }
    if (m->key_len) memcpy(r->krt_key, m->key, m->key_len);
    memcpy(r->krt_payload, m->payload, m->len);
    r->krt_key_len = m->key_len;
    r->krt_len = m->len;
    r->krt_rkt = m->rkt;
    r->krt_ts = rd_kafka_message_timestamp(m, NULL);
    r->krt_tag = (uint64_t)(uintptr_t)m->_private;
    pl->pl_sink.sk_nretry++;
    /* Release: pairs with the acquire in kite__acks_wait_empty. Set inside the delivery report,
     * while the message still counts in rd_kafka_outq_len, so no instant shows both empty. */
    atomic_store_explicit(&pl->pl_sink.sk_retry_pending, pl->pl_sink.sk_nretry, memory_order_release);
    return;
fatal:
    kite__pipeline_fatal(pl, "out of memory keeping a failed output for retry");
}

/* Runs in the delivery thread, inside rd_kafka_poll. */
static void sink_delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kite_pipeline *pl = opaque;
    uint64_t tag = (uint64_t)(uintptr_t)m->_private;
    kite_stats_block *st = pl->pl_stats_delivery;
    if (m->err) {
        kite_stats_add(st, KITE_C_DELIVERY_ERRORS, 1);
        if (!pl->pl_txn) {
            fprintf(stderr, "kite: delivery to %s failed (%s); producing it again\n",
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
            sink_queue_retry(pl, m);
            return;
        }
        /* exactly_once: the transaction aborts and the event is consumed again; the tag
         * still goes back so its window (dropped at the abort) never waits for it. */
        kite__txn_failed(pl, m->err);
    } else {
        kite_stats_add(st, KITE_C_DELIVERED, 1);
        /* Latency is measured by the worker from the window's event timestamp: the delivered
         * message's own timestamp may be the broker's LogAppendTime (the mock answers 1234). */
        atomic_store_explicit(&pl->pl_sink.sk_last_delivery_us, kite_clock_wall_us(), memory_order_relaxed);
    }
    kite_worker *w = &pl->pl_workers[kite_tag_worker(tag)];
    /* The ring holds more tags than a worker can have outputs in flight (see
     * kite_pipeline_new), so this loop only spins if the worker is slow to drain. */
    while (kite_ring_push(&w->kw_done, tag) != 0) {
        kite_ring_publish(&w->kw_done);
        sched_yield();
    }
    /* Publishing per report keeps latency low; rd_kafka_poll serves reports in batches and
     * the shared-line write is what it is. */
    kite_ring_publish(&w->kw_done);
}

static void sink_retry_failed(kite_pipeline *pl)
{
    size_t kept = 0;
    for (size_t i = 0; i < pl->pl_sink.sk_nretry; i++) {
        kite_retry *r = &pl->pl_sink.sk_retry[i];
        rd_kafka_resp_err_t err = rd_kafka_producev(
            pl->pl_sink.sk_producer, RD_KAFKA_V_RKT(r->krt_rkt), RD_KAFKA_V_KEY(r->krt_key, r->krt_key_len),
            RD_KAFKA_V_VALUE(r->krt_payload, r->krt_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(r->krt_ts), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r->krt_tag),
            RD_KAFKA_V_END);
        if (err) {
            pl->pl_sink.sk_retry[kept++] = *r; /* queue full or transient: next round */
            continue;
        }
        free(r->krt_key);
        free(r->krt_payload);
    }
    pl->pl_sink.sk_nretry = kept;
    /* Release: pairs with the acquire in kite__acks_wait_empty (after the produce above). */
    atomic_store_explicit(&pl->pl_sink.sk_retry_pending, kept, memory_order_release);
}

static void *sink_delivery_main(void *arg)
{
    kite_pipeline *pl = arg;
    /* Acquire: pairs with the release store in kite__sink_stop. */
    while (!atomic_load_explicit(&pl->pl_sink.sk_delivery_stop, memory_order_acquire)) {
        pthread_mutex_lock(&pl->pl_sink.sk_poll_lock); /* see pl_poll_lock */
        rd_kafka_poll(pl->pl_sink.sk_producer, 20);
        if (pl->pl_sink.sk_nretry) sink_retry_failed(pl);
        pthread_mutex_unlock(&pl->pl_sink.sk_poll_lock);
    }
    pthread_mutex_lock(&pl->pl_sink.sk_poll_lock);
    rd_kafka_poll(pl->pl_sink.sk_producer, 0);
    pthread_mutex_unlock(&pl->pl_sink.sk_poll_lock);
    return NULL;
}

static void sink_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kite_pipeline *pl = opaque;
    kite__pipeline_kafka_error(pl, pl->pl_stats_delivery, "producer", rk, err, reason);
}

kite_err kite__sink_start(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kite_err err = kite__kafka_conf_set(conf, "bootstrap.servers", pl->pl_brokers, errstr, errstr_size);
    /* Idempotence: retries cannot duplicate or reorder outputs within a partition. */
    if (!err) err = kite__kafka_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "linger.ms", "1", errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", errstr, errstr_size);
    if (!err && pl->pl_txn) err = kite__txn_producer_conf(pl, conf, errstr, errstr_size);
    if (!err) err = kite__kafka_conf_apply_user(conf, &pl->pl_cfg, "producer", errstr, errstr_size);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return err;
    }
    rd_kafka_conf_set_opaque(conf, pl);
    rd_kafka_conf_set_dr_msg_cb(conf, sink_delivery_report);
    rd_kafka_conf_set_error_cb(conf, sink_error);
    char kerr[256];
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    pthread_mutex_lock(&pl->pl_handles_lock); /* the metrics renderer reads it */
    pl->pl_sink.sk_producer = producer;
    pthread_mutex_unlock(&pl->pl_handles_lock);
    if (!pl->pl_sink.sk_producer) {
        rd_kafka_conf_destroy(conf);
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "producer: %s", kerr);
    }
    pl->pl_sink.sk_rkt_pred = rd_kafka_topic_new(pl->pl_sink.sk_producer, pl->pl_cfg.kc_predictions_topic, NULL);
    pl->pl_sink.sk_rkt_dead = rd_kafka_topic_new(pl->pl_sink.sk_producer, pl->pl_cfg.kc_dead_letter_topic, NULL);
    if (*pl->pl_cfg.kc_alerts_topic)
        pl->pl_sink.sk_rkt_alert = rd_kafka_topic_new(pl->pl_sink.sk_producer, pl->pl_cfg.kc_alerts_topic, NULL);
    if (pl->pl_drift) {
        pl->pl_sink.sk_rkt_drift = rd_kafka_topic_new(pl->pl_sink.sk_producer, pl->pl_cfg.kc_drift_topic, NULL);
        if (!pl->pl_sink.sk_rkt_drift)
            return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "drift topic %s: %s",
                             pl->pl_cfg.kc_drift_topic, rd_kafka_err2str(rd_kafka_last_error()));
    }
    if (pl->pl_shadow && *pl->pl_cfg.kc_shadow_topic &&
        !(pl->pl_sink.sk_rkt_shadow = rd_kafka_topic_new(pl->pl_sink.sk_producer, pl->pl_cfg.kc_shadow_topic, NULL)))
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "shadow topic %s: %s",
                         pl->pl_cfg.kc_shadow_topic, rd_kafka_err2str(rd_kafka_last_error()));
    if (!pl->pl_sink.sk_rkt_pred || !pl->pl_sink.sk_rkt_dead || (*pl->pl_cfg.kc_alerts_topic && !pl->pl_sink.sk_rkt_alert))
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "producer: output topic: %s",
                         rd_kafka_err2str(rd_kafka_last_error()));
    if (pthread_create(&pl->pl_sink.sk_delivery_thread, NULL, sink_delivery_main, pl))
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "cannot start the delivery thread");
    pl->pl_sink.sk_delivery_started = 1;
    return KITE_ERR_OK;
}

int kite__sink_produce(kite_worker *w, rd_kafka_topic_t *rkt, const void *key, size_t key_len,
                      const char *payload, size_t len, int64_t ts_ms, uint64_t tag)
{
    kite_pipeline *pl = w->kw_pl;
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            pl->pl_sink.sk_producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE((void *)payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag),
            RD_KAFKA_V_END);
        if (!err) return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL && pl->pl_txn &&
            !rd_kafka_fatal_error(pl->pl_sink.sk_producer, NULL, 0)) {
            /* exactly_once: a transaction in an abortable state refuses outputs; it aborts at
             * the control thread's next look and the events are consumed again. */
            kite__txn_failed(pl, err);
            return -1;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Only fatal producer states end up here (idempotence makes other errors
             * asynchronous): stop rather than drop. */
            kite__pipeline_fatal(pl, "produce to %s: %s", rd_kafka_topic_name(rkt),
                                 rd_kafka_err2str(err));
            return -1;
        }
        /* __QUEUE_FULL: the delivery thread is polling; give it room and apply what came
         * back so the ring never fills while we wait. */
        kite_stats_add(w->kw_stats, KITE_C_QUEUE_FULL, 1);
        kite__acks_apply(w);
        usleep(200);
    }
}

void kite__sink_stop(kite_pipeline *pl)
{
    if (pl->pl_sink.sk_delivery_started) {
        atomic_store_explicit(&pl->pl_sink.sk_delivery_stop, 1, memory_order_release); /* pairs above */
        pthread_join(pl->pl_sink.sk_delivery_thread, NULL);
        pl->pl_sink.sk_delivery_started = 0;
    }
    for (size_t i = 0; i < pl->pl_sink.sk_nretry; i++) {
        free(pl->pl_sink.sk_retry[i].krt_key);
        free(pl->pl_sink.sk_retry[i].krt_payload);
    }
    free(pl->pl_sink.sk_retry);
    pl->pl_sink.sk_retry = NULL;
    pl->pl_sink.sk_nretry = 0;
    if (pl->pl_sink.sk_rkt_pred) rd_kafka_topic_destroy(pl->pl_sink.sk_rkt_pred);
    if (pl->pl_sink.sk_rkt_alert) rd_kafka_topic_destroy(pl->pl_sink.sk_rkt_alert);
    if (pl->pl_sink.sk_rkt_drift) rd_kafka_topic_destroy(pl->pl_sink.sk_rkt_drift);
    pl->pl_sink.sk_rkt_drift = NULL;
    if (pl->pl_sink.sk_rkt_shadow) rd_kafka_topic_destroy(pl->pl_sink.sk_rkt_shadow);
    pl->pl_sink.sk_rkt_shadow = NULL;
    if (pl->pl_sink.sk_rkt_dead) rd_kafka_topic_destroy(pl->pl_sink.sk_rkt_dead);
    pl->pl_sink.sk_rkt_pred = pl->pl_sink.sk_rkt_alert = pl->pl_sink.sk_rkt_dead = NULL;
    pthread_mutex_lock(&pl->pl_handles_lock); /* a /metrics render may be using it */
    rd_kafka_t *producer = pl->pl_sink.sk_producer;
    pl->pl_sink.sk_producer = NULL;
    pthread_mutex_unlock(&pl->pl_handles_lock);
    if (producer) rd_kafka_destroy(producer);
}
