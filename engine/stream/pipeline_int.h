/* Internals shared by pipeline.c (control), pipeline_worker.c, pipeline_output.c,
 * kafka_consumer.c and kafka_producer.c. Not part of the public API. */
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
    /* pipeline_output.c: output text that does not change per event, made once (the alert's
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

typedef struct kite_txn kite_txn; /* engine/stream/kafka_txn.c */

typedef struct kite_pipeline {
    kite_config pl_cfg;               /* copy of the caller's, with defaults applied    */
    /* The served model, its forest and event map (engine/stream/model_swap.h): workers take the
     * version at each batch start; reloads (SIGHUP, /admin/reload, watch) swap it. */
    kite_model_swap *pl_swap;
    _Atomic int pl_reload_request;    /* SIGHUP -> control thread (kite_pipeline_reload)   */
    int64_t pl_watch_next_us;         /* control thread: next model_watch_ms check          */
    kite_shadow *pl_shadow;           /* shadow_model (engine/stream/shadow.h), NULL: none          */
    rd_kafka_topic_t *pl_rkt_shadow;  /* shadow_topic, NULL: none                           */
    kite_mock_broker *pl_mock;
    kite_txn *pl_txn;                 /* guarantee=exactly_once (kafka_txn.c), NULL: off  */
    char *pl_brokers;
    /* Created and destroyed by the running thread while the metrics server (its own thread)
     * may render lag and queue gauges from them: both pointers are set, cleared and read by
     * the renderer under pl_handles_lock (the hot path reads them after pthread_create /
     * before pthread_join, which order them). */
    rd_kafka_t *pl_consumer;
    rd_kafka_t *pl_producer;
    pthread_mutex_t pl_handles_lock;
    rd_kafka_topic_t *pl_rkt_pred, *pl_rkt_alert, *pl_rkt_dead;
    /* Drift (drift_profile set): one monitor for the whole stream, so every worker observes
     * under pl_drift_lock and /metrics renders under it too; pl_drift_times (batch_size) is
     * scratch for the batch's event times, also under the lock. */
    kite_profile pl_drift_profile;
    kite_drift_monitor *pl_drift;
    pthread_mutex_t pl_drift_lock;
    double *pl_drift_times;
    rd_kafka_topic_t *pl_rkt_drift;
    kite_drift_report_dir pl_drift_reports; /* drift_report_dir (written under the lock) */
    int pl_nworkers;
    kite_worker *pl_workers;
    kite_stats pl_stats;              /* blocks: workers, then delivery, then control   */
    kite_stats_block *pl_stats_delivery, *pl_stats_control;
    kite_metrics_server *pl_http;
    pthread_t pl_delivery_thread;
    /* Held by whoever serves the producer's delivery reports: the delivery thread around each
     * rd_kafka_poll, and (exactly_once) the control thread around commit_transaction and
     * abort_transaction, which flush and so serve reports on the calling thread. One server
     * at a time keeps each worker's ring single-producer. */
    pthread_mutex_t pl_poll_lock;
    int pl_delivery_started;
    _Atomic int pl_delivery_stop;     /* control -> delivery thread                     */
    _Atomic int pl_stop;              /* signal handler / API -> everyone               */
    _Atomic int pl_ready;             /* partitions assigned (for /ready)               */
    _Atomic int pl_assigned;          /* partitions assigned now (rebalance callback)   */
    _Atomic int pl_fatal;             /* a fatal Kafka error: /health fails, run stops  */
    _Atomic int pl_workers_joined;
    _Atomic int pl_exit_holds;        /* exit_on_eof waits while > 0                    */
    _Atomic uint64_t pl_expect_consumed; /* ... and until this many were consumed       */
    /* Parking: the control thread stops every worker at a loop boundary during a
     * rebalance. Rare path, so a mutex and condition variables. */
    pthread_mutex_t pl_park_lock;
    pthread_cond_t pl_park_cond;
    _Atomic int pl_park_request;      /* control -> workers (release/acquire)           */
    int pl_parked;                    /* under pl_park_lock                             */
    int pl_running_workers;           /* under pl_park_lock                             */
    /* Failed deliveries awaiting a new produce (delivery thread only). */
    struct kite_retry *pl_retry;
    size_t pl_nretry, pl_retry_cap;
    _Atomic size_t pl_retry_pending;  /* delivery thread (release) -> control (acquire) */
    _Atomic int64_t pl_first_consume_us, pl_last_delivery_us;
    int64_t pl_cpu_first_us;          /* process CPU at the first event (written once,
                                       * by the CAS winner; read after the workers join) */
    int64_t pl_cpu_end_us;            /* process CPU after the final commit              */
    /* The first fatal error's reason: written once, by the thread that wins pl_fatal_claim
     * (kite__pipeline_fatal), before its release store of pl_fatal; read after an acquire
     * load of pl_fatal sees 1. Several threads can hit fatal errors at once. */
    _Atomic int pl_fatal_claim;
    char pl_fatal_reason[256];
} kite_pipeline;

/* Records a fatal error: the first caller's reason is kept (printf-style) and published with
 * pl_fatal (release; pairs with the acquire loads in the control loop and /health). */
