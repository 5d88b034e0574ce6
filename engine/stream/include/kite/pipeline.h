/* kite_pipeline: Kafka in, predictions / alerts / dead letters out, at least once.
 *
 *   kite_pipeline_new   loads the model, builds the event map, creates the consumer, producer,
 *                       workers and (if configured) the metrics endpoint; with no brokers it
 *                       starts the embedded mock cluster.
 *   kite_pipeline_run   blocks: consumes until kite_pipeline_stop (or, with exit_on_eof, until
 *                       every assigned partition is consumed and every output acknowledged),
 *                       then drains, stores and commits offsets.
 *   kite_pipeline_stop  async-signal-safe: one atomic store.
 *
 * Threads, data flow and invariants: ARCHITECTURE.md, "Streaming pipeline". */
#ifndef KITE_PIPELINE_H
#define KITE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <kite/config.h>
#include <kite/error.h>

typedef struct kite_pipeline kite_pipeline;

typedef struct kite_pipeline_totals {
    uint64_t ktl_consumed, ktl_scored, ktl_dead_letters, ktl_alerts, ktl_delivered;
    uint64_t ktl_delivery_errors, ktl_missing, ktl_rebalances, ktl_queue_full, ktl_warming_up;
    double ktl_seconds;          /* from the first event consumed to the last delivery */
    double ktl_latency_p50_us, ktl_latency_p99_us, ktl_latency_p999_us;
    double ktl_cpu_us_per_event; /* process CPU (user + sys, all threads) from the first
                                  * event to the final commit, per event consumed          */
    double ktl_drift_us_per_event; /* worker time in the drift monitor per scored event;
                                    * 0 without drift_profile                               */
} kite_pipeline_totals;

kite_err kite_pipeline_new(const kite_config *cfg, kite_pipeline **out, char *errstr,
                           size_t errstr_size);
kite_err kite_pipeline_run(kite_pipeline *pl, char *errstr, size_t errstr_size);
void kite_pipeline_stop(kite_pipeline *pl);
/* Async-signal-safe (SIGHUP): asks the control thread to reload the model (one atomic store). */
void kite_pipeline_reload(kite_pipeline *pl);
/* exit_on_eof waits while holds > 0 (e.g. a replay still producing): delta +1 / -1. */
void kite_pipeline_hold_exit(kite_pipeline *pl, int delta);
/* exit_on_eof also waits until at least n events were consumed (a replay's count). */
/* 1 while partitions are assigned and no fatal error stopped the pipeline (/ready). */
int kite_pipeline_ready(kite_pipeline *pl);
void kite_pipeline_expect_consumed(kite_pipeline *pl, uint64_t n);
void kite_pipeline_totals_get(kite_pipeline *pl, kite_pipeline_totals *out);
/* The bootstrap servers in use ("" never: the embedded broker's address when started). */
const char *kite_pipeline_brokers(const kite_pipeline *pl);
/* The model the pipeline serves now, with a new reference for the caller (release it with
 * kite_loaded_model_release), and the file it was loaded from (valid while the reference is
 * held). kite serve --http beside Kafka gives it to the HTTP server, so the two share one
 * loaded copy. */
struct kite_loaded_model *kite_pipeline_loaded_model(kite_pipeline *pl, const char **path);
/* Current /metrics text into buf (NUL-terminated, truncated to size). */
void kite_pipeline_metrics_text(kite_pipeline *pl, char **text_out);
void kite_pipeline_free(kite_pipeline *pl);

#endif
