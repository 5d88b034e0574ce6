/* kite serve --http ADDR:PORT --model M: the HTTP scoring server alone (no Kafka input), and
 * the HTTP options both modes of `kite serve --http` share (cli.h: kite_serve_http_opts).
 * Signals: SIGTERM/SIGINT drain then exit (0 when no request was cut), SIGHUP reloads. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <kite/clock.h>
#include <kite/http_server.h>

/* ---- the shared options: one table drives parsing and the help lines ------------------ */

typedef enum sho_kind {
    SHO_HTTP, SHO_MODEL, SHO_SPEC, SHO_MAX_KEYS, SHO_THREADS, SHO_PIN, SHO_GRACE, SHO_IDLE,
    SHO_TOKEN, SHO_MAX_BODY, SHO_MAX_CONN, SHO_MAX_PER_ADDR, SHO_TIMEOUT, SHO_NO_REUSEPORT
} sho_kind;

typedef struct sho_option {
    const char *so_name;      /* long name, without "--"                                   */
    const char *so_alias;     /* a second long name (NULL: none)                           */
    char so_short;            /* "-t" (0: none)                                            */
    sho_kind so_kind;
    const char *so_arg;       /* the value's name in --help; NULL: a flag without a value  */
    double so_lo, so_hi;      /* numbers: the accepted range (lo == hi: not a number)      */
    int so_alone_only;        /* 1: not an HTTP option beside Kafka (the pipeline's key)   */
    const char *so_help;
} sho_option;

static const sho_option sho_options[] = {
    {"http", NULL, 0, SHO_HTTP, "ADDR:PORT", 0, 0, 0,
     "listen address (127.0.0.1:8080; [::1]:8080; port 0 picks a free one, printed on stderr)"},
    {"model", NULL, 'm', SHO_MODEL, "FILE", 0, 0, 1,
     "XGBoost model (.json or .ubj); reloads re-read it"},
    {"spec", "feature-spec", 's', SHO_SPEC, "FILE", 0, 0, 1,
     "feature spec: rows are objects (or CSV columns) of raw input fields, featurized with "
     "per-key state that lasts across requests (lags, rolling windows)"},
    {"max-keys", NULL, 0, SHO_MAX_KEYS, "N", 1, 100000000, 0,
     "stream keys held by the HTTP feature state (default: the spec's max_keys)"},
    {"threads", NULL, 't', SHO_THREADS, "N", 1, 128, 0, "HTTP worker threads (default 2)"},
    {"pin", NULL, 0, SHO_PIN, NULL, 0, 0, 0, "pin HTTP worker i to allowed CPU i mod n"},
    {"grace-seconds", NULL, 0, SHO_GRACE, "S", 0, 86400, 0,
     "SIGTERM: longest drain before exit, counted from the signal (default 30)"},
    {"drain-idle-seconds", NULL, 0, SHO_IDLE, "S", 0, 3600, 0,
     "SIGTERM: stop accepting once no request came for S seconds, i.e. the balancer saw "
     "/ready 503 (default 1)"},
    {"admin-token", NULL, 0, SHO_TOKEN, "T", 0, 0, 0,
     "enables POST /admin/reload with 'Authorization: Bearer T' (or set KITE_ADMIN_TOKEN, "
     "which keeps it out of ps)"},
    {"max-body", NULL, 0, SHO_MAX_BODY, "BYTES", 64, 1 << 30, 0,
     "largest request body (default 1048576)"},
    {"max-connections", NULL, 0, SHO_MAX_CONN, "N", 1, 1000000, 0,
     "open connections at most (default 1024)"},
    {"max-per-address", NULL, 0, SHO_MAX_PER_ADDR, "N", 0, 1000000, 0,
     "open connections from one client address at most; more are closed as they are "
     "accepted, so a flood from one address cannot lock others out (default 256; 0: no "
     "limit, e.g. behind a balancer that opens more)"},
    {"timeout-seconds", NULL, 0, SHO_TIMEOUT, "S", 1, 86400, 0,
     "close a connection idle for S s, or whose request body is not in S s after its "
     "headers (default 10)"},
    {"no-reuseport", NULL, 0, SHO_NO_REUSEPORT, NULL, 0, 0, 0,
     "do not set SO_REUSEPORT on the listening socket"},
};

