/* The libmicrohttpd daemon: start/stop, routing, body intake, limits, drain. See
 * http_server.h for the lifecycle; http_predict.c scores, http_model.c swaps models. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kite/mem.h>
#include <kite/feature_spec.h>
#include <kite/clock.h>
#include "http_internal.h"

/* First body buffer of a connection; grows (doubling) up to khc_max_body. */
#define CONN_BODY_INITIAL 4096
/* Pending connections the kernel queues per listening socket. */
#define HTTP_LISTEN_BACKLOG 1024

void kite_http_config_defaults(kite_http_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->khc_address = "127.0.0.1";
    cfg->khc_threads = 2;
    cfg->khc_max_connections = 1024;
    cfg->khc_max_per_address = 256;
    cfg->khc_max_body = 1 << 20;
    cfg->khc_timeout_s = 10;
    cfg->khc_reuseport = 1;
}

uint16_t kite_http_server_port(const kite_http_server *srv) { return srv->s_port; }

long kite_http_server_in_flight(const kite_http_server *srv)
{
    /* relaxed: a gauge polled by the drain loop; no data is read through it */
    return atomic_load_explicit(&((kite_http_server *)srv)->s_in_flight, memory_order_relaxed);
}

void kite_http_server_begin_drain(kite_http_server *srv)
{
    /* release: pairs with nothing that needs data (readers load relaxed); release costs
     * nothing on x86 and keeps any earlier log line ordered before the flag. */
    atomic_store_explicit(&srv->s_draining, 1, memory_order_release);
}

static int draining(kite_http_server *srv)
{
    return atomic_load_explicit(&srv->s_draining, memory_order_relaxed); /* see begin_drain */
}

/* ---- responses ----------------------------------------------------------------------- */

static enum MHD_Result respond(kite_http_server *srv, struct MHD_Connection *conn,
                               kite_http_conn *c, unsigned status, const char *body, size_t len,
                               const char *ctype)
{
    /* PERSISTENT: body is a constant or this connection's buffer, which stays untouched until
     * the next request on the connection, i.e. after this response has been sent. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
                                c->hc_ep == KITE_EP_PREDICT || c->hc_ep == KITE_EP_RELOAD ? "POST"
                                                                                          : "GET, HEAD");
    /* While draining, ask clients and balancers not to reuse this connection. */
    if (draining(srv)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    c->hc_status = status;
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond_json(kite_http_server *srv, struct MHD_Connection *conn,
                                    kite_http_conn *c, unsigned status)
{
    return respond(srv, conn, c, status, c->hc_resp ? c->hc_resp : "", c->hc_resp_len,
                   "application/json");
}

static enum MHD_Result respond_error(kite_http_server *srv, struct MHD_Connection *conn,
                                     kite_http_conn *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result respond_error(kite_http_server *srv, struct MHD_Connection *conn,
                                     kite_http_conn *c, unsigned status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kite__http_conn_error(c, status, msg);
    return respond_json(srv, conn, c, status);
}

/* ---- routing ------------------------------------------------------------------------- */

static kite_http_endpoint route(const char *url)
{
    if (!strcmp(url, "/predict")) return KITE_EP_PREDICT;
    if (!strcmp(url, "/health")) return KITE_EP_HEALTH;
    if (!strcmp(url, "/ready")) return KITE_EP_READY;
    if (!strcmp(url, "/metrics")) return KITE_EP_METRICS;
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) return KITE_EP_PAGE;
    if (!strcmp(url, "/model")) return KITE_EP_MODEL;
    if (!strcmp(url, "/admin/reload")) return KITE_EP_RELOAD;
    if (!strcmp(url, "/status") || !strcmp(url, "/status.json")) return KITE_EP_STATUS;
    return KITE_EP_OTHER;
}

static int is_get(const char *method) { return !strcmp(method, "GET") || !strcmp(method, "HEAD"); }

/* Constant-time comparison of the Authorization header with "Bearer <token>". */
static int token_ok(kite_http_server *srv, struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7)) return 0;
    h += 7;
    size_t a = strlen(h), b = strlen(srv->s_admin_token);
    unsigned diff = (unsigned)(a != b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned char)(h[i < a ? i : 0] ^ srv->s_admin_token[i]);
    return diff == 0;
}

