/* kite: the command-line front end. Each subcommand lives in its own tools/cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include <kite/dispatch.h>

/* `kite serve --http ADDR:PORT` with no Kafka setting (--config, --brokers, --topics, --replay,
 * -X) is the HTTP scoring server alone; anything else is the Kafka pipeline. */
static int serve_route(int argc, char **argv)
{
    int http = 0, kafka = 0;
    static const char *const kafka_flags[] = {"--config", "--brokers", "--topics", "--replay", "-X"};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--http") || !strncmp(argv[i], "--http=", 7)) http = 1;
        for (size_t k = 0; k < sizeof kafka_flags / sizeof kafka_flags[0]; k++)
            if (!strcmp(argv[i], kafka_flags[k])) kafka = 1;
    }
    return http && !kafka ? kite__serve_http_main(argc, argv) : kite__cmd_serve(argc, argv);
}

static const kite_command commands[] = {
    {"score", kite__cmd_score, "score a CSV file with an XGBoost model", 1},
    {"info", kite__cmd_info, "version, build type, CPU features and the chosen kernel", 0},
    {"featurize", kite__cmd_featurize, "raw CSV rows to model features with a feature spec", 1},
    {"bench", kite__cmd_bench, "time every traversal kernel on a model (one thread)", 1},
    {"profile", kite__cmd_profile, "learn a reference profile (bins, frequencies, quality)", 1},
    {"drift", kite__cmd_drift, "compare a CSV with a reference profile: PSI, tests, report", 1},
    {"serve", serve_route, "stream Kafka events through the model; --http serves /predict", 0},
    {"produce", kite__cmd_produce, "replay a CSV file as JSON events into a Kafka topic", 0},
    {"broker", kite__cmd_broker, "run the embedded (mock) Kafka cluster and print its address", 0},
    {"capacity", kite__cmd_capacity, "measure a model's cost per event here; plan cores, partitions", 1},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: kite <command> [options]\n\n"
                 "kite is a streaming scoring engine for XGBoost models.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'kite <command> --help' for a command's options.\n"
                 "Environment: KITE_ISA=scalar|avx2|avx512|neon forces a traversal kernel.\n");
}

int main(int argc, char **argv)
{
    /* The traversal kernel is chosen here, at start-up, before any command runs: a bad KITE_ISA
     * is reported first, not in the middle of a command's output, and no command's first
     * score (or a serving thread's) pays for cpuid/xgetbv. */
    (void)kite_isa_active();
    kite__crash_report_install();
    if (argc < 2) {
        usage(stderr);
        return KITE_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return KITE_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kite %s\n", KITE_VERSION);
        return KITE_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        if (!commands[i].batch) return commands[i].run(argc - 1, argv + 1);
        /* Batch commands: with --json the last stdout line is JSON, failures included. */
        kite__cli_json_begin(commands[i].name, argc - 1, argv + 1);
        return kite__cli_json_end(commands[i].run(argc - 1, argv + 1));
    }
    fprintf(stderr, "kite: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return KITE_EXIT_USAGE;
}
