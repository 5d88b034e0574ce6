/* The ack path: delivery reports come back as tags through each worker's SPSC ring (the sink's
 * delivery thread is the ring's only producer); applying a tag completes its event in the
 * partition's window (offsets.h), and a window that advances stores its offset for the next
 * commit. Also the two sequences that need every output acknowledged: draining all workers'
 * rings and waiting until the producer has nothing in flight (revoke, transaction commit,
 * shutdown), and dropping the windows when partitions go.
 *
 * This file calls only offsets.c, pipeline_state.c and the clock: the source, the sink, the
 * workers, the transactions and the rebalance all call it, so it must not call them back. */
#include <stdio.h>
#include <unistd.h>

#include <kite/clock.h>

#include "acks.h"
#include "pipeline_fatal.h"
#include "pipeline_state.h"

#define ACKS_BATCH 256

void kite__acks_store_offsets(kite_worker *w)
{
    if (w->kw_pl->pl_txn) return; /* exactly_once: offsets go only in transactions */
    uint64_t stored = 0;
    /* Each window's own one-entry list: no list is built per call (this runs once per batch
     * and per delivery round). */
    for (int i = 0; i < w->kw_nparts; i++) {
        kite_offsets *t = w->kw_parts[i];
        if (!t || t->ko_done_next <= t->ko_stored_next) continue;
        t->ko_store->elems[0].offset = t->ko_done_next;
        t->ko_stored_next = t->ko_done_next;
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->kw_pl->pl_consumer, t->ko_store);
        /* A partition revoked meanwhile answers __STATE: its offset was committed at revoke. */
        if (err && err != RD_KAFKA_RESP_ERR__STATE)
            fprintf(stderr, "kite: offsets store %s/%d: %s\n", t->ko_topic, t->ko_partition,
                    rd_kafka_err2str(err));
        stored++;
    }
    if (stored) kite_stats_add(w->kw_stats, KITE_C_OFFSETS_STORED, stored);
}

void kite__acks_publish_progress(kite_worker *w)
{
    int eof = 0;
    uint64_t inflight = 0;
    for (int i = 0; i < w->kw_nparts; i++) {
        kite_offsets *t = w->kw_parts[i];
        if (!t) continue;
        eof += t->ko_at_eof;
        inflight += kite_offsets_inflight(t);
    }
    /* Release: pairs with the control thread's acquire loads in pipeline.c (exit_on_eof). */
    atomic_store_explicit(&w->kw_inflight, inflight, memory_order_release);
    atomic_store_explicit(&w->kw_eof_parts, eof, memory_order_release);
}

size_t kite__acks_apply(kite_worker *w)
{
    uint64_t tags[ACKS_BATCH];
    size_t total = 0, n;
    while ((n = kite_ring_pop_n(&w->kw_done, tags, ACKS_BATCH)) > 0) {
        int64_t now_us = kite_clock_wall_us();
        for (size_t i = 0; i < n; i++) {
            kite_offsets *t = w->kw_parts[kite_tag_pslot(tags[i])];
            if (!t) continue;
            uint64_t seq = kite_tag_seq(tags[i]);
            if (kite_tag_kind(tags[i]) == KITE_OUT_PREDICTION) {
                int64_t ts = t->ko_ts_ms[seq & t->ko_mask];
                if (ts > 0) kite_stats_observe_latency_us(w->kw_stats, (double)(now_us - ts * 1000));
            }
            kite__offsets_done(t, seq);
        }
        total += n;
    }
    if (total) {
        kite__acks_store_offsets(w);
        kite__acks_publish_progress(w);
    }
    return total;
}

void kite__acks_drain_all(kite_pipeline *pl)
{
    for (int i = 0; i < pl->pl_nworkers; i++) kite__acks_apply(&pl->pl_workers[i]);
}

int kite__acks_wait_empty(kite_pipeline *pl, int timeout_ms)
{
    for (int waited = 0;; waited++) {
        kite__acks_drain_all(pl);
        /* Acquire: pairs with the delivery thread's release stores of sk_retry_pending. */
        if (rd_kafka_outq_len(pl->pl_sink.sk_producer) == 0 &&
            atomic_load_explicit(&pl->pl_sink.sk_retry_pending, memory_order_acquire) == 0)
            break;
        /* A fatal producer (e.g. librdkafka 2.0's idempotence "sequence desynchronization"
         * after an output leader dies) delivers nothing more: waiting out the timeout would
         * hold a revoke, and then the shutdown, for minutes. Their offsets stay unstored. */
        if (waited >= timeout_ms || kite__pipeline_fatal_set(pl))
            return -1;
        usleep(1000);
    }
    kite__acks_drain_all(pl);
    return 0;
}

void kite__acks_drop_windows(kite_pipeline *pl)
{
    for (int wi = 0; wi < pl->pl_nworkers; wi++) {
        kite_worker *w = &pl->pl_workers[wi];
        for (int i = 0; i < w->kw_nparts; i++) {
            kite__offsets_free(w->kw_parts[i]);
            w->kw_parts[i] = NULL;
            kite__pstate_drop(w, i); /* the next owner (maybe us) rebuilds it from the log */
        }
        w->kw_nparts = 0;
        /* Relaxed: the workers are parked (or joined) here, and the control thread that reads
         * these for exit_on_eof is the one running this, so no other thread observes the reset. */
        atomic_store_explicit(&w->kw_eof_parts, 0, memory_order_relaxed);
        atomic_store_explicit(&w->kw_inflight, 0, memory_order_relaxed);
    }
}
