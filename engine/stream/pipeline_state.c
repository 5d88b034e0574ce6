/* Feature state per partition, rebuilt from the partition's own log when the partition is
 * (re)assigned, so that a restart, a crash or a rebalance leaves every key's features exactly
 * what an uninterrupted run would hold.
 *
 * Why per partition: a partition is the unit Kafka moves between instances, and its log is
 * the only record of what its keys saw. A key whose events all land in one partition (the
 * stream's message key is the feature key: docs/streaming.md "State across restarts") has its whole
 * history in that log, in the order the original run read it.
 *
 * Mechanism: when a worker takes the first event of a partition it holds no state for, it
 * makes a fresh state (from the worker's current event map, kw_map) and reads the partition
 * from its log start (the low watermark) up to that event's offset with a second, assign-only
 * consumer (no group membership, nothing committed), feeding every event through the same
 * kite__event_map_row as the live path and emitting nothing. That event is the partition's
 * committed position (or the position the consumer reset to), so the rebuilt state is the
 * state after every event before it: the state an uninterrupted run had there, bit for bit
 * (the same events, in the same order, through the same arithmetic: Kahan and Welford sums
 * depend on the whole history, which is why the replay starts at the log start rather than
 * at the longest window before the committed offset). Events that were dead-lettered leave
 * the state unchanged on both runs. Only then is the event scored.
 *
 * When the log no longer starts at offset 0 (retention or deleteRecords removed history),
 * the rebuild uses what is left, logs one line naming the partition and the first offset it
 * could read, and counts kite_state_history_lost_total: keys whose events were all deleted
 * start empty and warm up again; keys with at least the spec's look-back and warm-up left in
 * the log get their lags, windows and warm-up back (window sums may then differ from an
 * uninterrupted run in the last bits of their rounding).
 *
 * Owned by the worker thread (kw_pstate): made in kite__pstate_new, states dropped with their
 * window (kite__pstate_drop, from acks.c while the workers are parked) and all at
 * once when a reload brings another event map (kite__pstate_drop_all, the worker itself). */
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kite/clock.h>
#include "kafka_conf.h"
#include "pipeline_fatal.h"
#include "pipeline_state.h"

/* A rebuild that reads nothing for this long gives up and keeps what it has (counted as
 * history lost): a broker that cannot serve the log must not hold the partition forever. */
#define PSTATE_STALL_MS 30000
#define PSTATE_POLL_MS 200
#define PSTATE_WATERMARK_MS 10000
/* The log-reading consumer is kept between the rebuilds of one rebalance (each new partition
 * rebuilds on its first event, one after another) and closed once none came for this long:
 * it holds a connection per broker and fetch buffers, which a steady stream never needs. */
#define PSTATE_REPLAY_IDLE_S 10.0

struct kite_pstate {
    kite_event_state *ps_state[KITE_MAX_WORKER_PARTITIONS]; /* by window slot (kw_parts)   */
    unsigned long long ps_evicted[KITE_MAX_WORKER_PARTITIONS]; /* counted into the stats  */
    rd_kafka_t *ps_replay;            /* assign-only consumer for rebuilds, made on first use */
    double ps_replay_used;            /* monotonic time its last rebuild ended               */
    kite_event_json ps_event;         /* the replayed event's fields (kw_event holds the live one) */
    float *ps_row;                    /* one feature row, thrown away                       */
    size_t ps_row_cap;
};

kite_err kite__pstate_new(kite_worker *w, char *errstr, size_t errstr_size)
{
    w->kw_pstate = calloc(1, sizeof *w->kw_pstate);
    if (!w->kw_pstate) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "worker feature states");
    return KITE_ERR_OK;
}

void kite__pstate_drop(kite_worker *w, int pslot)
{
    kite_pstate *ps = w->kw_pstate;
    if (!ps || pslot < 0 || pslot >= KITE_MAX_WORKER_PARTITIONS) return;
    kite__event_state_free(ps->ps_state[pslot]);
    ps->ps_state[pslot] = NULL;
    ps->ps_evicted[pslot] = 0;
}

void kite__pstate_drop_all(kite_worker *w)
{
    for (int i = 0; i < KITE_MAX_WORKER_PARTITIONS; i++) kite__pstate_drop(w, i);
}

void kite__pstate_idle(kite_worker *w)
{
    kite_pstate *ps = w->kw_pstate;
    if (!ps || !ps->ps_replay || kite_clock_mono_s() - ps->ps_replay_used < PSTATE_REPLAY_IDLE_S)
        return;
    rd_kafka_consumer_close(ps->ps_replay);
    rd_kafka_destroy(ps->ps_replay);
    ps->ps_replay = NULL;
#ifdef __GLIBC__
    malloc_trim(0); /* its buffers' pages, as after a rebuild */
#endif
}

