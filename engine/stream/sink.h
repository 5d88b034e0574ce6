/* Private to kite_stream (engine/stream/), not installed. The output side (sink.c): one
 * idempotent (or transactional) producer shared by every worker, and the delivery thread that
 * hands each delivery report's tag back to the worker that owns the event (acks.c applies it). */
#ifndef KITE_STREAM_SINK_H
#define KITE_STREAM_SINK_H

#include "pipeline_int.h"

/* Creates the producer and its topics and starts the delivery thread; on failure what was
 * made stays in pl->pl_sink for kite__sink_stop to free. */
kite_err kite__sink_start(kite_pipeline *pl, char *errstr, size_t errstr_size);
/* Produces one output; on __QUEUE_FULL applies the worker's acks and retries.
 * Returns 0, or -1 when the pipeline is stopping fatally (or, exactly_once, when the open
 * transaction refused it and will abort). */
int kite__sink_produce(kite_worker *w, rd_kafka_topic_t *rkt, const void *key, size_t key_len,
                       const char *payload, size_t len, int64_t ts_ms, uint64_t tag);
/* Stops the delivery thread and frees the producer, its topics and the retry queue. */
void kite__sink_stop(kite_pipeline *pl);

#endif
