/* The pipeline's control side: building everything, the control loop (consumer queue:
 * rebalances and errors; stop and exit_on_eof checks), and the drain/commit on the way out.
 *
 * Shutdown order (graceful, also on SIGINT/SIGTERM): workers finish their batch and exit ->
 * every output waits for its delivery report -> windows complete -> offsets stored ->
 * synchronous commit -> consumer close (its revoke commits again, harmlessly) -> producer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kite/arena.h>
#include <kite/clock.h>
#include <kite/xgb_model.h>

#include "acks.h"
#include "park.h"
#include "pipeline_fatal.h"
#include "pipeline_rebalance.h"
#include "pipeline_state.h"
#include "sink.h"
#include "source.h"
#include "txn.h"
#include "worker.h"

#define PIPELINE_OUT_BUF 4096
#define PIPELINE_ARENA_BYTES (256 * 1024)
#define PIPELINE_DRAIN_TIMEOUT_MS 120000

static void pipeline_render(void *opaque, kite_prom *p);

/* drift_profile: one drift monitor for the stream, windows from drift_windows. */
static kite_err pipeline_drift_new(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    pthread_mutex_init(&pl->pl_drift_lock, NULL);
    const kite_config *cfg = &pl->pl_cfg;
    if (!*cfg->kc_drift_profile) {
        if (*cfg->kc_labels_topic || *cfg->kc_label_field || *cfg->kc_drift_report_dir)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "%s needs drift_profile",
                             *cfg->kc_labels_topic ? "labels_topic"
                             : *cfg->kc_label_field ? "label_field" : "drift_report_dir");
        return KITE_ERR_OK;
    }
    if (*cfg->kc_labels_topic && !*cfg->kc_label_field)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "labels_topic %s: set label_field (the label's name in its messages)",
                         cfg->kc_labels_topic);
    KITE_TRY(kite_profile_load(cfg->kc_drift_profile, &pl->pl_drift_profile, errstr, errstr_size));
    int nf = kite__model_swap_initial(pl->pl_swap)->ksv_nfeatures;
    if (kite_profile_num_features(&pl->pl_drift_profile) != nf)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "drift_profile %s: %d features, but the model has %d",
                         cfg->kc_drift_profile, kite_profile_num_features(&pl->pl_drift_profile), nf);
    kite_drift_config dc;
    kite_drift_config_default(&dc);
    dc.kdc_nwindows = 0;
    char specs[512];
    snprintf(specs, sizeof specs, "%s", cfg->kc_drift_windows);
    char *save = NULL;
    for (char *tok = strtok_r(specs, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (dc.kdc_nwindows == KITE_DRIFT_MAX_WINDOWS)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "drift_windows: at most %d",
                             KITE_DRIFT_MAX_WINDOWS);
        KITE_TRY(kite_drift_window_parse(tok, &dc.kdc_windows[dc.kdc_nwindows++], errstr, errstr_size));
    }
    if (dc.kdc_nwindows == 0)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "drift_windows: no window");
    dc.kdc_label_capacity = (size_t)cfg->kc_label_buffer;
    dc.kdc_shadow = *cfg->kc_shadow_model != 0; /* the reports compare the candidate too */
    dc.kdc_shadow_tolerance = cfg->kc_shadow_tolerance;
    pl->pl_drift_times = calloc((size_t)cfg->kc_batch_size, sizeof *pl->pl_drift_times);
    if (!pl->pl_drift_times) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift");
    KITE_TRY(kite_drift_monitor_new(&pl->pl_drift_profile, &dc, &pl->pl_drift, errstr, errstr_size));
    if (*cfg->kc_drift_report_dir) {
        if (kite_drift_report_dir_prepare(cfg->kc_drift_report_dir, errstr, errstr_size))
            return KITE_ERR_CONFIG;
        pl->pl_drift_reports = (kite_drift_report_dir){cfg->kc_drift_report_dir, "kite serve drift", 0, 0};
        kite_drift_set_check_hook(pl->pl_drift, kite_drift_report_dir_hook, &pl->pl_drift_reports);
        fprintf(stderr, "kite: drift reports per closed tumbling/time window into %s\n",
                cfg->kc_drift_report_dir);
    }
    if (*cfg->kc_label_field)
        fprintf(stderr, "kite: labels: field \"%s\"%s%s, joined by event key (up to %ld waiting)\n",
                cfg->kc_label_field, *cfg->kc_labels_topic ? " on topic " : " in the events",
                cfg->kc_labels_topic, cfg->kc_label_buffer);
    fprintf(stderr, "kite: drift monitoring against %s (%d features, windows %s, topic %s)\n",
            cfg->kc_drift_profile, nf, cfg->kc_drift_windows,
            *cfg->kc_drift_topic ? cfg->kc_drift_topic : "(none)");
    return KITE_ERR_OK;
}

