/* Private to kite_stream (engine/stream/), not installed. The pipeline's state: one
 * kite_pipeline per `kite serve`, one kite_worker per worker thread, and the sub-structs of
 * kite_pipeline, each owned by one file (SQLite-style: the owner creates, changes and frees
 * it; other files only read what its comment says they may). The functions are declared in
 * the owning file's header: acks.h, sink.h, source.h, txn.h, park.h, worker.h, output.h,
 * pipeline_state.h, pipeline_fatal.h, pipeline_rebalance.h. This header includes only the
 * headers of files below the pipeline (they never call back into it). */
#ifndef KITE_PIPELINE_INT_H
#define KITE_PIPELINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include <kite/arena.h>
#include <kite/config.h>
#include <kite/drift.h>
#include <kite/drift_report.h>
#include "event_map.h"
#include <kite/forest.h>
#include <kite/mock_broker.h>
#include <kite/model.h>
#include "model_swap.h"
#include "offsets.h"
#include "shadow.h"
#include <kite/pipeline.h>
#include <kite/ring.h>
#include <kite/stats.h>
#include <kite/stats_http.h>

#define KITE_MAX_WORKERS 64
#define KITE_DRIFT_JSON_MAX 512 /* one drift event as JSON (kite_drift_event_json) */
#define KITE_MAX_WORKER_PARTITIONS 4096

/* Delivery tag carried as each output message's opaque, and pushed back to its worker:
 *   bits 0..39   seq in the partition's kite_offsets window
 *   bits 40..51  pslot: index of that window in the worker's kw_parts
 *   bits 52..53  kind (kite_output_kind)
 *   bits 54..61  worker index */
typedef enum kite_output_kind {
    KITE_OUT_PREDICTION = 0,
    KITE_OUT_ALERT = 1,
    KITE_OUT_DEAD_LETTER = 2
} kite_output_kind;

static inline uint64_t kite_tag_make(int worker, int pslot, kite_output_kind kind, uint64_t seq)
{
    return ((uint64_t)worker << 54) | ((uint64_t)kind << 52) | ((uint64_t)pslot << 40) |
           (seq & ((1ull << 40) - 1));
}
static inline int kite_tag_worker(uint64_t t) { return (int)((t >> 54) & 0xff); }
static inline kite_output_kind kite_tag_kind(uint64_t t) { return (kite_output_kind)((t >> 52) & 3); }
static inline int kite_tag_pslot(uint64_t t) { return (int)((t >> 40) & 0xfff); }
static inline uint64_t kite_tag_seq(uint64_t t) { return t & ((1ull << 40) - 1); }

/* One event of the batch being assembled. */
typedef struct kite_batch_item {
    rd_kafka_message_t *kbi_msg;
    int kbi_pslot;
    uint64_t kbi_seq;
    int kbi_warming;                  /* its key was still warming up                    */
    double kbi_label;                 /* label_field carried by the event itself; NaN: none */
} kite_batch_item;

/* A label taken from labels_topic, joined to its key's prediction after the batch. */
typedef struct kite_label_item {
    uint64_t kli_key;                 /* xxh3 of the Kafka message key                   */
    double kli_label;
} kite_label_item;

