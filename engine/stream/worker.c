/* A worker: consumes its partitions' forwarded queue in batches (N events or T microseconds
 * from the batch's first event, whichever first), parses each event's fields into its
 * reusable field list (engine/stream/event_json.h), maps them to a feature row, scores the batch with the active kernel and produces the
 * outputs. Delivery tags come back through the worker's SPSC ring and complete events in
 * their partition's window; offsets are stored as the windows advance.
 *
 * Per event on this path: no lock and no malloc of ours (a field list that only grows,
 * preallocated rows and output buffer; librdkafka allocates its own message copy inside
 * produce). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <kite/clock.h>
#include <kite/dispatch.h>
#include <kite/pin.h>
#include "acks.h"
#include "output.h"
#include "park.h"
#include "pipeline_fatal.h"
#include "pipeline_state.h"
#include "sink.h"
#include "worker.h"

/* Drift events: each batch takes every pending one (the monitor's whole queue), so none is
 * left behind when the stream ends; kw_drift_ev / kw_drift_json hold that many. */
#define WORKER_DRIFT_EVENTS KITE_DRIFT_EVENT_QUEUE

#define WORKER_DONE_BATCH 256
#define WORKER_IDLE_WAIT_MS 100

static int worker_window(kite_worker *w, const rd_kafka_message_t *m)
{
    int last = w->kw_last_part;
    if (last < w->kw_nparts && w->kw_parts[last] && w->kw_parts[last]->ko_rkt == m->rkt &&
        w->kw_parts[last]->ko_partition == m->partition)
        return last;
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (int i = 0; i < w->kw_nparts; i++) {
        kite_offsets *t = w->kw_parts[i];
        if (t && t->ko_partition == m->partition && !strcmp(t->ko_topic, topic)) {
            t->ko_rkt = m->rkt;
            return w->kw_last_part = i;
        }
    }
    if (w->kw_nparts == KITE_MAX_WORKER_PARTITIONS) return -1;
    kite_offsets *t = kite__offsets_new(topic, m->rkt, m->partition,
                                       (size_t)w->kw_pl->pl_cfg.kc_max_inflight);
    if (!t) return -1;
    w->kw_parts[w->kw_nparts] = t;
    return w->kw_last_part = w->kw_nparts++;
}

/* Produces one output for event seq of window pslot, counting it in the window first. */
static void worker_emit(kite_worker *w, rd_kafka_topic_t *rkt, const rd_kafka_message_t *m,
                        int pslot, uint64_t seq, kite_output_kind kind, size_t len)
{
    kite_offsets_expect(w->kw_parts[pslot], seq);
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (kite__sink_produce(w, rkt, m->key, m->key_len, w->kw_out, len, ts > 0 ? ts : 0,
                          kite_tag_make(w->kw_index, pslot, kind, seq)) != 0)
        kite__offsets_done(w->kw_parts[pslot], seq); /* fatal: run stops, offset stays unstored */
}

static void worker_dead_letter(kite_worker *w, const rd_kafka_message_t *m, int pslot,
                               uint64_t seq, const char *reason)
{
    size_t len = kite__output_dead_letter(w, m, reason);
    worker_emit(w, w->kw_pl->pl_sink.sk_rkt_dead, m, pslot, seq, KITE_OUT_DEAD_LETTER, len);
    kite_stats_add(w->kw_stats, KITE_C_DEAD_LETTERS, 1);
    kite__offsets_done(w->kw_parts[pslot], seq); /* drop the hold */
}

/* A labels_topic message: {label_field: number}, keyed like the event it labels. It has no
 * output of its own, so its offset is done once the label is queued for the join (a label lost
 * in a crash costs one quality sample, never an output). */
static void worker_apply_labels(kite_worker *w);

