/* Private to kite_stream (engine/stream/), not installed. The first fatal error of a pipeline
 * (pipeline_fatal.c; the state is kite_pipeline_fatal in pipeline_int.h). */
#ifndef KITE_STREAM_PIPELINE_FATAL_H
#define KITE_STREAM_PIPELINE_FATAL_H

#include "pipeline_int.h"

/* Any thread: records a fatal error; the first caller's reason is kept (printf-style) and
 * published with pf_set (release; pairs with the acquire loads in the control loop and
 * /health). */
__attribute__((format(printf, 2, 3))) void kite__pipeline_fatal(kite_pipeline *pl, const char *fmt,
                                                                 ...);
/* librdkafka's error callback of the consumer (side "consumer") and the producer ("producer"):
 * counts the error in st, records a fatal one, logs one line. */
void kite__pipeline_kafka_error(kite_pipeline *pl, kite_stats_block *st, const char *side,
                                rd_kafka_t *rk, int err, const char *reason);
/* Any thread: 1 once a fatal error was recorded (acquire: its reason is then readable). */
int kite__pipeline_fatal_set(kite_pipeline *pl);

#endif
