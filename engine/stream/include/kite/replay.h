/* Replaying a CSV file as JSON events into a Kafka topic, as the producers of the Python
 * pipelines kite replaces do: one
 * event per row, {"column": value, ...} with numbers as JSON numbers (decimal commas turned
 * into points), missing markers as null, anything else as text; the key is a column's text. */
#ifndef KITE_REPLAY_H
#define KITE_REPLAY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <kite/config.h>
#include <kite/csv.h>
#include <kite/error.h>

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
    /* Stop request, NULL for none: the caller (a signal handler, another thread) stores a
     * non-zero value; the replay reads it (relaxed: it publishes no data) before every row,
     * every millisecond of a --rate wait and while waiting for delivery reports. Once set,
     * nothing more is produced, what was produced gets KITE_REPLAY_STOP_FLUSH_MS to be
     * acknowledged, the rest is purged (and counted as not delivered). 64 bits so a caller's
     * flag may carry more than a bit (kite serve keeps the first signal's time in one);
     * lock-free on every target kite builds for (static assertion in replay.c), so a signal
     * handler may store into it. */
    const _Atomic int64_t *kro_stop;
} kite_replay_opts;

/* How long a stopped replay still waits for delivery reports of events already produced:
 * on a live broker they come within linger.ms plus a round trip, so 5 s is generous, and a
 * dead broker cannot hold a SIGTERM for librdkafka's message.timeout.ms (300 s). */
#define KITE_REPLAY_STOP_FLUSH_MS 5000

/* Produces the rows and waits for every delivery report; *produced = events acknowledged.
 * A stop request (kro_stop) is not an error: KITE_ERR_OK with the events acknowledged so
 * far, unless some produced event was not delivered. */
kite_err kite_replay_csv(const char *brokers, const kite_replay_opts *o, size_t *produced,
                         char *errstr, size_t errstr_size);

/* Converts one row into JSON ({"col": ...}); returns the length, or 0 if it did not fit. */
size_t kite_replay_row_json(char *buf, size_t size, const kite_csv_options *csv,
                            char *const *names, char *const *fields, int nfields);

#endif
