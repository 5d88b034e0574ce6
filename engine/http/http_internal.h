/* Private to kite_http (engine/http/), not installed.
 * Internals shared by engine/http/http_*.c; not part of the public API (see http_server.h). */
#ifndef KITE_HTTP_INTERNAL_H
#define KITE_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <kite/feature_state.h>
#include <kite/forest.h>
#include <kite/http_server.h>
#include <kite/loaded_model.h>
#include <kite/model.h>
#include <kite/prom.h>
#include <kite/status.h>

/* Worker slots: one per thread that ever served a request (the pool's workers, plus whichever
 * thread runs completion callbacks at stop). --threads is capped at 128, so this is not
 * reached; a thread past it gets no slot and its requests are answered 503. */
#define KITE_HTTP_MAX_SLOTS 160

/* ---- model handle ---------------------------------------------------------------------- */

typedef struct kite_http_model {
    kite_loaded_model *hm_loaded; /* one reference (the pipeline's, beside Kafka)        */
    char hm_version[17];     /* 16 hex digits of km_fingerprint                         */
    char **hm_names;         /* feature names (the model's, or "f0".."fN-1")            */
    size_t *hm_name_len;
    char *hm_info;           /* GET /model JSON body                                    */
    size_t hm_info_len;
    double hm_loaded_unix;   /* wall-clock load time, for the metric                    */
} kite_http_model;

kite_err kite__http_model_load(const char *path, kite_http_model **out, char *errstr,
                              size_t errstr_size);
/* A handle on a model loaded elsewhere (path is for GET /model and messages). */
kite_err kite__http_model_from(kite_loaded_model *lm, const char *path, kite_http_model **out,
                              char *errstr, size_t errstr_size);
void kite__http_model_free(kite_http_model *m);
/* Index of a feature name (len bytes, not NUL-terminated), or -1; tries hint first. */
int kite__http_model_feature(const kite_http_model *m, const char *name, size_t len, int hint);

/* ---- metrics --------------------------------------------------------------------------- */

typedef enum kite_http_endpoint {
    KITE_EP_PREDICT, KITE_EP_HEALTH, KITE_EP_READY, KITE_EP_METRICS, KITE_EP_PAGE,
    KITE_EP_MODEL, KITE_EP_RELOAD, KITE_EP_STATUS, KITE_EP_OTHER, KITE_EP__COUNT
} kite_http_endpoint;

/* Status codes with their own series; anything else counts as "other". */
#define KITE_HTTP_STATUSES(X) \
    X(200) X(400) X(401) X(404) X(405) X(408) X(413) X(415) X(422) X(500) X(503)
#define KITE_HTTP_STATUS_COUNT 12 /* the eleven above + other */
#define KITE_HTTP_LAT_BUCKETS 14  /* bounds in http_metrics.c; +1 for +Inf */

/* Counters of one worker. Only the owning thread writes (relaxed load + relaxed store: a
 * single writer cannot lose an update); the /metrics renderer sums all slots with relaxed
 * loads: each counter is individually exact, a scrape is not a snapshot across counters. */
typedef struct kite_http_counters {
    _Atomic uint64_t hct_requests[KITE_EP__COUNT][KITE_HTTP_STATUS_COUNT];
    _Atomic uint64_t hct_lat[KITE_EP__COUNT][KITE_HTTP_STATUS_COUNT][KITE_HTTP_LAT_BUCKETS + 1];
    _Atomic uint64_t hct_lat_ns[KITE_EP__COUNT][KITE_HTTP_STATUS_COUNT];
    _Atomic uint64_t hct_rows;           /* rows scored                                  */
    _Atomic uint64_t hct_body_bytes;     /* request body bytes received                  */
} kite_http_counters;

int kite__http_status_index(unsigned status);
void kite__http_counters_add(kite_http_counters *c, kite_http_endpoint ep, unsigned status,
                            uint64_t ns);

/* ---- per-thread slot -------------------------------------------------------------------- */

typedef struct kite_http_slot {
    /* Hazard pointer: the model this thread is scoring with, or NULL. Written by its thread
     * (seq_cst, see kite__http_model_acquire), read by a reloader (seq_cst). */
    _Atomic(kite_http_model *) hs_hazard;
    _Atomic(void *) hs_owner;  /* the owning thread's token (relaxed; see kite__http_slot_get) */
    kite_http_counters hs_counters;
    /* Scoring scratch, grown on demand and kept: steady-state requests do not allocate. */
    float *hs_rows;
    size_t hs_rows_cap;      /* floats */
    float *hs_out;
    size_t hs_out_cap;       /* floats */
    uint8_t *hs_seen;
    size_t hs_seen_cap;
    kite_raw_value *hs_raw;  /* raw rows (spec inputs) of the request, row-major          */
    size_t hs_raw_cap;       /* values                                                   */
    uint8_t *hs_flags;       /* per row: KITE_ROW_RAW, KITE_ROW_WARMING                   */
    size_t hs_flags_cap;
    char *hs_text;           /* text/csv raw rows: their field text (the body's size + 1)  */
    size_t hs_text_cap;
} __attribute__((aligned(64))) kite_http_slot;

