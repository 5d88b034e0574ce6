/* kite HTTP scoring server (libmicrohttpd): /predict, /health, /ready, /metrics, /model, the
 * HTML form at /, and POST /admin/reload.
 *
 * Lifecycle, as a load balancer sees it:
 *
 *   kite_http_server_start     listening, /ready 200 (a model is always loaded by start)
 *   kite_http_server_reload    load + validate + atomic swap; a bad file leaves the old model
 *   kite_http_server_begin_drain  /ready 503 at once; requests are still served, each answered
 *                              with "Connection: close" so balancers drop their idle sockets
 *   kite_http_server_drain     waits for the balancer to stop sending (no new request for
 *                              idle_s and nothing in flight), stops accepting, lets in-flight
 *                              requests finish, all within grace_s
 *   kite_http_server_stop      closes everything and frees the server
 *
 * Threads: a fixed pool of khc_threads libmicrohttpd workers (epoll, one listening socket each
 * through the pool), optionally pinned one per CPU. Each worker registers a slot on its first
 * request: a hazard pointer for the model, its own metric counters and its own scoring scratch
 * (rows, outputs), so the scoring path takes no lock and no malloc once warm. What still
 * allocates per request is libmicrohttpd's own response object.
 *
 * All functions except the ones documented otherwise may be called from any one control
 * thread (the CLI's signal loop); reload may also run on a worker (POST /admin/reload). */
#ifndef KITE_HTTP_SERVER_H
#define KITE_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>

typedef struct kite_http_config {
    const char *khc_address;      /* IPv4/IPv6 literal or "localhost"; default "127.0.0.1" */
    uint16_t khc_port;            /* 0: an ephemeral port (kite_http_server_port says which) */
    const char *khc_model_path;   /* XGBoost model file; reloads re-read this path           */
    struct kite_loaded_model *khc_model; /* NULL: load khc_model_path; else the model already
                                   * loaded from that file (kite serve --http beside Kafka: the
                                   * pipeline's), shared, not loaded again                    */
    const char *khc_spec_path;    /* feature spec (NULL: none): JSON/CSV rows of raw fields go
                                   * through it, keyed streams keep their state across requests;
                                   * loaded once, every (re)loaded model is checked against it  */
    size_t khc_max_keys;          /* stream keys the feature state holds (0: the spec's)      */
    int khc_threads;              /* worker pool size, 1..128; default 2                      */
    unsigned khc_max_connections; /* open connections at most; default 1024                   */
    unsigned khc_max_per_address; /* open connections from one client address at most (0: no
                                   * limit); default 256, so one address cannot take every
                                   * slot: connections past it are closed as they are accepted */
    size_t khc_max_body;          /* request body bytes at most; default 1 MiB                */
    unsigned khc_timeout_s;       /* a connection idle this long is closed, and so is one
                                   * whose request body is not in this long after its
                                   * headers (a trickling upload); default 10                 */
    const char *khc_admin_token;  /* NULL or "": POST /admin/reload answers 404               */
    int khc_reuseport;            /* 1: SO_REUSEPORT, several processes share the port (def 1)*/
    int khc_pin_threads;          /* 1: pin worker i to allowed CPU i mod n (default 0)       */
    int khc_quiet;                /* 1: no log lines on stderr                                */
} kite_http_config;

typedef struct kite_http_server kite_http_server;

void kite_http_config_defaults(kite_http_config *cfg);

/* Loads the model, binds and starts the workers. On failure nothing is left running and
 * errstr names the problem ("model.json: ...", "127.0.0.1:8080: address in use"). */
kite_err kite_http_server_start(const kite_http_config *cfg, kite_http_server **out,
                                char *errstr, size_t errstr_size);

/* The bound port (useful with khc_port 0). */
uint16_t kite_http_server_port(const kite_http_server *srv);

/* Re-reads khc_model_path, validates it and swaps it in; returns once no request still uses
 * the old model, which is then freed. On error the old model keeps serving. Serialised by a
 * mutex, so concurrent reloads (SIGHUP and /admin/reload) queue. version (may be NULL)
 * receives the serving model's version afterwards (17 bytes). */
kite_err kite_http_server_reload(kite_http_server *srv, char *version, char *errstr,
                                 size_t errstr_size);

/* The serving model's version: 16 hex digits of kite_model.km_fingerprint (17 bytes). */
void kite_http_server_version(kite_http_server *srv, char version[17]);

/* /ready answers 503 from now on. Async-signal-safe (one atomic store). */
void kite_http_server_begin_drain(kite_http_server *srv);

/* Requests received but not yet answered and sent. */
long kite_http_server_in_flight(const kite_http_server *srv);

/* Drain policy (call after begin_drain): wait until nothing is in flight and no request has
 * started for idle_s seconds (the balancer has noticed /ready), then stop accepting and wait
 * for in-flight requests, the whole within grace_s. Returns the number of requests still in
 * flight when grace_s ran out (0: a clean drain). */
long kite_http_server_drain(kite_http_server *srv, double grace_s, double idle_s);

/* Stops the workers (open connections are closed) and frees everything. NULL is a no-op. */
void kite_http_server_stop(kite_http_server *srv);

#endif
