/* kite capacity: the capacity planner. Measures what one core of this machine does with the
 * user's own model, feature spec and events (the real pipeline: Kafka consume, parse, features,
 * score, produce, delivery reports, offset commits), then turns a target event rate into cores,
 * Kafka partitions and instances.
 *
 * Two measurements. The drain: events preloaded into a one-partition topic, one worker pinned
 * to a core drains them (exit_on_eof), and the process CPU (user + sys, all threads) from the
 * first event to the final commit is divided by the events. On the embedded broker its CPU is
 * counted too: an upper bound for a real cluster. The sweep (capacity_sweep.c; on by default
 * with --brokers): load offered at rising rates by a separate producer process, p50/p99/p99.9
 * latency per rate, and the knee where p99 leaves its floor; the plan then also needs enough
 * workers that none is offered more than the knee. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capacity.h"
#include "cli.h"
#include <kite/config.h>
#include <kite/mock_broker.h>
#include <kite/pipeline.h>
#include <kite/replay.h>

#define CAPACITY_TOPIC KITE__CAPACITY_TOPIC
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
            "      --sweep / --no-sweep   the latency sweep (default: on with --brokers): load\n"
            "                             from a separate kite produce at rising rates, p50/p99/\n"
            "                             p99.9 per rate, the knee where p99 leaves its floor\n"
            "      --sweep-max N          top rate (default 1.2 x the drain's events/s)\n"
            "      --sweep-steps N        rates N equal steps up to the top (default 6)\n"
            "      --step-seconds S       load at each rate for S seconds (default 5)\n"
            "      --knee-factor F        off the floor: p99 > F x floor + 1 ms (default 2)\n"
            "      --plot FILE            the curve as an SVG file (needs the sweep)\n"
            "  -d, --delimiter C  --decimal-comma  --missing MARKER   (as kite score)\n"
            "      --json                 the plan as one JSON line on stdout (README \"Exit codes\n"
            "                             and --json\"; a failure too: ok false, error)\n"
            "  -h, --help                 this text\n\n"
            "Exit status: 0 ok, 1 the measurement failed, 2 usage error.\n");
}

static int capacity_parse(int argc, char **argv, kite__capacity_opts *o)
{
    enum { OPT_EVENTS = 256, OPT_HEAD, OPT_CPI, OPT_BATCH, OPT_DRIFT, OPT_JSON,
           OPT_BROKERS, OPT_SWEEP, OPT_NO_SWEEP, OPT_SWEEP_MAX, OPT_SWEEP_STEPS, OPT_STEP_S,
           OPT_KNEE, OPT_PLOT };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"spec", required_argument, 0, 's'},
        {"input", required_argument, 0, 'i'}, {"key", required_argument, 0, 'k'},
        {"rate", required_argument, 0, 'r'}, {"events", required_argument, 0, OPT_EVENTS},
        {"headroom", required_argument, 0, OPT_HEAD},
        {"cores-per-instance", required_argument, 0, OPT_CPI},
        {"batch-size", required_argument, 0, OPT_BATCH},
        {"drift-profile", required_argument, 0, OPT_DRIFT},
        {"brokers", required_argument, 0, OPT_BROKERS},
        {"sweep", no_argument, 0, OPT_SWEEP}, {"no-sweep", no_argument, 0, OPT_NO_SWEEP},
        {"sweep-max", required_argument, 0, OPT_SWEEP_MAX},
        {"sweep-steps", required_argument, 0, OPT_SWEEP_STEPS},
        {"step-seconds", required_argument, 0, OPT_STEP_S},
        {"knee-factor", required_argument, 0, OPT_KNEE}, {"plot", required_argument, 0, OPT_PLOT},
        KITE_CLI_CSV_LONGOPTS, {"json", no_argument, 0, OPT_JSON},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (kite__capacity_opts){.headroom = 0.3, .events = 20000, .cores_per_instance = 4,
                         .batch_size = 256, .csv = KITE_CSV_OPTIONS_DEFAULT, .sweep = -1,
                         .sweep_steps = 6, .step_seconds = 5, .knee_factor = 2};
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
            if (kite__cli_number(CAPACITY, "--rate", optarg, 1e-3, 1e12, &o->rate)) return -1;
            break;
        case OPT_EVENTS:
            if (kite__cli_number(CAPACITY, "--events", optarg, 100, 10000000, &v)) return -1;
            o->events = (long)v;
            break;
        case OPT_HEAD:
            if (kite__cli_number(CAPACITY, "--headroom", optarg, 0, 0.95, &o->headroom)) return -1;
            break;
        case OPT_CPI:
            if (kite__cli_number(CAPACITY, "--cores-per-instance", optarg, 1, 1024, &v)) return -1;
            o->cores_per_instance = (long)v;
            break;
        case OPT_BATCH:
            if (kite__cli_number(CAPACITY, "--batch-size", optarg, 1, 65536, &v)) return -1;
            o->batch_size = (long)v;
            break;
        case OPT_DRIFT: o->drift_profile = optarg; break;
        case OPT_BROKERS: o->brokers = optarg; break;
        case OPT_SWEEP: o->sweep = 1; break;
        case OPT_NO_SWEEP: o->sweep = 0; break;
        case OPT_SWEEP_MAX:
            if (kite__cli_number(CAPACITY, "--sweep-max", optarg, 1, 1e9, &o->sweep_max)) return -1;
            break;
        case OPT_SWEEP_STEPS:
            if (kite__cli_number(CAPACITY, "--sweep-steps", optarg, 2, KITE__CAPACITY_MAX_STEPS, &v))
                return -1;
            o->sweep_steps = (long)v;
            break;
        case OPT_STEP_S:
            if (kite__cli_number(CAPACITY, "--step-seconds", optarg, 0.5, 3600, &o->step_seconds))
                return -1;
            break;
        case OPT_KNEE:
            if (kite__cli_number(CAPACITY, "--knee-factor", optarg, 1, 100, &o->knee_factor)) return -1;
            break;
        case OPT_PLOT: o->plot = optarg; break;
        case 'd':
        case KITE_CLI_OPT_DECIMAL_COMMA:
        case KITE_CLI_OPT_MISSING:
            if (kite_cli_csv_option("capacity", "", c, optarg, &o->csv)) return -1;
            break;
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
    if (o->sweep < 0) o->sweep = o->brokers != NULL;
    if (o->plot && !o->sweep) {
        fprintf(stderr, "kite capacity: --plot draws the sweep's curve: drop --no-sweep\n");
        return -1;
    }
    return 0;
}

kite_err kite__capacity_config(const kite__capacity_opts *o, const char *brokers, int exit_on_eof,
                               kite_config *cfg, char *errstr, size_t errstr_size)
{
    kite_err err = kite_config_init(cfg, errstr, errstr_size);
    if (err) return err;
    char batch[32];
    snprintf(batch, sizeof batch, "%ld", o->batch_size);
    const char *kv[][2] = {{"brokers", brokers}, {"topics", CAPACITY_TOPIC}, {"model", o->model},
                           {"feature_spec", o->spec ? o->spec : ""},
                           {"exit_on_eof", exit_on_eof ? "true" : "false"},
                           {"metrics_addr", ""}, {"workers", "1"}, {"cores", "auto"},
                           {"batch_size", batch}, {"group_id", "kite-capacity"},
                           {"drift_profile", o->drift_profile ? o->drift_profile : ""}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !err; i++)
        err = kite_config_set(cfg, kv[i][0], kv[i][1], errstr, errstr_size);
    /* The embedded broker's first group join waits ~3 s; a short session keeps a rerun quick. */
    if (!err) err = kite_config_set_kafka(cfg, "consumer.session.timeout.ms=6000", errstr, errstr_size);
    return err;
}

