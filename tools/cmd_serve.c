/* kite serve: the streaming engine (engine/stream/include/kite/pipeline.h) behind a command line. Every key of the
 * configuration table is also a flag (--batch-size 512 = "batch_size": 512); flags override
 * the --config file; -X passes librdkafka properties through. --http ADDR:PORT also serves
 * HTTP /predict beside the pipeline, on the pipeline's model and feature spec, with the HTTP
 * options of `kite serve --http` alone (cli.h: kite_serve_http_opts). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include <kite/clock.h>
#include <kite/config.h>
#include <kite/feature_spec.h>
#include <kite/http_server.h>
#include <kite/loaded_model.h>
#include <kite/pipeline.h>
#include <kite/registry.h>
#include <kite/replay.h>

/* What the signal handler touches. Atomic pointers: main clears them before freeing, and a
 * handler on another thread loads them once (seq_cst on both sides). The window between a
 * handler's load and its use is a few instructions, while main frees only after the drains,
 * which take at least milliseconds. */
static _Atomic(kite_pipeline *) serve_pipeline;
static _Atomic(kite_http_server *) serve_http;
/* CLOCK_MONOTONIC ns of the first SIGTERM/SIGINT (0: none yet): the grace period counts from
 * it. Written in a handler, so it must be lock-free. */
static _Atomic int64_t serve_signal_ns;
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "serve_signal_ns is stored from a signal handler");

/* Async-signal-safe: atomic stores, clock_gettime and write only. With HTTP beside the
 * pipeline, /ready turns 503 before the pipeline is told to stop, so a balancer takes this
 * process out while the pipeline drains; HTTP requests are still served meanwhile. */
static void serve_on_signal(int sig)
{
    (void)sig;
    int64_t none = 0;
    atomic_compare_exchange_strong(&serve_signal_ns, &none, kite_clock_mono_ns());
    kite_http_server *http = atomic_load(&serve_http);
    if (http) {
        kite_http_server_begin_drain(http); /* one atomic store */
        static const char msg[] =
            "kite: stopping: HTTP /ready is 503; draining the Kafka pipeline, then HTTP\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* nothing to do about it */ }
    }
    kite_pipeline *pl = atomic_load(&serve_pipeline);
    if (pl) kite_pipeline_stop(pl); /* one atomic store */
}

/* Async-signal-safe: one atomic store; the control thread reloads. */
static void serve_on_hup(int sig)
{
    (void)sig;
    kite_pipeline *pl = atomic_load(&serve_pipeline);
    if (pl) kite_pipeline_reload(pl);
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
            "  --replay-key COLUMN    message key column for --replay (default: the spec's key\n"
            "                         field; a spec without one sends every event to partition 0)\n"
            "  --replay-delimiter C   --replay-decimal-comma  --replay-missing MARKER\n"
            "  --replay-rate N        events/s for --replay (default: as fast as possible)\n"
            "  --replay-repeat N      replay the file N times\n"
            "  --metrics-dump FILE    write the final /metrics text to FILE at exit\n"
            "  --help-config=markdown print the keys below as a Markdown table (the README's)\n"
            "  --spec FILE            the same as --feature-spec\n"
            "  -q, --quiet            no summary (and no HTTP log lines)\n\n"
            "keys (also flags: --batch-size for batch_size):\n");
    for (size_t k = 0; k < kite_config_nkeys; k++)
        fprintf(out, "  %-18s %s (default \"%s\")\n", kite_config_keys[k].ck_name,
                kite_config_keys[k].ck_help, kite_config_keys[k].ck_default);
    fprintf(out, "\nHTTP beside the pipeline (POST /predict, /health, /ready, /metrics, /model, /)\n"
                 "on the pipeline's model and feature spec; the options of kite serve --http:\n");
    kite__serve_http_help(out, 1);
    fprintf(out, "\nSIGINT/SIGTERM: HTTP /ready turns 503 at once; stop consuming, drain, commit;\n"
                 "then the HTTP drain (what is left of --grace-seconds); exit 0.\n"
                 "Exit status: 0 success, 1 error (or HTTP requests cut by the grace period),\n"
                 "2 usage error.\n");
}

/* --http beside the pipeline: the HTTP server (engine/http/include/kite/http_server.h) on the pipeline's model
 * and feature spec, so /predict featurizes raw fields exactly as the Kafka path does. Its
 * feature state is its own: keyed lags and windows over HTTP do not see Kafka events. */
