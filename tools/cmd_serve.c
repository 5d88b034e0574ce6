/* kite serve: the streaming engine (engine/pipeline.h) behind a command line. Every key of the
 * configuration table is also a flag (--batch-size 512 = "batch_size": 512); flags override
 * the --config file; -X passes librdkafka properties through. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "http_server.h"
#include "pipeline.h"
#include "replay.h"

static kite_pipeline *serve_pipeline;

static void serve_on_signal(int sig)
{
    (void)sig;
    if (serve_pipeline) kite_pipeline_stop(serve_pipeline); /* one atomic store */
}

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: kite serve [--config kite.json] [--KEY VALUE ...] [-X prop=value ...]\n\n"
            "Consumes JSON events from Kafka, scores them with an XGBoost model and produces\n"
            "predictions, alerts and dead letters, at least once. Without --brokers the\n"
            "embedded mock cluster is started in-process.\n\n"
            "  --config FILE          JSON object of the keys below (+ \"kafka\": {props})\n"
            "  -X prop=value          librdkafka property for the consumer and producer\n"
            "  --replay FILE          first replay this CSV into the (first) input topic\n"
            "  --replay-key COLUMN    message key column for --replay\n"
            "  --replay-delimiter C   --replay-decimal-comma  --replay-missing MARKER\n"
            "  --replay-rate N        events/s for --replay (default: as fast as possible)\n"
            "  --replay-repeat N      replay the file N times\n"
            "  --metrics-dump FILE    write the final /metrics text to FILE at exit\n"
            "  --http ADDR:PORT       also serve HTTP /predict (engine/http_server.h) on the model\n"
            "  -q, --quiet            no summary\n\n"
            "keys (also flags: --batch-size for batch_size):\n");
    for (size_t k = 0; k < kite_config_nkeys; k++)
        fprintf(out, "  %-18s %s (default \"%s\")\n", kite_config_keys[k].ck_name,
                kite_config_keys[k].ck_help, kite_config_keys[k].ck_default);
    fprintf(out, "\nSIGINT/SIGTERM: stop consuming, drain, commit, exit 0.\n"
                 "Exit status: 0 success, 1 error, 2 usage error.\n");
}

/* --http ADDR:PORT beside the pipeline: the HTTP /predict server (engine/http_server.h) on the
 * same model. (`kite serve --http` with no Kafka setting runs the HTTP server alone.) */
static int serve_http_start(const char *addr, const kite_config *cfg, kite_http_server **out)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || end == colon + 1 || *end || port < 0 || port > 65535 ||
        (size_t)(colon - addr) >= sizeof host) {
        fprintf(stderr, "kite serve: --http \"%s\": expected ADDR:PORT\n", addr);
        return -1;
    }
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2; /* [::1]:8080 */
    memcpy(host, h, hl);
    host[hl] = 0;
    kite_http_config hc;
    kite_http_config_defaults(&hc);
    hc.khc_address = host[0] ? host : "127.0.0.1";
    hc.khc_port = (uint16_t)port;
    hc.khc_model_path = cfg->kc_model;
    char err[512];
    if (kite_http_server_start(&hc, out, err, sizeof err)) {
        fprintf(stderr, "kite serve: --http: %s\n", err);
        return -1;
    }
    fprintf(stderr, "kite: HTTP /predict on %s port %u beside the Kafka pipeline\n",
            hc.khc_address, (unsigned)kite_http_server_port(*out));
    return 0;
}

typedef struct serve_replay {
    kite_pipeline *pl;
    const char *brokers;
    kite_replay_opts opts;
    kite_err err;
    char errstr[512];
    size_t produced;
} serve_replay;

static void *serve_replay_main(void *arg)
{
    serve_replay *r = arg;
    /* Start once partitions are assigned (the mock's first group join takes ~3 s), so the
     * latency summary measures streaming, not the wait for the group. */
    for (int i = 0; i < 3000 && !kite_pipeline_ready(r->pl); i++) usleep(10000);
    r->err = kite_replay_csv(r->brokers, &r->opts, &r->produced, r->errstr, sizeof r->errstr);
    kite_pipeline_expect_consumed(r->pl, r->produced);
    kite_pipeline_hold_exit(r->pl, -1);
    return NULL;
}

static void serve_print_summary(kite_pipeline *pl, const serve_replay *rp)
{
    kite_pipeline_totals t;
    kite_pipeline_totals_get(pl, &t);
    printf("== kite serve summary ==\n");
    if (rp) printf("events replayed        %zu\n", rp->produced);
    printf("events consumed        %llu\n", (unsigned long long)t.kpt_consumed);
    printf("predictions            %llu (%llu while their key was warming up)\n",
           (unsigned long long)t.kpt_scored, (unsigned long long)t.kpt_warming_up);
    printf("dead letters           %llu\n", (unsigned long long)t.kpt_dead_letters);
    printf("alerts                 %llu\n", (unsigned long long)t.kpt_alerts);
    printf("outputs delivered      %llu (delivery errors retried: %llu)\n",
           (unsigned long long)t.kpt_delivered, (unsigned long long)t.kpt_delivery_errors);
    printf("missing feature values %llu\n", (unsigned long long)t.kpt_missing);
    if (t.kpt_seconds > 0)
        printf("throughput             %.0f events/s (%.3f s first consume -> last delivery)\n",
               (double)t.kpt_consumed / t.kpt_seconds, t.kpt_seconds);
    if (t.kpt_cpu_us_per_event > 0)
        printf("cpu                    %.2f us per event (user + sys of this process, first "
               "event -> final commit)\n", t.kpt_cpu_us_per_event);
    printf("latency, event timestamp -> prediction delivered: p50 %.2f ms, p99 %.2f ms, "
           "p99.9 %.2f ms\n",
           t.kpt_latency_p50_us / 1000, t.kpt_latency_p99_us / 1000, t.kpt_latency_p999_us / 1000);
}

