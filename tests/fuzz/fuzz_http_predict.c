/* libFuzzer target: arbitrary bytes as a POST /predict body (JSON or CSV, with and without a
 * feature spec) through the request parser, the feature state and the scorer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kite/feature_spec.h>
#include "http_internal.h"

static kite_http_server *servers[2]; /* 0: model features, 1: titanic spec */

static kite_http_server *make(int with_spec)
{
    kite_http_server *srv = calloc(1, sizeof *srv);
    pthread_mutex_init(&srv->s_reload_lock, NULL);
    pthread_mutex_init(&srv->s_state_lock, NULL);
    srv->s_id = kite__http_server_new_id();
    srv->s_key_input = -1;
    srv->s_slots = aligned_alloc(64, sizeof(kite_http_slot) * KITE_HTTP_MAX_SLOTS);
    memset(srv->s_slots, 0, sizeof(kite_http_slot) * KITE_HTTP_MAX_SLOTS);
    char err[400];
    kite_http_model *m;
    if (kite__http_model_load("models/titanic.json", &m, err, sizeof err)) abort();
    atomic_store(&srv->s_model, m);
    if (with_spec) {
        if (kite_feature_spec_load("models/titanic.spec.json", &srv->s_spec, err, sizeof err) ||
            kite_feature_state_new(srv->s_spec, 0, &srv->s_state, err, sizeof err))
            abort();
    }
    return srv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!servers[0]) {
        servers[0] = make(0);
        servers[1] = make(1);
    }
    if (size < 1) return 0;
    kite_http_server *srv = servers[data[0] & 1];
    const char *ctype = data[0] & 2 ? "text/csv" : "application/json";
    static kite_http_conn c;
    if (size > c.hc_body_cap) {
        c.hc_body = realloc(c.hc_body, size);
        c.hc_body_cap = size;
    }
    memcpy(c.hc_body, data + 1, size - 1);
    c.hc_body[size - 1] = 0; /* the server NUL-terminates bodies too */
    c.hc_body_len = size - 1;
    int csv = 0;
    kite__http_predict(srv, kite__http_slot_get(srv), &c, ctype, NULL, data[0] & 4, &csv);
    return 0;
}
