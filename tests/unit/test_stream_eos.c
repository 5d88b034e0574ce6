/* guarantee=exactly_once on the in-process mock cluster: the abort path.
 *   test_stream_eos abort   N events in; the first TxnOffsetCommit answers ILLEGAL_GENERATION
 *                           (what a real cluster answers a member whose group moved on: seen
 *                           in the fault matrix's rolling restart), so the first transaction
 *                           aborts; kite must abort, rewind to the committed offsets and score
 *                           everything again in later transactions, then exit 0 with every
 *                           input answered. The mock writes no abort markers, so its readers
 *                           still see the aborted outputs: duplicates are expected here and
 *                           only counted; exactly once for read_committed readers is asserted
 *                           on the real cluster (kafka_fault_matrix_eos, stream_eos_kafka). */
#include <string.h>

#include <kite/config.h>
#include <kite/pipeline.h>
#include "stream_harness.h"

#define EOS_EVENTS 2000

enum { API_TXN_OFFSET_COMMIT = 28 };

static uint64_t metric(const char *text, const char *name)
{
    const char *p = text;
    size_t n = strlen(name);
    while ((p = strstr(p, name))) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return strtoull(p + n + 1, NULL, 10);
        p += n;
    }
    return UINT64_MAX;
}

static int test_abort(void)
{
    sh_world *w = sh_world_new();
    if (!w->broker) {
        fprintf(stderr, "test_stream_eos abort: mock cluster only (error injection)\n");
        return 1;
    }
    rd_kafka_t *p = sh_producer(w);
    sh_produce(w, p, 0, EOS_EVENTS, 0);
    CHECK(sh_read_inputs(w, EOS_EVENTS) == EOS_EVENTS);
    rd_kafka_mock_push_request_errors(kite_mock_broker_cluster(w->broker), API_TXN_OFFSET_COMMIT, 1,
                                      RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
    kite_config cfg;
    char err[512];
    kite_config_init(&cfg, err, sizeof err);
    const char *kv[][2] = {{"brokers", w->bootstrap}, {"model", "models/titanic.json"},
                           {"feature_spec", "models/titanic.spec.json"}, {"exit_on_eof", "true"},
                           {"metrics_addr", ""}, {"batch_size", "64"}, {"cores", "none"},
                           {"workers", "2"}, {"guarantee", "exactly_once"},
                           {"transaction_ms", "50"}, {"transactional_id", "test-eos-abort"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK(kite_config_set(&cfg, kv[i][0], kv[i][1], err, sizeof err) == KITE_ERR_OK);
    kite_config_set_kafka(&cfg, "consumer.session.timeout.ms=6000", err, sizeof err);
    kite_pipeline *pl = NULL;
    if (kite_pipeline_new(&cfg, &pl, err, sizeof err)) {
        fprintf(stderr, "pipeline: %s\n", err);
        return 1;
    }
    kite_config_free(&cfg);
    kite_err rc = kite_pipeline_run(pl, err, sizeof err);
    CHECK_MSG(rc == KITE_ERR_OK, "run: %s", err);
    kite_pipeline_totals t;
    kite_pipeline_totals_get(pl, &t);
    char *m = NULL;
    kite_pipeline_metrics_text(pl, &m);
    uint64_t commits = metric(m, "kite_transactions_committed_total");
    uint64_t aborts = metric(m, "kite_transactions_aborted_total");
    free(m);
    kite_pipeline_free(pl);
    printf("abort: consumed %llu of %d events (rewound ones again), transactions committed %llu, "
           "aborted %llu\n", (unsigned long long)t.ktl_consumed, EOS_EVENTS,
           (unsigned long long)commits, (unsigned long long)aborts);
    CHECK_MSG(aborts == 1, "one transaction aborted (%llu)", (unsigned long long)aborts);
    CHECK_MSG(commits >= 1 && commits != UINT64_MAX, "transactions committed after it (%llu)",
              (unsigned long long)commits);
    CHECK_MSG(t.ktl_consumed > EOS_EVENTS, "the aborted transaction's events were consumed again "
              "(%llu consumed)", (unsigned long long)t.ktl_consumed);
    sh_tally tally = sh_read_outputs(w);
    sh_check(w, &tally, "abort");
    rd_kafka_destroy(p);
    kite_mock_broker_free(w->broker);
    free(w);
    return kt_finish("test_stream_eos abort");
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "abort")) return test_abort();
    fprintf(stderr, "usage: test_stream_eos abort\n");
    return 2;
}