void kite__pstate_free(kite_worker *w)
{
    kite_pstate *ps = w->kw_pstate;
    if (!ps) return;
    kite__pstate_drop_all(w);
    if (ps->ps_replay) {
        rd_kafka_consumer_close(ps->ps_replay);
        rd_kafka_destroy(ps->ps_replay);
    }
    kite__event_json_free(&ps->ps_event);
    free(ps->ps_row);
    free(ps);
    w->kw_pstate = NULL;
}

/* The consumer that reads logs back: the user's consumer settings (security, isolation level)
 * with offsets never stored nor committed. */
static rd_kafka_t *pstate_consumer(kite_worker *w)
{
    kite_pipeline *pl = w->kw_pl;
    const kite_config *c = &pl->pl_cfg;
    char err[512], group[300];
    snprintf(group, sizeof group, "%s-state-rebuild", c->kc_group_id);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const fixed[][2] = {
        {"enable.auto.commit", "false"},  {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"}, {"auto.offset.reset", "earliest"},
        {"fetch.wait.max.ms", "10"}, /* see source.c: the mock holds fetches this long */
    };
    kite_err e = kite__kafka_conf_set(conf, "bootstrap.servers", pl->pl_brokers, err, sizeof err);
    if (!e) e = kite__kafka_conf_apply_user(conf, c, "consumer", err, sizeof err);
    if (!e) e = kite__kafka_conf_set(conf, "group.id", group, err, sizeof err);
    for (size_t i = 0; !e && i < sizeof fixed / sizeof fixed[0]; i++)
        e = kite__kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, sizeof err);
    if (e) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "kite: worker %d: state rebuild consumer: %s\n", w->kw_index, err);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "kite: worker %d: state rebuild consumer: %s\n", w->kw_index, err);
    }
    return rk;
}

/* One replayed event into st: the live path's parse and map, the row discarded; a bad event
 * leaves the state as it was, as it did on the original run. */
static void pstate_apply(kite_worker *w, kite_event_state *st, const rd_kafka_message_t *m)
{
    kite_pstate *ps = w->kw_pstate;
    size_t at = 0;
    if (!m->len || kite__event_json_parse(&ps->ps_event, m->payload, m->len, &at)) return;
    int missing = 0, warming = 0;
    char reason[256];
    (void)kite__event_map_row(w->kw_map, st, &ps->ps_event, ps->ps_row, &missing, &warming, reason,
                             sizeof reason);
}

/* Reads topic/partition from its log start up to (not including) upto into st. Returns 0
 * when done (history complete or not), -1 when the pipeline is stopping (st is partial). */
static int pstate_rebuild(kite_worker *w, kite_event_state *st, const char *topic,
                          int32_t partition, int64_t upto)
{
    kite_pipeline *pl = w->kw_pl;
    kite_pstate *ps = w->kw_pstate;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(pl->pl_consumer, topic, partition, &lo,
                                                               &hi, PSTATE_WATERMARK_MS);
    if (err) {
        fprintf(stderr, "kite: state of %s/%d: log start unknown (%s); keys warm up again\n", topic,
                partition, rd_kafka_err2str(err));
        kite_stats_add(w->kw_stats, KITE_C_STATE_HISTORY_LOST, 1);
        return 0;
    }
    if (lo > 0) {
        fprintf(stderr,
                "kite: state of %s/%d: the log starts at offset %lld, not 0 (retention removed "
                "history): rebuilt from what is left; keys without enough events left warm up "
                "again (kite_state_history_lost_total)\n",
                topic, partition, (long long)lo);
        kite_stats_add(w->kw_stats, KITE_C_STATE_HISTORY_LOST, 1);
    }
    if (lo >= upto) return 0;
    if (!ps->ps_replay && !(ps->ps_replay = pstate_consumer(w))) {
        kite_stats_add(w->kw_stats, KITE_C_STATE_HISTORY_LOST, 1);
        return 0;
    }
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, partition)->offset = lo;
    err = rd_kafka_assign(ps->ps_replay, one);
    rd_kafka_topic_partition_list_destroy(one);
    if (err) {
        fprintf(stderr, "kite: state of %s/%d: cannot read the log: %s; keys warm up again\n", topic,
                partition, rd_kafka_err2str(err));
        kite_stats_add(w->kw_stats, KITE_C_STATE_HISTORY_LOST, 1);
        return 0;
    }
    int rc = 0;
    uint64_t replayed = 0;
    double last_progress = kite_clock_mono_s();
    int64_t next = lo;
    while (next < upto) {
        /* Acquire: pairs with the release stores of pl_stop / pl_fatal. */
        if (atomic_load_explicit(&pl->pl_stop, memory_order_acquire) ||
            kite__pipeline_fatal_set(pl)) {
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ps->ps_replay, PSTATE_POLL_MS);
        if (!m) {
            if (kite_clock_mono_s() - last_progress > PSTATE_STALL_MS / 1000.0) {
                fprintf(stderr, "kite: state of %s/%d: nothing read for %d s at offset %lld of "
                                "%lld: keeping what was rebuilt (kite_state_history_lost_total)\n",
                        topic, partition, PSTATE_STALL_MS / 1000, (long long)next, (long long)upto);
                kite_stats_add(w->kw_stats, KITE_C_STATE_HISTORY_LOST, 1);
                break;
            }
            continue;
        }
        last_progress = kite_clock_mono_s();
        if (m->err) {
            /* EOF below upto: the rest are offsets without events (transaction markers). */
            int eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
            if (!eof) fprintf(stderr, "kite: state of %s/%d: %s\n", topic, partition, rd_kafka_message_errstr(m));
            if (eof && m->offset >= upto - 1) next = upto;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->offset < upto) {
            pstate_apply(w, st, m);
            replayed++;
        }
        next = m->offset + 1;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(ps->ps_replay, NULL);
    ps->ps_replay_used = kite_clock_mono_s();
    kite_stats_add(w->kw_stats, KITE_C_STATE_REPLAYED, replayed);
    return rc;
}

