/* Private to kite_stream (engine/stream/), not installed. The output records (output.c): JSON
 * of each output into w->kw_out; each returns the length. */
#ifndef KITE_STREAM_OUTPUT_H
#define KITE_STREAM_OUTPUT_H

#include "pipeline_int.h"

size_t kite__output_prediction(kite_worker *w, const rd_kafka_message_t *m, const float *pred,
                               const float *margin, int warming_up, int64_t now_ms);
size_t kite__output_alert(kite_worker *w, const rd_kafka_message_t *m, float pred);
size_t kite__output_dead_letter(kite_worker *w, const rd_kafka_message_t *m, const char *reason);
size_t kite__output_text(kite_worker *w, const char *text); /* a drift event's JSON as is */
size_t kite__output_shadow(kite_worker *w, const rd_kafka_message_t *m, const kite_served *shadow,
                           float shadow_pred, float serving_pred);

#endif
