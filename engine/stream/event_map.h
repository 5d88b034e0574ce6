/* Private to kite_stream (engine/stream/), not installed.
 * kite_event_map: turns one parsed JSON event into the model's feature row.
 *
 * Two backends behind one interface:
 *   spec    (feature_spec set) JSON fields are the spec's raw inputs, by name; a per-worker
 *           kite_feature_state (engine/features/include/kite/feature_state.h) keeps each stream key's state and computes
 *           the features, so the stream sees exactly what `kite featurize` and training saw.
 *   direct  (no spec) JSON fields map to the model's feature_names by name: numbers as they
 *           are, true/false as 1/0, null or absent as missing, text through the `encode` table
 *           or parsed as a number.
 * One pass over the event's fields with a hash of the names finds each field in O(1). */
#ifndef KITE_EVENT_MAP_H
#define KITE_EVENT_MAP_H

#include <stddef.h>

#include "event_json.h"
#include <kite/error.h>
#include <kite/model.h>

typedef struct kite_event_map kite_event_map;

typedef struct kite_event_state kite_event_state; /* per worker: one thread at a time */

/* spec_path: a feature spec (checked against the model), or NULL/"" for the direct mapping with
 * encode: "Field=text:value,text:value;Field2=..." (may be NULL or ""). */
kite_err kite__event_map_new(const kite_model *model, const char *spec_path, const char *encode,
                            kite_event_map **out, char *errstr, size_t errstr_size);
void kite__event_map_free(kite_event_map *m);

/* Per-worker state: the feature state of every key this worker sees (with a spec) and the
 * scratch that finds a field given twice (both mappings); NULL-safe free. */
kite_err kite__event_state_new(const kite_event_map *m, kite_event_state **out, char *errstr,
                              size_t errstr_size);
void kite__event_state_free(kite_event_state *s);

int kite__event_map_num_features(const kite_event_map *m);

/* Parses one event's bytes into ev (reusing its buffers) as the Kafka path takes them. Returns
 * OK, or non-OK with the dead letter's one-line reason: "empty event", "malformed JSON near byte
 * N", "out of memory parsing the event". */
kite_err kite__event_map_parse(kite_event_json *ev, const void *payload, size_t len, char *errstr,
                              size_t errstr_size);

/* 1 when a key's features depend on its earlier events (lags, windows, warm-up, event-time
 * order), so a stream's state must be rebuilt from its log; 0 for the direct mapping and
 * specs whose features are each event's own. */
int kite__event_map_keeps_state(const kite_event_map *m);
/* Keys evicted from s so far ("when_full": "evict"); 0 for NULL. */
unsigned long long kite__event_state_evicted(const kite_event_state *s);

/* Fills row (num_features floats, NaN = missing) from a parsed event (engine/stream/event_json.h).
 * *missing receives the number of missing values, *warming_up 1 while the event's key is
 * warming up. Returns non-OK with a one-line reason (for the dead-letter record) when the event
 * cannot be featurized: a field it reads given twice, a number (or number text) beyond float32
 * or a computed feature beyond it, text that is not a number, a nested value; the same classes
 * HTTP /predict and `kite score` refuse (docs/bad-input.md). Fields it does not read are
 * ignored; an absent one is a missing value. s: this thread's state (NULL is allowed for the
 * direct mapping, at the cost of a scratch allocation per event). */
kite_err kite__event_map_row(const kite_event_map *m, kite_event_state *s,
                            const kite_event_json *event, float *row, int *missing,
                            int *warming_up, char *errstr, size_t errstr_size);

#endif
