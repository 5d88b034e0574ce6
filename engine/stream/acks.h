/* Private to kite_stream (engine/stream/), not installed. The ack path (acks.c): delivery tags
 * applied to the partitions' windows, offsets stored, waiting until every output is
 * acknowledged, windows dropped. Used by the source, the sink, the workers, the transactions
 * and the rebalance; calls none of them. */
#ifndef KITE_STREAM_ACKS_H
#define KITE_STREAM_ACKS_H

#include "pipeline_int.h"

/* The worker itself, or the control thread with the workers parked: applies the delivery tags
 * waiting in w's ring (latency observed for predictions), then stores offsets and publishes
 * progress if any came; returns how many. */
size_t kite__acks_apply(kite_worker *w);
/* Stores, for every window of w, the offset after the last event completed in order
 * (at_least_once; exactly_once sends offsets in transactions instead). */
void kite__acks_store_offsets(kite_worker *w);
/* Publishes w's partitions at EOF and events in flight for the control thread (exit_on_eof). */
void kite__acks_publish_progress(kite_worker *w);
/* Control thread, workers parked or joined: applies every worker's waiting tags. */
void kite__acks_drain_all(kite_pipeline *pl);
/* Workers parked or joined: waits until every output has a delivery report (or timeout_ms
 * passes, or a fatal error makes it hopeless), applying tags meanwhile so no ring fills;
 * 0 when empty, -1 otherwise. */
int kite__acks_wait_empty(kite_pipeline *pl, int timeout_ms);
/* Workers parked or joined: drops every worker's windows and their partitions' feature state. */
void kite__acks_drop_windows(kite_pipeline *pl);

#endif