static enum MHD_Result serve_reload(kite_http_server *srv, struct MHD_Connection *conn,
                                    kite_http_conn *c)
{
    char err[512], before[17], after[17];
    kite_http_server_version(srv, before);
    if (kite_http_server_reload(srv, after, err, sizeof err) != KITE_ERR_OK) {
        if (!srv->s_cfg.khc_quiet) fprintf(stderr, "kite: reload refused: %s\n", err);
        kite__http_conn_reset_resp(c);
        kite__http_conn_append(c, "{\"error\":", 9);
        kite__http_conn_json_string(c, err, strlen(err));
        kite__http_conn_printf(c, ",\"status\":422,\"model_version\":\"%s\"}\n", after);
        return respond_json(srv, conn, c, 422);
    }
    if (!srv->s_cfg.khc_quiet) fprintf(stderr, "kite: model reloaded: %s -> %s\n", before, after);
    kite__http_conn_reset_resp(c);
    kite__http_conn_printf(c, "{\"reloaded\":true,\"previous_version\":\"%s\",\"model_version\":\"%s\"}\n",
                          before, after);
    return respond_json(srv, conn, c, 200);
}

/* Everything except POST bodies: answered on the request's first callback. */
static enum MHD_Result serve_simple(kite_http_server *srv, struct MHD_Connection *conn,
                                    kite_http_conn *c, kite_http_slot *slot)
{
    static const char health[] = "{\"status\":\"ok\"}\n";
    static const char ready[] = "{\"ready\":true}\n";
    static const char not_ready[] = "{\"ready\":false,\"reason\":\"draining\"}\n";
    switch (c->hc_ep) {
    case KITE_EP_HEALTH:
        return respond(srv, conn, c, 200, health, sizeof health - 1, "application/json");
    case KITE_EP_READY:
        if (draining(srv))
            return respond(srv, conn, c, 503, not_ready, sizeof not_ready - 1, "application/json");
        return respond(srv, conn, c, 200, ready, sizeof ready - 1, "application/json");
    case KITE_EP_PAGE:
        return respond(srv, conn, c, 200, kite__http_page_html, kite__http_page_html_len,
                       "text/html; charset=utf-8");
    case KITE_EP_METRICS:
        kite__http_metrics_render(srv, slot, c);
        return respond(srv, conn, c, c->hc_resp_oom ? 500 : 200, c->hc_resp, c->hc_resp_len,
                       "text/plain; version=0.0.4; charset=utf-8");
    case KITE_EP_MODEL: {
        /* Copied: the model (and its info text) may be freed by a reload once released. */
        kite_http_model *m = kite__http_model_acquire(srv, slot);
        kite__http_conn_reset_resp(c);
        kite__http_conn_append(c, m->hm_info, m->hm_info_len - 1); /* without its final '}' */
        kite__http_model_release(slot);
        if (srv->s_spec) { /* with a spec, rows name its raw inputs: the form needs those */
            kite__http_conn_append(c, ",\"inputs\":[", 11);
            for (int i = 0; i < kite_feature_spec_num_inputs(srv->s_spec); i++) {
                const char *name = kite_feature_spec_input_name(srv->s_spec, i);
                if (i) kite__http_conn_append(c, ",", 1);
                kite__http_conn_json_string(c, name, strlen(name));
            }
            kite__http_conn_append(c, "]", 1);
            const char *key = kite_feature_spec_key_field(srv->s_spec);
            if (key) {
                kite__http_conn_append(c, ",\"key_field\":", 13);
                kite__http_conn_json_string(c, key, strlen(key));
            }
        }
        kite__http_conn_append(c, "}\n", 2);
        return respond_json(srv, conn, c, c->hc_resp_oom ? 500 : 200);
    }
    case KITE_EP_STATUS: {
        const char *frag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fragment");
        int json = c->hc_status_json;
        size_t len = 0;
        char *body = json ? kite_status_json(srv->s_status, &len)
                          : kite_status_page(srv->s_status, frag && !strcmp(frag, "1"), &len);
        if (!body) return respond_error(srv, conn, c, 500, "out of memory rendering the status page");
        kite__http_conn_reset_resp(c);
        kite__http_conn_append(c, body, len);
        free(body);
        return respond(srv, conn, c, c->hc_resp_oom ? 500 : 200, c->hc_resp, c->hc_resp_len,
                       json ? "application/json" : "text/html; charset=utf-8");
    }
    default:
        return respond_error(srv, conn, c, 404, "no such endpoint; try /predict, /health, /ready, /metrics, /model, /status or /");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    kite_http_server *srv = cls;
    kite_http_conn *c = *req_cls;
    kite_http_slot *slot = kite__http_slot_get(srv);
    if (!c) { /* first callback of a request: headers are in */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        c = ci ? ci->socket_context : NULL;
        if (!c) return MHD_NO; /* connection context allocation failed: drop it */
        uint64_t now = (uint64_t)kite_clock_mono_ns();
        c->hc_body_len = 0;
        c->hc_too_large = 0;
        c->hc_status = 0;
        c->hc_start_ns = now;
        c->hc_ep = route(url);
        c->hc_status_json = !strcmp(url, "/status.json");
        *req_cls = c;
        /* relaxed: gauges for the drain loop and /metrics */
        atomic_fetch_add_explicit(&srv->s_in_flight, 1, memory_order_relaxed);
        /* Probes do not count as traffic: a balancer keeps checking /ready after it has
         * taken us out of rotation, and the drain must not wait for that to stop. */
        if (c->hc_ep != KITE_EP_HEALTH && c->hc_ep != KITE_EP_READY && c->hc_ep != KITE_EP_METRICS &&
            c->hc_ep != KITE_EP_STATUS)
            atomic_store_explicit(&srv->s_last_request_ns, now, memory_order_relaxed);
        if (!slot) return respond_error(srv, conn, c, 503, "no worker slot left");
        int wants_body = c->hc_ep == KITE_EP_PREDICT || c->hc_ep == KITE_EP_RELOAD;
        if (!wants_body) {
            if (!is_get(method))
                return c->hc_ep == KITE_EP_OTHER
                           ? serve_simple(srv, conn, c, slot)
                           : respond_error(srv, conn, c, 405, "method %s not allowed on %s", method, url);
            return serve_simple(srv, conn, c, slot);
        }
        if (strcmp(method, "POST"))
            return respond_error(srv, conn, c, 405, "method %s not allowed on %s; use POST", method, url);
        if (c->hc_ep == KITE_EP_RELOAD) {
            if (!srv->s_admin_token)
                return respond_error(srv, conn, c, 404, "/admin/reload is off: start kite with --admin-token");
            if (!token_ok(srv, conn))
                return respond_error(srv, conn, c, 401, "missing or wrong 'Authorization: Bearer <token>'");
            return MHD_YES; /* the body (if any) is ignored */
        }
        const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len && strtoull(len, NULL, 10) > srv->s_cfg.khc_max_body)
            return respond_error(srv, conn, c, 413, "body of %s bytes is over the limit of %zu bytes",
                                 len, srv->s_cfg.khc_max_body);
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || (strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "text/csv", 8)))
            return respond_error(srv, conn, c, 415,
                                 "content type \"%.60s\" is not supported: send application/json or text/csv",
                                 ct ? ct : "(none)");
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (slot) {
            kite_http_counters *k = &slot->hs_counters;
            /* single writer: relaxed load + store (see http_metrics.c) */
            atomic_store_explicit(&k->hct_body_bytes,
                                  atomic_load_explicit(&k->hct_body_bytes, memory_order_relaxed) + n,
                                  memory_order_relaxed);
        }
        /* The body must be in within --timeout-seconds of the headers. libmicrohttpd's
         * connection timeout only measures inactivity, so a client sending a byte now and then
         * would hold the request (and a drain waiting for it) open for as long as it likes.
         * libmicrohttpd 0.9.75 cannot queue an answer in the middle of an upload, so the
         * connection is closed; the request counts under code 408. */
        if ((uint64_t)kite_clock_mono_ns() - c->hc_start_ns > (uint64_t)srv->s_cfg.khc_timeout_s * 1000000000u) {
            c->hc_status = 408;
            return MHD_NO;
        }
        if (c->hc_ep != KITE_EP_PREDICT || c->hc_too_large) return MHD_YES;
        if (c->hc_body_len + n > srv->s_cfg.khc_max_body) {
            c->hc_too_large = 1; /* chunked upload past the limit: keep reading, answer 413 */
            return MHD_YES;
        }
        if (kite_mem_grow((void **)&c->hc_body, &c->hc_body_cap, c->hc_body_len + n + 1, 1,
                          CONN_BODY_INITIAL))
            return MHD_NO;
        memcpy(c->hc_body + c->hc_body_len, upload_data, n);
        c->hc_body_len += n;
        c->hc_body[c->hc_body_len] = 0;
        return MHD_YES;
    }
    /* the whole body is in */
    if (!slot) return respond_error(srv, conn, c, 503, "no worker slot left");
    if (c->hc_ep == KITE_EP_RELOAD) return serve_reload(srv, conn, c);
    if (c->hc_too_large)
        return respond_error(srv, conn, c, 413, "body is over the limit of %zu bytes",
                             srv->s_cfg.khc_max_body);
    if (c->hc_body_len == 0)
        return respond_error(srv, conn, c, 400, "empty body: send a JSON object or CSV rows");
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    const char *mq = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "margin");
    int margin_q = mq && (!strcmp(mq, "1") || !strcmp(mq, "true"));
    int csv_out = 0;
    unsigned status = kite__http_predict(srv, slot, c, ct, accept, margin_q, &csv_out);
    return respond(srv, conn, c, status, c->hc_resp, c->hc_resp_len,
                   csv_out && status == 200 ? "text/csv" : "application/json");
}