static void worker_take_label(kite_worker *w, const rd_kafka_message_t *m,
                              const kite_event_json *event, int pslot, uint64_t seq)
{
    kite_pipeline *pl = w->kw_pl;
    const kite_event_field *v =
        event->ej_is_object ? kite__event_json_get(event, pl->pl_cfg.kc_label_field) : NULL;
    char reason[256];
    if (!m->key || !m->key_len) {
        worker_dead_letter(w, m, pslot, seq, "label event without a key (the key names the "
                                             "prediction it labels)");
        return;
    }
    if (!v || v->ef_kind != KITE_EV_NUMBER || !isfinite(v->ef_number)) {
        snprintf(reason, sizeof reason, "label event: field \"%s\" %s", pl->pl_cfg.kc_label_field,
                 v ? "is not a finite number" : "is missing");
        worker_dead_letter(w, m, pslot, seq, reason);
        return;
    }
    if (w->kw_nlabels == (size_t)pl->pl_cfg.kc_batch_size) worker_apply_labels(w);
    w->kw_labels[w->kw_nlabels++] = (kite_label_item){XXH3_64bits(m->key, m->key_len), v->ef_number};
    kite_stats_add(w->kw_stats, KITE_C_LABELS, 1);
    kite__offsets_done(w->kw_parts[pslot], seq); /* no output: the event is complete */
}

/* Joins the labels taken since the last call to their keys' predictions (under the drift
 * lock, once per batch). */
static void worker_apply_labels(kite_worker *w)
{
    if (!w->kw_nlabels) return;
    kite_pipeline *pl = w->kw_pl;
    uint64_t joined = 0;
    pthread_mutex_lock(&pl->pl_drift_lock);
    for (size_t i = 0; i < w->kw_nlabels; i++)
        joined += (uint64_t)kite_drift_label(pl->pl_drift, w->kw_labels[i].kli_key, w->kw_labels[i].kli_label);
    pthread_mutex_unlock(&pl->pl_drift_lock);
    kite_stats_add(w->kw_stats, KITE_C_LABELS_JOINED, joined);
    kite_stats_add(w->kw_stats, KITE_C_LABELS_UNMATCHED, (uint64_t)w->kw_nlabels - joined);
    w->kw_nlabels = 0;
}

/* Takes one consumed message: control events, window bookkeeping, parse and featurize. */
static void worker_take(kite_worker *w, rd_kafka_message_t *m, size_t *nitems, int *keep)
{
    *keep = 0;
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int ps = worker_window(w, m);
            if (ps >= 0) w->kw_parts[ps]->ko_at_eof = 1;
        } else {
            kite_stats_add(w->kw_stats, KITE_C_KAFKA_ERRORS, 1);
            fprintf(stderr, "kite: worker %d: consume: %s\n", w->kw_index,
                    rd_kafka_message_errstr(m));
        }
        return;
    }
    kite_pipeline *pl = w->kw_pl;
    int pslot = worker_window(w, m);
    if (pslot < 0) {
        fprintf(stderr, "kite: worker %d: out of partition windows\n", w->kw_index);
        kite__pipeline_fatal(pl, "worker %d: out of partition windows", w->kw_index);
        return;
    }
    kite_offsets *t = w->kw_parts[pslot];
    while (kite_offsets_full(t)) {
        /* Backpressure: the window is bounded; wait for deliveries to free it. After a fatal
         * error none will come: leave the event unconsumed (no offset is stored past it) so
         * the worker can stop instead of waiting forever. Acquire: pairs with the release
         * stores of pl_fatal. */
        if (kite__pipeline_fatal_set(pl)) return;
        if (!kite__acks_apply(w)) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    t->ko_at_eof = 0;
    uint64_t seq = kite_offsets_add(t, m->offset, rd_kafka_message_timestamp(m, NULL));
    kite_stats_add(w->kw_stats, KITE_C_CONSUMED, 1);
    char reason[256];
    kite_arena_reset(&w->kw_arena); /* the thread's other cJSON use (drift events) */
    kite_event_json *event = &w->kw_event;
    if (kite__event_map_parse(event, m->payload, m->len, reason, sizeof reason)) {
        worker_dead_letter(w, m, pslot, seq, reason);
        return;
    }
    if (*pl->pl_cfg.kc_labels_topic && !strcmp(rd_kafka_topic_name(m->rkt), pl->pl_cfg.kc_labels_topic)) {
        worker_take_label(w, m, event, pslot, seq);
        return;
    }
    double label = NAN;
    if (*pl->pl_cfg.kc_label_field) {
        const kite_event_field *v = kite__event_json_get(event, pl->pl_cfg.kc_label_field);
        if (v && v->ef_kind == KITE_EV_NUMBER && isfinite(v->ef_number)) label = v->ef_number;
    }
    int nf = w->kw_served->ksv_nfeatures, missing = 0, warming = 0;
    float *row = w->kw_rows + *nitems * (size_t)nf;
    int stopping = 0;
    kite_err err = kite__pstate_row(w, pslot, m, event, row, &missing, &warming, &stopping, reason,
                                    sizeof reason);
    if (stopping) return; /* left unconsumed: its hold keeps the offset from being stored */
    if (err) {
        worker_dead_letter(w, m, pslot, seq, reason);
        return;
    }
    kite_stats_add(w->kw_stats, KITE_C_MISSING, (uint64_t)missing);
    if (warming) kite_stats_add(w->kw_stats, KITE_C_WARMING_UP, 1);
    w->kw_items[*nitems] = (kite_batch_item){m, pslot, seq, warming, label};
    if (*pl->pl_cfg.kc_label_field) { /* keys are hashed only for the labels join */
        w->kw_has_key[*nitems] = m->key && m->key_len;
        if (w->kw_has_key[*nitems]) w->kw_keys[*nitems] = XXH3_64bits(m->key, m->key_len);
        if (!isnan(label)) kite_stats_add(w->kw_stats, KITE_C_LABELS, 1);
    }
    (*nitems)++;
    *keep = 1;
}

