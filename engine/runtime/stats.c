#include <kite/mem.h>
#include <kite/stats.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct stats_counter_desc {
    const char *name;
    const char *help;
} stats_counter_desc;

static const stats_counter_desc stats_counters[KITE_C__COUNT] = {
    [KITE_C_CONSUMED] = {"kite_events_consumed_total", "Input events consumed from Kafka."},
    [KITE_C_SCORED] = {"kite_events_scored_total", "Events scored (one prediction each)."},
    [KITE_C_DEAD_LETTERS] = {"kite_dead_letters_total",
                             "Events sent to the dead-letter topic (unparsable or not featurizable)."},
    [KITE_C_ALERTS] = {"kite_alerts_total",
                       "Alerts produced (prediction >= alert_threshold, e.g. predicted survived)."},
    [KITE_C_DELIVERED] = {"kite_outputs_delivered_total",
                          "Output messages (predictions, alerts, dead letters) acknowledged by Kafka."},
    [KITE_C_DELIVERY_ERRORS] = {"kite_output_delivery_errors_total",
                                "Failed delivery reports; each output is produced again."},
    [KITE_C_MISSING] = {"kite_missing_feature_values_total",
                        "Feature values missing (absent or null) in scored events."},
    [KITE_C_INFERENCE_ERRORS] = {"kite_inference_errors_total",
                                 "Predictions that came out NaN or infinite."},
    [KITE_C_BATCHES] = {"kite_batches_total", "Batches scored."},
    [KITE_C_WARMING_UP] = {"kite_events_warming_up_total",
                           "Events scored while their stream key was still warming up."},
    [KITE_C_OFFSETS_STORED] = {"kite_offset_stores_total",
                               "Partition offsets stored after complete deliveries (each covers one or more events)."},
    [KITE_C_QUEUE_FULL] = {"kite_producer_queue_full_total",
                           "Produce calls answered __QUEUE_FULL (retried after polling, never dropped)."},
    [KITE_C_KAFKA_ERRORS] = {"kite_kafka_errors_total",
                             "Errors reported by librdkafka (consumer and producer)."},
    [KITE_C_REBALANCES] = {"kite_rebalances_total", "Partition assignments and revocations handled."},
    [KITE_C_LABELS] = {"kite_labels_total",
                       "Labels received (labels_topic messages and label_field values of events)."},
    [KITE_C_LABELS_JOINED] = {"kite_labels_joined_total",
                              "Labels joined to a prediction (drift quality metrics)."},
    [KITE_C_LABELS_UNMATCHED] = {"kite_labels_unmatched_total",
                                 "Labels whose key had no prediction waiting (never seen, or dropped)."},
    [KITE_C_STATE_REPLAYED] = {"kite_state_replayed_events_total",
                               "Input events read back from a partition's log into its feature state "
                               "on assignment (no outputs)."},
    [KITE_C_STATE_REBUILDS] = {"kite_state_rebuilds_total",
                               "Partition feature states rebuilt from the log on assignment."},
    [KITE_C_STATE_HISTORY_LOST] = {"kite_state_history_lost_total",
                                   "Rebuilds whose partition log no longer starts at offset 0 (retention "
                                   "deleted history): older keys warm up again."},
    [KITE_C_KEYS_EVICTED] = {"kite_feature_keys_evicted_total",
                             "Stream keys evicted, least recently seen first, from a full key table "
                             "(when_full: evict); an evicted key warms up again."},
    [KITE_C_TXN_COMMITS] = {"kite_transactions_committed_total",
                            "guarantee=exactly_once: transactions committed (outputs and offsets)."},
    [KITE_C_TXN_ABORTS] = {"kite_transactions_aborted_total",
                           "guarantee=exactly_once: transactions aborted; their events were consumed again."},
};

typedef struct stats_hist_desc {
    const char *name;
    const char *help;
    double bounds[KITE_HIST_MAX_BOUNDS];
    size_t nbounds;
} stats_hist_desc;