/* Drains the preloaded topic with one pinned worker; fills *t. */
static int capacity_measure(const kite__capacity_opts *o, const char *brokers, kite_pipeline_totals *t)
{
    kite_config cfg;
    char err[600];
    kite_pipeline *pl = NULL;
    int rc = 0;
    if (kite__capacity_config(o, brokers, 1, &cfg, err, sizeof err)) rc = -1;
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

/* The sweep's curve, one line per rate, the knee marked. */
static void capacity_print_curve(const kite__capacity_curve *c)
{
    printf("latency sweep          one worker, partition 0; load from a separate kite produce\n"
           "                       (linger.ms=1); event timestamp -> prediction delivered\n");
    printf("  %10s %10s %8s %9s %9s %9s\n", "offered/s", "achieved/s", "events", "p50 ms",
           "p99 ms", "p99.9 ms");
    for (int i = 0; i < c->kcc_nsteps; i++) {
        const kite__capacity_step *s = &c->kcc_steps[i];
        printf("  %10.0f %10.0f %8llu %9.2f %9.2f %9.2f%s\n", s->kcs_rate, s->kcs_achieved,
               (unsigned long long)s->kcs_events, s->kcs_p50_ms, s->kcs_p99_ms, s->kcs_p999_ms,
               !s->kcs_kept_up ? "  fell behind" : i == c->kcc_knee && !c->kcc_beyond ? "  <- knee" : "");
    }
    printf("  p99 floor %.2f ms; off the floor above %.2f ms\n", c->kcc_floor_ms, c->kcc_threshold_ms);
}

static void capacity_report(const kite__capacity_opts *o, const kite_pipeline_totals *t,
                            const kite__capacity_curve *c)
{
    /* The plan: a core at (1 - headroom) of its measured rate; one worker per core; at least
     * one partition per worker, so a whole group of instances can use every core. With the
     * sweep, also no worker offered more than the knee (its p99 still at the floor). */
    double per_core = 1e6 / t->ktl_cpu_us_per_event;
    double usable = per_core * (1.0 - o->headroom);
    long cpu_cores = (long)ceil(o->rate / usable), cores = cpu_cores, knee_workers = 0;
    double knee = c && c->kcc_knee >= 0 ? c->kcc_steps[c->kcc_knee].kcs_rate : 0;
    if (knee > 0) knee_workers = (long)ceil(o->rate / knee);
    if (knee_workers > cores) cores = knee_workers;
    long instances = (cores + o->cores_per_instance - 1) / o->cores_per_instance;
    long workers = instances * o->cores_per_instance;
    long partitions = workers;
    double load = o->rate / ((double)workers * per_core);
    if (o->json) {
        /* The fields, then one line through kite__cli_json_result (README "Exit codes and
         * --json"). */
        char *fields = NULL;
        size_t fields_len = 0;
        FILE *f = open_memstream(&fields, &fields_len);
        if (!f) {
            kite__cli_json_result("capacity", KITE_EXIT_OK, NULL);
            return;
        }
        fprintf(f, "\"events_measured\": %llu, \"dead_letters\": %llu, \"cpu_us_per_event\": %.3f, "
               "\"drift_us_per_event\": %.3f, \"events_per_core_second\": %.0f, \"headroom\": %.3f, "
               "\"usable_events_per_core_second\": %.0f, \"rate\": %.0f, \"cpu_cores\": %ld, "
               "\"cores\": %ld, \"cores_per_instance\": %ld, \"instances\": %ld, "
               "\"partitions\": %ld, \"core_load\": %.3f",
               (unsigned long long)t->ktl_consumed, (unsigned long long)t->ktl_dead_letters,
               t->ktl_cpu_us_per_event, t->ktl_drift_us_per_event, per_core, o->headroom, usable,
               o->rate, cpu_cores, cores, o->cores_per_instance, instances, partitions, load);
        if (c) {
            fprintf(f, ", \"sweep\": {\"planned\": %d, \"steps\": [", c->kcc_planned);
            for (int i = 0; i < c->kcc_nsteps; i++) {
                const kite__capacity_step *s = &c->kcc_steps[i];
                fprintf(f, "%s{\"rate\": %.3f, \"achieved\": %.1f, \"events\": %llu, \"consumed\": %llu, "
                       "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"kept_up\": %s}",
                       i ? ", " : "", s->kcs_rate, s->kcs_achieved, (unsigned long long)s->kcs_events,
                       (unsigned long long)s->kcs_consumed, s->kcs_p50_ms, s->kcs_p99_ms,
                       s->kcs_p999_ms, s->kcs_kept_up ? "true" : "false");
            }
            fprintf(f, "], \"floor_p99_ms\": %.3f, \"threshold_ms\": %.3f, \"knee_index\": %d, "
                   "\"knee\": \"%s\", \"knee_rate\": %.3f, \"knee_workers\": %ld}",
                   c->kcc_floor_ms, c->kcc_threshold_ms, c->kcc_knee,
                   c->kcc_beyond ? "beyond" : c->kcc_knee >= 0 ? "within" : "below", knee,
                   knee_workers);
        }
        fclose(f);
        kite__cli_json_result("capacity", KITE_EXIT_OK, "%s", fields);
        free(fields);
        return;
    }
    printf("== kite capacity: %s%s%s ==\n", o->model, o->spec ? " + " : "", o->spec ? o->spec : "");
    printf("measured               %llu events (%llu dead letters) through one pinned worker\n",
           (unsigned long long)t->ktl_consumed, (unsigned long long)t->ktl_dead_letters);
    printf("cpu per event          %.2f us (process CPU%s)\n", t->ktl_cpu_us_per_event,
           o->brokers ? "; the brokers' CPU is theirs" : " incl. the embedded broker: an upper bound");
    if (t->ktl_drift_us_per_event > 0)
        printf("  of which drift       %.3f us\n", t->ktl_drift_us_per_event);
    printf("one core               %.0f events/s at 100%%, %.0f at %.0f%% (headroom %.2f)\n",
           per_core, usable, 100.0 * (1.0 - o->headroom), o->headroom);
    if (c) {
        capacity_print_curve(c);
        if (c->kcc_beyond)
            printf("knee                   beyond the sweep: p99 at its floor up to %.0f events/s "
                   "per worker (a lower bound; raise --sweep-max)\n", knee);
        else if (knee > 0)
            printf("knee                   %.0f events/s per worker (p99 leaves its floor above)\n",
                   knee);
        else
            printf("knee                   below the sweep's lowest rate (%.0f events/s): lower "
                   "--sweep-max; the plan uses CPU alone\n", c->kcc_steps[0].kcs_rate);
    }
    printf("for %.0f events/s:\n", o->rate);
    printf("  cores                %ld (%ld by CPU%s)\n", cores, cpu_cores,
           knee_workers ? "" : "; no knee measured");
    if (knee_workers)
        printf("  by latency           %ld workers at most %.0f events/s each (the knee)\n",
               knee_workers, knee);
    printf("  instances            %ld of %ld cores (kite serve --workers %ld, one consumer group)\n",
           instances, o->cores_per_instance, o->cores_per_instance);
    printf("  partitions           >= %ld (one per worker, so every core has work)\n", partitions);
    printf("  core load            %.0f%% of the %ld workers' cores at that rate\n", 100.0 * load,
           workers);
}

int kite__cmd_capacity(int argc, char **argv)
{
    kite__capacity_opts o;
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
    if (!rc && (!(t.ktl_cpu_us_per_event > 0) || t.ktl_consumed == 0)) {
        fprintf(stderr, "kite capacity: the drain measured no CPU time (%llu events)\n",
                (unsigned long long)t.ktl_consumed);
        rc = -1;
    }
    /* The sweep's top: above what the drain did on this machine, so the knee falls inside. */
    static kite__capacity_curve curve; /* ~2.5 KiB, once per process */
    double top = o.sweep_max > 0 ? o.sweep_max
                 : t.ktl_seconds > 0 ? 1.2 * (double)t.ktl_consumed / t.ktl_seconds : 1000;
    if (!rc && o.sweep) {
        if (kite__capacity_sweep(&o, brokers, top, o.json, &curve, err, sizeof err)) {
            fprintf(stderr, "kite capacity: %s\n", err);
            rc = -1;
        } else {
            kite__capacity_knee(&curve, o.knee_factor);
            if (o.plot && kite__capacity_plot(&curve, o.plot, err, sizeof err)) {
                fprintf(stderr, "kite capacity: %s\n", err);
                rc = -1;
            }
        }
    }
    kite_mock_broker_free(broker);
    if (rc) return KITE_EXIT_ERROR;
    capacity_report(&o, &t, o.sweep ? &curve : NULL);
    return KITE_EXIT_OK;
}
