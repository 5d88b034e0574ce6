/* Private to kite_stream (engine/stream/), not installed. The rebalance sequence
 * (pipeline_rebalance.c), given to the source as its callback. */
#ifndef KITE_STREAM_PIPELINE_REBALANCE_H
#define KITE_STREAM_PIPELINE_REBALANCE_H

#include "pipeline_int.h"

/* librdkafka's rebalance callback, on the control thread (opaque: the kite_pipeline). */
void kite__pipeline_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts, void *opaque);

#endif
