/* kite broker: librdkafka's mock cluster, standalone, for kcat / kite produce / kite serve in
 * other processes. Prints the bootstrap address on stdout, then runs until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include <kite/mock_broker.h>

static volatile sig_atomic_t broker_stop;

static void broker_on_signal(int sig)
{
    (void)sig;
    broker_stop = 1;
}

static void broker_usage(FILE *out)
{
    fprintf(out, "usage: kite broker [--topics a,b] [--partitions N] [--brokers N]\n\n"
                 "Starts librdkafka's mock Kafka cluster on loopback, creates the topics and\n"
                 "prints the bootstrap address (one line on stdout). Runs until SIGINT/SIGTERM.\n"
                 "Limits of the mock: a partition keeps at most 5 MiB / 100,000 message sets;\n"
                 "the first consumer-group join takes ~3 s.\n\n"
                 "  --topics LIST      topics to create (default events,predictions,alerts,dead-letters)\n"
                 "  --partitions N     partitions per topic (default 4)\n"
                 "  --brokers N        brokers in the cluster (default 1)\n");
}

int kite__cmd_broker(int argc, char **argv)
{
    const char *topics = "events,predictions,alerts,dead-letters";
    long partitions = 4, nbrokers = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            broker_usage(stdout);
            return KITE_EXIT_OK;
        } else if (!strcmp(a, "--topics") && v) topics = v, i++;
        else if (!strcmp(a, "--partitions") && v) {
            partitions = strtol(v, &end, 10), i++;
            if (*end || partitions < 1 || partitions > 1024) goto bad;
        } else if (!strcmp(a, "--brokers") && v) {
            nbrokers = strtol(v, &end, 10), i++;
            if (*end || nbrokers < 1 || nbrokers > 16) goto bad;
        } else {
        bad:
            fprintf(stderr, "kite broker: bad option %s%s%s\n", a, v ? " " : "", v ? v : "");
            broker_usage(stderr);
            return KITE_EXIT_USAGE;
        }
    }
    char err[512];
    kite_mock_broker *b = NULL;
    if (kite_mock_broker_new((int)nbrokers, &b, err, sizeof err)) {
        fprintf(stderr, "kite broker: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    char *names = strdup(topics), *save = NULL;
    for (char *t = strtok_r(names, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (kite_mock_broker_create_topic(b, t, (int)partitions, err, sizeof err)) {
            fprintf(stderr, "kite broker: %s\n", err);
            free(names);
            kite_mock_broker_free(b);
            return KITE_EXIT_ERROR;
        }
    free(names);
    struct sigaction sa = {0};
    sa.sa_handler = broker_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("%s\n", kite_mock_broker_bootstrap(b));
    fflush(stdout);
    while (!broker_stop) usleep(100000);
    kite_mock_broker_free(b);
    return KITE_EXIT_OK;
}
