/* The metrics endpoint: GET /metrics (Prometheus text 0.0.4), /health and /ready, and the live
 * status page (GET /status or /, GET /status.json; engine/runtime/include/kite/status.h) over kmh_render, served by
 * libmicrohttpd's own thread. Rendering sums the per-thread stats blocks at scrape time, so
 * that thread is the "stats thread": writers never wait for it. */
#ifndef KITE_STATS_HTTP_H
#define KITE_STATS_HTTP_H

#include <stddef.h>

#include <kite/error.h>
#include <kite/prom.h>

typedef struct kite_metrics_server kite_metrics_server;

typedef struct kite_metrics_handlers {
    void (*kmh_render)(void *opaque, kite_prom *p); /* /metrics body                       */
    int (*kmh_healthy)(void *opaque);                /* /health: 200 if non-zero, else 503  */
    int (*kmh_ready)(void *opaque);                  /* /ready:  200 if non-zero, else 503  */
    void *kmh_opaque;
    const char *kmh_title;                           /* status page title; NULL: "kite serve" */
    /* POST /admin/reload (NULL: 404): body receives the JSON reply, returns the HTTP status;
     * called only with "Authorization: Bearer <kmh_admin_token>" (else 401). */
    int (*kmh_admin_reload)(void *opaque, char *body, size_t size);
    const char *kmh_admin_token;
} kite_metrics_handlers;

/* addr: "host:port" (IPv4 host or "*" / "" for any; port 0 picks a free one). */
kite_err kite_metrics_server_start(const char *addr, const kite_metrics_handlers *h,
                                   kite_metrics_server **out, char *errstr, size_t errstr_size);
/* The port actually bound. */
int kite_metrics_server_port(const kite_metrics_server *s);
void kite_metrics_server_stop(kite_metrics_server *s);

#endif