/* ---- connection and request bookkeeping ------------------------------------------------ */

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    kite_http_server *srv = cls;
    kite_http_conn *c = *req_cls;
    if (!c) return;
    *req_cls = NULL;
    kite_http_slot *slot = kite__http_slot_get(srv);
    /* status 0: no response was queued (client gone, timeout): counted under code "other" */
    if (slot)
        kite__http_counters_add(&slot->hs_counters, c->hc_ep, c->hc_status,
                               (uint64_t)kite_clock_mono_ns() - c->hc_start_ns);
    atomic_fetch_sub_explicit(&srv->s_in_flight, 1, memory_order_relaxed); /* gauge */
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    kite_http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        /* One context per connection, reused by every request on it (keep-alive). */
        *socket_context = calloc(1, sizeof(kite_http_conn));
        atomic_fetch_add_explicit(&srv->s_connections, 1, memory_order_relaxed); /* gauge */
        return;
    }
    kite_http_conn *c = *socket_context;
    if (c) {
        free(c->hc_body);
        free(c->hc_resp);
        free(c);
    }
    *socket_context = NULL;
    atomic_fetch_sub_explicit(&srv->s_connections, 1, memory_order_relaxed); /* gauge */
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    kite_http_server *srv = cls;
    if (srv->s_cfg.khc_quiet) return;
    fputs("kite: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void free_server(kite_http_server *srv)
{
    if (!srv) return;
    kite__http_model_free(atomic_load_explicit(&srv->s_model, memory_order_relaxed));
    if (srv->s_slots)
        for (int i = 0; i < KITE_HTTP_MAX_SLOTS; i++) {
            free(srv->s_slots[i].hs_rows);
            free(srv->s_slots[i].hs_out);
            free(srv->s_slots[i].hs_seen);
            free(srv->s_slots[i].hs_raw);
            free(srv->s_slots[i].hs_flags);
            free(srv->s_slots[i].hs_text);
        }
    free(srv->s_slots);
    kite_feature_state_free(srv->s_state);
    kite_feature_spec_free(srv->s_spec);
    pthread_mutex_destroy(&srv->s_state_lock);
    free(srv->s_model_path);
    free(srv->s_admin_token);
    pthread_mutex_destroy(&srv->s_reload_lock);
    free(srv);
}

/* Why the daemon could not start: try the bind ourselves for the kernel's reason. */
static void bind_reason(const struct sockaddr *sa, socklen_t salen, int reuseport, char *dst,
                        size_t size)
{
    int fd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(dst, size, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, sa, salen)) snprintf(dst, size, "%s", strerror(errno));
    else snprintf(dst, size, "libmicrohttpd could not start (see the message above)");
    close(fd);
}

