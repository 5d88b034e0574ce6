/* HTTP metrics: per-worker counters summed at scrape time and written with engine/prom.h.
 *
 * Families (all prefixed kite_http_):
 *   requests_total{endpoint,code}                 counter
 *   request_duration_seconds{endpoint,code}       histogram, first byte in to response sent
 *   rows_scored_total                             counter
 *   in_flight_requests, open_connections, draining, workers     gauges
 *   model_info{version,path} 1, model_loaded_timestamp_seconds  gauges
 *   model_reloads_total{result="ok"|"failed"}     counter
 * Series of an endpoint/code pair appear once it has been seen, except predict/200, always. */
#include <stdio.h>
#include <string.h>

#include "http_internal.h"
#include <kite/prom.h>

static const double lat_bounds[KITE_HTTP_LAT_BUCKETS] = {
    50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
    500e-3, 1.0};

static const char *const ep_names[KITE_EP__COUNT] = {
    "predict", "health", "ready", "metrics", "page", "model", "admin_reload", "status", "other"};

#define STATUS_VALUE(s) s,
static const unsigned status_codes[KITE_HTTP_STATUS_COUNT - 1] = {KITE_HTTP_STATUSES(STATUS_VALUE)};

int kite__http_status_index(unsigned status)
{
    for (int i = 0; i < KITE_HTTP_STATUS_COUNT - 1; i++)
        if (status_codes[i] == status) return i;
    return KITE_HTTP_STATUS_COUNT - 1;
}

/* Single writer (the slot's thread): a relaxed load and store cannot lose an increment. */
static void bump(_Atomic uint64_t *v, uint64_t by)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

void kite__http_counters_add(kite_http_counters *c, kite_http_endpoint ep, unsigned status,
                            uint64_t ns)
{
    int s = kite__http_status_index(status);
    double sec = (double)ns * 1e-9;
    int b = 0;
    while (b < KITE_HTTP_LAT_BUCKETS && sec > lat_bounds[b]) b++;
    bump(&c->hct_requests[ep][s], 1);
    bump(&c->hct_lat[ep][s][b], 1);
    bump(&c->hct_lat_ns[ep][s], ns);
}

static uint64_t sum_slots(kite_http_server *srv, int nslots, size_t offset)
{
    uint64_t total = 0;
    for (int i = 0; i < nslots; i++) {
        _Atomic uint64_t *v = (_Atomic uint64_t *)((char *)&srv->s_slots[i].hs_counters + offset);
        total += atomic_load_explicit(v, memory_order_relaxed); /* relaxed: see bump() */
    }
    return total;
}

