/* kite serve --http ADDR:PORT --model M: the HTTP scoring server alone (no Kafka input).
 * Signals: SIGTERM/SIGINT drain then exit (0 when no request was cut), SIGHUP reloads. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http_server.h"

static void serve_http_usage(FILE *out)
{
    fprintf(out,
            "usage: kite serve --http ADDR:PORT --model M [options]\n\n"
            "Serves POST /predict, GET /health, /ready, /metrics, /model and an HTML form at /.\n\n"
            "      --http ADDR:PORT        listen address (127.0.0.1:8080; [::1]:8080; port 0 picks\n"
            "                              a free one, printed on stderr)\n"
            "  -m, --model FILE            XGBoost model (.json or .ubj); reloads re-read it\n"
            "  -s, --spec FILE             feature spec: rows are objects (or CSV columns) of raw\n"
            "                              input fields, featurized with per-key state that lasts\n"
            "                              across requests (lags, rolling windows)\n"
            "      --max-keys N            stream keys held by the feature state (default: the\n"
            "                              spec's max_keys)\n"
            "  -t, --threads N             worker threads (default 2, at most 128)\n"
            "      --pin                   pin worker i to allowed CPU i mod n\n"
            "      --grace-seconds S       SIGTERM: longest drain before exit (default 30)\n"
            "      --drain-idle-seconds S  SIGTERM: stop accepting once no request came for S\n"
            "                              seconds, i.e. the balancer saw /ready 503 (default 1)\n"
            "      --admin-token T         enables POST /admin/reload with 'Authorization: Bearer T'\n"
            "                              (or set KITE_ADMIN_TOKEN, which keeps it out of ps)\n"
            "      --max-body BYTES        largest request body (default 1048576)\n"
            "      --max-connections N     open connections at most (default 1024)\n"
            "      --timeout-seconds S     close a connection idle or trickling for S s (default 10)\n"
            "      --no-reuseport          do not set SO_REUSEPORT on the listening socket\n"
            "  -q, --quiet                 no log lines\n"
            "  -h, --help                  this text\n\n"
            "Exit status: 0 after a clean drain, 1 on a start-up error or when the grace period\n"
            "cut requests, 2 on a usage error.\n");
}

static int parse_number(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "kite serve: %s: '%s' is not a number in [%g, %g]\n", opt, arg, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* "127.0.0.1:8080", "[::1]:8080", ":8080" (127.0.0.1). addr is written into buf. */
static int parse_listen(const char *arg, char *buf, size_t size, kite_http_config *cfg)
{
    const char *colon = strrchr(arg, ':');
    if (!colon) {
        fprintf(stderr, "kite serve: --http: '%s' is not ADDR:PORT\n", arg);
        return -1;
    }
    size_t alen = (size_t)(colon - arg);
    const char *a = arg;
    if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
        a++;
        alen -= 2;
    }
    if (alen >= size) alen = size - 1;
    memcpy(buf, a, alen);
    buf[alen] = 0;
    double port;
    if (parse_number("--http port", colon + 1, 0, 65535, &port)) return -1;
    cfg->khc_address = alen ? buf : "127.0.0.1";
    cfg->khc_port = (uint16_t)port;
    return 0;
}