static int serve_http_start(kite_serve_http_opts *o, const kite_config *cfg, kite_pipeline *pl,
                            kite_http_server **out)
{
    if (kite__serve_http_listen(o)) return -1;
    kite_http_config *hc = &o->sho_cfg;
    /* A registry reference (loaders/xgb/include/kite/registry.h): HTTP loads the file it names now (its own
     * /admin/reload re-reads that file; the pipeline's reloads follow the reference). */
    static kite_model_ref ref;
    char rerr[600];
    if (kite_registry_resolve(cfg->kc_model, cfg->kc_registry_uri, &ref, rerr, sizeof rerr)) {
        fprintf(stderr, "kite: --http: %s\n", rerr);
        return -1;
    }
    hc->khc_model_path = ref.kmr_model;
    hc->khc_spec_path = *ref.kmr_spec ? ref.kmr_spec
                        : cfg->kc_feature_spec && *cfg->kc_feature_spec ? cfg->kc_feature_spec : NULL;
    if (!hc->khc_spec_path && cfg->kc_encode && *cfg->kc_encode)
        fprintf(stderr, "kite: note: HTTP /predict does not apply the encode maps (%s); it takes "
                        "the model's features (a feature_spec would serve raw fields)\n",
                cfg->kc_encode);
    /* The pipeline has this very file loaded: share that copy (model and forest) rather than
     * load it a second time. */
    const char *served_path = NULL;
    kite_loaded_model *shared = kite_pipeline_loaded_model(pl, &served_path);
    int shared_used = !strcmp(served_path, hc->khc_model_path);
    if (shared_used) hc->khc_model = shared;
    char err[600];
    int failed = kite_http_server_start(hc, out, err, sizeof err) != KITE_ERR_OK;
    hc->khc_model = NULL;
    kite_loaded_model_release(shared); /* the server holds its own reference */
    if (failed) {
        fprintf(stderr, "kite: --http: %s\n", err);
        return -1;
    }
    char version[17];
    kite_http_server_version(*out, version);
    int v6 = strchr(hc->khc_address, ':') != NULL;
    fprintf(stderr, "kite: listening on http://%s%s%s:%u (model %s, version %s, spec %s, %d "
                    "thread%s) beside the Kafka pipeline%s\n",
            v6 ? "[" : "", hc->khc_address, v6 ? "]" : "", (unsigned)kite_http_server_port(*out),
            hc->khc_model_path, version, hc->khc_spec_path ? hc->khc_spec_path : "none",
            hc->khc_threads, hc->khc_threads == 1 ? "" : "s",
            shared_used ? ", sharing its loaded model" : "");
    fflush(stderr);
    return 0;
}

/* After the pipeline has stopped: the HTTP drain in what is left of the grace period (counted
 * from the signal, or from now when the pipeline ended by itself), then stop. Returns the
 * number of requests the grace period cut. */
static long serve_http_finish(kite_http_server *http, const kite_serve_http_opts *o,
                              int pipeline_ok)
{
    kite_http_server_begin_drain(http); /* already done by the signal, unless it ended alone */
    int64_t now = kite_clock_mono_ns(), sig = atomic_load(&serve_signal_ns);
    double since = sig ? (double)(now - sig) * 1e-9 : 0;
    double left = o->sho_grace_s - since;
    if (left < 0) left = 0;
    char when[64];
    if (sig) snprintf(when, sizeof when, "%.2f s after the signal", since);
    else snprintf(when, sizeof when, "by itself");
    fprintf(stderr, "kite: Kafka pipeline stopped %s%s; HTTP drain, grace left %.3g s\n", when,
            pipeline_ok ? " (drained, offsets committed)" : "", left);
    fflush(stderr);
    long cut = kite_http_server_drain(http, left, o->sho_idle_s);
    atomic_store(&serve_http, NULL);
    kite_http_server_stop(http);
    if (cut)
        fprintf(stderr, "kite: grace period over: %ld HTTP request%s cut\n", cut, cut == 1 ? "" : "s");
    else
        fprintf(stderr, "kite: HTTP drained, exiting\n");
    return cut;
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
    for (int i = 0; i < 3000 && !kite_pipeline_ready(r->pl) && !atomic_load(&serve_signal_ns); i++)
        usleep(10000);
    r->err = kite_replay_csv(r->brokers, &r->opts, &r->produced, r->errstr, sizeof r->errstr);
    kite_pipeline_expect_consumed(r->pl, r->produced);
    kite_pipeline_hold_exit(r->pl, -1);
    return NULL;
}

