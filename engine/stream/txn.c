/* guarantee=exactly_once: one transactional producer per kite instance (the sink's producer,
 * shared by every worker) and the consumed offsets sent in each transaction with the consumer
 * group's metadata (KIP-447, Kafka Streams' EOS v2).
 *
 * Why one per instance, not one per worker: the instance has one consumer, so one group
 * member and one generation to fence zombies by; the offsets of all its workers' partitions go
 * in one TxnOffsetCommit and one EndTxn per interval whatever the worker count; rebalances are
 * instance-wide already (a revoke parks every worker). The cost: each commit parks all workers
 * for the commit's round trips (measured in bench/RESULTS.md).
 *
 * The cycle, on the control thread (the one that also serves rebalances, so the two never
 * overlap): every transaction_ms, park the workers at a loop boundary -- every event consumed
 * so far then has all its outputs produced into the open transaction -- send each window's
 * last consumed offset + 1, commit (which flushes the outputs), begin the next transaction,
 * unpark. A delivery failure or refused produce marks the transaction failed; an abortable
 * error (or that mark) aborts it, waits until the aborted outputs' reports are back, drops the
 * windows and seeks every assigned partition to its committed offset, so the events are
 * consumed and produced again in the next transaction. Fatal errors (fenced by a newer
 * instance with the same transactional.id) stop the pipeline through kite__pipeline_fatal.
 * Retriable errors (timeouts: a coordinator down) are retried for up to TXN_FINISH_TIMEOUT_MS,
 * then the pipeline stops fatally; nothing is committed that was not produced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kite/clock.h>

#include "acks.h"
#include "kafka_conf.h"
#include "park.h"
#include "pipeline_fatal.h"
#include "txn.h"

#define TXN_CALL_TIMEOUT_MS 10000
#define TXN_FINISH_TIMEOUT_MS 120000

struct kite_txn {
    char ktx_id[256];               /* transactional.id                                  */
    int64_t ktx_next_us;            /* control thread: when the open transaction commits */
    int ktx_open;                   /* control thread: a transaction was begun           */
    uint64_t ktx_consumed_seen;     /* control thread: events consumed at the last tick  */
    /* Set by a worker (refused produce) or the delivery thread (failed report), release;
     * read and cleared by the control thread, acquire. */
    _Atomic int ktx_failed;
};

kite_err kite__txn_new(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    const kite_config *c = &pl->pl_cfg;
    if (!strcmp(c->kc_guarantee, "at_least_once")) return KITE_ERR_OK;
    if (strcmp(c->kc_guarantee, "exactly_once"))
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "config guarantee: \"%s\" is neither at_least_once nor exactly_once",
                         c->kc_guarantee);
    kite_txn *x = calloc(1, sizeof *x);
    if (!x) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "transactions");
    pl->pl_txn = x;
    if (*c->kc_transactional_id) {
        snprintf(x->ktx_id, sizeof x->ktx_id, "%s", c->kc_transactional_id);
    } else {
        /* Unique, so two instances never fence each other by accident; a stable id per
         * instance (transactional_id) lets a restarted one abort its predecessor's open
         * transaction at once instead of after transaction.timeout.ms. */
        char host[128] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(x->ktx_id, sizeof x->ktx_id, "kite-%s-%s-%ld", c->kc_group_id, host, (long)getpid());
    }
    fprintf(stderr, "kite: exactly once: transactional.id %s, a transaction every %ld ms\n",
            x->ktx_id, c->kc_transaction_ms);
    return KITE_ERR_OK;
}

void kite__txn_free(kite_pipeline *pl)
{
    free(pl->pl_txn);
    pl->pl_txn = NULL;
}

kite_err kite__txn_producer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                size_t errstr_size)
{
    return kite__kafka_conf_set(conf, "transactional.id", pl->pl_txn->ktx_id, errstr, errstr_size);
}