/* The served model (engine/stream/model_swap.h): the reference in `model` resolved and loaded. */
static kite_err pipeline_swap_new(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    const kite_config *cfg = &pl->pl_cfg;
    int required = 0;
    if (*cfg->kc_drift_profile) { /* every version must fit the one drift monitor */
        kite_profile prof = {0};
        KITE_TRY(kite_profile_load(cfg->kc_drift_profile, &prof, errstr, errstr_size));
        required = kite_profile_num_features(&prof);
        kite_profile_free(&prof);
    }
    kite_model_swap_config sc = {cfg->kc_model, cfg->kc_registry_uri, cfg->kc_feature_spec, cfg->kc_encode,
                                 required};
    KITE_TRY(kite__model_swap_new(&sc, (int)cfg->kc_workers, &pl->pl_swap, errstr, errstr_size));
    if (*cfg->kc_shadow_model) { /* it scores the serving rows: the same width */
        sc.ksc_model = cfg->kc_shadow_model;
        sc.ksc_required_features = kite__model_swap_initial(pl->pl_swap)->ksv_nfeatures;
        KITE_TRY(kite__shadow_new(&sc, cfg->kc_shadow_tolerance, (int)cfg->kc_workers, &pl->pl_shadow,
                                 errstr, errstr_size));
        char cand[384];
        kite__model_swap_describe(pl->pl_shadow->sh_swap, cand, sizeof cand);
        fprintf(stderr, "kite: shadow model %s (tolerance %g, topic %s)\n", cand, cfg->kc_shadow_tolerance,
                *cfg->kc_shadow_topic ? cfg->kc_shadow_topic : "(none)");
    }
    char what[384];
    kite__model_swap_describe(pl->pl_swap, what, sizeof what);
    fprintf(stderr, "kite: serving %s%s\n", what,
            cfg->kc_model_watch_ms > 0 ? "; watching the model reference" : "");
    return KITE_ERR_OK;
}

/* Control thread, each loop: a SIGHUP's request, the watcher's poll, and freeing versions
 * every worker has moved past. */
static void pipeline_reload_check(kite_pipeline *pl)
{
    char msg[1024];
    /* Acquire: pairs with kite_pipeline_reload's release. */
    if (atomic_exchange_explicit(&pl->pl_reload_request, 0, memory_order_acquire)) {
        kite__model_swap_reload(pl->pl_swap, "SIGHUP", msg, sizeof msg);
        if (pl->pl_shadow) kite__model_swap_reload(pl->pl_shadow->sh_swap, "SIGHUP, shadow", msg, sizeof msg);
    }
    long every = pl->pl_cfg.kc_model_watch_ms;
    if (every > 0) {
        int64_t now = kite_clock_wall_us();
        if (now >= pl->pl_watch_next_us) {
            pl->pl_watch_next_us = now + every * 1000;
            if (kite__model_swap_changed(pl->pl_swap)) kite__model_swap_reload(pl->pl_swap, "watch", msg, sizeof msg);
            if (pl->pl_shadow && kite__model_swap_changed(pl->pl_shadow->sh_swap))
                kite__model_swap_reload(pl->pl_shadow->sh_swap, "watch, shadow", msg, sizeof msg);
        }
    }
    kite__model_swap_reclaim(pl->pl_swap);
    if (pl->pl_shadow) kite__model_swap_reclaim(pl->pl_shadow->sh_swap);
}

