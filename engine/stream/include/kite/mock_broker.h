/* The embedded broker: librdkafka's mock cluster, in-process, reachable over loopback by any
 * Kafka client (kcat, other kite processes). Facts that bite (librdkafka 2.0.2): the first
 * group join waits ~3 s; a partition keeps at most 5 MiB / 100,000 message sets; mixing range
 * and cooperative-sticky group members aborts the process. */
#ifndef KITE_MOCK_BROKER_H
#define KITE_MOCK_BROKER_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <kite/error.h>

typedef struct kite_mock_broker kite_mock_broker;

kite_err kite_mock_broker_new(int nbrokers, kite_mock_broker **out, char *errstr,
                              size_t errstr_size);
const char *kite_mock_broker_bootstrap(const kite_mock_broker *b);
rd_kafka_mock_cluster_t *kite_mock_broker_cluster(kite_mock_broker *b);
/* Creates topic with partitions (replication factor 1); an existing topic is left alone. */
kite_err kite_mock_broker_create_topic(kite_mock_broker *b, const char *topic, int partitions,
                                       char *errstr, size_t errstr_size);
void kite_mock_broker_free(kite_mock_broker *b);

#endif