kite_err kite_http_server_start(const kite_http_config *cfg, kite_http_server **out,
                                char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!cfg->khc_model_path)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "no model path given");
    if (cfg->khc_threads < 1 || cfg->khc_threads > 128)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "threads %d not in [1, 128]",
                         cfg->khc_threads);
    const char *addr = cfg->khc_address ? cfg->khc_address : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t salen;
    int ipv6 = 0;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (!strcmp(addr, "localhost")) addr = "127.0.0.1";
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(cfg->khc_port);
        salen = sizeof *in4;
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(cfg->khc_port);
        salen = sizeof *in6;
        ipv6 = 1;
    } else {
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size,
                         "'%s' is not an IPv4 or IPv6 address (or localhost)", addr);
    }

    kite_http_server *srv = calloc(1, sizeof *srv);
    if (srv) srv->s_quiesced_fd = -1;
    if (!srv) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    pthread_mutex_init(&srv->s_reload_lock, NULL);
    pthread_mutex_init(&srv->s_state_lock, NULL);
    srv->s_key_input = -1;
    srv->s_id = kite__http_server_new_id();
    srv->s_cfg = *cfg;
    srv->s_cfg.khc_address = NULL; /* not kept: the caller's string */
    srv->s_model_path = strdup(cfg->khc_model_path);
    if (cfg->khc_admin_token && *cfg->khc_admin_token) srv->s_admin_token = strdup(cfg->khc_admin_token);
    srv->s_slots = kite_mem_aligned(64, sizeof(kite_http_slot) * KITE_HTTP_MAX_SLOTS);
    if (!srv->s_model_path || !srv->s_slots ||
        (cfg->khc_admin_token && *cfg->khc_admin_token && !srv->s_admin_token)) {
        free_server(srv);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    kite_http_model *m;
    kite_err err = cfg->khc_model
                       ? kite__http_model_from(cfg->khc_model, cfg->khc_model_path, &m, errstr, errstr_size)
                       : kite__http_model_load(cfg->khc_model_path, &m, errstr, errstr_size);
    if (err != KITE_ERR_OK) {
        free_server(srv);
        return err;
    }
    if (cfg->khc_spec_path) {
        char why[400];
        err = kite_feature_spec_load(cfg->khc_spec_path, &srv->s_spec, errstr, errstr_size);
        if (!err && kite_feature_spec_check_model(srv->s_spec, &m->hm_loaded->klm_model, why, sizeof why))
            err = kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s does not fit %s: %s",
                            cfg->khc_spec_path, cfg->khc_model_path, why);
        if (!err)
            err = kite_feature_state_new(srv->s_spec, cfg->khc_max_keys, &srv->s_state, errstr,
                                         errstr_size);
        if (err) {
            kite__http_model_free(m);
            free_server(srv);
            return err;
        }
        const char *kf = kite_feature_spec_key_field(srv->s_spec);
        srv->s_key_input = kf ? kite_feature_spec_input_index(srv->s_spec, kf) : -1;
    }
    /* relaxed: no worker exists yet; MHD_start_daemon's thread creation publishes it */
    atomic_store_explicit(&srv->s_model, m, memory_order_relaxed);

    /* The status sampler first: it renders from what is set up above, and s_status is written
     * before the daemon's threads exist, so every request sees it. */
    err = kite_status_start("kite serve --http", kite__http_metrics_status_render, srv, 0,
                            &srv->s_status, errstr, errstr_size);
    if (err) {
        free_server(srv);
        return err;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_TURBO | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    srv->s_daemon = MHD_start_daemon(
        flags, cfg->khc_port, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, /* first, so every message goes here */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->khc_threads > 1 ? cfg->khc_threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, cfg->khc_max_connections,
        /* Past the limit libmicrohttpd closes a connection right after accept(), before it
         * costs a slot: a flood of idle or half-sent requests from one address holds at most
         * this many, and the rest of --max-connections stays free for other clients. */
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->khc_max_per_address,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->khc_timeout_s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)(cfg->khc_reuseport ? 1 : 0),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)HTTP_LISTEN_BACKLOG,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_END);
    if (!srv->s_daemon) {
        char why[200];
        kite_status_stop(srv->s_status);
        bind_reason((struct sockaddr *)&ss, salen, cfg->khc_reuseport, why, sizeof why);
        kite_errf(KITE_ERR_HTTP, errstr, errstr_size, "cannot listen on %s%s%s:%u: %s",
                  ipv6 ? "[" : "", addr, ipv6 ? "]" : "", (unsigned)cfg->khc_port, why);
        free_server(srv);
        return KITE_ERR_HTTP;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->s_daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->s_port = di ? di->port : cfg->khc_port;
    *out = srv;
    return KITE_ERR_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

long kite_http_server_drain(kite_http_server *srv, double grace_s, double idle_s)
{
    uint64_t start = (uint64_t)kite_clock_mono_ns();
    uint64_t deadline = start + (uint64_t)(grace_s * 1e9);
    uint64_t idle_ns = (uint64_t)(idle_s * 1e9);
    /* Phase 1: keep serving until the balancer has stopped sending here. */
    for (;;) {
        uint64_t now = (uint64_t)kite_clock_mono_ns();
        if (now >= deadline) break;
        uint64_t last = atomic_load_explicit(&srv->s_last_request_ns, memory_order_relaxed);
        if (last < start) last = start; /* count idle time from the drain's beginning */
        if (kite_http_server_in_flight(srv) == 0 && now - last >= idle_ns) break;
        sleep_ms(10);
    }
    /* Phase 2: stop accepting; requests already on a connection still complete. */
    /* MHD's worker threads drop the listen socket from their epoll sets some time after
     * quiescing, so it may only be closed after MHD_stop_daemon (kite_http_server_stop). */
    if (srv->s_quiesced_fd < 0) srv->s_quiesced_fd = MHD_quiesce_daemon(srv->s_daemon);
    while (kite_http_server_in_flight(srv) > 0 && (uint64_t)kite_clock_mono_ns() < deadline) sleep_ms(5);
    return kite_http_server_in_flight(srv);
}

void kite_http_server_stop(kite_http_server *srv)
{
    if (!srv) return;
    if (srv->s_daemon) MHD_stop_daemon(srv->s_daemon);
    kite_status_stop(srv->s_status); /* after the daemon: no request reads it any more */
    srv->s_status = NULL;
    if (srv->s_quiesced_fd >= 0) close(srv->s_quiesced_fd);
    free_server(srv);
}