/* POST /admin/reload on the metrics address (token checked there): reloads now, on the HTTP
 * thread; the swap's lock orders it with the control thread's reloads. */
static int pipeline_admin_reload(void *opaque, char *body, size_t size)
{
    kite_pipeline *pl = opaque;
    char msg[1024];
    kite_swap_result r = kite__model_swap_reload(pl->pl_swap, "admin", msg, sizeof msg);
    if (pl->pl_shadow) { /* the candidate too; the reply is the serving model's */
        char smsg[1024];
        kite__model_swap_reload(pl->pl_shadow->sh_swap, "admin, shadow", smsg, sizeof smsg);
    }
    static const char *const names[] = {"swapped", "unchanged", "refused"};
    size_t n = (size_t)snprintf(body, size, "{\"result\":\"%s\",\"message\":\"", names[r]);
    for (const char *c = msg; *c && n + 8 < size; c++) { /* JSON string escaping */
        if (*c == '"' || *c == '\\') body[n++] = '\\', body[n++] = *c;
        else if ((unsigned char)*c < 0x20) body[n++] = ' ';
        else body[n++] = *c;
    }
    snprintf(body + n, size - n, "\"}\n");
    return r == KITE_SWAP_REFUSED ? 422 : 200;
}

static int pipeline_healthy(void *opaque)
{
    kite_pipeline *pl = opaque;
    return !kite__pipeline_fatal_set(pl);
}

static int pipeline_is_ready(void *opaque)
{
    kite_pipeline *pl = opaque;
    /* Relaxed: flags for a load balancer's poll, no data read through them. */
    return pipeline_healthy(pl) && atomic_load_explicit(&pl->pl_ready, memory_order_relaxed) &&
           !atomic_load_explicit(&pl->pl_stop, memory_order_relaxed);
}

int kite_pipeline_ready(kite_pipeline *pl) { return pipeline_is_ready(pl); }

static kite_err pipeline_workers_new(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    pl->pl_nworkers = (int)pl->pl_cfg.kc_workers;
    pl->pl_workers = calloc((size_t)pl->pl_nworkers, sizeof *pl->pl_workers);
    if (!pl->pl_workers || kite_stats_init(&pl->pl_stats, pl->pl_nworkers + 2))
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "workers");
    pl->pl_stats_delivery = &pl->pl_stats.ks_blocks[pl->pl_nworkers];
    pl->pl_stats_control = &pl->pl_stats.ks_blocks[pl->pl_nworkers + 1];
    size_t batch = (size_t)pl->pl_cfg.kc_batch_size;
    const kite_served *first = kite__model_swap_initial(pl->pl_swap);
    size_t nf = (size_t)first->ksv_nfeatures;
    size_t groups = (size_t)first->ksv_groups;
    /* The delivery ring must hold every output a worker can have in flight, so the
     * delivery thread never waits on it for long: the producer queue's own bound. */
    size_t ring = 1u << 21;
    for (int i = 0; i < pl->pl_nworkers; i++) {
        kite_worker *w = &pl->pl_workers[i];
        w->kw_index = i;
        w->kw_pl = pl;
        w->kw_stats = &pl->pl_stats.ks_blocks[i];
        KITE_TRY(kite_ring_init(&w->kw_done, ring, errstr, errstr_size));
        KITE_TRY(kite_arena_init(&w->kw_arena, PIPELINE_ARENA_BYTES, errstr, errstr_size));
        w->kw_served = first;
        w->kw_map = first->ksv_map;
        w->kw_row_cap = nf;
        w->kw_group_cap = groups;
        KITE_TRY(kite__pstate_new(w, errstr, errstr_size));
        w->kw_msgs = calloc(batch, sizeof *w->kw_msgs);
        w->kw_items = calloc(batch, sizeof *w->kw_items);
        w->kw_rows = calloc(batch * (nf ? nf : 1), sizeof(float));
        w->kw_margins = calloc(batch * groups, sizeof(float));
        w->kw_preds = calloc(batch * groups, sizeof(float));
        w->kw_keys = calloc(batch, sizeof *w->kw_keys);
        w->kw_has_key = calloc(batch, 1);
        w->kw_labels = calloc(batch, sizeof *w->kw_labels);
        if (*pl->pl_cfg.kc_drift_profile) {
            w->kw_drift_ev = calloc(KITE_DRIFT_EVENT_QUEUE, sizeof *w->kw_drift_ev);
            w->kw_drift_json = calloc(KITE_DRIFT_EVENT_QUEUE, KITE_DRIFT_JSON_MAX);
            if (!w->kw_drift_ev || !w->kw_drift_json)
                return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "worker drift buffers");
        }
        w->kw_out = malloc(PIPELINE_OUT_BUF);
        w->kw_out_cap = PIPELINE_OUT_BUF;
        if (!w->kw_msgs || !w->kw_items || !w->kw_rows || !w->kw_margins || !w->kw_preds ||
            !w->kw_keys || !w->kw_has_key || !w->kw_labels || !w->kw_out)
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "worker buffers");
    }
    return KITE_ERR_OK;
}