kite_err kite__pstate_row(kite_worker *w, int pslot, const rd_kafka_message_t *m,
                          const kite_event_json *event, float *row, int *missing, int *warming,
                          int *stopping, char *errstr, size_t errstr_size)
{
    *stopping = 0;
    kite_pstate *ps = w->kw_pstate;
    kite_event_state *st = ps->ps_state[pslot];
    if (!st && !kite__event_map_keeps_state(w->kw_map)) {
        /* Nothing to rebuild: still one state per window, for the key table and counters. */
        kite_err err = kite__event_state_new(w->kw_map, &st, errstr, errstr_size);
        if (err) return err;
        ps->ps_state[pslot] = st;
    }
    if (!st && kite__event_map_keeps_state(w->kw_map)) {
        kite_err err = kite__event_state_new(w->kw_map, &st, errstr, errstr_size);
        if (err) return err;
        size_t nf = (size_t)kite__event_map_num_features(w->kw_map);
        if (nf > ps->ps_row_cap) {
            float *r = realloc(ps->ps_row, nf * sizeof *r);
            if (!r) {
                kite__event_state_free(st);
                return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory rebuilding state");
            }
            ps->ps_row = r;
            ps->ps_row_cap = nf;
        }
        const char *topic = rd_kafka_topic_name(m->rkt);
        /* The event is in its window but not yet published: show it in flight, or exit_on_eof
         * could see the consumer at the watermarks and nothing in flight, and end the run
         * during the rebuild. Release: pairs with pipeline.c's acquire load; the worker's next
         * worker_publish_progress stores the real count. */
        atomic_store_explicit(&w->kw_inflight,
                              atomic_load_explicit(&w->kw_inflight, memory_order_relaxed) + 1,
                              memory_order_release);
        double t0 = kite_clock_mono_s();
        /* KITE_STATE_REBUILD=off: tests show what a run without recovery gets (keys warm up
         * again after every assignment, as kite did before). */
        const char *knob = getenv("KITE_STATE_REBUILD");
        int rebuild = !knob || strcmp(knob, "off");
        if (rebuild && pstate_rebuild(w, st, topic, m->partition, m->offset) != 0) {
            kite__event_state_free(st); /* stopping: the event stays unconsumed */
            *stopping = 1;
            return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "stopping during a state rebuild");
        }
        double secs = kite_clock_mono_s() - t0;
        kite_stats_observe(w->kw_stats, KITE_H_STATE_REBUILD, secs);
        kite_stats_add(w->kw_stats, KITE_C_STATE_REBUILDS, 1);
        fprintf(stderr, "kite: worker %d: state of %s/%d rebuilt from its log up to offset %lld in "
                        "%.3f s\n", w->kw_index, topic, m->partition, (long long)m->offset, secs);
        ps->ps_state[pslot] = st;
        ps->ps_evicted[pslot] = kite__event_state_evicted(st);
#ifdef __GLIBC__
        /* A rebuild reads a log at full speed: librdkafka's catch-up fetch buffers are large
         * and freed at once, and glibc would keep their pages resident for good (the soak saw
         * each rebuild round add ~15 MiB). Rebuilds are rare, so give the pages back now. */
        malloc_trim(0);
#endif
    }
    kite_err err = kite__event_map_row(w->kw_map, st, event, row, missing, warming, errstr, errstr_size);
    unsigned long long ev = kite__event_state_evicted(st);
    if (ev != ps->ps_evicted[pslot]) {
        kite_stats_add(w->kw_stats, KITE_C_KEYS_EVICTED, ev - ps->ps_evicted[pslot]);
        ps->ps_evicted[pslot] = ev;
    }
    return err;
}