void kite__http_metrics_prom(kite_http_server *srv, kite_http_slot *slot, kite_prom *p)
{
    /* relaxed: slots below the count were zeroed before the workers started */
    int nslots = atomic_load_explicit(&srv->s_next_slot, memory_order_relaxed);
    if (nslots > KITE_HTTP_MAX_SLOTS) nslots = KITE_HTTP_MAX_SLOTS;
    char labels[160], code[16];

    kite_prom_family(p, "kite_http_requests_total", "counter",
                     "HTTP requests answered, by endpoint and status code");
    for (int e = 0; e < KITE_EP__COUNT; e++)
        for (int s = 0; s < KITE_HTTP_STATUS_COUNT; s++) {
            uint64_t n = sum_slots(srv, nslots, offsetof(kite_http_counters, hct_requests[e][s]));
            if (!n && !(e == KITE_EP_PREDICT && s == 0)) continue;
            if (s < KITE_HTTP_STATUS_COUNT - 1) snprintf(code, sizeof code, "%u", status_codes[s]);
            else snprintf(code, sizeof code, "other");
            snprintf(labels, sizeof labels, "endpoint=\"%s\",code=\"%s\"", ep_names[e], code);
            kite_prom_sample(p, "kite_http_requests_total", labels, (double)n);
        }

    kite_prom_family(p, "kite_http_request_duration_seconds", "histogram",
                     "Time from a request's first byte to its response handed to the socket");
    for (int e = 0; e < KITE_EP__COUNT; e++)
        for (int s = 0; s < KITE_HTTP_STATUS_COUNT; s++) {
            uint64_t n = sum_slots(srv, nslots, offsetof(kite_http_counters, hct_requests[e][s]));
            if (!n && !(e == KITE_EP_PREDICT && s == 0)) continue;
            uint64_t counts[KITE_HTTP_LAT_BUCKETS + 1];
            for (int b = 0; b <= KITE_HTTP_LAT_BUCKETS; b++)
                counts[b] = sum_slots(srv, nslots, offsetof(kite_http_counters, hct_lat[e][s][b]));
            double sum = (double)sum_slots(srv, nslots, offsetof(kite_http_counters, hct_lat_ns[e][s])) * 1e-9;
            if (s < KITE_HTTP_STATUS_COUNT - 1) snprintf(code, sizeof code, "%u", status_codes[s]);
            else snprintf(code, sizeof code, "other");
            snprintf(labels, sizeof labels, "endpoint=\"%s\",code=\"%s\"", ep_names[e], code);
            kite_prom_histogram(p, "kite_http_request_duration_seconds", labels, lat_bounds,
                                counts, KITE_HTTP_LAT_BUCKETS, sum);
        }

    kite_prom_family(p, "kite_http_rows_scored_total", "counter", "Rows scored by /predict");
    kite_prom_sample(p, "kite_http_rows_scored_total", NULL,
                     (double)sum_slots(srv, nslots, offsetof(kite_http_counters, hct_rows)));
    kite_prom_family(p, "kite_http_request_body_bytes_total", "counter", "Request body bytes received");
    kite_prom_sample(p, "kite_http_request_body_bytes_total", NULL,
                     (double)sum_slots(srv, nslots, offsetof(kite_http_counters, hct_body_bytes)));

    /* relaxed loads: gauges, each read on its own */
    kite_prom_family(p, "kite_http_in_flight_requests", "gauge", "Requests received and not yet answered");
    kite_prom_sample(p, "kite_http_in_flight_requests", NULL,
                     (double)atomic_load_explicit(&srv->s_in_flight, memory_order_relaxed));
    kite_prom_family(p, "kite_http_open_connections", "gauge", "Open client connections");
    kite_prom_sample(p, "kite_http_open_connections", NULL,
                     (double)atomic_load_explicit(&srv->s_connections, memory_order_relaxed));
    kite_prom_family(p, "kite_http_draining", "gauge", "1 after SIGTERM: /ready answers 503");
    kite_prom_sample(p, "kite_http_draining", NULL,
                     (double)atomic_load_explicit(&srv->s_draining, memory_order_relaxed));
    kite_prom_family(p, "kite_http_workers", "gauge", "Worker threads of the HTTP pool");
    kite_prom_sample(p, "kite_http_workers", NULL, (double)srv->s_cfg.khc_threads);

    kite_http_model *m = kite__http_model_acquire(srv, slot);
    char version[64], path[600];
    kite_prom_escape(version, sizeof version, m->hm_version);
    kite_prom_escape(path, sizeof path, srv->s_model_path);
    double loaded = m->hm_loaded_unix;
    kite__http_model_release(slot);
    char info[700];
    snprintf(info, sizeof info, "version=\"%s\",path=\"%s\"", version, path);
    kite_prom_family(p, "kite_http_model_info", "gauge",
                     "The serving model: version = xxh64 fingerprint of the model file");
    kite_prom_sample(p, "kite_http_model_info", info, 1);
    kite_prom_family(p, "kite_http_model_loaded_timestamp_seconds", "gauge",
                     "Unix time the serving model was loaded");
    kite_prom_sample(p, "kite_http_model_loaded_timestamp_seconds", NULL, loaded);
    kite_prom_family(p, "kite_http_model_reloads_total", "counter",
                     "Model reloads (SIGHUP or POST /admin/reload) by result");
    kite_prom_sample(p, "kite_http_model_reloads_total", "result=\"ok\"",
                     (double)atomic_load_explicit(&srv->s_reloads_ok, memory_order_relaxed));
    kite_prom_sample(p, "kite_http_model_reloads_total", "result=\"failed\"",
                     (double)atomic_load_explicit(&srv->s_reloads_failed, memory_order_relaxed));
}

void kite__http_metrics_status_render(void *opaque, kite_prom *p)
{
    kite_http_server *srv = opaque;
    /* A request thread (GET /status) has its slot already; the sampler gets one, unpinned. */
    kite_http_slot *slot = kite__http_slot_get_unpinned(srv);
    if (!slot) { /* every slot taken: nothing safe to read the model through */
        p->kpr_oom = 1;
        return;
    }
    kite__http_metrics_prom(srv, slot, p);
}

void kite__http_metrics_render(kite_http_server *srv, kite_http_slot *slot, kite_http_conn *c)
{
    kite_prom p;
    kite_prom_init(&p);
    kite__http_metrics_prom(srv, slot, &p);

    kite__http_conn_reset_resp(c);
    if (p.kpr_oom) kite__http_conn_error(c, 500, "out of memory rendering metrics");
    else kite__http_conn_append(c, p.kpr_buf, p.kpr_len);
    kite_prom_free(&p);
}
