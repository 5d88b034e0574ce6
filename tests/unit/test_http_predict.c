/* Unit tests of the HTTP request path without sockets: the JSON scanner's grammar, the
 * /predict parser's answers and errors, and the hazard-pointer model swap under concurrent
 * readers (run under ASan: a model freed while a reader holds it would be reported). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "http_internal.h"
#include "http_json.h"
#include "kite_test.h"

static int scan_ok(const char *text)
{
    kite_json j;
    kite_json_scalar v;
    char err[200];
    kite__json_init(&j, text, strlen(text));
    kite_json_kind k = kite__json_value(&j, &v, err, sizeof err);
    if (k == KITE_JSON_ERROR) return 0;
    if ((k == KITE_JSON_OBJECT || k == KITE_JSON_ARRAY) && kite__json_skip(&j, k, err, sizeof err))
        return 0;
    return kite__json_end(&j, err, sizeof err) == 0;
}

static void test_scanner(void)
{
    const char *good[] = {"0", "-0", "1.5e-3", "12E+2", "\"a\\u00e9\\n\"", "[]", "{}", "[1,[2,{\"a\":null}]]",
                          " {\"a\" : [ true , false ] } ", "NaN", "-Infinity", "\"\\ud83d\\ude00\""};
    const char *bad[] = {"01", "1.", ".5", "-", "1e", "+1", "[1,]", "{\"a\"}", "{\"a\":1,}", "\"abc",
                         "\"a\\x\"", "\"\\u12g4\"", "tru", "[1 2]", "{1:2}", "\"a\tb\"", "1 2", ""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) CHECK_MSG(scan_ok(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_MSG(!scan_ok(bad[i]), "%s", bad[i]);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    kite_json j;
    kite_json_scalar v;
    char err[200];
    kite__json_init(&j, deep, sizeof deep);
    CHECK(kite__json_value(&j, &v, err, sizeof err) == KITE_JSON_ARRAY);
    CHECK(kite__json_skip(&j, KITE_JSON_ARRAY, err, sizeof err) == -1 && strstr(err, "deep"));
    char out[16];
    CHECK(kite__json_unescape("P\\u0063lass", 11, out, sizeof out) == 6 && !strcmp(out, "Pclass"));
    CHECK(kite__json_unescape("\\ud83d\\ude00", 12, out, sizeof out) == 4 &&
          !memcmp(out, "\xf0\x9f\x98\x80", 4));
    CHECK(kite__json_unescape("0123456789abcdefgh", 18, out, sizeof out) == -1);
}

static kite_http_server *fake_server(const char *model)
{
    kite_http_server *srv = calloc(1, sizeof *srv);
    pthread_mutex_init(&srv->s_reload_lock, NULL);
    srv->s_id = kite__http_server_new_id();
    srv->s_key_input = -1;
    srv->s_model_path = strdup(model);
    srv->s_slots = aligned_alloc(64, sizeof(kite_http_slot) * KITE_HTTP_MAX_SLOTS);
    memset(srv->s_slots, 0, sizeof(kite_http_slot) * KITE_HTTP_MAX_SLOTS);
    char err[300];
    kite_http_model *m;
    if (kite__http_model_load(model, &m, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    atomic_store(&srv->s_model, m);
    return srv;
}

static void free_fake(kite_http_server *srv)
{
    kite__http_model_free(atomic_load(&srv->s_model));
    for (int i = 0; i < KITE_HTTP_MAX_SLOTS; i++) {
        free(srv->s_slots[i].hs_rows);
        free(srv->s_slots[i].hs_out);
        free(srv->s_slots[i].hs_seen);
        free(srv->s_slots[i].hs_raw);
        free(srv->s_slots[i].hs_flags);
    }
    free(srv->s_slots);
    free(srv->s_model_path);
    pthread_mutex_destroy(&srv->s_reload_lock);
    free(srv);
}

static unsigned predict(kite_http_server *srv, kite_http_conn *c, const char *ctype, const char *body)
{
    c->hc_body_len = strlen(body);
    if (c->hc_body_len + 1 > c->hc_body_cap) {
        c->hc_body = realloc(c->hc_body, c->hc_body_len + 1);
        c->hc_body_cap = c->hc_body_len + 1;
    }
    memcpy(c->hc_body, body, c->hc_body_len + 1);
    int csv = 0;
    return kite__http_predict(srv, kite__http_slot_get(srv), c, ctype, NULL, 0, &csv);
}

static void test_predict(void)
{
    kite_http_server *srv = fake_server("models/titanic.json");
    kite_http_conn c = {0};
    const char *json = "application/json";
    /* The reference answer: the same row in every form must give the same digits. */
    CHECK(predict(srv, &c, json, "{\"features\":[3,0,22,1,0,7.25],\"margin\":true}") == 200);
    char pred[64] = "", marg[64] = "";
    sscanf(c.hc_resp, "{\"prediction\":%63[^,],\"margin\":%63[^,]", pred, marg);
    CHECK_MSG(strlen(pred) > 2 && strlen(marg) > 2, "%s", c.hc_resp);
    char single[128], rows[512];
    snprintf(single, sizeof single, "{\"prediction\":%s,", pred);
    snprintf(rows, sizeof rows, "{\"predictions\":[%s,%s],\"margins\":[%s,%s],\"rows\":2,", pred, pred,
             marg, marg);
    struct { const char *body; unsigned status; const char *want; } cases[] = {
        {"{\"features\":[3,0,22,1,0,7.25]}", 200, single},
        {"{\"P\\u0063lass\":3,\"Sex\":0,\"Age\":22,\"SibSp\":1,\"Parch\":0,\"Fare\":7.25}", 200, single},
        {"{\"Fare\":7.25,\"Parch\":0,\"SibSp\":1,\"Age\":22,\"Sex\":0,\"Pclass\":3,\"key\":\"s1\"}", 200, single},
        {"{\"rows\":[[3,0,22,1,0,7.25],[3,0,22,1,0,7.25]],\"margin\":true}", 200, rows},
        {"{\"features\":[3,0,22,1,0]}", 422, "5 feature values"},
        {"{\"features\":[3,0,22,1,0,7.25],\"Age\":3}", 422, "beside"},
        {"{\"Age\":3,\"features\":[3,0,22,1,0,7.25]}", 422, "cannot be combined"},
        {"{\"rows\":[1]}", 422, "rows[0]"},
        {"{\"rows\":[[3,0,22,1,0,7.25],{\"Age\":1}]}", 422, "row 1: field \\\"Pclass\\\" is missing"},
        {"{\"features\":[3,0,22,1,0,1e300]}", 422, "float32 range"},
        {"{\"features\":[3,0,22,1,0,{}]}", 422, "got an object"},
        {"{\"features\":[3,0,22,1,0,7.25]", 400, "malformed JSON"},
        {"{\"features\" [", 400, "expected ':'"},
        {"  ", 400, "empty body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned st = predict(srv, &c, json, cases[i].body);
        CHECK_MSG(st == cases[i].status && c.hc_resp && strstr(c.hc_resp, cases[i].want),
                  "%s -> %u %s", cases[i].body, st, c.hc_resp ? c.hc_resp : "");
    }
    char csv_want[96];
    snprintf(csv_want, sizeof csv_want, "prediction\n%s\n", pred);
    unsigned st = predict(srv, &c, "text/csv", "Fare,Pclass,Sex,Age,SibSp,Parch,x\r\n7.25,3,0,22,1,0,\"a,b\"\n\n");
    CHECK_MSG(st == 200 && !strcmp(c.hc_resp, csv_want), "%u %s", st, c.hc_resp);
    /* kite score's grammar (loaders/csv): a quoted field may hold a newline. */
    st = predict(srv, &c, "text/csv", "Fare,Pclass,Sex,Age,SibSp,Parch,x\n7.25,3,0,22,1,0,\"line one\nline two\"\n");
    CHECK_MSG(st == 200 && !strcmp(c.hc_resp, csv_want), "quoted newline: %u %s", st, c.hc_resp);
    st = predict(srv, &c, "text/csv", "Pclass,Sex,Age,SibSp,Parch,Fare\n3,0,\"22,1,0,7.25\n");
    CHECK_MSG(st == 400 && strstr(c.hc_resp, "unterminated quote"), "%u %s", st, c.hc_resp);
    st = predict(srv, &c, "text/csv", "Pclass,Sex,Age,SibSp,Parch,Fare\n3,0,22\n");
    CHECK_MSG(st == 422 && strstr(c.hc_resp, "3 fields"), "%u %s", st, c.hc_resp);
    st = predict(srv, &c, "text/plain", "{}");
    CHECK_MSG(st == 415, "%u", st);
    free(c.hc_body);
    free(c.hc_resp);
    free_fake(srv);
}

