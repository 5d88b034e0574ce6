/* Private to kite_stream (engine/stream/), not installed. The input side (source.c): a
 * consumer group member whose partitions each get their own librdkafka queue, forwarded to one
 * worker's queue. The rebalance sequence is the pipeline's (pipeline_rebalance.c), passed in. */
#ifndef KITE_STREAM_SOURCE_H
#define KITE_STREAM_SOURCE_H

#include "pipeline_int.h"

typedef void kite__source_rebalance_fn(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Creates the consumer (its rebalances call on_rebalance with pl as opaque, on the thread that
 * polls the consumer) and subscribes to the configured topics. */
kite_err kite__source_start(kite_pipeline *pl, kite__source_rebalance_fn *on_rebalance,
                            char *errstr, size_t errstr_size);
/* Forwards (assign = 1) or unforwards each partition's queue to its worker's queue. */
void kite__source_forward(kite_pipeline *pl, const rd_kafka_topic_partition_list_t *parts,
                          int assign);
/* Applies an assignment change (incremental under a cooperative protocol); returns the
 * partitions assigned afterwards. */
int kite__source_apply(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int assign);
/* Leaves the group (unsubscribe, serve the revoke until nothing is assigned, then close), drops
 * the windows and frees the consumer and the workers' queues. */
void kite__source_close(kite_pipeline *pl);

#endif
