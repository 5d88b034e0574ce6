/* Streaming integration tests on the in-process mock cluster, or with KITE_TEST_KAFKA_DIR=D on
 * the real cluster in D (see stream_harness.h; ctest's *_kafka tests):
 *   test_stream basic          N events in -> exactly N outputs, by key and offset; malformed
 *                              events dead-lettered with reasons; the metrics text counts them
 *   test_stream faults         the same with Produce/Fetch/OffsetCommit errors injected and the
 *                              broker taken down and up mid-stream: none missing, duplicates
 *                              counted (real cluster: the leader of events/0 is killed with
 *                              SIGKILL mid-stream and restarted later, in place of both)
 *   test_stream restart KITE   `kite serve` killed (SIGKILL) mid-stream, then SIGTERM'd
 *                              mid-stream, then run to the end: none missing; duplicates
 *                              reported; the graceful stop exits 0 and adds none
 *   test_stream fatal          a fatal producer error mid-stream (librdkafka's idempotent producer
 *                              can go fatal when an output leader dies) ends the run within
 *                              seconds with the error, not after the drain timeouts */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <signal.h>
#include <sys/wait.h>

#include <kite/config.h>
#include <kite/dispatch.h>
#include <kite/feature_state.h>
#include <kite/xgb_model.h>
#include <kite/pipeline.h>
#include "pipeline_int.h" /* pl_sink.sk_producer, for rd_kafka_test_fatal_error */
#include "stream_harness.h"

#define BASIC_EVENTS 2000
#define FAULT_EVENTS 3000
#define RESTART_EVENTS 24000 /* 30 s at 800/s: the restarted member (a 3 s session, start-up, redoing the killed one's tail) is stopped mid-stream even in sanitizer builds */

/* Kafka protocol API keys (rdkafka_protocol.h is not installed). */
enum { API_PRODUCE = 0, API_FETCH = 1, API_OFFSET_COMMIT = 8 };