#define KITE_ROW_RAW 1u     /* the row holds raw inputs, featurized through the spec      */
#define KITE_ROW_WARMING 2u /* the row's key is still warming up                          */

/* ---- per-connection context ------------------------------------------------------------ */

typedef struct kite_http_conn {
    char *hc_body;           /* request body, NUL-terminated; grows up to khc_max_body  */
    size_t hc_body_len;
    size_t hc_body_cap;
    char *hc_resp;           /* response text; lives until the next request on this
                              * connection, so it is handed to MHD without a copy      */
    size_t hc_resp_len;
    size_t hc_resp_cap;
    int hc_resp_oom;
    /* current request */
    kite_http_endpoint hc_ep;
    unsigned hc_status;
    int hc_too_large;        /* body exceeded khc_max_body while streaming in          */
    int hc_status_json;      /* KITE_EP_STATUS: /status.json rather than the page      */
    uint64_t hc_start_ns;
} kite_http_conn;

void kite__http_conn_reset_resp(kite_http_conn *c);
void kite__http_conn_append(kite_http_conn *c, const char *s, size_t n);
void kite__http_conn_printf(kite_http_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal (quoted, escaped). */
void kite__http_conn_json_string(kite_http_conn *c, const char *s, size_t n);
/* {"error":"msg","status":N} */
void kite__http_conn_error(kite_http_conn *c, unsigned status, const char *msg);

/* ---- server ---------------------------------------------------------------------------- */

struct kite_http_server {
    uint64_t s_id;                     /* kite__http_server_new_id(): keys threads' slots     */
    kite_http_config s_cfg;
    char *s_model_path;
    char *s_admin_token;
    struct MHD_Daemon *s_daemon;
    uint16_t s_port;
    /* The serving model. Swapped with seq_cst exchange by reload; read by workers through
     * their hazard slot (kite__http_model_acquire). */
    _Atomic(kite_http_model *) s_model;
    pthread_mutex_t s_reload_lock;     /* one reload at a time                               */
    kite_feature_spec *s_spec;         /* NULL without --spec; immutable once loaded          */
    int s_key_input;                   /* spec input holding the stream key, or -1            */
    /* Per-key feature state: one for all workers. An update is O(1) per feature, so one
     * mutex costs less than routing keys to per-worker states. */
    kite_feature_state *s_state;
    pthread_mutex_t s_state_lock;
    _Atomic uint64_t s_reloads_ok;     /* relaxed: statistics only                           */
    _Atomic uint64_t s_reloads_failed; /* relaxed: statistics only                           */
    /* 1 once draining. Stored release by begin_drain, loaded relaxed by /ready and request
     * handlers (a request that misses the flag by a few ns is simply served normally). */
    atomic_int s_draining;
    atomic_long s_in_flight;           /* relaxed inc/dec: a gauge, read by drain polling    */
    _Atomic uint64_t s_last_request_ns;/* relaxed: start of the latest request (drain idle)  */
    int s_quiesced_fd;                 /* listen socket after MHD_quiesce_daemon, or -1      */
    _Atomic uint64_t s_connections;    /* relaxed: open connections (gauge)                  */
    atomic_int s_next_slot;            /* relaxed fetch_add: slot index allocation           */
    atomic_int s_next_cpu;             /* relaxed fetch_add: pinning round robin             */
    kite_http_slot *s_slots;           /* KITE_HTTP_MAX_SLOTS                                */
    double s_started_unix;
    kite_status *s_status;             /* GET /status: sampler over kite__http_metrics_prom   */
};

uint64_t kite__http_server_new_id(void);
/* The calling thread's slot (registers it on first use); NULL when all slots are taken. */
kite_http_slot *kite__http_slot_get(kite_http_server *srv);
/* The same for a thread that is not a worker (the status sampler): never pinned, so --pin
 * keeps giving the workers their CPUs. */
kite_http_slot *kite__http_slot_get_unpinned(kite_http_server *srv);
/* Publishes the serving model in the caller's hazard slot and returns it; release with
 * kite__http_model_release. */
kite_http_model *kite__http_model_acquire(kite_http_server *srv, kite_http_slot *slot);
void kite__http_model_release(kite_http_slot *slot);

/* Endpoint bodies; each fills c's response text and returns the status code. */
unsigned kite__http_predict(kite_http_server *srv, kite_http_slot *slot, kite_http_conn *c,
                           const char *content_type, const char *accept, int margin_query,
                           int *csv_out);
void kite__http_metrics_render(kite_http_server *srv, kite_http_slot *slot, kite_http_conn *c);
/* The /metrics text into p (the status sampler's source; slot: the calling thread's). */
void kite__http_metrics_prom(kite_http_server *srv, kite_http_slot *slot, kite_prom *p);
/* kite_status_render_fn over a server: takes the calling thread's slot. */
void kite__http_metrics_status_render(void *srv, kite_prom *p);

extern const char kite__http_page_html[];
extern const size_t kite__http_page_html_len;

#endif