void kite__serve_http_opts_init(kite_serve_http_opts *o)
{
    memset(o, 0, sizeof *o);
    kite_http_config_defaults(&o->sho_cfg);
    o->sho_cfg.khc_admin_token = getenv("KITE_ADMIN_TOKEN");
    o->sho_grace_s = 30;
    o->sho_idle_s = 1;
}

void kite__serve_http_help(FILE *out, int beside_kafka)
{
    for (size_t k = 0; k < sizeof sho_options / sizeof sho_options[0]; k++) {
        const sho_option *so = &sho_options[k];
        if (beside_kafka && so->so_alone_only) continue;
        char lhs[64];
        int n = so->so_short ? snprintf(lhs, sizeof lhs, "  -%c, --%s", so->so_short, so->so_name)
                             : snprintf(lhs, sizeof lhs, "      --%s", so->so_name);
        if (so->so_alias && n > 0 && (size_t)n < sizeof lhs)
            n += snprintf(lhs + n, sizeof lhs - (size_t)n, ", --%s", so->so_alias);
        if (so->so_arg && n > 0 && (size_t)n < sizeof lhs)
            snprintf(lhs + n, sizeof lhs - (size_t)n, " %s", so->so_arg);
        /* wrap the help text at 90 columns, continuation lines under the first */
        const char *h = so->so_help;
        int col = fprintf(out, "%-32s", lhs);
        if (col > 32) col = fprintf(out, "\n%-32s", "") - 1;
        while (*h) {
            size_t w = strcspn(h, " ");
            if (col + (int)w > 92 && col > 32) col = fprintf(out, "\n%-32s", "") - 1;
            col += fprintf(out, "%s%.*s", col > 32 ? " " : "", (int)w, h);
            h += w;
            while (*h == ' ') h++;
        }
        fputc('\n', out);
    }
}

/* argv[*i] names which option (long, alias or short)? *inline_value: the text after '='. */
static const sho_option *sho_find(const char *a, const char **inline_value)
{
    *inline_value = NULL;
    for (size_t k = 0; k < sizeof sho_options / sizeof sho_options[0]; k++) {
        const sho_option *so = &sho_options[k];
        if (so->so_short && a[0] == '-' && a[1] == so->so_short && !a[2]) return so;
        if (strncmp(a, "--", 2)) continue;
        const char *names[2] = {so->so_name, so->so_alias};
        for (int j = 0; j < 2; j++) {
            size_t n = names[j] ? strlen(names[j]) : 0;
            if (!n || strncmp(a + 2, names[j], n)) continue;
            if (!a[2 + n]) return so;
            if (a[2 + n] == '=') {
                *inline_value = a + 3 + n;
                return so;
            }
        }
    }
    return NULL;
}

int kite__serve_http_arg(int argc, char **argv, int *i, int beside_kafka, kite_serve_http_opts *o)
{
    const char *a = argv[*i], *v;
    const sho_option *so = sho_find(a, &v);
    if (!so || (beside_kafka && so->so_alone_only)) return 0;
    if (!so->so_arg && v) {
        fprintf(stderr, "kite serve: --%s takes no value\n", so->so_name);
        return -1;
    }
    if (so->so_arg && !v) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "kite serve: --%s needs a value (%s)\n", so->so_name, so->so_arg);
            return -1;
        }
        v = argv[++*i];
    }
    char opt[48];
    snprintf(opt, sizeof opt, "--%s", so->so_name);
    double x = 0;
    if (so->so_lo < so->so_hi && kite__cli_number("kite serve", opt, v, so->so_lo, so->so_hi, &x))
        return -1;
    kite_http_config *c = &o->sho_cfg;
    switch (so->so_kind) {
    case SHO_HTTP: o->sho_listen = v; break;
    case SHO_MODEL: c->khc_model_path = v; break;
    case SHO_SPEC: c->khc_spec_path = v; break;
    case SHO_MAX_KEYS: c->khc_max_keys = (size_t)x; break;
    case SHO_THREADS: c->khc_threads = (int)x; break;
    case SHO_PIN: c->khc_pin_threads = 1; break;
    case SHO_GRACE: o->sho_grace_s = x; break;
    case SHO_IDLE: o->sho_idle_s = x; break;
    case SHO_TOKEN: c->khc_admin_token = v; break;
    case SHO_MAX_BODY: c->khc_max_body = (size_t)x; break;
    case SHO_MAX_CONN: c->khc_max_connections = (unsigned)x; break;
    case SHO_MAX_PER_ADDR: c->khc_max_per_address = (unsigned)x; break;
    case SHO_TIMEOUT: c->khc_timeout_s = (unsigned)x; break;
    case SHO_NO_REUSEPORT: c->khc_reuseport = 0; break;
    }
    return 1;
}

