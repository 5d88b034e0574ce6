/* kite capacity: the capacity planner. Measures what one core of this machine does with the
 * user's own model, feature spec and events (the real pipeline: Kafka consume, parse, features,
 * score, produce, delivery reports, offset commits, on the embedded broker), then turns a target
 * event rate into cores, Kafka partitions and instances.
 *
 * The measurement is kite serve's: events preloaded into a one-partition topic, one worker
 * pinned to a core drains them (exit_on_eof), and the process CPU (user + sys, all threads) from
 * the first event to the final commit is divided by the events. The embedded broker runs inside
 * this process, so its CPU is counted too: the figure is an upper bound for a real cluster, where
 * the broker runs elsewhere. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "mock_broker.h"
#include "pipeline.h"
#include "replay.h"

#define CAPACITY_TOPIC "capacity-events"
#define CAPACITY "kite capacity" /* prefix of usage errors */

static void capacity_usage(FILE *out)
{
    fprintf(out,
            "usage: kite capacity --model M --input events.csv --rate EVENTS_PER_S [options]\n\n"
            "Measures the CPU one event costs on this machine, end to end through the Kafka\n"
            "pipeline (embedded broker; your model, spec and events), and plans for a rate:\n"
            "cores, partitions and instances.\n\n"
            "  -m, --model FILE           XGBoost model (.json or .ubj)\n"
            "  -s, --spec FILE            feature spec (raw events); default: fields by the\n"
            "                             model's feature_names\n"
            "  -i, --input FILE           CSV of sample events (replayed as JSON events)\n"
            "  -k, --key COLUMN           event key column (stream key for the spec's state)\n"
            "  -r, --rate N               target events per second to plan for\n"
            "      --events N             events to measure with (default 20000; the input is\n"
            "                             repeated to reach it)\n"
            "      --headroom F           share of each core kept free (default 0.3)\n"
            "      --cores-per-instance N cores of one kite serve instance (default 4)\n"
            "      --batch-size N         kite serve's batch_size (default 256)\n"
            "      --drift-profile FILE   measure with drift monitoring on\n"
            "      --brokers B            measure on this Kafka cluster instead of the embedded\n"
            "                             broker (topic capacity-events, partition 0; group\n"
            "                             kite-capacity resumes where its last run committed)\n"
            "  -d, --delimiter C  --decimal-comma  --missing MARKER   (as kite score)\n"
            "      --json                 the plan as one JSON line on stdout (README \"Exit codes\n"
            "                             and --json\"; a failure too: ok false, error)\n"
            "  -h, --help                 this text\n\n"
            "Exit status: 0 ok, 1 the measurement failed, 2 usage error.\n");
}

typedef struct capacity_opts {
    const char *model, *spec, *input, *key, *drift_profile, *brokers;
    double rate, headroom;
    long events, cores_per_instance, batch_size;
    kite_csv_options csv;
    int json;
} capacity_opts;