kite_err kite__txn_consumer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                size_t errstr_size)
{
    (void)pl;
    /* Offsets reach the group only inside transactions; inputs written by transactional
     * producers are read committed, and the group's committed offsets are read stable
     * (librdkafka asks for require_stable under read_committed: KIP-447). */
    kite_err err = kite__kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size);
    if (!err) err = kite__kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errstr_size);
    return err;
}

void kite__txn_failed(kite_pipeline *pl, rd_kafka_resp_err_t err)
{
    int was = atomic_exchange_explicit(&pl->pl_txn->ktx_failed, 1, memory_order_acq_rel);
    if (!was) /* once per transaction: an abort purges many outputs at once */
        fprintf(stderr, "kite: transaction: an output failed (%s); the transaction will abort "
                        "and its events be consumed again\n", rd_kafka_err2str(err));
}

/* Runs fn until it succeeds, fails for good, or the deadline passes (retriable errors: a
 * coordinator or leader away). Returns the last error, NULL on success. */
typedef rd_kafka_error_t *(*txn_fn)(kite_pipeline *pl, void *arg);

static rd_kafka_error_t *txn_retry(kite_pipeline *pl, const char *what, txn_fn fn, void *arg,
                                   int64_t deadline_us)
{
    for (;;) {
        rd_kafka_error_t *e = fn(pl, arg);
        if (!e || !rd_kafka_error_is_retriable(e) || kite_clock_wall_us() >= deadline_us) return e;
        fprintf(stderr, "kite: transaction: %s: %s; retrying\n", what, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        usleep(100000);
    }
}

static rd_kafka_error_t *txn_send_offsets(kite_pipeline *pl, void *arg)
{
    rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(pl->pl_consumer);
    rd_kafka_error_t *e =
        rd_kafka_send_offsets_to_transaction(pl->pl_sink.sk_producer, arg, g, TXN_CALL_TIMEOUT_MS);
    rd_kafka_consumer_group_metadata_destroy(g);
    return e;
}

/* Commit and abort flush, and a flush serves delivery reports on the calling thread: the
 * delivery thread must not serve them at the same time (each worker's ring has one producer),
 * so both run under pl_sink.sk_poll_lock. (A lost tag would leave its window stuck until it filled,
 * and the next park would wait for that worker forever.) */
static rd_kafka_error_t *txn_commit(kite_pipeline *pl, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pl->pl_sink.sk_poll_lock);
    rd_kafka_error_t *e = rd_kafka_commit_transaction(pl->pl_sink.sk_producer, TXN_CALL_TIMEOUT_MS);
    pthread_mutex_unlock(&pl->pl_sink.sk_poll_lock);
    return e;
}

static rd_kafka_error_t *txn_abort(kite_pipeline *pl, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pl->pl_sink.sk_poll_lock);
    rd_kafka_error_t *e = rd_kafka_abort_transaction(pl->pl_sink.sk_producer, TXN_CALL_TIMEOUT_MS);
    pthread_mutex_unlock(&pl->pl_sink.sk_poll_lock);
    return e;
}

static rd_kafka_error_t *txn_init(kite_pipeline *pl, void *arg)
{
    (void)arg;
    return rd_kafka_init_transactions(pl->pl_sink.sk_producer, TXN_CALL_TIMEOUT_MS);
}

/* The offset after each window's last consumed event, where it passed what was committed.
 * Workers parked: each of those events has all its outputs produced. */
static rd_kafka_topic_partition_list_t *txn_offsets(kite_pipeline *pl)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int wi = 0; wi < pl->pl_nworkers; wi++) {
        kite_worker *w = &pl->pl_workers[wi];
        for (int i = 0; i < w->kw_nparts; i++) {
            const kite_offsets *t = w->kw_parts[i];
            if (!t || t->ko_head == 0) continue;
            int64_t next = t->ko_offset[(t->ko_head - 1) & t->ko_mask] + 1;
            if (next > t->ko_stored_next)
                rd_kafka_topic_partition_list_add(l, t->ko_topic, t->ko_partition)->offset = next;
        }
    }
    return l;
}

