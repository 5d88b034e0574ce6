/* The rebalance sequence, owned by the pipeline and given to the source (source.c) as its
 * librdkafka rebalance callback; it runs on the control thread, inside its consumer poll.
 *
 * Eager range assignor by default (never mixed with cooperative members, which the
 * mock cluster aborts on). On assign, forward each partition's queue, then assign. On revoke,
 * park the workers (batch consume is unsafe during a rebalance in 2.0.x), wait until every
 * output has its delivery report, store and commit offsets synchronously, drop the windows,
 * unforward the queues, unassign, unpark. With a cooperative assignor (`-X
 * consumer.partition.assignment.strategy=cooperative-sticky`, real Kafka) a callback names only
 * the partitions that move, applied with incremental_(un)assign; the revoke still drains and
 * commits everything, and windows are made again on a kept partition's next message. */
#include <stdio.h>
#include <string.h>

#include "acks.h"
#include "park.h"
#include "pipeline_rebalance.h"
#include "source.h"
#include "txn.h"

void kite__pipeline_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kite_pipeline *pl = opaque;
    kite_stats_add(pl->pl_stats_control, KITE_C_REBALANCES, 1);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        kite__source_forward(pl, parts, 1);
        fprintf(stderr, "kite: assigned %d partition(s):", parts->cnt);
        for (int i = 0; i < parts->cnt; i++)
            fprintf(stderr, " %s/%d->worker %d", parts->elems[i].topic, parts->elems[i].partition,
                    parts->elems[i].partition % pl->pl_nworkers);
        fputc('\n', stderr);
        atomic_store_explicit(&pl->pl_assigned, kite__source_apply(rk, parts, 1), memory_order_release);
        /* Relaxed: /ready's flag publishes no data; a scrape may see it a moment late. */
        atomic_store_explicit(&pl->pl_ready, 1, memory_order_relaxed);
        return;
    }
    /* Revoke (or an error: treated as a revoke, as librdkafka's examples do). */
    int joined = atomic_load_explicit(&pl->pl_workers_joined, memory_order_acquire);
    if (!joined) kite__park_hold(pl);
    atomic_store_explicit(&pl->pl_ready, 0, memory_order_relaxed); /* relaxed: see assign */
    if (kite__acks_wait_empty(pl, 120000) != 0)
        fprintf(stderr, "kite: revoke: outputs still in flight (after 120 s, or a fatal error); "
                        "their events will be consumed again by the next owner\n");
    if (pl->pl_txn) { /* exactly_once: the open transaction commits (or aborts) first */
        kite__txn_finish(pl);
    } else {
        for (int i = 0; i < pl->pl_nworkers; i++) kite__acks_store_offsets(&pl->pl_workers[i]);
        rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, NULL, 0);
        if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
            fprintf(stderr, "kite: revoke: commit: %s\n", rd_kafka_err2str(cerr));
    }
    kite__acks_drop_windows(pl);
    kite__source_forward(pl, parts, 0);
    int kept = kite__source_apply(rk, parts, 0);
    atomic_store_explicit(&pl->pl_assigned, kept, memory_order_release);
    atomic_store_explicit(&pl->pl_ready, kept > 0, memory_order_relaxed); /* relaxed: see assign */
    fprintf(stderr, "kite: revoked %d partition(s), offsets committed\n", parts->cnt);
    if (!joined) kite__park_release(pl);
}