/* "127.0.0.1:8080", "[::1]:8080", ":8080" (127.0.0.1). */
int kite__serve_http_listen(kite_serve_http_opts *o)
{
    const char *arg = o->sho_listen ? o->sho_listen : "";
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
    if (alen >= sizeof o->sho_addr) {
        fprintf(stderr, "kite serve: --http: address '%.*s' is too long\n", (int)alen, a);
        return -1;
    }
    memcpy(o->sho_addr, a, alen);
    o->sho_addr[alen] = 0;
    double port;
    if (kite__cli_number("kite serve", "--http port", colon + 1, 0, 65535, &port)) return -1;
    o->sho_cfg.khc_address = alen ? o->sho_addr : "127.0.0.1";
    o->sho_cfg.khc_port = (uint16_t)port;
    return 0;
}

/* ---- kite serve --http alone ------------------------------------------------------------ */

static void serve_http_usage(FILE *out)
{
    fprintf(out,
            "usage: kite serve --http ADDR:PORT --model M [options]\n\n"
            "Serves POST /predict, GET /health, /ready, /metrics, /model and an HTML form at /.\n"
            "(With --brokers, --config, --topics, --replay or -X the same server runs beside the\n"
            "Kafka pipeline on its model and feature spec: see kite serve --brokers B --help.)\n\n");
    kite__serve_http_help(out, 0);
    fprintf(out,
            "  -q, --quiet                   no log lines\n"
            "  -h, --help                    this text\n\n"
            "Exit status: 0 after a clean drain, 1 on a start-up error or when the grace period\n"
            "cut requests, 2 on a usage error.\n");
}

int kite__serve_http_main(int argc, char **argv)
{
    kite_serve_http_opts o;
    kite__serve_http_opts_init(&o);
    kite_http_config *cfg = &o.sho_cfg;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            serve_http_usage(stdout);
            return KITE_EXIT_OK;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cfg->khc_quiet = 1;
            continue;
        }
        int r = kite__serve_http_arg(argc, argv, &i, 0, &o);
        if (r < 0) return KITE_EXIT_USAGE;
        if (r == 0) {
            fprintf(stderr, "kite serve: %s %s\n", a[0] == '-' ? "unknown option" : "unexpected argument", a);
            serve_http_usage(stderr);
            return KITE_EXIT_USAGE;
        }
    }
    if (!o.sho_listen || !cfg->khc_model_path) {
        fprintf(stderr, "kite serve: --http and --model are required\n");
        serve_http_usage(stderr);
        return KITE_EXIT_USAGE;
    }
    if (kite__serve_http_listen(&o)) return KITE_EXIT_USAGE;
    double grace = o.sho_grace_s, idle = o.sho_idle_s;

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
    if (kite_http_server_start(cfg, &srv, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "kite: %s\n", err);
        return KITE_EXIT_ERROR;
    }
    char version[17];
    kite_http_server_version(srv, version);
    int v6 = strchr(cfg->khc_address, ':') != NULL;
    fprintf(stderr, "kite: listening on http://%s%s%s:%u (model %s, version %s, %d thread%s)\n",
            v6 ? "[" : "", cfg->khc_address, v6 ? "]" : "", (unsigned)kite_http_server_port(srv),
            cfg->khc_model_path, version, cfg->khc_threads, cfg->khc_threads == 1 ? "" : "s");
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
    double t0 = kite_clock_mono_s();
    long cut = kite_http_server_drain(srv, grace, idle);
    kite_http_server_stop(srv);
    if (cut)
        fprintf(stderr, "kite: grace period over after %.2f s: %ld request%s cut\n",
                kite_clock_mono_s() - t0, cut, cut == 1 ? "" : "s");
    else
        fprintf(stderr, "kite: drained in %.2f s, exiting\n", kite_clock_mono_s() - t0);
    return cut ? KITE_EXIT_ERROR : KITE_EXIT_OK;
}