static kite_err pipeline_brokers(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    const kite_config *c = &pl->pl_cfg;
    if (*c->kc_brokers) {
        pl->pl_brokers = strdup(c->kc_brokers);
        return pl->pl_brokers ? KITE_ERR_OK : KITE_ERR_NOMEM;
    }
    KITE_TRY(kite_mock_broker_new(1, &pl->pl_mock, errstr, errstr_size));
    pl->pl_brokers = strdup(kite_mock_broker_bootstrap(pl->pl_mock));
    char *names = strdup(c->kc_topics), *save = NULL;
    kite_err err = KITE_ERR_OK;
    for (char *t = strtok_r(names, ", ", &save); t && !err; t = strtok_r(NULL, ", ", &save))
        err = kite_mock_broker_create_topic(pl->pl_mock, t, (int)c->kc_partitions, errstr,
                                            errstr_size);
    free(names);
    if (!err && *c->kc_labels_topic)
        err = kite_mock_broker_create_topic(pl->pl_mock, c->kc_labels_topic, (int)c->kc_partitions,
                                            errstr, errstr_size);
    fprintf(stderr, "kite: embedded broker at %s\n", pl->pl_brokers);
    return err;
}

kite_err kite_pipeline_new(const kite_config *cfg, kite_pipeline **out, char *errstr,
                           size_t errstr_size)
{
    *out = NULL;
    if (!*cfg->kc_model)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "no model: set \"model\" or --model");
    if (cfg->kc_max_inflight & (cfg->kc_max_inflight - 1))
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "config max_inflight: %ld is not a power of two", cfg->kc_max_inflight);
    kite_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "pipeline");
    kite__park_init(&pl->pl_park);
    pthread_mutex_init(&pl->pl_handles_lock, NULL);
    pthread_mutex_init(&pl->pl_sink.sk_poll_lock, NULL);
    *out = pl;
    /* Copy the configuration (strings duplicated) so the caller may free theirs. */
    KITE_TRY(kite_config_init(&pl->pl_cfg, errstr, errstr_size));
    for (size_t k = 0; k < kite_config_nkeys; k++) {
        const kite_config_key *key = &kite_config_keys[k];
        const char *src = (const char *)cfg + key->ck_offset;
        char *dst = (char *)&pl->pl_cfg + key->ck_offset;
        if (key->ck_type == KITE_CONF_STRING) {
            free(*(char **)dst);
            *(char **)dst = strdup(*(char *const *)src);
            if (!*(char **)dst) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "config");
        } else if (key->ck_type == KITE_CONF_DOUBLE) *(double *)dst = *(const double *)src;
        else *(long *)dst = *(const long *)src;
    }
    for (int i = 0; i < cfg->kc_nkafka; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s=%s", cfg->kc_kafka[i][0], cfg->kc_kafka[i][1]);
        KITE_TRY(kite_config_set_kafka(&pl->pl_cfg, kv, errstr, errstr_size));
    }
    KITE_TRY(kite__txn_new(pl, errstr, errstr_size));
    KITE_TRY(pipeline_swap_new(pl, errstr, errstr_size));
    KITE_TRY(pipeline_drift_new(pl, errstr, errstr_size));
    KITE_TRY(pipeline_workers_new(pl, errstr, errstr_size));
    kite_arena_install_cjson();
    KITE_TRY(pipeline_brokers(pl, errstr, errstr_size));
    if (*cfg->kc_metrics_addr) {
        kite_metrics_handlers h = {pipeline_render, pipeline_healthy, pipeline_is_ready, pl, "kite serve",
                                   *cfg->kc_admin_token ? pipeline_admin_reload : NULL,
                                   cfg->kc_admin_token};
        KITE_TRY(kite_metrics_server_start(cfg->kc_metrics_addr, &h, &pl->pl_http, errstr,
                                           errstr_size));
        fprintf(stderr, "kite: metrics on http://%s/metrics (port %d)\n", cfg->kc_metrics_addr,
                kite_metrics_server_port(pl->pl_http));
    }
    KITE_TRY(kite__sink_start(pl, errstr, errstr_size));
    return KITE_ERR_OK;
}