static kite_pipeline *run_pipeline_new(sh_world *w, int workers)
{
    kite_config cfg;
    char err[512];
    kite_config_init(&cfg, err, sizeof err);
    const char *kv[][2] = {{"brokers", w->bootstrap}, {"model", "models/titanic.json"},
                           {"feature_spec", "models/titanic.spec.json"}, {"exit_on_eof", "true"},
                           {"metrics_addr", ""}, {"batch_size", "64"}, {"cores", "none"},
                           {"max_inflight", "1024"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK(kite_config_set(&cfg, kv[i][0], kv[i][1], err, sizeof err) == KITE_ERR_OK);
    char wk[8];
    snprintf(wk, sizeof wk, "%d", workers);
    kite_config_set(&cfg, "workers", wk, err, sizeof err);
    kite_config_set_kafka(&cfg, "consumer.session.timeout.ms=6000", err, sizeof err);
    kite_config_set_kafka(&cfg, "consumer.heartbeat.interval.ms=500", err, sizeof err);
    kite_pipeline *pl = NULL;
    if (kite_pipeline_new(&cfg, &pl, err, sizeof err)) {
        fprintf(stderr, "pipeline: %s\n", err);
        exit(1);
    }
    kite_config_free(&cfg);
    return pl;
}

static void run_to_end(sh_world *w, int workers)
{
    kite_pipeline *pl = run_pipeline_new(w, workers);
    char err[512];
    kite_err e = kite_pipeline_run(pl, err, sizeof err);
    CHECK_MSG(e == KITE_ERR_OK, "run: %s", err);
    kite_pipeline_free(pl);
}

/* Every prediction equals the library's own: spec features, then the forest (float32 text
 * round trip). The Titanic spec keeps no per-key state, so one state serves all events. */
static void check_prediction_values(sh_world *w)
{
    kite_model model;
    kite_forest forest;
    kite_feature_spec *spec = NULL;
    kite_feature_state *st = NULL;
    char err[512];
    CHECK(kite_model_load("models/titanic.json", &model, err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_forest_build(&model, &forest, err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_feature_spec_load("models/titanic.spec.json", &spec, err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_feature_state_new(spec, 0, &st, err, sizeof err) == KITE_ERR_OK);
    int nin = kite_feature_spec_num_inputs(spec);
    kite_raw_value in[32];
    size_t compared = 0, differ = 0;
    for (int p = 0; p < SH_PARTITIONS; p++)
        for (int64_t o = 0; o < w->count[p]; o++) {
            sh_event *e = &w->ev[p][o];
            if (e->bad || !e->predictions) continue;
            char buf[512];
            sh_event_json(buf, sizeof buf, atoi(e->key + 1));
            cJSON *j = cJSON_Parse(buf);
            for (int i = 0; i < nin; i++) {
                cJSON *it = cJSON_GetObjectItemCaseSensitive(j, kite_feature_spec_input_name(spec, i));
                in[i] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
                if (cJSON_IsNumber(it)) in[i] = (kite_raw_value){KITE_RAW_NUMBER, it->valuedouble, NULL, 0};
                if (cJSON_IsString(it))
                    in[i] = (kite_raw_value){KITE_RAW_TEXT, 0, it->valuestring, strlen(it->valuestring)};
            }
            float row[16], pred = 0;
            kite_features_status status;
            if (kite_features_update(st, in, row, &status, err, sizeof err) == KITE_ERR_OK) {
                kite_forest_predict(&forest, row, 1, (size_t)forest.kf_num_feature, &pred, 0);
                differ += (float)e->prediction != pred;
                compared++;
            }
            cJSON_Delete(j);
        }
    CHECK_MSG(compared > 0 && differ == 0, "%zu of %zu predictions differ from the library's",
              differ, compared);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
    kite_forest_free(&forest);
    kite_model_free(&model);
}

static int test_basic(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    sh_produce(w, p, 0, BASIC_EVENTS, 0);
    CHECK(w->produced == BASIC_EVENTS);
    CHECK(sh_read_inputs(w, BASIC_EVENTS) == BASIC_EVENTS);
    kite_pipeline *pl = run_pipeline_new(w, 2);
    char err[512];
    CHECK(kite_pipeline_run(pl, err, sizeof err) == KITE_ERR_OK);
    kite_pipeline_totals t;
    kite_pipeline_totals_get(pl, &t);
    CHECK_MSG(t.ktl_consumed == BASIC_EVENTS, "consumed %llu", (unsigned long long)t.ktl_consumed);
    CHECK(t.ktl_scored + t.ktl_dead_letters == BASIC_EVENTS);
    CHECK(t.ktl_dead_letters == w->bad);
    char *metrics = NULL;
    kite_pipeline_metrics_text(pl, &metrics);
    CHECK(metrics && strstr(metrics, "kite_events_consumed_total 2000\n"));
    free(metrics);
    kite_pipeline_free(pl);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "basic");
    /* Exactly once without faults: one output per event. */
    CHECK_MSG(tally.duplicates == 0, "%zu duplicates", tally.duplicates);
    CHECK(tally.predictions == BASIC_EVENTS - w->bad && tally.dead_letters == w->bad);
    check_prediction_values(w);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream basic");
}

typedef struct fault_ctx {
    sh_world *w;
    rd_kafka_t *p;
    kite_pipeline *pl;
} fault_ctx;

/* The real cluster's fault: kill -9 the broker leading events/0 after the first third, restart
 * it after the second (tools/kafka-cluster.sh). */
static void fault_real(fault_ctx *c)
{
    char leader[32] = "";
    sh_produce(c->w, c->p, 0, FAULT_EVENTS / 3, 1500);
    CHECK(sh_cluster(c->w, "leader events 0", leader, sizeof leader) == 0 && atoi(leader) > 0);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kill %d", atoi(leader));
    CHECK_MSG(sh_cluster(c->w, cmd, NULL, 0) == 0, "faults: %s", cmd);
    printf("faults: node %d (leader of events/0) killed\n", atoi(leader));
    sh_produce(c->w, c->p, FAULT_EVENTS / 3, 2 * FAULT_EVENTS / 3, 1500);
    snprintf(cmd, sizeof cmd, "restart %d", atoi(leader));
    CHECK_MSG(sh_cluster(c->w, cmd, NULL, 0) == 0, "faults: %s", cmd);
    sh_produce(c->w, c->p, 2 * FAULT_EVENTS / 3, FAULT_EVENTS, 1500);
}

static void *fault_thread(void *arg)
{
    fault_ctx *c = arg;
    if (c->w->kafka_dir) {
        fault_real(c);
        size_t in_log = sh_read_inputs(c->w, FAULT_EVENTS);
        kite_pipeline_expect_consumed(c->pl, in_log);
        kite_pipeline_hold_exit(c->pl, -1);
        return NULL;
    }
    rd_kafka_mock_cluster_t *mc = kite_mock_broker_cluster(c->w->broker);
    sh_produce(c->w, c->p, 0, FAULT_EVENTS / 3, 1500);
    rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    rd_kafka_mock_push_request_errors(mc, API_FETCH, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    rd_kafka_mock_push_request_errors(mc, API_OFFSET_COMMIT, 2,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    sh_produce(c->w, c->p, FAULT_EVENTS / 3, 2 * FAULT_EVENTS / 3, 1500);
    /* The only broker goes down for a second, then comes back. */
    rd_kafka_mock_broker_set_down(mc, 1);
    usleep(1000000);
    rd_kafka_mock_broker_set_up(mc, 1);
    sh_produce(c->w, c->p, 2 * FAULT_EVENTS / 3, FAULT_EVENTS, 1500);
    /* kite must consume what the log holds: with the broker bounced, a retried batch can be
     * acknowledged without an offset, so the log (not the delivery reports) sets the count. */
    size_t in_log = sh_read_inputs(c->w, FAULT_EVENTS);
    kite_pipeline_expect_consumed(c->pl, in_log);
    kite_pipeline_hold_exit(c->pl, -1);
    return NULL;
}

/* The run must never hang the suite: after FAULT_DEADLINE_S the watchdog prints what exit_on_eof
 * was still waiting for and stops the pipeline, and the test fails on that. */
#define FAULT_DEADLINE_S 80
typedef struct fault_watch {
    kite_pipeline *pl;
    _Atomic int done;  /* relaxed: a flag polled once per 100 ms, no data published through it */
    _Atomic int fired; /* relaxed: read after pthread_join, which orders it */
} fault_watch;

static void *fault_watchdog(void *arg)
{
    fault_watch *fw = arg;
    for (int i = 0; i < FAULT_DEADLINE_S * 10; i++) {
        if (atomic_load_explicit(&fw->done, memory_order_relaxed)) return NULL;
        usleep(100000);
    }
    fprintf(stderr, "faults: no exit after %d s: exit_on_eof still waiting for one of: every "
            "message in the input log consumed, every assigned partition at EOF or its high "
            "watermark, no output in flight, an empty producer queue and retry list, the producer "
            "thread's hold released\n", FAULT_DEADLINE_S);
    atomic_store_explicit(&fw->fired, 1, memory_order_relaxed);
    kite_pipeline_stop(fw->pl);
    return NULL;
}

static int test_faults(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    kite_pipeline *pl = run_pipeline_new(w, 2);
    fault_ctx ctx = {w, p, pl};
    kite_pipeline_hold_exit(pl, +1); /* until the producer thread is done */
    kite_pipeline_expect_consumed(pl, FAULT_EVENTS);
    pthread_t t;
    pthread_create(&t, NULL, fault_thread, &ctx);
    /* The pipeline runs on this thread while the producer thread injects the faults; the
     * hold keeps exit_on_eof from ending the run before the last event is produced. */
    fault_watch fw = {.pl = pl};
    pthread_t wd;
    pthread_create(&wd, NULL, fault_watchdog, &fw);
    char errstr[512];
    kite_err err = kite_pipeline_run(pl, errstr, sizeof errstr);
    atomic_store_explicit(&fw.done, 1, memory_order_relaxed);
    pthread_join(wd, NULL);
    pthread_join(t, NULL);
    CHECK_MSG(!atomic_load_explicit(&fw.fired, memory_order_relaxed),
              "faults: run hit the %d s deadline (see the line above)", FAULT_DEADLINE_S);
    CHECK_MSG(err == KITE_ERR_OK, "run: %s", errstr);
    kite_pipeline_totals tot;
    kite_pipeline_totals_get(pl, &tot);
    kite_pipeline_free(pl);
    CHECK_MSG(w->produced >= FAULT_EVENTS - w->acked_without_offset, "input log holds %zu messages",
              w->produced);
    CHECK_MSG(tot.ktl_consumed >= w->produced, "consumed %llu of %zu messages in the log",
              (unsigned long long)tot.ktl_consumed, w->produced);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "faults");
    printf("faults: delivery errors retried %llu, duplicates %zu\n",
           (unsigned long long)tot.ktl_delivery_errors, tally.duplicates);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream faults");
}

/* ---- rebalance: a second member joins mid-stream (revoke parks running workers) ---- */

#define REBALANCE_EVENTS 4000

typedef struct rebalance_ctx {
    sh_world *w;
    rd_kafka_t *p;
    kite_pipeline *pl[2];
    kite_err err[2];
    char errstr[2][512];
    int index;
} rebalance_ctx;

typedef struct rebalance_run {
    rebalance_ctx *c;
    int i;
} rebalance_run;

static void *rebalance_member(void *arg)
{
    rebalance_run *r = arg;
    r->c->err[r->i] = kite_pipeline_run(r->c->pl[r->i], r->c->errstr[r->i], sizeof r->c->errstr[0]);
    return NULL;
}

static int test_rebalance(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    rebalance_ctx c = {.w = w, .p = p};
    for (int i = 0; i < 2; i++) {
        c.pl[i] = run_pipeline_new(w, 2);
        kite_pipeline_hold_exit(c.pl[i], +1);
    }
    rebalance_run runs[2] = {{&c, 0}, {&c, 1}};
    pthread_t t[2];
    pthread_create(&t[0], NULL, rebalance_member, &runs[0]);
    for (int i = 0; i < 1000 && !kite_pipeline_ready(c.pl[0]); i++) usleep(10000);
    CHECK(kite_pipeline_ready(c.pl[0]));
    sh_produce(w, p, 0, REBALANCE_EVENTS / 2, 2000);
    /* The second member joins while the first is consuming: the first is revoked mid-stream
     * (its running workers parked, outputs drained, offsets committed), then both share. */
    pthread_create(&t[1], NULL, rebalance_member, &runs[1]);
    /* The second half only once the second member holds partitions: on a loaded machine its
     * join can outlast a second of events, and the first member would drain them all alone. */
    for (int i = 0; i < 6000 && !kite_pipeline_ready(c.pl[1]); i++) usleep(10000);
    CHECK(kite_pipeline_ready(c.pl[1]));
    sh_produce(w, p, REBALANCE_EVENTS / 2, REBALANCE_EVENTS, 2000);
    for (int i = 0; i < 2; i++) kite_pipeline_hold_exit(c.pl[i], -1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(c.err[i] == KITE_ERR_OK, "member %d: %s", i, c.errstr[i]);
    }
    kite_pipeline_totals t0, t1;
    kite_pipeline_totals_get(c.pl[0], &t0);
    kite_pipeline_totals_get(c.pl[1], &t1);
    CHECK_MSG(t0.ktl_rebalances >= 2 && t0.ktl_consumed > 0 && t1.ktl_consumed > 0,
              "both members consumed (%llu, %llu) after %llu rebalance callbacks",
              (unsigned long long)t0.ktl_consumed, (unsigned long long)t1.ktl_consumed,
              (unsigned long long)t0.ktl_rebalances);
    for (int i = 0; i < 2; i++) kite_pipeline_free(c.pl[i]);
    CHECK(w->produced == REBALANCE_EVENTS);
    CHECK(sh_read_inputs(w, REBALANCE_EVENTS) == REBALANCE_EVENTS);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "rebalance");
    printf("rebalance: consumed %llu + %llu, duplicates %zu\n", (unsigned long long)t0.ktl_consumed,
           (unsigned long long)t1.ktl_consumed, tally.duplicates);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream rebalance");
}

/* ---- restart: a kite serve process killed, then stopped gracefully, mid-stream ---- */

typedef struct restart_ctx {
    sh_world *w;
    rd_kafka_t *p;
} restart_ctx;

static void *restart_producer(void *arg)
{
    restart_ctx *c = arg;
    sh_produce(c->w, c->p, 0, RESTART_EVENTS, 800);
    return NULL;
}

static pid_t restart_spawn(const char *kite, sh_world *w)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(kite, kite, "serve", "--brokers", w->bootstrap, "--model", "models/titanic.json",
              "--feature-spec", "models/titanic.spec.json", "--metrics-addr", "", "--batch-size", "64",
              "--cores", "none", "-q", /* A killed member leaves the group after its session timeout: keep it short. */
              "-X", "consumer.session.timeout.ms=3000", "-X",
              "consumer.heartbeat.interval.ms=300", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Output messages in predictions + dead-letters (high watermarks). */
static int64_t restart_outputs(rd_kafka_t *h)
{
    int64_t total = 0;
    const char *topics[] = {"predictions", "dead-letters"};
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < SH_PARTITIONS; p++) {
            int64_t lo = 0, hi = 0;
            if (!rd_kafka_query_watermark_offsets(h, topics[t], p, &lo, &hi, 5000)) total += hi;
        }
    return total;
}

static void restart_wait_outputs(rd_kafka_t *h, int64_t want)
{
    for (int i = 0; i < 3000 && restart_outputs(h) < want; i++) usleep(10000);
}

/* Per input partition: one past the highest input offset that has an output so far (what the
 * SIGKILLed member got to). Reads the output topics with its own consumer and touches no
 * shared state (the producer thread is still writing w). */
static void restart_take_high(void *ctx, const rd_kafka_message_t *m)
{
    int64_t *high = ctx;
    cJSON *j = cJSON_ParseWithLength(m->payload, m->len);
    cJSON *jp = cJSON_GetObjectItemCaseSensitive(j, "partition");
    cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "offset");
    if (cJSON_IsNumber(jp) && cJSON_IsNumber(jo) && jp->valueint >= 0 && jp->valueint < SH_PARTITIONS &&
        (int64_t)jo->valuedouble + 1 > high[jp->valueint])
        high[jp->valueint] = (int64_t)jo->valuedouble + 1;
    cJSON_Delete(j);
}

static void restart_output_high(const char *bootstrap, int64_t high[SH_PARTITIONS])
{
    for (int p = 0; p < SH_PARTITIONS; p++) high[p] = 0;
    static const char *const topics[] = {"predictions", "dead-letters"};
    sh_read_to_end(bootstrap, "harness-high-reader", topics, 2, restart_take_high, high);
}

/* Waits (up to 60 s) until group "kite" has committed at least high[p] on every partition. */
static int restart_wait_committed(rd_kafka_t *h, const int64_t high[SH_PARTITIONS])
{
    for (int i = 0; i < 600; i++) {
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(SH_PARTITIONS);
        for (int p = 0; p < SH_PARTITIONS; p++) rd_kafka_topic_partition_list_add(parts, "events", p);
        int ok = rd_kafka_committed(h, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int p = 0; ok && p < SH_PARTITIONS; p++) ok = parts->elems[p].offset >= high[p];
        rd_kafka_topic_partition_list_destroy(parts);
        if (ok) return 1;
        usleep(100000);
    }
    return 0;
}

static rd_kafka_t *restart_group_handle(sh_world *w)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", w->bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "kite", err, sizeof err);
    return rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
}

static int test_restart(const char *kite)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    rd_kafka_t *h = restart_group_handle(w);
    restart_ctx ctx = {w, p};
    pthread_t t;
    pthread_create(&t, NULL, restart_producer, &ctx);

    /* 1. SIGKILL mid-stream: outputs delivered since the last commit are produced again. */
    pid_t a = restart_spawn(kite, w);
    restart_wait_outputs(h, 400);
    kill(a, SIGKILL);
    int status = 0;
    waitpid(a, &status, 0);
    CHECK(WIFSIGNALED(status));
    int64_t after_kill = restart_outputs(h);

    /* 2. SIGTERM mid-stream: stop, drain, commit, exit 0. */
    /* The second member first redoes what the killed one output after its last commit; stop it
     * only once its commits have passed that on every partition (and 1500 outputs later), so
     * "nothing with an output lies past the committed offset" tests the graceful stop, not how
     * far the restarted member had caught up. */
    int64_t killed_high[SH_PARTITIONS];
    restart_output_high(w->bootstrap, killed_high);
    pid_t b = restart_spawn(kite, w);
    restart_wait_outputs(h, after_kill + 1500);
    CHECK_MSG(restart_wait_committed(h, killed_high),
              "the restarted member's commits never passed the killed member's outputs");
    kill(b, SIGTERM);
    waitpid(b, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "graceful stop exit status %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* The producer thread owns w until joined. */
    pthread_join(t, NULL);
    CHECK(w->produced == RESTART_EVENTS);
    CHECK(sh_read_inputs(w, RESTART_EVENTS) == RESTART_EVENTS);

    /* After a graceful stop, the committed offset covers every event with an output and
     * nothing beyond: the next owner repeats no work. */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(SH_PARTITIONS);
    for (int i = 0; i < SH_PARTITIONS; i++) rd_kafka_topic_partition_list_add(parts, "events", i);
    CHECK(rd_kafka_committed(h, parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t committed_total = 0;
    for (int i = 0; i < SH_PARTITIONS; i++)
        committed_total += parts->elems[i].offset > 0 ? parts->elems[i].offset : 0;
    CHECK_MSG(committed_total > 0 && committed_total < RESTART_EVENTS,
              "the graceful stop was not mid-stream (%lld of %d committed)",
              (long long)committed_total, RESTART_EVENTS);
    sh_tally mid = sh_read_outputs(w);
    size_t beyond = 0, before_missing = 0;
    for (int i = 0; i < SH_PARTITIONS; i++) {
        int64_t committed = parts->elems[i].offset;
        for (int64_t o = 0; o < w->count[i]; o++) {
            sh_event *e = &w->ev[i][o];
            int has = e->predictions + e->dead_letters > 0;
            if (o < committed && !has) before_missing++;
            if (o >= committed && has) beyond++;
            e->predictions = e->dead_letters = 0; /* recounted after the final run */
        }
    }
    printf("restart: after kill + graceful stop: %zu outputs, %zu duplicates (from the kill)\n",
           mid.predictions + mid.dead_letters, mid.duplicates);
    CHECK_MSG(before_missing == 0, "%zu committed events have no output", before_missing);
    CHECK_MSG(beyond == 0, "%zu events past the committed offset already had outputs", beyond);
    rd_kafka_topic_partition_list_destroy(parts);

    /* 3. Run to the end in-process. */
    run_to_end(w, 2);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "restart");
    printf("restart: duplicates %zu (SIGKILL: outputs delivered after the last commit)\n",
           tally.duplicates);
    rd_kafka_destroy(h);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream restart");
}

/* ---- fatal: the producer goes fatal while outputs flow ---- */

#define FATAL_EVENTS 20000

typedef struct fatal_ctx {
    kite_pipeline *pl;
    struct timespec at; /* when the fatal error was raised */
    uint64_t consumed;  /* events consumed by then        */
} fatal_ctx;

static void *fatal_thread(void *arg)
{
    fatal_ctx *c = arg;
    uint64_t consumed = 0;
    for (int i = 0; i < 3000 && consumed < 2000; i++) {
        usleep(2000);
        /* Relaxed per-thread sums, as a /metrics scrape reads them while the run goes on. */
        consumed = kite_stats_sum(&c->pl->pl_stats, KITE_C_CONSUMED);
    }
    c->consumed = consumed;
    /* Every output still queued, in flight or produced after this fails with __FATAL and can
     * never be delivered: the run must end on the error, not wait for them. */
    clock_gettime(CLOCK_MONOTONIC, &c->at);
    pthread_mutex_lock(&c->pl->pl_handles_lock); /* as the metrics renderer reads the handle */
    rd_kafka_test_fatal_error(c->pl->pl_sink.sk_producer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              "test_stream fatal");
    pthread_mutex_unlock(&c->pl->pl_handles_lock);
    return NULL;
}

static int test_fatal(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    sh_produce(w, p, 0, FATAL_EVENTS, 0);
    kite_pipeline *pl = run_pipeline_new(w, 2);
    kite_pipeline_hold_exit(pl, +1); /* only the fatal error ends this run */
    fatal_ctx c = {.pl = pl};
    pthread_t t;
    pthread_create(&t, NULL, fatal_thread, &c);
    char errstr[512];
    kite_err err = kite_pipeline_run(pl, errstr, sizeof errstr);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(t, NULL);
    double took = (double)(end.tv_sec - c.at.tv_sec) + (double)(end.tv_nsec - c.at.tv_nsec) * 1e-9;
    kite_pipeline_totals tot;
    kite_pipeline_totals_get(pl, &tot);
    printf("fatal: raised after %llu events; the run ended %.2f s later (%llu consumed, %llu "
           "delivery errors): %s\n", (unsigned long long)c.consumed, took,
           (unsigned long long)tot.ktl_consumed, (unsigned long long)tot.ktl_delivery_errors,
           err ? errstr : "no error");
    CHECK_MSG(c.consumed >= 2000 && c.consumed < FATAL_EVENTS && tot.ktl_delivery_errors > 0,
              "the fatal error came mid-stream with outputs pending (%llu consumed, %llu failed)",
              (unsigned long long)c.consumed, (unsigned long long)tot.ktl_delivery_errors);
    CHECK_MSG(err != KITE_ERR_OK && strstr(errstr, "fatal"), "the run names the fatal error (%s)",
              err ? errstr : "returned OK");
    CHECK_MSG(took < 20, "the run ended %.1f s after the fatal error (the drain waits 120 s)", took);
    kite_pipeline_free(pl);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream fatal");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (!strcmp(mode, "basic")) return test_basic();
    if (!strcmp(mode, "faults")) return test_faults();
    if (!strcmp(mode, "rebalance")) return test_rebalance();
    if (!strcmp(mode, "fatal")) return test_fatal();
    if (!strcmp(mode, "restart") && argc > 2) return test_restart(argv[2]);
    fprintf(stderr, "usage: test_stream basic|faults|restart KITE\n");
    return 2;
}