/* ---- reload under concurrent readers ------------------------------------------------------ */

typedef struct reader_arg {
    kite_http_server *srv;
    atomic_int *stop;
    long reads;
    int bad;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    kite_http_slot *slot = kite__http_slot_get(a->srv);
    float row[64] = {3, 0, 22, 1, 0, 7.25f}, out; /* wide enough for either model */
    while (!atomic_load_explicit(a->stop, memory_order_relaxed)) {
        kite_http_model *m = kite__http_model_acquire(a->srv, slot);
        /* touch the model the way a request does: its forest and its strings */
        kite_forest_predict(&m->hm_loaded->klm_forest, row, 1, (size_t)m->hm_loaded->klm_model.km_num_feature, &out, 0);
        if (strlen(m->hm_version) != 16 || !(out > 0 && out < 1)) a->bad++;
        kite__http_model_release(slot);
        a->reads++;
    }
    return NULL;
}

static void test_reload_race(void)
{
    kite_http_server *srv = fake_server("models/titanic.json");
    atomic_int stop = 0;
    enum { READERS = 3 };
    pthread_t t[READERS];
    reader_arg args[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (reader_arg){srv, &stop, 0, 0};
        pthread_create(&t[i], NULL, reader, &args[i]);
    }
    const char *paths[] = {"tests/golden/xgb1.7/binary_logistic_d6.json", "models/titanic.json"};
    char err[300], version[17], first[17];
    kite_http_server_version(srv, first);
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        /* the d6 golden model has another feature count: readers must never mix the two */
        free(srv->s_model_path);
        srv->s_model_path = strdup(paths[i % 2]);
        if (kite_http_server_reload(srv, version, err, sizeof err) == KITE_ERR_OK) ok++;
    }
    free(srv->s_model_path);
    srv->s_model_path = strdup("tests/golden/xgb1.7/does-not-exist.json");
    CHECK(kite_http_server_reload(srv, version, err, sizeof err) != KITE_ERR_OK);
    CHECK_MSG(!strcmp(version, first), "a failed reload reports the serving version %s", version);
    atomic_store(&stop, 1);
    long reads = 0;
    int bad = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(t[i], NULL);
        reads += args[i].reads;
        bad += args[i].bad;
    }
    CHECK_MSG(ok == 40, "%d of 40 reloads succeeded (%s)", ok, err);
    CHECK_MSG(bad == 0 && reads > 0, "%d bad reads of %ld", bad, reads);
    CHECK(atomic_load(&srv->s_reloads_ok) == 40 && atomic_load(&srv->s_reloads_failed) == 1);
    free_fake(srv);
}

int main(void)
{
    test_scanner();
    test_predict();
    test_reload_race();
    return kt_finish("test_http_predict");
}