const char *kite_pipeline_brokers(const kite_pipeline *pl) { return pl->pl_brokers; }

struct kite_loaded_model *kite_pipeline_loaded_model(kite_pipeline *pl, const char **path)
{
    /* Before kite_pipeline_run (the only caller): no reload can retire it meanwhile. */
    const kite_served *s = kite_model_swap_peek(pl->pl_swap);
    if (path) *path = s->ksv_model_path;
    return kite_loaded_model_retain(s->ksv_loaded);
}

void kite_pipeline_stop(kite_pipeline *pl)
{
    /* Release: pairs with the acquire loads in the worker and control loops. */
    atomic_store_explicit(&pl->pl_stop, 1, memory_order_release);
}

void kite_pipeline_reload(kite_pipeline *pl)
{
    /* Release: pairs with the control loop's exchange (acquire); no data rides on it. */
    atomic_store_explicit(&pl->pl_reload_request, 1, memory_order_release);
}

void kite_pipeline_hold_exit(kite_pipeline *pl, int delta)
{
    /* Release: pairs with the acquire in pipeline_consumed_all, so events produced under the
     * hold are in the topic before the control thread may see the hold gone. */
    atomic_fetch_add_explicit(&pl->pl_exit_holds, delta, memory_order_acq_rel);
}

void kite_pipeline_expect_consumed(kite_pipeline *pl, uint64_t n)
{
    /* Relaxed: a threshold compared with a counter; the hold (acq_rel in hold_exit), released
     * after this store by the same caller, is what orders it before the exit decision. */
    atomic_store_explicit(&pl->pl_expect_consumed, n, memory_order_relaxed);
}

/* exit_on_eof fallback: every assigned partition's position reached its cached high watermark.
 * librdkafka emits PARTITION_EOF once per end offset, so after a revoke/re-assign (which drops
 * the workers' windows and their EOF flags) at an unchanged end, or a fetch error at the end,
 * no new EOF comes and the flags alone would wait forever (stream_faults hung that way). */