/* shadow_model: the candidate scores the batch's rows too (engine/stream/shadow.h); NULL when its
 * buffers cannot grow (counted as a Kafka-side error would be: logged once per batch). */
static const kite_served *worker_shadow_score(kite_worker *w, size_t n, size_t nf)
{
    kite_pipeline *pl = w->kw_pl;
    kite_model_swap *sw = pl->pl_shadow->sh_swap;
    const kite_served *s = kite_model_swap_peek(sw);
    kite_model_swap_hold(sw, w->kw_index, s); /* holds nothing else: the batch is this one */
    size_t groups = (size_t)s->ksv_groups, batch = (size_t)pl->pl_cfg.kc_batch_size;
    if (groups > w->kw_shadow_group_cap) {
        float *m = realloc(w->kw_shadow_margins, batch * groups * sizeof(float));
        if (m) w->kw_shadow_margins = m;
        float *p = m ? realloc(w->kw_shadow_preds, batch * groups * sizeof(float)) : NULL;
        if (!p) {
            fprintf(stderr, "kite: worker %d: out of memory for shadow scoring\n", w->kw_index);
            return NULL;
        }
        w->kw_shadow_preds = p;
        w->kw_shadow_group_cap = groups;
    }
    kite_forest_predict(&s->ksv_loaded->klm_forest, w->kw_rows, n, nf, w->kw_shadow_margins, 1);
    memcpy(w->kw_shadow_preds, w->kw_shadow_margins, n * groups * sizeof(float));
    kite_forest_transform(&s->ksv_loaded->klm_forest, w->kw_shadow_preds, n);
    return s;
}

static void worker_shadow_emit(kite_worker *w, const kite_batch_item *it, const kite_served *s,
                               size_t i, float serving)
{
    kite_pipeline *pl = w->kw_pl;
    float cand = w->kw_shadow_preds[i * (size_t)s->ksv_groups];
    kite__shadow_observe(pl->pl_shadow, w->kw_index, serving, cand);
    if (!pl->pl_sink.sk_rkt_shadow) return;
    size_t len = kite__output_shadow(w, it->kbi_msg, s, cand, serving);
    worker_emit(w, pl->pl_sink.sk_rkt_shadow, it->kbi_msg, it->kbi_pslot, it->kbi_seq, KITE_OUT_ALERT, len);
}