/* After a commit: each window's committed point is what was just sent. */
static void txn_mark_committed(kite_pipeline *pl, const rd_kafka_topic_partition_list_t *l)
{
    for (int wi = 0; wi < pl->pl_nworkers; wi++) {
        kite_worker *w = &pl->pl_workers[wi];
        for (int i = 0; i < w->kw_nparts; i++) {
            kite_offsets *t = w->kw_parts[i];
            if (!t) continue;
            const rd_kafka_topic_partition_t *p =
                rd_kafka_topic_partition_list_find(l, t->ko_topic, t->ko_partition);
            if (p) t->ko_stored_next = p->offset;
        }
    }
}

/* After an abort: every assigned partition back to its committed offset (none committed yet:
 * the beginning, as auto.offset.reset=earliest would). Returns 0, or -1 when the committed
 * offsets cannot be read or the seek fails before the deadline. */
static int txn_rewind(kite_pipeline *pl, int64_t deadline_us)
{
    kite__acks_drop_windows(pl); /* and each partition's feature state: rebuilt from the log */
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(pl->pl_consumer, &parts) || !parts) return -1;
    int rc = 0;
    if (parts->cnt) {
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_committed(pl->pl_consumer, parts, TXN_CALL_TIMEOUT_MS)) &&
               kite_clock_wall_us() < deadline_us) {
            fprintf(stderr, "kite: transaction: reading committed offsets: %s; retrying\n",
                    rd_kafka_err2str(err));
            usleep(100000);
        }
        for (int i = 0; !err && i < parts->cnt; i++)
            if (parts->elems[i].offset < 0) parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_error_t *e = err ? NULL : rd_kafka_seek_partitions(pl->pl_consumer, parts, TXN_CALL_TIMEOUT_MS);
        for (int i = 0; !err && !e && i < parts->cnt; i++)
            if (parts->elems[i].err) {
                fprintf(stderr, "kite: transaction: seek %s/%d: %s\n", parts->elems[i].topic,
                        parts->elems[i].partition, rd_kafka_err2str(parts->elems[i].err));
                rc = -1;
            }
        if (err || e) {
            kite__pipeline_fatal(pl, "transaction aborted, but rewinding to the committed offsets "
                                     "failed: %s", e ? rd_kafka_error_string(e) : rd_kafka_err2str(err));
            rc = -1;
        }
        if (e) rd_kafka_error_destroy(e);
    }
    fprintf(stderr, "kite: transaction aborted: %d partition(s) rewound to their committed offsets\n",
            parts->cnt);
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