static int pipeline_at_watermarks(kite_pipeline *pl)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(pl->pl_consumer, &parts) || !parts) return 0;
    int ok = parts->cnt > 0 && rd_kafka_position(pl->pl_consumer, parts) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; ok && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(pl->pl_consumer, p->topic, p->partition, &lo, &hi) ||
            hi < 0 || p->offset < hi)
            ok = 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return ok;
}

/* exit_on_eof: every assigned partition reported EOF after its last message, and nothing is
 * in flight anywhere (windows, producer queue, retry list). */
static int pipeline_consumed_all(kite_pipeline *pl)
{
    if (atomic_load_explicit(&pl->pl_exit_holds, memory_order_acquire) > 0) return 0;
    if (kite_stats_sum(&pl->pl_stats, KITE_C_CONSUMED) <
        atomic_load_explicit(&pl->pl_expect_consumed, memory_order_relaxed))
        return 0;
    int assigned = atomic_load_explicit(&pl->pl_assigned, memory_order_acquire);
    if (assigned <= 0) return 0;
    int eof = 0;
    for (int i = 0; i < pl->pl_nworkers; i++) {
        /* Acquire: pairs with worker_publish_progress's release stores. */
        if (atomic_load_explicit(&pl->pl_workers[i].kw_inflight, memory_order_acquire)) return 0;
        eof += atomic_load_explicit(&pl->pl_workers[i].kw_eof_parts, memory_order_acquire);
    }
    if (rd_kafka_outq_len(pl->pl_sink.sk_producer) != 0 ||
        atomic_load_explicit(&pl->pl_sink.sk_retry_pending, memory_order_acquire) != 0)
        return 0;
    return eof >= assigned || pipeline_at_watermarks(pl);
}

kite_err kite_pipeline_run(kite_pipeline *pl, char *errstr, size_t errstr_size)
{
    if (pl->pl_txn) KITE_TRY(kite__txn_start(pl, errstr, errstr_size));
    KITE_TRY(kite__source_start(pl, kite__pipeline_rebalance, errstr, errstr_size));
    kite__park_enter(pl, pl->pl_nworkers);
    for (int i = 0; i < pl->pl_nworkers; i++) {
        if (pthread_create(&pl->pl_workers[i].kw_thread, NULL, kite__worker_main, &pl->pl_workers[i])) {
            kite_pipeline_stop(pl);
            kite__park_leave(pl, pl->pl_nworkers - i);
            break;
        }
        pl->pl_workers[i].kw_started = 1;
    }
    int eof_rounds = 0;
    while (!atomic_load_explicit(&pl->pl_stop, memory_order_acquire) &&
           !kite__pipeline_fatal_set(pl)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->pl_consumer, 50);
        if (m) {
            /* Partition messages are forwarded to the workers; what reaches this queue is
             * consumer-level errors. */
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                kite_stats_add(pl->pl_stats_control, KITE_C_KAFKA_ERRORS, 1);
                fprintf(stderr, "kite: consumer: %s\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        /* Two consecutive checks 50 ms apart, so a late EOF flip is not mistaken for the end. */
        pipeline_reload_check(pl);
        if (pl->pl_txn) kite__txn_tick(pl);
        if (pl->pl_cfg.kc_exit_on_eof) eof_rounds = pipeline_consumed_all(pl) ? eof_rounds + 1 : 0;
        if (eof_rounds >= 2) break;
    }
    kite_pipeline_stop(pl);
    for (int i = 0; i < pl->pl_nworkers; i++)
        if (pl->pl_workers[i].kw_started) {
            rd_kafka_queue_yield(pl->pl_workers[i].kw_queue);
            pthread_join(pl->pl_workers[i].kw_thread, NULL);
            pl->pl_workers[i].kw_started = 0;
        }
    /* Release: pairs with the rebalance callback's acquire (no parking once joined). */
    atomic_store_explicit(&pl->pl_workers_joined, 1, memory_order_release);
    int drained = kite__acks_wait_empty(pl, PIPELINE_DRAIN_TIMEOUT_MS) == 0;
    if (pl->pl_txn) {
        kite__txn_finish(pl); /* the last transaction, with its offsets */
    } else {
        for (int i = 0; i < pl->pl_nworkers; i++) kite__acks_store_offsets(&pl->pl_workers[i]);
        rd_kafka_resp_err_t cerr = rd_kafka_commit(pl->pl_consumer, NULL, 0);
        if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
            fprintf(stderr, "kite: final commit: %s\n", rd_kafka_err2str(cerr));
    }
    kite__source_close(pl);
    pl->pl_cpu_end_us = kite_clock_process_cpu_us();
    if (kite__pipeline_fatal_set(pl))
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "stopped on a fatal error: %s",
                         pl->pl_fatal.pf_reason[0] ? pl->pl_fatal.pf_reason : "see above");
    if (!drained)
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size,
                         "outputs still undelivered after %d s; their events were not committed",
                         PIPELINE_DRAIN_TIMEOUT_MS / 1000);
    return KITE_ERR_OK;
}

