/* kite produce: replays a CSV file as JSON events into a Kafka topic (engine/stream/include/kite/replay.h). */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <kite/clock.h>
#include <kite/config.h>
#include <kite/replay.h>

/* The signal that asked to stop (0: none). The replay reads it through kro_stop; a
 * lock-free atomic (asserted in engine/stream/replay.c) is safe to store from a handler. */
static _Atomic int64_t produce_stop_signal;

static void produce_on_signal(int sig)
{
    /* Relaxed: pairs with the replay's relaxed load; the flag carries no other data. */
    atomic_store_explicit(&produce_stop_signal, sig, memory_order_relaxed);
}

static void produce_usage(FILE *out)
{
    fprintf(out,
            "usage: kite produce --brokers B --topic T --input data.csv [options]\n\n"
            "Sends each CSV row as a JSON event ({\"column\": value, ...}; numbers as numbers,\n"
            "missing values as null) and waits for every delivery report.\n\n"
            "  -b, --brokers B        bootstrap servers (kite broker prints one)\n"
            "  -t, --topic T          topic\n"
            "  -i, --input FILE       CSV with a header row\n"
            "  -k, --key COLUMN       message key column (default: no key)\n"
            "  -r, --rate N           events per second (default: as fast as possible;\n"
            "                         the baselines' producers send 20/s)\n"
            "      --repeat N         replay the file N times (default 1)\n"
            "      --limit N          stop after N events\n"
            "  -p, --partition P      all events to partition P (default: by key)\n"
            "  -d, --delimiter C      --decimal-comma  --missing MARKER  (as kite score)\n"
            "  -X prop=value          librdkafka producer property\n"
            "  -q, --quiet            no summary line\n\n"
            "SIGINT/SIGTERM: stop sending, wait (5 s at most) for the delivery reports of\n"
            "what was sent, print the summary, exit 0.\n");
}

int kite__cmd_produce(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, 'b'}, {"topic", required_argument, 0, 't'},
        {"input", required_argument, 0, 'i'},   {"key", required_argument, 0, 'k'},
        {"rate", required_argument, 0, 'r'},    {"repeat", required_argument, 0, 'R'},
        {"limit", required_argument, 0, 'L'},   {"partition", required_argument, 0, 'p'},
        KITE_CLI_CSV_LONGOPTS,                  {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    kite_replay_opts o = {0};
    o.kro_csv = KITE_CSV_OPTIONS_DEFAULT;
    o.kro_repeat = 1;
    o.kro_partition = -1;
    const char *brokers = NULL;
    int quiet = 0, c, rc = KITE_EXIT_USAGE;
    char err[512];
    kite_config kafka;
    kite_config_init(&kafka, err, sizeof err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:t:i:k:r:p:d:X:qh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'b': brokers = optarg; break;
        case 't': o.kro_topic = optarg; break;
        case 'i': o.kro_path = optarg; break;
        case 'k': o.kro_key = optarg; break;
        case 'r':
            o.kro_rate = strtod(optarg, &end);
            if (*end || o.kro_rate < 0) goto bad_number;
            break;
        case 'R':
            o.kro_repeat = strtol(optarg, &end, 10);
            if (*end || o.kro_repeat < 1) goto bad_number;
            break;
        case 'L':
            o.kro_limit = strtol(optarg, &end, 10);
            if (*end || o.kro_limit < 0) goto bad_number;
            break;
        case 'p':
            o.kro_partition = (int)strtol(optarg, &end, 10);
            if (*end || o.kro_partition < 0) goto bad_number;
            break;
        case 'd':
        case KITE_CLI_OPT_DECIMAL_COMMA:
        case KITE_CLI_OPT_MISSING:
            if (kite_cli_csv_option("produce", "", c, optarg, &o.kro_csv)) goto out;
            break;
        case 'X':
            if (kite_config_set_kafka(&kafka, optarg, err, sizeof err)) {
                fprintf(stderr, "kite produce: %s\n", err);
                goto out;
            }
            break;
        case 'q': quiet = 1; break;
        case 'h':
            produce_usage(stdout);
            rc = KITE_EXIT_OK;
            goto out;
        default: produce_usage(stderr); goto out;
        }
        continue;
    bad_number:
        fprintf(stderr, "kite produce: \"%s\" is not a valid number here\n", optarg);
        goto out;
    }
    if (!brokers || !o.kro_topic || !o.kro_path) {
        fprintf(stderr, "kite produce: --brokers, --topic and --input are required "
                        "(kite broker starts a broker and prints its address)\n");
        goto out;
    }
    o.kro_kafka = &kafka;
    o.kro_stop = &produce_stop_signal;
    struct sigaction sa = {0};
    sa.sa_handler = produce_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    size_t produced = 0;
    double t0 = kite_clock_mono_s();
    kite_err perr = kite_replay_csv(brokers, &o, &produced, err, sizeof err);
    double secs = kite_clock_mono_s() - t0;
    int64_t sig = atomic_load_explicit(&produce_stop_signal, memory_order_relaxed);
    if (perr) {
        /* The count still matters after a failure: that many events are in the topic. */
        fprintf(stderr, "kite produce: %s (%zu events delivered)\n", err, produced);
        rc = KITE_EXIT_ERROR;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "kite produce: %zu events to %s in %.3f s (%.0f events/s)%s%s\n",
                produced, o.kro_topic, secs, secs > 0 ? (double)produced / secs : 0.0,
                sig ? ", stopped by " : "",
                sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "");
    rc = KITE_EXIT_OK;
out:
    kite_config_free(&kafka);
    return rc;
}