/* A fatal transactional error (or one that outlived the deadline) stops the pipeline. */
static int txn_fatal(kite_pipeline *pl, const char *what, rd_kafka_error_t *e)
{
    kite__pipeline_fatal(pl, "transaction %s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

static int txn_begin(kite_pipeline *pl)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(pl->pl_sink.sk_producer);
    if (e) return txn_fatal(pl, "begin", e);
    pl->pl_txn->ktx_open = 1;
    return 0;
}

kite_err kite__txn_start(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    /* Blocks while the cluster is away (kite may start first), until stopped. */
    rd_kafka_error_t *e;
    for (;;) {
        e = txn_init(pl, NULL);
        if (!e || !rd_kafka_error_is_retriable(e)) break;
        fprintf(stderr, "kite: transaction: init: %s; retrying\n", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        /* Acquire: pairs with kite_pipeline_stop's release store. */
        if (atomic_load_explicit(&pl->pl_stop, memory_order_acquire)) return KITE_ERR_OK;
    }
    if (e) {
        kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "transactional producer %s: %s",
                  pl->pl_txn->ktx_id, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return KITE_ERR_KAFKA;
    }
    pl->pl_txn->ktx_next_us = kite_clock_wall_us() + pl->pl_cfg.kc_transaction_ms * 1000;
    if (txn_begin(pl))
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "%s", pl->pl_fatal.pf_reason);
    return KITE_ERR_OK;
}

int kite__txn_finish(kite_pipeline *pl)
{
    kite_txn *x = pl->pl_txn;
    /* Acquire: pairs with kite__pipeline_fatal's release store. */
    if (kite__pipeline_fatal_set(pl)) return -1;
    if (!x->ktx_open) return 0; /* stopped before the producer was initialized */
    int64_t deadline = kite_clock_wall_us() + (int64_t)TXN_FINISH_TIMEOUT_MS * 1000;
    rd_kafka_topic_partition_list_t *offs = txn_offsets(pl);
    int failed = atomic_load_explicit(&x->ktx_failed, memory_order_acquire);
    if (!failed && offs->cnt == 0) { /* nothing consumed since the last commit: keep it open */
        rd_kafka_topic_partition_list_destroy(offs);
        return 0;
    }
    rd_kafka_error_t *e = NULL;
    const char *what = "send offsets";
    if (!failed) e = txn_retry(pl, what, txn_send_offsets, offs, deadline);
    if (!failed && !e) e = txn_retry(pl, what = "commit", txn_commit, NULL, deadline);
    if (!e && !failed) {
        txn_mark_committed(pl, offs);
        kite_stats_add(pl->pl_stats_control, KITE_C_TXN_COMMITS, 1);
        rd_kafka_topic_partition_list_destroy(offs);
        return txn_begin(pl);
    }
    rd_kafka_topic_partition_list_destroy(offs);
    if (e && (rd_kafka_error_is_fatal(e) || !rd_kafka_error_txn_requires_abort(e)))
        return txn_fatal(pl, what, e); /* fatal, or still retriable after the deadline */
    if (e) {
        fprintf(stderr, "kite: transaction: %s: %s; aborting\n", what, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    e = txn_retry(pl, "abort", txn_abort, NULL, deadline);
    if (e) return txn_fatal(pl, "abort", e);
    x->ktx_open = 0;
    kite_stats_add(pl->pl_stats_control, KITE_C_TXN_ABORTS, 1);
    /* The purged outputs' reports carry tags of the windows about to be dropped: all back
     * first, so none lands on a new window. */
    if (kite__acks_wait_empty(pl, TXN_FINISH_TIMEOUT_MS) != 0)
        kite__pipeline_fatal(pl, "transaction aborted, but its outputs' reports did not all come back");
    atomic_store_explicit(&x->ktx_failed, 0, memory_order_release); /* pairs: kite__txn_failed */
    if (txn_rewind(pl, deadline)) return -1;
    return txn_begin(pl) ? -1 : 1;
}

void kite__txn_tick(kite_pipeline *pl)
{
    kite_txn *x = pl->pl_txn;
    int64_t now = kite_clock_wall_us();
    /* Acquire: pairs with kite__txn_failed (a failed transaction aborts at once). */
    int failed = atomic_load_explicit(&x->ktx_failed, memory_order_acquire);
    if (now < x->ktx_next_us && !failed) return;
    /* Idle: nothing consumed since the last tick, so nothing to commit; the workers go on
     * undisturbed. (An event counted late is committed at the next tick.) */
    uint64_t consumed = kite_stats_sum(&pl->pl_stats, KITE_C_CONSUMED);
    if (consumed == x->ktx_consumed_seen && !failed) {
        x->ktx_next_us = now + pl->pl_cfg.kc_transaction_ms * 1000;
        return;
    }
    x->ktx_consumed_seen = consumed;
    kite__park_hold(pl);
    kite__txn_finish(pl);
    kite__park_release(pl);
    x->ktx_next_us = kite_clock_wall_us() + pl->pl_cfg.kc_transaction_ms * 1000;
}