void kite_pipeline_totals_get(kite_pipeline *pl, kite_pipeline_totals *t)
{
    const kite_stats *s = &pl->pl_stats;
    *t = (kite_pipeline_totals){
        .ktl_consumed = kite_stats_sum(s, KITE_C_CONSUMED),
        .ktl_scored = kite_stats_sum(s, KITE_C_SCORED),
        .ktl_dead_letters = kite_stats_sum(s, KITE_C_DEAD_LETTERS),
        .ktl_alerts = kite_stats_sum(s, KITE_C_ALERTS),
        .ktl_delivered = kite_stats_sum(s, KITE_C_DELIVERED),
        .ktl_delivery_errors = kite_stats_sum(s, KITE_C_DELIVERY_ERRORS),
        .ktl_missing = kite_stats_sum(s, KITE_C_MISSING),
        .ktl_rebalances = kite_stats_sum(s, KITE_C_REBALANCES),
        .ktl_queue_full = kite_stats_sum(s, KITE_C_QUEUE_FULL),
        .ktl_warming_up = kite_stats_sum(s, KITE_C_WARMING_UP),
        .ktl_latency_p50_us = kite_stats_latency_percentile_us(s, 0.50),
        .ktl_latency_p99_us = kite_stats_latency_percentile_us(s, 0.99),
        .ktl_latency_p999_us = kite_stats_latency_percentile_us(s, 0.999),
    };
    /* Relaxed: timestamps for the summary, read after the workers were joined (the join orders). */
    int64_t first = atomic_load_explicit(&pl->pl_first_consume_us, memory_order_relaxed);
    int64_t last = atomic_load_explicit(&pl->pl_sink.sk_last_delivery_us, memory_order_relaxed);
    t->ktl_seconds = first && last > first ? (double)(last - first) * 1e-6 : 0;
    if (pl->pl_drift && t->ktl_scored)
        t->ktl_drift_us_per_event = kite_stats_hist_total(s, KITE_H_DRIFT) * 1e6 / (double)t->ktl_scored;
    if (first && pl->pl_cpu_end_us && t->ktl_consumed)
        t->ktl_cpu_us_per_event =
            (double)(pl->pl_cpu_end_us - pl->pl_cpu_first_us) / (double)t->ktl_consumed;
}

