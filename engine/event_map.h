/* kite_event_map: turns one parsed JSON event into the model's feature row.
 *
 * Today's backend maps JSON fields to the model's feature_names by name (numbers as they are,
 * true/false as 1/0, null or absent as missing, text through the `encode` table or parsed as a
 * number). When the feature pipeline (engine/features.h) lands, a second backend drives
 * kite_features_update from the spec's inputs; callers see only this interface. */
#ifndef KITE_EVENT_MAP_H
#define KITE_EVENT_MAP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "kite_error.h"
#include "model.h"

typedef struct kite_event_map kite_event_map;

/* encode: "Field=text:value,text:value;Field2=..." (may be NULL or ""). */
kite_err kite_event_map_new(const kite_model *model, const char *encode, kite_event_map **out,
                            char *errstr, size_t errstr_size);
void kite_event_map_free(kite_event_map *m);

int kite_event_map_num_features(const kite_event_map *m);

/* Fills row (num_features floats, NaN = missing) from a JSON object. *missing receives the
 * number of missing values, *warming_up 1 while the event's key is warming up. Returns non-OK
 * with a one-line reason (for the dead-letter record) when the event cannot be featurized. */
kite_err kite_event_map_row(const kite_event_map *m, const cJSON *event, float *row, int *missing,
                            int *warming_up, char *errstr, size_t errstr_size);

#endif