static int capacity_parse(int argc, char **argv, capacity_opts *o)
{
    enum { OPT_EVENTS = 256, OPT_HEAD, OPT_CPI, OPT_BATCH, OPT_DRIFT, OPT_DC, OPT_MISSING, OPT_JSON,
           OPT_BROKERS };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"spec", required_argument, 0, 's'},
        {"input", required_argument, 0, 'i'}, {"key", required_argument, 0, 'k'},
        {"rate", required_argument, 0, 'r'}, {"events", required_argument, 0, OPT_EVENTS},
        {"headroom", required_argument, 0, OPT_HEAD},
        {"cores-per-instance", required_argument, 0, OPT_CPI},
        {"batch-size", required_argument, 0, OPT_BATCH},
        {"drift-profile", required_argument, 0, OPT_DRIFT},
        {"brokers", required_argument, 0, OPT_BROKERS},
        {"delimiter", required_argument, 0, 'd'}, {"decimal-comma", no_argument, 0, OPT_DC},
        {"missing", required_argument, 0, OPT_MISSING}, {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (capacity_opts){.headroom = 0.3, .events = 20000, .cores_per_instance = 4,
                         .batch_size = 256, .csv = KITE_CSV_OPTIONS_DEFAULT};
    double v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:s:i:k:r:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 's': o->spec = optarg; break;
        case 'i': o->input = optarg; break;
        case 'k': o->key = optarg; break;
        case 'r':
            if (kite_cli_number(CAPACITY, "--rate", optarg, 1e-3, 1e12, &o->rate)) return -1;
            break;
        case OPT_EVENTS:
            if (kite_cli_number(CAPACITY, "--events", optarg, 100, 10000000, &v)) return -1;
            o->events = (long)v;
            break;
        case OPT_HEAD:
            if (kite_cli_number(CAPACITY, "--headroom", optarg, 0, 0.95, &o->headroom)) return -1;
            break;
        case OPT_CPI:
            if (kite_cli_number(CAPACITY, "--cores-per-instance", optarg, 1, 1024, &v)) return -1;
            o->cores_per_instance = (long)v;
            break;
        case OPT_BATCH:
            if (kite_cli_number(CAPACITY, "--batch-size", optarg, 1, 65536, &v)) return -1;
            o->batch_size = (long)v;
            break;
        case OPT_DRIFT: o->drift_profile = optarg; break;
        case OPT_BROKERS: o->brokers = optarg; break;
        case 'd':
            if (!(o->csv.kco_delimiter = kite_cli_delimiter(optarg))) {
                fprintf(stderr, "kite capacity: --delimiter: '%s' is not one character\n", optarg);
                return -1;
            }
            break;
        case OPT_DC: o->csv.kco_decimal_comma = 1; break;
        case OPT_MISSING: o->csv.kco_missing = optarg; break;
        case OPT_JSON: o->json = 1; break;
        case 'h': capacity_usage(stdout); return 1;
        default: capacity_usage(stderr); return -1;
        }
    }
    if (optind < argc || !o->model || !o->input || !(o->rate > 0)) {
        fprintf(stderr, "kite capacity: %s\n", optind < argc ? "unexpected argument"
                                               : "--model, --input and --rate are required");
        capacity_usage(stderr);
        return -1;
    }
    return 0;
}

/* Drains the preloaded topic with one pinned worker; fills *t. */
static int capacity_measure(const capacity_opts *o, const char *brokers, kite_pipeline_totals *t)
{
    kite_config cfg;
    char err[600], batch[32];
    if (kite_config_init(&cfg, err, sizeof err)) {
        fprintf(stderr, "kite capacity: %s\n", err);
        return -1;
    }
    snprintf(batch, sizeof batch, "%ld", o->batch_size);
    const char *kv[][2] = {{"brokers", brokers}, {"topics", CAPACITY_TOPIC}, {"model", o->model},
                           {"feature_spec", o->spec ? o->spec : ""}, {"exit_on_eof", "true"},
                           {"metrics_addr", ""}, {"workers", "1"}, {"cores", "auto"},
                           {"batch_size", batch}, {"group_id", "kite-capacity"},
                           {"drift_profile", o->drift_profile ? o->drift_profile : ""}};
    int rc = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !rc; i++)
        if (kite_config_set(&cfg, kv[i][0], kv[i][1], err, sizeof err)) rc = -1;
    /* The embedded broker's first group join waits ~3 s; a short session keeps a rerun quick. */
    if (!rc && kite_config_set_kafka(&cfg, "consumer.session.timeout.ms=6000", err, sizeof err)) rc = -1;
    kite_pipeline *pl = NULL;
    if (!rc && kite_pipeline_new(&cfg, &pl, err, sizeof err)) rc = -1;
    if (!rc && kite_pipeline_run(pl, err, sizeof err)) rc = -1;
    if (rc)
        fprintf(stderr, "kite capacity: %s\n", err);
    else
        kite_pipeline_totals_get(pl, t);
    kite_pipeline_free(pl);
    kite_config_free(&cfg);
    return rc;
}