typedef struct kite_worker {
    int kw_index;
    struct kite_pipeline *kw_pl;
    pthread_t kw_thread;
    int kw_started;
    rd_kafka_queue_t *kw_queue;       /* partition queues are forwarded here           */
    kite_ring kw_done;                /* delivery thread -> this worker: delivery tags  */
    kite_offsets *kw_parts[KITE_MAX_WORKER_PARTITIONS];
    int kw_nparts;                    /* slots in use                                   */
    int kw_last_part;                 /* kw_parts index of the last message's partition */
    kite_stats_block *kw_stats;
    kite_arena kw_arena;
    kite_event_json kw_event;         /* the event being taken: its parsed fields       */
    struct kite_pstate *kw_pstate;    /* feature state per partition (pipeline_state.c)  */
    /* The version scoring this worker's batch (model_swap.h); kw_evstate belongs to
     * kw_map (so do kw_pstate's states); kw_rows/kw_margins/kw_preds hold batch_size x kw_row_cap / kw_group_cap. */
    const kite_served *kw_served;
    const kite_event_map *kw_map;
    size_t kw_row_cap, kw_group_cap;
    float *kw_shadow_margins, *kw_shadow_preds; /* shadow_model: batch_size x its groups   */
    size_t kw_shadow_group_cap;
    rd_kafka_message_t **kw_msgs;     /* consume buffer, batch_size                    */
    kite_batch_item *kw_items;        /* events of the batch that will be scored       */
    float *kw_rows, *kw_margins, *kw_preds;
    uint64_t *kw_keys;                /* batch: xxh3 of each event's key (labels join)  */
    uint8_t *kw_has_key;              /* batch: 1 when the event had a key              */
    kite_label_item *kw_labels;       /* labels_topic messages taken, batch_size bound  */
    kite_drift_event *kw_drift_ev;    /* drift_profile: KITE_DRIFT_EVENT_QUEUE events   */
    char *kw_drift_json;              /* ... and their JSON, KITE_DRIFT_JSON_MAX each    */
    size_t kw_nlabels;
    char *kw_out;                     /* output JSON buffer                            */
    size_t kw_out_cap;
    /* output.c: output text that does not change per event, made once (the alert's
     * rule, the model fields) or once per source topic ("topic":"t","partition":). */
    char kw_alert_head[96];
    size_t kw_alert_head_len;
    char kw_model_tail[224];
    size_t kw_model_tail_len;
    const void *kw_src_rkt;
    const char *kw_src_topic;
    char kw_src_text[600];
    size_t kw_src_len;
    /* Published by the worker after each loop (release), read by the control thread
     * (acquire) for exit_on_eof: partitions at EOF and events still in flight. */
    _Atomic int kw_eof_parts;
    _Atomic uint64_t kw_inflight;
} kite_worker;

typedef struct kite_txn kite_txn; /* engine/stream/txn.c */
struct kite_retry;                 /* engine/stream/sink.c */

/* Owned by sink.c (the output side): the producer, its topics and the delivery thread.
 * sk_producer is read by the ack path (outq length), the transactions and the metrics
 * renderer (under pl_handles_lock); sk_retry_pending and sk_last_delivery_us by acks.c and
 * pipeline.c; the rkt handles by the workers. */
typedef struct kite_sink {
    rd_kafka_t *sk_producer;
    rd_kafka_topic_t *sk_rkt_pred, *sk_rkt_alert, *sk_rkt_dead;
    rd_kafka_topic_t *sk_rkt_drift;   /* drift_topic (drift_profile set), NULL: none       */
    rd_kafka_topic_t *sk_rkt_shadow;  /* shadow_topic, NULL: none                           */
    pthread_t sk_delivery_thread;
    /* Held by whoever serves the producer's delivery reports: the delivery thread around each
     * rd_kafka_poll, and (exactly_once) the control thread around commit_transaction and
     * abort_transaction, which flush and so serve reports on the calling thread. One server
     * at a time keeps each worker's ring single-producer. */
    pthread_mutex_t sk_poll_lock;
    int sk_delivery_started;
    _Atomic int sk_delivery_stop;     /* control -> delivery thread                     */
    /* Failed deliveries awaiting a new produce (delivery thread only). */
    struct kite_retry *sk_retry;
    size_t sk_nretry, sk_retry_cap;
    _Atomic size_t sk_retry_pending;  /* delivery thread (release) -> acks.c (acquire)  */
    _Atomic int64_t sk_last_delivery_us;
} kite_sink;

/* Owned by park.c: the control thread stops every worker at a loop boundary during a
 * rebalance or a transaction commit. Rare path, so a mutex and condition variables. */
