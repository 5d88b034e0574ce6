#include <kite/stats_http.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <kite/status.h>

struct kite_metrics_server {
    struct MHD_Daemon *ms_daemon;
    kite_metrics_handlers ms_handlers;
    int ms_port;
    kite_status *ms_status; /* the status page's sampler over kmh_render */
};

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned status, const char *type,
                                     const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Constant-time comparison of the Authorization header with "Bearer <token>" (as
 * engine/http/http_server.c does for kite serve --http). */
static int metrics_token_ok(const char *token, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7)) return 0;
    h += 7;
    size_t a = strlen(h), b = strlen(token);
    unsigned diff = (unsigned)(a != b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned char)(h[i < a ? i : 0] ^ token[i]);
    return diff == 0 && b > 0;
}

static enum MHD_Result metrics_admin(kite_metrics_server *s, struct MHD_Connection *c, const char *method)
{
    const kite_metrics_handlers *h = &s->ms_handlers;
    if (!h->kmh_admin_reload || !h->kmh_admin_token || !*h->kmh_admin_token) {
        static const char off[] = "/admin/reload is off: set admin_token\n";
        return metrics_reply(c, 404, "text/plain", off, sizeof off - 1);
    }
    if (strcmp(method, "POST")) return metrics_reply(c, 405, "text/plain", "POST only\n", 10);
    if (!metrics_token_ok(h->kmh_admin_token, c)) {
        static const char no[] = "missing or wrong 'Authorization: Bearer <token>'\n";
        return metrics_reply(c, 401, "text/plain", no, sizeof no - 1);
    }
    char body[2048];
    int status = h->kmh_admin_reload(h->kmh_opaque, body, sizeof body);
    return metrics_reply(c, (unsigned)status, "application/json", body, strlen(body));
}

static enum MHD_Result metrics_handle(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    kite_metrics_server *s = cls;
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/admin/reload")) return metrics_admin(s, c, method);
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return metrics_reply(c, 405, "text/plain", "method not allowed\n", 19);
    const kite_metrics_handlers *h = &s->ms_handlers;
    if (!strcmp(url, "/metrics")) {
        kite_prom p;
        kite_prom_init(&p);
        h->kmh_render(h->kmh_opaque, &p);
        enum MHD_Result r =
            p.kpr_oom ? metrics_reply(c, 500, "text/plain", "out of memory\n", 14)
                     : metrics_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8",
                                     p.kpr_buf ? p.kpr_buf : "", p.kpr_len);
        kite_prom_free(&p);
        return r;
    }
    if (!strcmp(url, "/health")) {
        int ok = h->kmh_healthy(h->kmh_opaque);
        return ok ? metrics_reply(c, 200, "text/plain", "ok\n", 3)
                  : metrics_reply(c, 503, "text/plain", "unhealthy\n", 10);
    }
    if (!strcmp(url, "/ready")) {
        int ok = h->kmh_ready(h->kmh_opaque);
        return ok ? metrics_reply(c, 200, "text/plain", "ready\n", 6)
                  : metrics_reply(c, 503, "text/plain", "not ready\n", 10);
    }
    if (!strcmp(url, "/status") || !strcmp(url, "/") || !strcmp(url, "/status.json")) {
        const char *frag = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fragment");
        int json = !strcmp(url, "/status.json");
        size_t len = 0;
        char *body = json ? kite_status_json(s->ms_status, &len)
                          : kite_status_page(s->ms_status, frag && !strcmp(frag, "1"), &len);
        enum MHD_Result r =
            !body ? metrics_reply(c, 500, "text/plain", "out of memory\n", 14)
                  : metrics_reply(c, 200, json ? "application/json" : "text/html; charset=utf-8",
                                  body, len);
        free(body);
        return r;
    }
    return metrics_reply(c, 404, "text/plain", "not found; try /metrics, /health, /ready or /status\n", 52);
}

kite_err kite_metrics_server_start(const char *addr, const kite_metrics_handlers *h,
                                   kite_metrics_server **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    const char *colon = strrchr(addr, ':');
    char host[64] = "";
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || end == colon + 1 || *end || port < 0 || port > 65535 ||
        (size_t)(colon - addr) >= sizeof host)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "metrics address \"%s\": expected host:port", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (!host[0] || !strcmp(host, "*")) sin.sin_addr.s_addr = htonl(INADDR_ANY);
    else if (!strcmp(host, "localhost")) sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "metrics address \"%s\": \"%s\" is not an IPv4 address", addr, host);
    kite_metrics_server *s = calloc(1, sizeof *s);
    if (!s) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "metrics server");
    s->ms_handlers = *h;
    kite_err err = kite_status_start(h->kmh_title ? h->kmh_title : "kite serve", h->kmh_render,
                                     h->kmh_opaque, 0, &s->ms_status, errstr, errstr_size);
    if (err) {
        free(s);
        return err;
    }
    s->ms_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                    (uint16_t)port, NULL, NULL, metrics_handle, s,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                    MHD_OPTION_END);
    if (!s->ms_daemon) {
        kite_status_stop(s->ms_status);
        free(s);
        return kite_errf(KITE_ERR_HTTP, errstr, errstr_size,
                         "metrics: cannot listen on %s (address in use?)", addr);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->ms_daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->ms_port = info ? info->port : (int)port;
    *out = s;
    return KITE_ERR_OK;
}

int kite_metrics_server_port(const kite_metrics_server *s) { return s->ms_port; }

void kite_metrics_server_stop(kite_metrics_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->ms_daemon);
    kite_status_stop(s->ms_status); /* after the daemon: no request can still read it */
    free(s);
}
