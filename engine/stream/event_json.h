/* Private to kite_stream (engine/stream/), not installed.
 * kite_event_json: one Kafka event's top-level JSON fields, parsed straight from the payload into
 * a flat list (no tree, no allocation per event: the list and its text buffer belong to the
 * worker and grow only when an event needs more than any before it).
 *
 * It accepts exactly what cJSON 1.7 (cJSON_ParseWithLength, which kite used here before)
 * accepts, and gives the same values: its whitespace (any byte <= 32), a UTF-8 BOM, literals by
 * prefix, strings with cJSON's escapes (\uXXXX to UTF-8, surrogate pairs, a bad hex digit read
 * as 0), numbers as cJSON takes them (the run of [0-9+-.eE] after a '-' or digit, read by
 * strtod: "01" and "1." are numbers, "-inf" and ".5" are not), nesting up to
 * 1000, and any bytes after the first complete value ignored. Numbers go through the
 * locale-free parser (loaders/csv/include/kite/num.h): strtod's double, bit for bit, without cJSON's localeconv
 * per number. Nested objects and arrays are checked and skipped (their fields are not listed).
 * Why: cJSON's tree (one allocation and a strtod + localeconv per value) was ~11,400 of the
 * worker's ~26,200 instructions per Titanic event (bench/event_path_callgrind.sh). */
#ifndef KITE_EVENT_JSON_H
#define KITE_EVENT_JSON_H

#include <stddef.h>

typedef enum kite_ev_kind {
    KITE_EV_NUMBER,
    KITE_EV_TEXT,
    KITE_EV_TRUE,
    KITE_EV_FALSE,
    KITE_EV_NULL,
    KITE_EV_NESTED /* an object or an array */
} kite_ev_kind;

typedef struct kite_event_field {
    const char *ef_name;  /* unescaped, NUL-terminated (a \u0000 ends it, as in cJSON) */
    size_t ef_name_len;   /* strlen(ef_name)                                            */
    kite_ev_kind ef_kind;
    double ef_number;     /* KITE_EV_NUMBER                                             */
    const char *ef_text;  /* KITE_EV_TEXT: unescaped, NUL-terminated                    */
} kite_event_field;

typedef struct kite_event_json {
    kite_event_field *ej_fields; /* in payload order, duplicates kept               */
    int ej_nfields;
    int ej_is_object;            /* 0: valid JSON but not an object at the top        */
    int ej_cap;                  /* private: parse state and buffers                  */
    char *ej_text;
    size_t ej_text_cap;
    const unsigned char *ej_p, *ej_start, *ej_end;
    char *ej_out;
    size_t ej_depth;
} kite_event_json;

/* Parses payload[0..len) into ev (reusing its buffers). Returns 0, or -1 with *error_at the
 * byte offset where the input stopped making sense (also -1 when out of memory, with
 * *error_at = len). */
int kite__event_json_parse(kite_event_json *ev, const void *payload, size_t len, size_t *error_at);

/* The first field called name (cJSON_GetObjectItemCaseSensitive's choice), or NULL. */
const kite_event_field *kite__event_json_get(const kite_event_json *ev, const char *name);

void kite__event_json_free(kite_event_json *ev);

#endif
