/* Private to kite_stream (engine/stream/), not installed. guarantee=exactly_once (txn.c).
 * kite__txn_new validates guarantee and, for exactly_once, makes pl_txn; the two conf calls add
 * the transactional settings to the producer's and the consumer's configuration;
 * kite__txn_start initializes the producer and begins the first transaction (retrying while
 * the cluster is away, until stopped). Control thread only: kite__txn_tick commits the open
 * transaction every transaction_ms (parking the workers); kite__txn_finish, with the workers
 * parked or joined, commits it with the consumed offsets, or aborts it and rewinds to the
 * committed offsets, then begins the next one: 0 committed (or nothing to commit), 1 aborted
 * and rewound, -1 fatal (pl_fatal set). */
#ifndef KITE_STREAM_TXN_H
#define KITE_STREAM_TXN_H

#include "pipeline_int.h"

kite_err kite__txn_new(kite_pipeline *pl, char *errstr, size_t errstr_size);
void kite__txn_free(kite_pipeline *pl);
kite_err kite__txn_producer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                 size_t errstr_size);
kite_err kite__txn_consumer_conf(kite_pipeline *pl, rd_kafka_conf_t *conf, char *errstr,
                                 size_t errstr_size);
kite_err kite__txn_start(kite_pipeline *pl, char *errstr, size_t errstr_size);
void kite__txn_tick(kite_pipeline *pl);
int kite__txn_finish(kite_pipeline *pl);
/* Any thread: an output failed or was refused; the open transaction must abort. */
void kite__txn_failed(kite_pipeline *pl, rd_kafka_resp_err_t err);

#endif