int kite_serve_http_main(int argc, char **argv)
{
    enum { OPT_HTTP = 256, OPT_GRACE, OPT_IDLE, OPT_TOKEN, OPT_MAX_BODY, OPT_MAX_CONN,
           OPT_TIMEOUT, OPT_NO_REUSEPORT, OPT_PIN, OPT_MAX_KEYS };
    static const struct option opts[] = {
        {"http", required_argument, 0, OPT_HTTP},         {"model", required_argument, 0, 'm'},
        {"spec", required_argument, 0, 's'},         {"max-keys", required_argument, 0, OPT_MAX_KEYS},         {"threads", required_argument, 0, 't'},
        {"grace-seconds", required_argument, 0, OPT_GRACE},
        {"drain-idle-seconds", required_argument, 0, OPT_IDLE},
        {"admin-token", required_argument, 0, OPT_TOKEN},
        {"max-body", required_argument, 0, OPT_MAX_BODY},
        {"max-connections", required_argument, 0, OPT_MAX_CONN},
        {"timeout-seconds", required_argument, 0, OPT_TIMEOUT},
        {"no-reuseport", no_argument, 0, OPT_NO_REUSEPORT}, {"pin", no_argument, 0, OPT_PIN},
        {"quiet", no_argument, 0, 'q'},                   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    kite_http_config cfg;
    kite_http_config_defaults(&cfg);
    cfg.khc_admin_token = getenv("KITE_ADMIN_TOKEN");
    char addr[128];
    const char *listen = NULL;
    double grace = 30, idle = 1, v;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:s:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HTTP: listen = optarg; break;
        case 'm': cfg.khc_model_path = optarg; break;
        case 's': cfg.khc_spec_path = optarg; break;
        case OPT_MAX_KEYS:
            if (parse_number("--max-keys", optarg, 1, 100000000, &v)) return KITE_EXIT_USAGE;
            cfg.khc_max_keys = (size_t)v;
            break;
        case 't':
            if (parse_number("--threads", optarg, 1, 128, &v)) return KITE_EXIT_USAGE;
            cfg.khc_threads = (int)v;
            break;
        case OPT_GRACE:
            if (parse_number("--grace-seconds", optarg, 0, 86400, &grace)) return KITE_EXIT_USAGE;
            break;
        case OPT_IDLE:
            if (parse_number("--drain-idle-seconds", optarg, 0, 3600, &idle)) return KITE_EXIT_USAGE;
            break;
        case OPT_TOKEN: cfg.khc_admin_token = optarg; break;
        case OPT_MAX_BODY:
            if (parse_number("--max-body", optarg, 64, 1 << 30, &v)) return KITE_EXIT_USAGE;
            cfg.khc_max_body = (size_t)v;
            break;
        case OPT_MAX_CONN:
            if (parse_number("--max-connections", optarg, 1, 1000000, &v)) return KITE_EXIT_USAGE;
            cfg.khc_max_connections = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if (parse_number("--timeout-seconds", optarg, 1, 86400, &v)) return KITE_EXIT_USAGE;
            cfg.khc_timeout_s = (unsigned)v;
            break;
        case OPT_NO_REUSEPORT: cfg.khc_reuseport = 0; break;
        case OPT_PIN: cfg.khc_pin_threads = 1; break;
        case 'q': cfg.khc_quiet = 1; break;
        case 'h': serve_http_usage(stdout); return KITE_EXIT_OK;
        default: serve_http_usage(stderr); return KITE_EXIT_USAGE;
        }
    }
    if (!listen || !cfg.khc_model_path || optind < argc) {
        fprintf(stderr, "kite serve: %s\n",
                optind < argc ? "unexpected argument" : "--http and --model are required");
        serve_http_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    if (parse_listen(listen, addr, sizeof addr, &cfg)) return KITE_EXIT_USAGE;

    /* Signals are taken synchronously by this thread (sigwaitinfo); blocking them before the
     * workers start makes every worker inherit the mask, so none is interrupted. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[600];
    kite_http_server *srv;
    if (kite_http_server_start(&cfg, &srv, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    char version[17];
    kite_http_server_version(srv, version);
    int v6 = strchr(cfg.khc_address, ':') != NULL;
    fprintf(stderr, "kite: listening on http://%s%s%s:%u (model %s, version %s, %d thread%s)\n",
            v6 ? "[" : "", cfg.khc_address, v6 ? "]" : "", (unsigned)kite_http_server_port(srv),
            cfg.khc_model_path, version, cfg.khc_threads, cfg.khc_threads == 1 ? "" : "s");
    fflush(stderr);

    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGHUP) {
            char before[17], after[17];
            kite_http_server_version(srv, before);
            if (kite_http_server_reload(srv, after, err, sizeof err) != KITE_ERR_OK)
                fprintf(stderr, "kite: SIGHUP: reload refused, still serving %s: %s\n", before, err);
            else
                fprintf(stderr, "kite: SIGHUP: model reloaded: %s -> %s\n", before, after);
            fflush(stderr);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) break;
    }
    kite_http_server_begin_drain(srv);
    fprintf(stderr, "kite: draining (/ready is 503; grace %.3g s)\n", grace);
    fflush(stderr);
    double t0 = kite_cli_now();
    long cut = kite_http_server_drain(srv, grace, idle);
    kite_http_server_stop(srv);
    if (cut)
        fprintf(stderr, "kite: grace period over after %.2f s: %ld request%s cut\n",
                kite_cli_now() - t0, cut, cut == 1 ? "" : "s");
    else
        fprintf(stderr, "kite: drained in %.2f s, exiting\n", kite_cli_now() - t0);
    return cut ? KITE_EXIT_ERROR : KITE_EXIT_OK;
}
