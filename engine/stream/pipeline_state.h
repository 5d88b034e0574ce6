/* Private to kite_stream (engine/stream/), not installed. Feature state per partition
 * (pipeline_state.c), rebuilt from the partition's log on its first event (the file's top
 * comment says how and why). */
#ifndef KITE_STREAM_PIPELINE_STATE_H
#define KITE_STREAM_PIPELINE_STATE_H

#include "pipeline_int.h"

typedef struct kite_pstate kite_pstate;
kite_err kite__pstate_new(kite_worker *w, char *errstr, size_t errstr_size);
void kite__pstate_free(kite_worker *w);
/* Workers parked (or the worker itself): drops window pslot's state / every state. */
void kite__pstate_drop(kite_worker *w, int pslot);
void kite__pstate_drop_all(kite_worker *w);
/* The worker, between batches: closes the log-reading consumer once no rebuild has used it
 * for a while (a steady stream holds no connections or buffers for rebuilds). */
void kite__pstate_idle(kite_worker *w);
/* kite__event_map_row with the state of m's partition (window pslot), rebuilt first if the
 * partition has none yet. *stopping = 1 when the pipeline stopped during the rebuild: the
 * event must then be left unconsumed (no output, no completion). */
kite_err kite__pstate_row(kite_worker *w, int pslot, const rd_kafka_message_t *m,
                          const kite_event_json *event, float *row, int *missing, int *warming,
                          int *stopping, char *errstr, size_t errstr_size);

#endif