int kite_cmd_serve(int argc, char **argv)
{
    kite_config cfg;
    char err[512];
    if (kite_config_init(&cfg, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    int rc = KITE_EXIT_USAGE, quiet = 0;
    serve_replay rp = {0};
    rp.opts.kro_csv = KITE_CSV_OPTIONS_DEFAULT;
    rp.opts.kro_repeat = 1;
    rp.opts.kro_partition = -1;
    const char *dump = NULL, *http_addr = NULL;
    kite_http_server *http = NULL;
    /* --config first, wherever it is, so flags override the file. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config") && i + 1 < argc &&
            kite_config_load(&cfg, argv[++i], err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            rc = KITE_EXIT_ERROR;
            goto out;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            serve_usage(stdout);
            rc = KITE_EXIT_OK;
            goto out;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (!strncmp(a, "--", 2) && !strchr(a, '=') && !v) {
            fprintf(stderr, "kite serve: %s needs a value\n", a);
            goto out;
        }
        if (!strcmp(a, "--config")) i++;
        else if (!strcmp(a, "-X")) {
            if (!v) {
                fprintf(stderr, "kite serve: -X needs prop=value\n");
                goto out;
            }
            if (kite_config_set_kafka(&cfg, v, err, sizeof err)) {
                fprintf(stderr, "kite serve: %s\n", err);
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--http")) http_addr = v, i++; else if (!strcmp(a, "--replay")) rp.opts.kro_path = v, i++;
        else if (!strcmp(a, "--replay-key")) rp.opts.kro_key = v, i++;
        else if (!strcmp(a, "--replay-missing")) rp.opts.kro_csv.kco_missing = v, i++;
        else if (!strcmp(a, "--replay-rate")) rp.opts.kro_rate = atof(v), i++;
        else if (!strcmp(a, "--replay-repeat")) {
            if ((rp.opts.kro_repeat = atol(v)) < 1) {
                fprintf(stderr, "kite serve: --replay-repeat \"%s\": a count >= 1\n", v);
                goto out;
            }
            i++;
        }
        else if (!strcmp(a, "--replay-decimal-comma")) rp.opts.kro_csv.kco_decimal_comma = 1;
        else if (!strcmp(a, "--replay-delimiter")) {
            if (!(rp.opts.kro_csv.kco_delimiter = kite_cli_delimiter(v))) {
                fprintf(stderr, "kite serve: --replay-delimiter \"%s\": one character\n", v);
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--metrics-dump")) dump = v, i++;
        else if (!strncmp(a, "--", 2) && kite_config_find(a + 2)) {
            const kite_config_key *k = kite_config_find(a + 2);
            if (k->ck_type == KITE_CONF_BOOL && (!v || !strncmp(v, "-", 1))) v = "true";
            else i++;
            if (kite_config_set(&cfg, a + 2, v, err, sizeof err)) {
                fprintf(stderr, "kite serve: %s\n", err);
                goto out;
            }
        } else {
            fprintf(stderr, "kite serve: unknown option %s (see kite serve --help)\n", a);
            goto out;
        }
    }
    rc = KITE_EXIT_ERROR;
    kite_pipeline *pl = NULL;
    if (kite_pipeline_new(&cfg, &pl, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        kite_pipeline_free(pl);
        goto out;
    }
    if (http_addr && serve_http_start(http_addr, &cfg, &http)) {
        kite_pipeline_free(pl);
        goto out;
    }
    serve_pipeline = pl;
    struct sigaction sa = {0};
    sa.sa_handler = serve_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_t replay_thread;
    int replaying = 0;
    char first_topic[256];
    if (rp.opts.kro_path) {
        snprintf(first_topic, sizeof first_topic, "%.*s", (int)strcspn(cfg.kc_topics, ", "),
                 cfg.kc_topics);
        rp.brokers = kite_pipeline_brokers(pl);
        rp.opts.kro_topic = first_topic;
        rp.opts.kro_kafka = NULL;
        rp.pl = pl;
        kite_pipeline_hold_exit(pl, +1);
        replaying = pthread_create(&replay_thread, NULL, serve_replay_main, &rp) == 0;
        if (!replaying) kite_pipeline_hold_exit(pl, -1);
    }
    kite_err run_err = kite_pipeline_run(pl, err, sizeof err);
    if (replaying) pthread_join(replay_thread, NULL);
    if (run_err) fprintf(stderr, "kite: %s\n", err);
    else if (replaying && rp.err) fprintf(stderr, "kite: replay: %s\n", rp.errstr);
    else rc = KITE_EXIT_OK;
    if (!quiet) serve_print_summary(pl, replaying ? &rp : NULL);
    if (dump) {
        char *text = NULL;
        kite_pipeline_metrics_text(pl, &text);
        FILE *f = fopen(dump, "w");
        if (!f || !text || fputs(text, f) < 0) {
            fprintf(stderr, "kite: --metrics-dump %s: cannot write\n", dump);
            rc = KITE_EXIT_ERROR;
        }
        if (f) fclose(f);
        free(text);
    }
    serve_pipeline = NULL;
    if (http) {
        /* The pipeline has stopped: drain HTTP too (/ready 503, finish in-flight requests). */
        kite_http_server_begin_drain(http);
        kite_http_server_drain(http, 10, 0.5);
        kite_http_server_stop(http);
    }
    kite_pipeline_free(pl);
out:
    kite_config_free(&cfg);
    return rc;
}