/* Feature state lives per partition and is rebuilt from the partition's log
 * (engine/stream/pipeline_state.c), so a stream key must stay in one partition: unless told
 * otherwise, --replay keys each event by the spec's key field, and a spec without one (a
 * single stream) goes to partition 0. */
static void serve_replay_partitioning(const kite_config *cfg, kite_replay_opts *o, char *key,
                                      size_t key_size)
{
    if (o->kro_key || o->kro_partition >= 0 || !cfg->kc_feature_spec || !*cfg->kc_feature_spec)
        return;
    kite_feature_spec *spec = NULL;
    char err[512];
    if (kite_feature_spec_load(cfg->kc_feature_spec, &spec, err, sizeof err)) return; /* run says why */
    const char *field = kite_feature_spec_key_field(spec);
    if (field) {
        snprintf(key, key_size, "%s", field);
        o->kro_key = key;
    } else {
        o->kro_partition = 0;
    }
    kite_feature_spec_free(spec);
}

static void serve_print_summary(kite_pipeline *pl, const serve_replay *rp)
{
    kite_pipeline_totals t;
    kite_pipeline_totals_get(pl, &t);
    printf("== kite serve summary ==\n");
    if (rp) printf("events replayed        %zu\n", rp->produced);
    printf("events consumed        %llu\n", (unsigned long long)t.ktl_consumed);
    printf("predictions            %llu (%llu while their key was warming up)\n",
           (unsigned long long)t.ktl_scored, (unsigned long long)t.ktl_warming_up);
    printf("dead letters           %llu\n", (unsigned long long)t.ktl_dead_letters);
    printf("alerts                 %llu\n", (unsigned long long)t.ktl_alerts);
    printf("outputs delivered      %llu (delivery errors retried: %llu)\n",
           (unsigned long long)t.ktl_delivered, (unsigned long long)t.ktl_delivery_errors);
    printf("missing feature values %llu\n", (unsigned long long)t.ktl_missing);
    if (t.ktl_seconds > 0)
        printf("throughput             %.0f events/s (%.3f s first consume -> last delivery)\n",
               (double)t.ktl_consumed / t.ktl_seconds, t.ktl_seconds);
    if (t.ktl_cpu_us_per_event > 0)
        printf("cpu                    %.2f us per event (user + sys of this process, first "
               "event -> final commit)\n", t.ktl_cpu_us_per_event);
    if (t.ktl_drift_us_per_event > 0)
        printf("drift monitor          %.3f us per event (worker time inside the monitor; %.1f%% "
               "of the cpu above)\n", t.ktl_drift_us_per_event,
               t.ktl_cpu_us_per_event > 0 ? 100.0 * t.ktl_drift_us_per_event / t.ktl_cpu_us_per_event : 0.0);
    printf("latency, event timestamp -> prediction delivered: p50 %.2f ms, p99 %.2f ms, "
           "p99.9 %.2f ms\n",
           t.ktl_latency_p50_us / 1000, t.ktl_latency_p99_us / 1000, t.ktl_latency_p999_us / 1000);
}