static const stats_hist_desc stats_hists[KITE_H__COUNT] = {
    [KITE_H_EVENT_LATENCY] = {"kite_event_latency_seconds",
                              "Event timestamp to the delivery report of its prediction.",
                              {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                               2.5, 5, 10},
                              14},
    [KITE_H_SCORING_LATENCY] = {"kite_scoring_latency_seconds",
                                "Time to score one batch (kernel and objective transform).",
                                {1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3,
                                 1e-2, 0.1},
                                12},
    [KITE_H_BATCH_EVENTS] = {"kite_batch_events", "Events per scored batch.",
                             {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536},
                             14},
    [KITE_H_PREDICTION] = {"kite_prediction_value",
                           "Prediction values (first output); a Titanic dashboard's survival "
                           "rate is the share above 0.5.",
                           {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1},
                           10},
    [KITE_H_DRIFT] = {"kite_drift_batch_seconds",
                      "Time one scored batch spends in the drift monitor (binning, windows, checks, "
                      "labels, reports); its sum over kite_events_scored_total is drift's cost per event.",
                      {1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1},
                      12},
    [KITE_H_STATE_REBUILD] = {"kite_state_rebuild_seconds",
                              "Time to rebuild one partition's feature state from its log on assignment "
                              "(its events are held meanwhile).",
                              {0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
                              12},
};

double kite_stats_hist_total(const kite_stats *s, kite_hist h)
{
    int64_t sum = 0;
    for (int b = 0; b < s->ks_nblocks; b++)
        sum += atomic_load_explicit(&s->ks_blocks[b].ksb_hist_sum[h], memory_order_relaxed);
    return (double)sum * 1e-6;
}

int kite_stats_init(kite_stats *s, int nblocks)
{
    s->ks_blocks = NULL;
    s->ks_nblocks = 0;
    void *p = kite_mem_aligned(KITE_CACHE_LINE, (size_t)nblocks * sizeof(kite_stats_block));
    if (!p) return -1;
    s->ks_blocks = p;
    s->ks_nblocks = nblocks;
    return 0;
}

void kite_stats_free(kite_stats *s)
{
    free(s->ks_blocks);
    s->ks_blocks = NULL;
    s->ks_nblocks = 0;
}

static inline void stats_bump(_Atomic uint64_t *v, uint64_t n)
{
    /* Single writer: relaxed load + relaxed store (see stats.h). */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void kite_stats_observe(kite_stats_block *b, kite_hist h, double value)
{
    const stats_hist_desc *d = &stats_hists[h];
    size_t i = 0;
    while (i < d->nbounds && !(value <= d->bounds[i])) i++;
    stats_bump(&b->ksb_hist[h][i], 1);
    if (isfinite(value)) {
        int64_t s = atomic_load_explicit(&b->ksb_hist_sum[h], memory_order_relaxed);
        atomic_store_explicit(&b->ksb_hist_sum[h], s + (int64_t)llround(value * 1e6),
                              memory_order_relaxed);
    }
}

void kite_stats_observe_latency_us(kite_stats_block *b, double us)
{
    kite_stats_observe(b, KITE_H_EVENT_LATENCY, us * 1e-6);
    int i = us < 1 ? 0 : (int)(log(us) / log(1.25));
    if (i >= KITE_LAT_FINE_BUCKETS) i = KITE_LAT_FINE_BUCKETS - 1;
    stats_bump(&b->ksb_lat_fine[i], 1);
}

uint64_t kite_stats_sum(const kite_stats *s, kite_counter c)
{
    uint64_t total = 0;
    for (int i = 0; i < s->ks_nblocks; i++)
        total += atomic_load_explicit(&s->ks_blocks[i].ksb_counter[c], memory_order_relaxed);
    return total;
}

double kite_stats_latency_percentile_us(const kite_stats *s, double q)
{
    uint64_t fine[KITE_LAT_FINE_BUCKETS] = {0}, total = 0;
    for (int b = 0; b < s->ks_nblocks; b++)
        for (int i = 0; i < KITE_LAT_FINE_BUCKETS; i++) {
            uint64_t v = atomic_load_explicit(&s->ks_blocks[b].ksb_lat_fine[i],
                                              memory_order_relaxed);
            fine[i] += v;
            total += v;
        }
    if (!total) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)total), seen = 0;
    for (int i = 0; i < KITE_LAT_FINE_BUCKETS; i++) {
        seen += fine[i];
        /* Report the bucket's geometric middle: within 12% of any value in it. */
        if (seen >= rank) return pow(1.25, i + 0.5);
    }
    return pow(1.25, KITE_LAT_FINE_BUCKETS);
}

const char *kite_stats_counter_name(kite_counter c) { return stats_counters[c].name; }

void kite_stats_render(const kite_stats *s, kite_prom *p)
{
    for (int c = 0; c < KITE_C__COUNT; c++) {
        kite_prom_family(p, stats_counters[c].name, "counter", stats_counters[c].help);
        kite_prom_sample(p, stats_counters[c].name, NULL, (double)kite_stats_sum(s, c));
    }
    for (int h = 0; h < KITE_H__COUNT; h++) {
        const stats_hist_desc *d = &stats_hists[h];
        uint64_t counts[KITE_HIST_MAX_BOUNDS + 1] = {0};
        for (int b = 0; b < s->ks_nblocks; b++)
            for (size_t i = 0; i <= d->nbounds; i++)
                counts[i] += atomic_load_explicit(&s->ks_blocks[b].ksb_hist[h][i],
                                                  memory_order_relaxed);
        kite_prom_family(p, d->name, "histogram", d->help);
        kite_prom_histogram(p, d->name, NULL, d->bounds, counts, d->nbounds,
                            kite_stats_hist_total(s, (kite_hist)h));
    }
}
