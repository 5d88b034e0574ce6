#include <kite/mock_broker.h>

#include <stdlib.h>

struct kite_mock_broker {
    rd_kafka_t *mb_handle;   /* the mock cluster lives inside a client handle */
    rd_kafka_mock_cluster_t *mb_cluster;
};

kite_err kite_mock_broker_new(int nbrokers, kite_mock_broker **out, char *errstr,
                              size_t errstr_size)
{
    *out = NULL;
    char kerr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Keep the host handle quiet: it never connects anywhere itself. */
    rd_kafka_conf_set(conf, "log_level", "3", kerr, sizeof kerr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "mock broker: %s", kerr);
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        rd_kafka_destroy(rk);
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size,
                         "mock broker: cannot create a %d-broker cluster", nbrokers);
    }
    kite_mock_broker *b = calloc(1, sizeof *b);
    if (!b) {
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "mock broker");
    }
    b->mb_handle = rk;
    b->mb_cluster = mc;
    *out = b;
    return KITE_ERR_OK;
}

const char *kite_mock_broker_bootstrap(const kite_mock_broker *b)
{
    return rd_kafka_mock_cluster_bootstraps(b->mb_cluster);
}

rd_kafka_mock_cluster_t *kite_mock_broker_cluster(kite_mock_broker *b) { return b->mb_cluster; }

kite_err kite_mock_broker_create_topic(kite_mock_broker *b, const char *topic, int partitions,
                                       char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(b->mb_cluster, topic, partitions, 1);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        return kite_errf(KITE_ERR_KAFKA, errstr, errstr_size, "mock broker: topic %s: %s", topic,
                         rd_kafka_err2str(err));
    return KITE_ERR_OK;
}

void kite_mock_broker_free(kite_mock_broker *b)
{
    if (!b) return;
    rd_kafka_mock_cluster_destroy(b->mb_cluster);
    rd_kafka_destroy(b->mb_handle);
    free(b);
}