int kite__cmd_serve(int argc, char **argv)
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
    const char *dump = NULL;
    kite_http_server *http = NULL;
    kite_serve_http_opts hopts;
    kite__serve_http_opts_init(&hopts);
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
        if (!strncmp(a, "--help-config", 13) && (!a[13] || a[13] == '=')) {
            /* The README's configuration table is this output (ctest check_readme_config). */
            if (a[13] && strcmp(a + 14, "markdown")) {
                fprintf(stderr, "kite serve: --help-config: unknown format \"%s\" (known: markdown)\n",
                        a + 14);
                goto out;
            }
            rc = kite_config_write_markdown(stdout) ? KITE_EXIT_ERROR : KITE_EXIT_OK;
            goto out;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        /* HTTP options first: some take no value (--pin), and none is a config key. */
        int hr = kite__serve_http_arg(argc, argv, &i, 1, &hopts);
        if (hr < 0) goto out;
        if (hr > 0) continue;
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
        } else if (!strcmp(a, "--spec")) {
            if (kite_config_set(&cfg, "feature_spec", v, err, sizeof err)) {
                fprintf(stderr, "kite serve: %s\n", err);
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--replay")) rp.opts.kro_path = v, i++;
        else if (!strcmp(a, "--replay-key")) rp.opts.kro_key = v, i++;
        else if (!strcmp(a, "--replay-missing")) {
            kite_cli_csv_option("serve", "replay-", KITE_CLI_OPT_MISSING, v, &rp.opts.kro_csv);
            i++;
        }
        else if (!strcmp(a, "--replay-rate")) rp.opts.kro_rate = atof(v), i++;
        else if (!strcmp(a, "--replay-repeat")) {
            if ((rp.opts.kro_repeat = atol(v)) < 1) {
                fprintf(stderr, "kite serve: --replay-repeat \"%s\": a count >= 1\n", v);
                goto out;
            }
            i++;
        }
        else if (!strcmp(a, "--replay-decimal-comma"))
            kite_cli_csv_option("serve", "replay-", KITE_CLI_OPT_DECIMAL_COMMA, NULL, &rp.opts.kro_csv);
        else if (!strcmp(a, "--replay-delimiter")) {
            if (kite_cli_csv_option("serve", "replay-", 'd', v, &rp.opts.kro_csv)) goto out;
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
    /* --admin-token (or $KITE_ADMIN_TOKEN) also guards POST /admin/reload of the pipeline's
     * model on metrics_addr, unless the config's admin_token names another. */
    if (!*cfg.kc_admin_token && hopts.sho_cfg.khc_admin_token && *hopts.sho_cfg.khc_admin_token &&
        kite_config_set(&cfg, "admin_token", hopts.sho_cfg.khc_admin_token, err, sizeof err)) {
        fprintf(stderr, "kite serve: %s\n", err);
        goto out;
    }
    kite_pipeline *pl = NULL;
    if (kite_pipeline_new(&cfg, &pl, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        kite_pipeline_free(pl);
        goto out;
    }
    hopts.sho_cfg.khc_quiet = quiet;
    if (hopts.sho_listen && serve_http_start(&hopts, &cfg, pl, &http)) {
        kite_pipeline_free(pl);
        goto out;
    }
    atomic_store(&serve_http, http);
    atomic_store(&serve_pipeline, pl);
    struct sigaction sa = {0};
    sa.sa_handler = serve_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction hup = {0}; /* SIGHUP reloads the model (engine/stream/model_swap.h) */
    hup.sa_handler = serve_on_hup;
    sigaction(SIGHUP, &hup, NULL);
    pthread_t replay_thread;
    int replaying = 0;
    char replay_key[256];
    char first_topic[256];
    if (rp.opts.kro_path) {
        snprintf(first_topic, sizeof first_topic, "%.*s", (int)strcspn(cfg.kc_topics, ", "),
                 cfg.kc_topics);
        rp.brokers = kite_pipeline_brokers(pl);
        rp.opts.kro_topic = first_topic;
        rp.opts.kro_kafka = NULL;
        rp.opts.kro_stop = &serve_signal_ns; /* SIGTERM/SIGINT end the replay between rows */
        rp.pl = pl;
        serve_replay_partitioning(&cfg, &rp.opts, replay_key, sizeof replay_key);
        kite_pipeline_hold_exit(pl, +1);
        replaying = pthread_create(&replay_thread, NULL, serve_replay_main, &rp) == 0;
        if (!replaying) kite_pipeline_hold_exit(pl, -1);
    }
    kite_err run_err = kite_pipeline_run(pl, err, sizeof err);
    if (replaying) pthread_join(replay_thread, NULL);
    long http_cut = http ? serve_http_finish(http, &hopts, !run_err) : 0;
    if (run_err) fprintf(stderr, "kite: %s\n", err);
    else if (replaying && rp.err) fprintf(stderr, "kite: replay: %s\n", rp.errstr);
    else if (!http_cut) rc = KITE_EXIT_OK;
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
    atomic_store(&serve_pipeline, NULL);
    kite_pipeline_free(pl);
out:
    kite_config_free(&cfg);
    return rc;
}
