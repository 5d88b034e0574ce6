/* Replaying a CSV file as JSON events into a Kafka topic, as the seeds' producers do: one
 * event per row, {"column": value, ...} with numbers as JSON numbers (decimal commas turned
 * into points), missing markers as null, anything else as text; the key is a column's text. */
#ifndef KITE_REPLAY_H
#define KITE_REPLAY_H

#include <stddef.h>

#include "config.h"
#include "csv.h"
#include "kite_error.h"

typedef struct kite_replay_opts {
    const char *kro_path;
    kite_csv_options kro_csv;
    const char *kro_topic;
    const char *kro_key;        /* key column, NULL for no key                         */
    double kro_rate;            /* events per second, 0 = as fast as possible         */
    long kro_repeat;            /* times to replay the file (>= 1)                    */
    long kro_limit;             /* stop after this many events, 0 = no limit          */
    int kro_partition;          /* -1 = partitioner (by key)                          */
    const kite_config *kro_kafka; /* -X properties to apply (may be NULL)             */
} kite_replay_opts;

/* Produces the rows and waits for every delivery report; *produced = events acknowledged. */
kite_err kite_replay_csv(const char *brokers, const kite_replay_opts *o, size_t *produced,
                         char *errstr, size_t errstr_size);

/* Converts one row into JSON ({"col": ...}); returns the length, or 0 if it did not fit. */
size_t kite_replay_row_json(char *buf, size_t size, const kite_csv_options *csv,
                            char *const *names, char *const *fields, int nfields);

#endif