static void worker_score(kite_worker *w, size_t n)
{
    kite_pipeline *pl = w->kw_pl;
    const kite_forest *f = &w->kw_served->ksv_loaded->klm_forest;
    size_t nf = (size_t)w->kw_served->ksv_nfeatures;
    size_t groups = (size_t)f->kf_num_group;
    double t0 = ((double)kite_clock_mono_ns() * 1e-3);
    kite_forest_predict(f, w->kw_rows, n, nf, w->kw_margins, 1);
    memcpy(w->kw_preds, w->kw_margins, n * groups * sizeof(float));
    kite_forest_transform(f, w->kw_preds, n);
    const kite_served *shadow = pl->pl_shadow ? worker_shadow_score(w, n, nf) : NULL;
    kite_stats_observe(w->kw_stats, KITE_H_SCORING_LATENCY, (((double)kite_clock_mono_ns() * 1e-3) - t0) * 1e-6);
    kite_stats_observe(w->kw_stats, KITE_H_BATCH_EVENTS, (double)n);
    kite_stats_add(w->kw_stats, KITE_C_BATCHES, 1);
    int64_t now_ms = kite_clock_wall_us() / 1000;
    /* Drift: the batch's rows and (single-output) predictions into the stream's monitor; status
     * changes go out as extra outputs of the batch's last event, so its offset is stored only
     * once they are delivered too (at least once, like alerts). */
    size_t ndrift = 0;
    if (pl->pl_drift) {
        kite_drift_event *ev = w->kw_drift_ev;
        double d0 = ((double)kite_clock_mono_ns() * 1e-3);
        pthread_mutex_lock(&pl->pl_drift_lock);
        for (size_t i = 0; i < n; i++) {
            int64_t ts = rd_kafka_message_timestamp(w->kw_items[i].kbi_msg, NULL);
            pl->pl_drift_times[i] = ts > 0 ? (double)ts / 1000.0 : NAN;
        }
        /* shadow_model: its (single-output) predictions too, for the reports' comparison. */
        kite_drift_observe_shadow(pl->pl_drift, w->kw_rows, n, nf, groups == 1 ? w->kw_preds : NULL,
                                  shadow && shadow->ksv_groups == 1 ? w->kw_shadow_preds : NULL,
                                  pl->pl_drift_times);
        /* Labels (single-output models): an event that carries its own label is a pair now;
         * the others wait by key for a labels_topic message. */
        for (size_t i = 0; groups == 1 && *pl->pl_cfg.kc_label_field && i < n; i++) {
            if (!isnan(w->kw_items[i].kbi_label))
                kite_drift_observe_pair(pl->pl_drift, w->kw_preds[i], w->kw_items[i].kbi_label);
            else if (w->kw_has_key[i])
                kite_drift_observe_keys(pl->pl_drift, &w->kw_keys[i], &w->kw_preds[i], 1);
        }
        ndrift = kite_drift_events(pl->pl_drift, ev, WORKER_DRIFT_EVENTS);
        for (size_t e = 0; e < ndrift; e++)
            kite_drift_event_json(pl->pl_drift, &ev[e], w->kw_drift_json + e * KITE_DRIFT_JSON_MAX,
                                  KITE_DRIFT_JSON_MAX);
        pthread_mutex_unlock(&pl->pl_drift_lock);
        kite_stats_observe(w->kw_stats, KITE_H_DRIFT, (((double)kite_clock_mono_ns() * 1e-3) - d0) * 1e-6);
    }
    for (size_t i = 0; i < n; i++) {
        kite_batch_item *it = &w->kw_items[i];
        for (size_t e = 0; i + 1 == n && e < ndrift; e++) {
            size_t dlen = kite__output_text(w, w->kw_drift_json + e * KITE_DRIFT_JSON_MAX);
            worker_emit(w, pl->pl_sink.sk_rkt_drift, it->kbi_msg, it->kbi_pslot, it->kbi_seq,
                        KITE_OUT_ALERT, dlen);
        }
        const float *pred = w->kw_preds + i * groups, *margin = w->kw_margins + i * groups;
        if (!isfinite(pred[0])) kite_stats_add(w->kw_stats, KITE_C_INFERENCE_ERRORS, 1);
        size_t len = kite__output_prediction(w, it->kbi_msg, pred, margin, it->kbi_warming, now_ms);
        worker_emit(w, pl->pl_sink.sk_rkt_pred, it->kbi_msg, it->kbi_pslot, it->kbi_seq,
                    KITE_OUT_PREDICTION, len);
        if (shadow) worker_shadow_emit(w, it, shadow, i, pred[0]);
        kite_stats_add(w->kw_stats, KITE_C_SCORED, 1);
        kite_stats_observe(w->kw_stats, KITE_H_PREDICTION, pred[0]);
        if (pl->pl_sink.sk_rkt_alert && pred[0] >= pl->pl_cfg.kc_alert_threshold) {
            len = kite__output_alert(w, it->kbi_msg, pred[0]);
            worker_emit(w, pl->pl_sink.sk_rkt_alert, it->kbi_msg, it->kbi_pslot, it->kbi_seq,
                        KITE_OUT_ALERT, len);
            kite_stats_add(w->kw_stats, KITE_C_ALERTS, 1);
        }
        kite__offsets_done(w->kw_parts[it->kbi_pslot], it->kbi_seq); /* drop the hold */
        rd_kafka_message_destroy(it->kbi_msg);
    }
}