static void pipeline_render(void *opaque, kite_prom *p)
{
    kite_pipeline *pl = opaque;
    kite_stats_render(&pl->pl_stats, p);
    if (pl->pl_drift) {
        pthread_mutex_lock(&pl->pl_drift_lock);
        kite_drift_metrics_render(pl->pl_drift, p);
        pthread_mutex_unlock(&pl->pl_drift_lock);
    }
    /* The Kafka handles come and go on the running thread: hold them for this render. */
    pthread_mutex_lock(&pl->pl_handles_lock);
    kite_prom_family(p, "kite_outputs_in_flight", "gauge",
                     "Output messages produced and awaiting their delivery report.");
    kite_prom_sample(p, "kite_outputs_in_flight", NULL,
                     pl->pl_sink.sk_producer ? (double)rd_kafka_outq_len(pl->pl_sink.sk_producer) : 0);
    kite_prom_family(p, "kite_consumer_lag_messages", "gauge",
                     "High watermark minus the consumed position, per assigned partition.");
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (pl->pl_consumer && !rd_kafka_assignment(pl->pl_consumer, &parts) && parts) {
        rd_kafka_position(pl->pl_consumer, parts);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *e = &parts->elems[i];
            int64_t lo = -1, hi = -1;
            rd_kafka_get_watermark_offsets(pl->pl_consumer, e->topic, e->partition, &lo, &hi);
            if (hi < 0) continue;
            int64_t pos = e->offset >= 0 ? e->offset : lo >= 0 ? lo : 0;
            char topic[256], labels[320];
            kite_prom_escape(topic, sizeof topic, e->topic);
            snprintf(labels, sizeof labels, "topic=\"%s\",partition=\"%d\"", topic, e->partition);
            kite_prom_sample(p, "kite_consumer_lag_messages", labels,
                             (double)(hi > pos ? hi - pos : 0));
        }
    }
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    pthread_mutex_unlock(&pl->pl_handles_lock);
    kite_prom_family(p, "kite_workers", "gauge", "Worker threads.");
    kite_prom_sample(p, "kite_workers", NULL, pl->pl_nworkers);
    kite_prom_family(p, "kite_ready", "gauge", "1 when partitions are assigned and kite is healthy.");
    kite_prom_sample(p, "kite_ready", NULL, pipeline_is_ready(pl));
    kite__model_swap_render(pl->pl_swap, p, "kite_model");
    if (pl->pl_shadow) kite__shadow_render(pl->pl_shadow, p);
}

void kite_pipeline_metrics_text(kite_pipeline *pl, char **text_out)
{
    kite_prom p;
    kite_prom_init(&p);
    pipeline_render(pl, &p);
    *text_out = p.kpr_buf; /* caller frees */
}

void kite_pipeline_free(kite_pipeline *pl)
{
    if (!pl) return;
    kite_metrics_server_stop(pl->pl_http);
    kite__source_close(pl);
    kite__sink_stop(pl);
    kite__txn_free(pl);
    for (int i = 0; pl->pl_workers && i < pl->pl_nworkers; i++) {
        kite_worker *w = &pl->pl_workers[i];
        kite_ring_free(&w->kw_done);
        kite_arena_free(&w->kw_arena);
        kite__event_json_free(&w->kw_event);
        kite__pstate_free(w);
        free(w->kw_msgs);
        free(w->kw_items);
        free(w->kw_rows);
        free(w->kw_margins);
        free(w->kw_preds);
        free(w->kw_keys);
        free(w->kw_has_key);
        free(w->kw_labels);
        free(w->kw_drift_ev);
        free(w->kw_drift_json);
        free(w->kw_out);
        free(w->kw_shadow_margins);
        free(w->kw_shadow_preds);
    }
    free(pl->pl_workers);
    kite_stats_free(&pl->pl_stats);
    kite_drift_monitor_free(pl->pl_drift);
    kite_profile_free(&pl->pl_drift_profile);
    free(pl->pl_drift_times);
    pthread_mutex_destroy(&pl->pl_drift_lock);
    kite__model_swap_free(pl->pl_swap);
    kite__shadow_free(pl->pl_shadow);
    kite_mock_broker_free(pl->pl_mock);
    free(pl->pl_brokers);
    kite_config_free(&pl->pl_cfg);
    kite__park_destroy(&pl->pl_park);
    pthread_mutex_destroy(&pl->pl_sink.sk_poll_lock);
    pthread_mutex_destroy(&pl->pl_handles_lock);
    free(pl);
}