__attribute__((format(printf, 2, 3))) void kite__pipeline_fatal(kite_pipeline *pl, const char *fmt,
                                                                 ...);

/* pipeline_worker.c */
void kite__worker_apply_labels(kite_worker *w);

/* kafka_producer.c */
kite_err kite__sink_start(kite_pipeline *pl, char *errstr, size_t errstr_size);
/* Produces one output; on __QUEUE_FULL drains the worker's completions and retries.
 * Returns 0, or -1 when the pipeline is stopping fatally (or, exactly_once, when the open
 * transaction refused it and will abort). */
int kite__sink_produce(kite_worker *w, rd_kafka_topic_t *rkt, const void *key, size_t key_len,
                      const char *payload, size_t len, int64_t ts_ms, uint64_t tag);
/* Workers parked or joined: waits until every output has a delivery report (or timeout_ms
 * passes, or a fatal error makes it hopeless), applying delivery tags meanwhile so no ring
 * fills; 0 when empty. */
int kite__sink_wait_empty(kite_pipeline *pl, int timeout_ms);
void kite__sink_stop(kite_pipeline *pl);

/* kafka_consumer.c */
kite_err kite__source_start(kite_pipeline *pl, char *errstr, size_t errstr_size);
/* Stores, for every window of w, the offset after the last event completed in order. */
void kite__source_store_offsets(kite_worker *w);
/* Control thread, workers parked or joined: pops every delivery tag and applies it. */
void kite__source_drain_all(kite_pipeline *pl);
void kite__source_close(kite_pipeline *pl);

/* kafka_txn.c: guarantee=exactly_once. kite__txn_new validates guarantee and, for
 * exactly_once, makes pl_txn; the two conf calls add the transactional settings to the
 * producer's and the consumer's configuration; kite__txn_start initializes the producer and
 * begins the first transaction (retrying while the cluster is away, until stopped). Control
 * thread only: kite__txn_tick commits the open transaction every transaction_ms (parking the
 * workers); kite__txn_finish, with the workers parked or joined, commits it with the consumed
 * offsets, or aborts it and rewinds to the committed offsets, then begins the next one:
 * 0 committed (or nothing to commit), 1 aborted and rewound, -1 fatal (pl_fatal set). */
kite_err kite__txn_new(kite_pipeline *pl, char *errstr, size_t errstr_size);
void kite__txn_free(kite_pipeline *pl);
kite_err kite__txn_producer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                size_t errstr_size);
kite_err kite__txn_consumer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                size_t errstr_size);
kite_err kite__txn_start(kite_pipeline *pl, char *errstr, size_t errstr_size);
void kite__txn_tick(kite_pipeline *pl);
int kite__txn_finish(kite_pipeline *pl);
/* Any thread: an output failed or was refused; the open transaction must abort. */
void kite__txn_failed(kite_pipeline *pl, rd_kafka_resp_err_t err);

/* kafka_consumer.c: drops every worker's windows (workers parked or joined). */
void kite__source_drop_windows(kite_pipeline *pl);

/* pipeline_worker.c */
void *kite__worker_main(void *arg);
/* Applies the delivery tags waiting in w's ring; returns how many. */
size_t kite__worker_apply_deliveries(kite_worker *w);
void kite__worker_park(kite_pipeline *pl);
void kite__worker_unpark(kite_pipeline *pl);

/* pipeline_state.c: feature state per partition, rebuilt from the partition's log on its first
 * event (the file's top comment says how and why). */
typedef struct kite_pstate kite_pstate;
kite_err kite__pstate_new(kite_worker *w, char *errstr, size_t errstr_size);
void kite__pstate_free(kite_worker *w);
/* Workers parked (or the worker itself): drops window pslot's state / every state. */
void kite__pstate_drop(kite_worker *w, int pslot);
void kite__pstate_drop_all(kite_worker *w);
/* kite__event_map_row with the state of m's partition (window pslot), rebuilt first if the
 * partition has none yet. *stopping = 1 when the pipeline stopped during the rebuild: the
 * event must then be left unconsumed (no output, no completion). */
kite_err kite__pstate_row(kite_worker *w, int pslot, const rd_kafka_message_t *m,
                          const kite_event_json *event, float *row, int *missing, int *warming,
                          int *stopping, char *errstr, size_t errstr_size);

/* pipeline_output.c: JSON of each output into w->kw_out; return the length. */
size_t kite__output_prediction(kite_worker *w, const rd_kafka_message_t *m, const float *pred,
                              const float *margin, int warming_up, int64_t now_ms);
size_t kite__output_alert(kite_worker *w, const rd_kafka_message_t *m, float pred);
size_t kite__output_dead_letter(kite_worker *w, const rd_kafka_message_t *m, const char *reason);
size_t kite__output_text(kite_worker *w, const char *text); /* a drift event's JSON as is */
size_t kite__output_shadow(kite_worker *w, const rd_kafka_message_t *m, const kite_served *shadow,
                          float shadow_pred, float serving_pred);

int64_t kite__now_us(void);      /* CLOCK_REALTIME, microseconds (comparable to Kafka's) */
int64_t kite__process_cpu_us(void); /* user + system CPU of the whole process           */

#endif