/* Between batches: the model version for the next batch (engine/stream/model_swap.h). A new
 * version with wider rows or more outputs grows the batch buffers; one with another feature
 * map (a changed spec) gets fresh key state, since the old state computed other features.
 * Returns -1 when out of memory (the pipeline then stops). */
static int worker_model(kite_worker *w)
{
    kite_model_swap *sw = w->kw_pl->pl_swap;
    const kite_served *s = kite_model_swap_peek(sw);
    if (s != w->kw_served) {
        size_t batch = (size_t)w->kw_pl->pl_cfg.kc_batch_size;
        size_t nf = (size_t)s->ksv_nfeatures, groups = (size_t)s->ksv_groups;
        if (nf > w->kw_row_cap) {
            float *rows = realloc(w->kw_rows, batch * nf * sizeof(float));
            if (!rows) return -1;
            w->kw_rows = rows;
            w->kw_row_cap = nf;
        }
        if (groups > w->kw_group_cap) {
            float *margins = realloc(w->kw_margins, batch * groups * sizeof(float));
            if (margins) w->kw_margins = margins;
            float *preds = margins ? realloc(w->kw_preds, batch * groups * sizeof(float)) : NULL;
            if (!preds) return -1;
            w->kw_preds = preds;
            w->kw_group_cap = groups;
        }
        if (s->ksv_map != w->kw_map) {
            /* Before hold: the states may read the old map. Each partition's state is made
             * from the new map on its next event (pipeline_state.c). */
            kite__pstate_drop_all(w);
            w->kw_map = s->ksv_map;
        }
        w->kw_served = s;
        w->kw_model_tail_len = 0; /* output.c caches the version's names */
    }
    kite_model_swap_hold(sw, w->kw_index, s);
    if (w->kw_pl->pl_shadow) { /* an idle worker must not keep old candidates alive */
        kite_model_swap *ssw = w->kw_pl->pl_shadow->sh_swap;
        kite_model_swap_hold(ssw, w->kw_index, kite_model_swap_peek(ssw));
    }
    return 0;
}

