/* kite_stats: per-thread counters and histograms, summed without locks for /metrics.
 *
 * Every writing thread (each worker, the delivery thread, the control thread) owns one
 * kite_stats_block, aligned to cache lines so no two writers share a line. A block has exactly
 * one writer, so an increment is a relaxed load plus a relaxed store (no locked RMW); readers
 * (the metrics thread) load each value relaxed. No ordering between values is promised: a
 * scrape is a sum of per-value snapshots, each monotonic, which is what Prometheus expects. */
#ifndef KITE_STATS_H
#define KITE_STATS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <kite/prom.h>
#include <kite/ring.h>

/* Counters: the table in stats.c gives each its Prometheus name and help. */
typedef enum kite_counter {
    KITE_C_CONSUMED,          /* input events taken from Kafka                   */
    KITE_C_SCORED,            /* events scored (one prediction each)             */
    KITE_C_DEAD_LETTERS,      /* events sent to the dead-letter topic            */
    KITE_C_ALERTS,            /* alerts sent                                     */
    KITE_C_DELIVERED,         /* output messages with a successful delivery      */
    KITE_C_DELIVERY_ERRORS,   /* failed delivery reports (each retried)          */
    KITE_C_MISSING,           /* missing feature values                          */
    KITE_C_INFERENCE_ERRORS,  /* non-finite predictions                          */
    KITE_C_BATCHES,
    KITE_C_WARMING_UP,        /* events scored while their key was warming up    */
    KITE_C_OFFSETS_STORED,    /* offset stores (each covers >= 1 event)          */
    KITE_C_QUEUE_FULL,        /* __QUEUE_FULL answers from produce, retried      */
    KITE_C_KAFKA_ERRORS,      /* consumer/producer errors reported by librdkafka */
    KITE_C_REBALANCES,
    KITE_C_LABELS,            /* labels taken (labels_topic or label_field)      */
    KITE_C_LABELS_JOINED,     /* labels joined to their key's waiting prediction */
    KITE_C_LABELS_UNMATCHED,  /* labels whose key had no waiting prediction      */
    KITE_C_STATE_REPLAYED,    /* events read back from a log into feature state  */
    KITE_C_STATE_REBUILDS,    /* partition states rebuilt on assignment          */
    KITE_C_STATE_HISTORY_LOST, /* rebuilds whose log no longer held the history  */
    KITE_C_KEYS_EVICTED,      /* feature keys evicted (when_full: evict)         */
    KITE_C_TXN_COMMITS,       /* exactly_once: transactions committed            */
    KITE_C_TXN_ABORTS,        /* exactly_once: transactions aborted (and rewound) */
    KITE_C__COUNT
} kite_counter;

typedef enum kite_hist {
    KITE_H_EVENT_LATENCY,     /* seconds: event timestamp -> prediction delivered */
    KITE_H_SCORING_LATENCY,   /* seconds: one batch through the kernel            */
    KITE_H_BATCH_EVENTS,      /* events per batch                                 */
    KITE_H_PREDICTION,        /* prediction values                                */
    KITE_H_DRIFT,             /* seconds: one batch through the drift monitor     */
    KITE_H_STATE_REBUILD,     /* seconds: one partition's feature state rebuilt   */
    KITE_H__COUNT
} kite_hist;

#define KITE_HIST_MAX_BOUNDS 16
/* Fine latency buckets for percentiles: bucket i holds [1.25^i, 1.25^(i+1)) microseconds. */
#define KITE_LAT_FINE_BUCKETS 100

typedef struct kite_stats_block {
    alignas(KITE_CACHE_LINE) _Atomic uint64_t ksb_counter[KITE_C__COUNT];
    _Atomic uint64_t ksb_hist[KITE_H__COUNT][KITE_HIST_MAX_BOUNDS + 1];
    _Atomic int64_t ksb_hist_sum[KITE_H__COUNT]; /* sum of observations in millionths */
    _Atomic uint64_t ksb_lat_fine[KITE_LAT_FINE_BUCKETS];
} kite_stats_block;

typedef struct kite_stats {
    kite_stats_block *ks_blocks;
    int ks_nblocks;
} kite_stats;

int kite_stats_init(kite_stats *s, int nblocks);
void kite_stats_free(kite_stats *s);

/* Single-writer increment (see the top of this file). */
static inline void kite_stats_add(kite_stats_block *b, kite_counter c, uint64_t n)
{
    uint64_t v = atomic_load_explicit(&b->ksb_counter[c], memory_order_relaxed);
    atomic_store_explicit(&b->ksb_counter[c], v + n, memory_order_relaxed);
}

void kite_stats_observe(kite_stats_block *b, kite_hist h, double value);

/* Event latency in microseconds: both the Prometheus histogram and the fine buckets. */
void kite_stats_observe_latency_us(kite_stats_block *b, double us);

uint64_t kite_stats_sum(const kite_stats *s, kite_counter c);
/* Sum of a histogram's observations over every block (e.g. seconds spent). */
double kite_stats_hist_total(const kite_stats *s, kite_hist h);

/* Latency percentile (0 < q < 1) in microseconds from the fine buckets; 0 if none. */
double kite_stats_latency_percentile_us(const kite_stats *s, double q);

/* Appends every counter and histogram family (HELP, TYPE, samples). */
void kite_stats_render(const kite_stats *s, kite_prom *p);

/* Name and help of a counter (for docs and summaries). */
const char *kite_stats_counter_name(kite_counter c);

#endif