typedef struct kite_park {
    pthread_mutex_t pk_lock;
    pthread_cond_t pk_cond;
    _Atomic int pk_request;           /* control -> workers (release/acquire)           */
    int pk_parked;                    /* under pk_lock                                  */
    int pk_running;                   /* workers running, under pk_lock                 */
} kite_park;

/* Owned by pipeline_fatal.c: the first fatal error. pf_reason is written once, by the thread
 * that wins pf_claim (kite__pipeline_fatal), before its release store of pf_set; read after
 * an acquire load of pf_set sees 1. Several threads can hit fatal errors at once. */
typedef struct kite_pipeline_fatal {
    _Atomic int pf_set;               /* /health fails, the run stops                  */
    _Atomic int pf_claim;
    char pf_reason[256];
} kite_pipeline_fatal;

/* Owned by pipeline.c (the control thread), except where a member says otherwise. */
typedef struct kite_pipeline {
    kite_config pl_cfg;               /* copy of the caller's, with defaults applied    */
    /* The served model, its forest and event map (engine/stream/model_swap.h): workers take the
     * version at each batch start; reloads (SIGHUP, /admin/reload, watch) swap it. */
    kite_model_swap *pl_swap;
    _Atomic int pl_reload_request;    /* SIGHUP -> control thread (kite_pipeline_reload)   */
    int64_t pl_watch_next_us;         /* control thread: next model_watch_ms check          */
    kite_shadow *pl_shadow;           /* shadow_model (engine/stream/shadow.h), NULL: none   */
    kite_mock_broker *pl_mock;
    kite_txn *pl_txn;                 /* guarantee=exactly_once (txn.c), NULL: off       */
    char *pl_brokers;
    /* Created and destroyed by the running thread while the metrics server (its own thread)
     * may render lag and queue gauges from them: the consumer (source.c) and the sink's
     * producer are set, cleared and read by the renderer under pl_handles_lock (the hot path
     * reads them after pthread_create / before pthread_join, which order them). */
    rd_kafka_t *pl_consumer;          /* owned by source.c                               */
    pthread_mutex_t pl_handles_lock;
    kite_sink pl_sink;                /* sink.c                                          */
    kite_park pl_park;                /* park.c                                          */
    kite_pipeline_fatal pl_fatal;     /* pipeline_fatal.c                                */
    /* Drift (drift_profile set): one monitor for the whole stream, so every worker observes
     * under pl_drift_lock and /metrics renders under it too; pl_drift_times (batch_size) is
     * scratch for the batch's event times, also under the lock. */
    kite_profile pl_drift_profile;
    kite_drift_monitor *pl_drift;
    pthread_mutex_t pl_drift_lock;
    double *pl_drift_times;
    kite_drift_report_dir pl_drift_reports; /* drift_report_dir (written under the lock) */
    int pl_nworkers;
    kite_worker *pl_workers;
    kite_stats pl_stats;              /* blocks: workers, then delivery, then control   */
    kite_stats_block *pl_stats_delivery, *pl_stats_control;
    kite_metrics_server *pl_http;
    _Atomic int pl_stop;              /* signal handler / API -> everyone               */
    _Atomic int pl_ready;             /* partitions assigned (for /ready)               */
    _Atomic int pl_assigned;          /* partitions assigned now (rebalance callback)   */
    _Atomic int pl_workers_joined;
    _Atomic int pl_exit_holds;        /* exit_on_eof waits while > 0                    */
    _Atomic uint64_t pl_expect_consumed; /* ... and until this many were consumed       */
    _Atomic int64_t pl_first_consume_us;
    int64_t pl_cpu_first_us;          /* process CPU at the first event (written once,
                                       * by the CAS winner; read after the workers join) */
    int64_t pl_cpu_end_us;            /* process CPU after the final commit              */
} kite_pipeline;

#endif
