/* Private to kite_stream (engine/stream/), not installed. A worker thread (worker.c): consumes
 * its partitions' queue in batches, maps, scores and produces. */
#ifndef KITE_STREAM_WORKER_H
#define KITE_STREAM_WORKER_H

#include "pipeline_int.h"

/* The thread's body (arg: its kite_worker). */
void *kite__worker_main(void *arg);

#endif