int kite_cmd_capacity(int argc, char **argv)
{
    capacity_opts o;
    int p = capacity_parse(argc, argv, &o);
    if (p) return p > 0 ? KITE_EXIT_OK : KITE_EXIT_USAGE;

    /* Files first: a typo should cost a line, not a broker start and a group join. */
    const char *files[] = {o.model, o.spec, o.input, o.drift_profile};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        FILE *fp = files[i] ? fopen(files[i], "rb") : NULL;
        if (files[i] && !fp) {
            fprintf(stderr, "kite capacity: %s: %s\n", files[i], strerror(errno));
            return KITE_EXIT_ERROR;
        }
        if (fp) fclose(fp);
    }
    char err[600];
    kite_mock_broker *broker = NULL;
    if (!o.brokers && (kite_mock_broker_new(1, &broker, err, sizeof err) ||
                       kite_mock_broker_create_topic(broker, CAPACITY_TOPIC, 1, err, sizeof err))) {
        fprintf(stderr, "kite capacity: %s\n", err);
        kite_mock_broker_free(broker);
        return KITE_EXIT_ERROR;
    }
    /* On a real cluster the group resumes at its last commit: the drain takes exactly the events
     * this run appended (partition 0), whatever earlier runs left in the topic. */
    const char *brokers = o.brokers ? o.brokers : kite_mock_broker_bootstrap(broker);
    /* Preload first, so the drain measures consuming alone, not the replay beside it. */
    kite_replay_opts ro = {.kro_path = o.input, .kro_csv = o.csv, .kro_topic = CAPACITY_TOPIC,
                           .kro_key = o.key, .kro_repeat = 1000000, .kro_limit = o.events,
                           .kro_partition = 0};
    size_t produced = 0;
    if (!o.json) fprintf(stderr, "kite capacity: loading %ld events from %s\n", o.events, o.input);
    if (kite_replay_csv(brokers, &ro, &produced, err, sizeof err) || produced == 0) {
        fprintf(stderr, "kite capacity: %s\n", produced ? err : "no events loaded from the input");
        kite_mock_broker_free(broker);
        return KITE_EXIT_ERROR;
    }
    kite_pipeline_totals t = {0};
    int rc = capacity_measure(&o, brokers, &t);
    kite_mock_broker_free(broker);
    if (rc) return KITE_EXIT_ERROR;
    if (!(t.kpt_cpu_us_per_event > 0) || t.kpt_consumed == 0) {
        fprintf(stderr, "kite capacity: the drain measured no CPU time (%llu events)\n",
                (unsigned long long)t.kpt_consumed);
        return KITE_EXIT_ERROR;
    }

    /* The plan: a core at (1 - headroom) of its measured rate; one worker per core; at least
     * one partition per worker, so a whole group of instances can use every core. */
    double per_core = 1e6 / t.kpt_cpu_us_per_event;
    double usable = per_core * (1.0 - o.headroom);
    long cores = (long)ceil(o.rate / usable);
    long instances = (cores + o.cores_per_instance - 1) / o.cores_per_instance;
    long workers = instances * o.cores_per_instance;
    long partitions = workers;
    double load = o.rate / ((double)workers * per_core);
    if (o.json) {
        kite_cli_json_result("capacity", KITE_EXIT_OK, "\"events_measured\": %llu, \"dead_letters\": %llu, \"cpu_us_per_event\": %.3f, "
               "\"drift_us_per_event\": %.3f, \"events_per_core_second\": %.0f, \"headroom\": %.3f, "
               "\"usable_events_per_core_second\": %.0f, \"rate\": %.0f, \"cores\": %ld, "
               "\"cores_per_instance\": %ld, \"instances\": %ld, \"partitions\": %ld, "
               "\"core_load\": %.3f",
               (unsigned long long)t.kpt_consumed, (unsigned long long)t.kpt_dead_letters,
               t.kpt_cpu_us_per_event, t.kpt_drift_us_per_event, per_core, o.headroom, usable,
               o.rate, cores, o.cores_per_instance, instances, partitions, load);
        return KITE_EXIT_OK;
    }
    printf("== kite capacity: %s%s%s ==\n", o.model, o.spec ? " + " : "", o.spec ? o.spec : "");
    printf("measured               %llu events (%llu dead letters) through one pinned worker\n",
           (unsigned long long)t.kpt_consumed, (unsigned long long)t.kpt_dead_letters);
    printf("cpu per event          %.2f us (process CPU%s)\n", t.kpt_cpu_us_per_event,
           o.brokers ? "; the brokers' CPU is theirs" : " incl. the embedded broker: an upper bound");
    if (t.kpt_drift_us_per_event > 0)
        printf("  of which drift       %.3f us\n", t.kpt_drift_us_per_event);
    printf("one core               %.0f events/s at 100%%, %.0f at %.0f%% (headroom %.2f)\n",
           per_core, usable, 100.0 * (1.0 - o.headroom), o.headroom);
    printf("for %.0f events/s:\n", o.rate);
    printf("  cores                %ld\n", cores);
    printf("  instances            %ld of %ld cores (kite serve --workers %ld, one consumer group)\n",
           instances, o.cores_per_instance, o.cores_per_instance);
    printf("  partitions           >= %ld (one per worker, so every core has work)\n", partitions);
    printf("  core load            %.0f%% of the %ld workers' cores at that rate\n", 100.0 * load,
           workers);
    return KITE_EXIT_OK;
}