static void worker_pin(kite_worker *w)
{
    const char *cores = w->kw_pl->pl_cfg.kc_cores;
    if (!strcmp(cores, "none")) return;
    int pu = w->kw_index; /* a core index: engine/runtime/include/kite/pin.h wraps it modulo the core count */
    if (strcmp(cores, "auto")) {
        /* The kw_index-th entry of the list (wrapping). */
        int count = 1;
        for (const char *c = cores; *c; c++) count += *c == ',';
        int want = w->kw_index % count;
        const char *c = cores;
        for (int i = 0; i < want; i++) c = strchr(c, ',') + 1;
        pu = atoi(c);
    }
    char err[256];
    if (kite_pin_thread_to_core(pu, err, sizeof err))
        fprintf(stderr, "kite: worker %d: not pinned: %s\n", w->kw_index, err);
    else
        fprintf(stderr, "kite: worker %d pinned to core %d of %d (hwloc logical index)\n",
                w->kw_index, pu % kite_pin_num_cores(), kite_pin_num_cores());
}

void *kite__worker_main(void *arg)
{
    kite_worker *w = arg;
    kite_pipeline *pl = w->kw_pl;
    worker_pin(w);
    kite_arena_bind(&w->kw_arena);
    size_t cap = (size_t)pl->pl_cfg.kc_batch_size;
    double wait_us = (double)pl->pl_cfg.kc_batch_wait_us;
    /* Acquire: pairs with the release store in kite_pipeline_stop / run's shutdown. */
    while (!atomic_load_explicit(&pl->pl_stop, memory_order_acquire)) {
        kite__park_point(pl);
        if (worker_model(w)) {
            kite__pipeline_fatal(pl, "worker %d: out of memory switching model versions", w->kw_index);
            break;
        }
        kite__acks_apply(w);
        size_t nitems = 0, got = 0;
        /* rd_kafka_consume_batch_queue waits for a full batch or its timeout, so block for
         * the first event alone, then take more only until the batch's deadline. */
        rd_kafka_message_t *first_msg = rd_kafka_consume_queue(w->kw_queue, WORKER_IDLE_WAIT_MS);
        /* The batch starts with its first event: take the version now, not before the wait,
         * so an event that arrives after a swap is scored by the new version. */
        if (first_msg && worker_model(w)) {
            rd_kafka_message_destroy(first_msg);
            kite__pipeline_fatal(pl, "worker %d: out of memory switching model versions", w->kw_index);
            break;
        }
        if (first_msg) {
            double first = ((double)kite_clock_mono_ns() * 1e-3);
            int64_t expect = 0;
            /* Relaxed CAS: only one worker must win; the time is read after the join. */
            if (atomic_compare_exchange_strong_explicit(&pl->pl_first_consume_us, &expect,
                                                        kite_clock_wall_us(), memory_order_relaxed,
                                                        memory_order_relaxed))
                pl->pl_cpu_first_us = kite_clock_process_cpu_us(); /* once per run */
            w->kw_msgs[0] = first_msg;
            ssize_t n = 1;
            for (;;) {
                for (ssize_t i = 0; i < n; i++) {
                    int keep;
                    worker_take(w, w->kw_msgs[i], &nitems, &keep);
                    if (!keep) rd_kafka_message_destroy(w->kw_msgs[i]);
                }
                got += (size_t)n;
                double left = first + wait_us - ((double)kite_clock_mono_ns() * 1e-3);
                if (got >= cap || left <= 0) break;
                /* librdkafka waits in whole milliseconds: under one left, take only what is
                 * already queued (the batch then closes early rather than late). */
                int timeout_ms = left >= 1000 ? (int)(left / 1000) : 0;
                n = rd_kafka_consume_batch_queue(w->kw_queue, timeout_ms, w->kw_msgs, cap - got);
                if (n <= 0) break;
            }
        }
        if (nitems) worker_score(w, nitems);
        kite__pstate_idle(w);
        worker_apply_labels(w); /* after the batch's own predictions wait for theirs */
        kite__acks_apply(w);
        kite__acks_publish_progress(w);
    }
    kite_arena_bind(NULL);
    kite__model_swap_leave(pl->pl_swap, w->kw_index);
    if (pl->pl_shadow) kite__model_swap_leave(pl->pl_shadow->sh_swap, w->kw_index);
    kite__park_leave(pl, 1);
    return NULL;
}
