/* engine/stream/event_json.c against cJSON 1.7 (what kite serve parsed events with before): on
 * generated events (numbers in every spelling cJSON takes or refuses, escapes, \u sequences
 * valid and not, nesting, control bytes as whitespace, a BOM, trailing bytes) and on random
 * mutations of them, both must accept the same texts; when they accept, the same top-level
 * fields in the same order with the same names, kinds and values (numbers bit for bit); when
 * they refuse, the same byte offset.
 *
 * KITE_EVENT_JSON_COUNT=N sets the generated events (default 60000, each also mutated 4 ways). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event_json.h"
#include "kite_test.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint32_t rnd(uint32_t n) /* xorshift64*, uniform enough for test shapes */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Du) >> 32) % n;
}

typedef struct gen {
    char *b;
    size_t n, cap;
} gen;

static void put(gen *g, const char *s)
{
    size_t l = strlen(s);
    if (g->n + l + 1 > g->cap) {
        g->cap = (g->n + l + 1) * 2;
        g->b = realloc(g->b, g->cap);
    }
    memcpy(g->b + g->n, s, l);
    g->n += l;
    g->b[g->n] = 0;
}

static void ws(gen *g)
{
    static const char *const w[] = {"", "", "", " ", "  ", "\n", "\t", "\r\n", "\x01", "\x1f "};
    put(g, w[rnd(10)]);
}

static void number(gen *g)
{
    static const char *const fixed[] = {
        "0", "-0", "01", "007", "1.", "-1.", "1.5e", "1e+", "1e-7", "2.5E+3", "-", "--1", "-.5",
        "1.5.3", "1e5e5", "3.4028235e38", "1e-45", "1.17549435e-38", "1e309", "-1e400", "4.9e-324",
        "9007199254740993", "123456789012345678901234567890", "0.30000000000000004",
        "1234567890123456789012345678901234567890123456789012345678901234567890.5",
        "0.000000000000000000000000000000000000000000000000000000000000000000000001", "1+2", "7-",
        "12e", "-0.0e-0"};
    char s[64];
    switch (rnd(5)) {
    case 0: put(g, fixed[rnd(sizeof fixed / sizeof *fixed)]); return;
    case 1: snprintf(s, sizeof s, "%d", (int)rnd(2000) - 1000); break;
    case 2: snprintf(s, sizeof s, "%.*g", 1 + (int)rnd(17), ((double)rnd(1u << 30) - (1 << 29)) / (1 + rnd(100000))); break;
    case 3: {
        uint64_t r = ((uint64_t)rnd(1u << 31) << 33) ^ ((uint64_t)rnd(1u << 31) << 2) ^ rnd(4);
        double d;
        memcpy(&d, &r, sizeof d);
        snprintf(s, sizeof s, "%.17g", isfinite(d) ? d : 1.5);
        break;
    }
    default: snprintf(s, sizeof s, "%.9g", (float)rnd(100000) / 977.0f); break;
    }
    put(g, s);
}

static void string(gen *g)
{
    static const char *const parts[] = {
        "a", "Sex", "male", "female", "Braund, Mr. Owen", " ", "\\n", "\\t", "\\\"", "\\\\", "\\/",
        "\\b", "\\f", "\\r", "\\u00e9", "\\u20AC", "\\uD83D\\uDE00", "\\uD83D", "\\uDE00", "\\uZZZZ",
        "\\u0000", "\\u12", "\\x", "\\", "\xc3\xa9", "\x01", "7.5", "3", "PassengerId", "Age"};
    put(g, "\"");
    for (int i = rnd(4); i > 0; i--) put(g, parts[rnd(sizeof parts / sizeof *parts)]);
    put(g, "\"");
}

static void value(gen *g, int depth);

static void container(gen *g, int object, int depth)
{
    put(g, object ? "{" : "[");
    ws(g);
    int n = depth > 3 ? 0 : (int)rnd(5);
    for (int i = 0; i < n; i++) {
        if (i) put(g, rnd(40) ? "," : ",,");
        ws(g);
        if (object) {
            string(g);
            ws(g);
            put(g, rnd(50) ? ":" : "");
            ws(g);
        }
        value(g, depth + 1);
        ws(g);
    }
    put(g, rnd(60) ? (object ? "}" : "]") : "");
}

static void value(gen *g, int depth)
{
    static const char *const lit[] = {"true", "false", "null", "tru", "nul", "NaN", "Infinity", "-inf"};
    switch (rnd(10)) {
    case 0: case 1: case 2: case 3: number(g); break;
    case 4: case 5: string(g); break;
    case 6: put(g, lit[rnd(rnd(8) ? 3 : 8)]); break;
    case 7: container(g, 1, depth); break;
    case 8: container(g, 0, depth); break;
    default: number(g); break;
    }
}

static void event(gen *g)
{
    g->n = 0;
    put(g, "");
    if (!rnd(50)) put(g, "\xEF\xBB\xBF");
    ws(g);
    if (rnd(20)) container(g, 1, 0);
    else value(g, 0);
    if (!rnd(10)) put(g, rnd(2) ? " trailing" : "}");
    ws(g);
}

static int diffs;
static long accepted_fields; /* fields compared by value: the test must reach many */

static void compare(const char *text, size_t len)
{
    static kite_event_json ev;
    size_t at = 0;
    int rc = kite__event_json_parse(&ev, text, len, &at);
    cJSON *c = cJSON_ParseWithLength(text, len);
    const char *why = NULL;
    if (!c != (rc != 0)) why = c ? "cJSON accepts, kite refuses" : "kite accepts, cJSON refuses";
    else if (!c) {
        const char *ep = cJSON_GetErrorPtr();
        if (ep && (size_t)(ep - text) != at) why = "refused at another offset";
    } else if (cJSON_IsObject(c) != ev.ej_is_object) {
        why = "object or not";
    } else if (ev.ej_is_object) {
        int i = 0;
        for (const cJSON *it = c->child; it && !why; it = it->next, i++) {
            const kite_event_field *f = i < ev.ej_nfields ? &ev.ej_fields[i] : NULL;
            if (!f) why = "fewer fields";
            else if (strcmp(f->ef_name, it->string) || f->ef_name_len != strlen(f->ef_name))
                why = "a name differs";
            else if (cJSON_IsNumber(it))
                why = f->ef_kind != KITE_EV_NUMBER || memcmp(&f->ef_number, &it->valuedouble, 8)
                          ? "a number differs" : NULL;
            else if (cJSON_IsString(it))
                why = f->ef_kind != KITE_EV_TEXT || strcmp(f->ef_text, it->valuestring)
                          ? "a string differs" : NULL;
            else if (cJSON_IsTrue(it)) why = f->ef_kind != KITE_EV_TRUE ? "true" : NULL;
            else if (cJSON_IsFalse(it)) why = f->ef_kind != KITE_EV_FALSE ? "false" : NULL;
            else if (cJSON_IsNull(it)) why = f->ef_kind != KITE_EV_NULL ? "null" : NULL;
            else why = f->ef_kind != KITE_EV_NESTED ? "nested" : NULL;
        }
        if (!why && i != ev.ej_nfields) why = "more fields";
        accepted_fields += i;
    }
    cJSON_Delete(c);
    kt_checks++;
    if (why) {
        kt_failures++;
        if (diffs++ < 15) fprintf(stderr, "differs (%s; kite rc %d at %zu): [%.*s]\n", why, rc, at, (int)len, text);
    }
}

int main(void)
{
    long count = 60000;
    const char *env = getenv("KITE_EVENT_JSON_COUNT");
    if (env && *env) count = strtol(env, NULL, 10);
    static const char *const fixed[] = {
        "{}", "[]", "{ }", "{\"a\":1}", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}",
        "  {\"a\": 1}  ", "{\"a\": 1} x", "{\"a\": 1}}", "5", "\"x\"", "null", "nul", "", " ", "{",
        "{\"", "{\"a", "{\"a\":", "{\"a\":1", "{\"a\":1 ", "[1,2", "[1,]", "{\"a\":[1,{\"b\":[]}]}",
        "\xEF\xBB\xBF{\"a\":1}", "\xEF\xBB\xBF{}", "{\"a\":\"\\\"}", "{\"a\":-}", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":-inf}", "{\"a\":1e400}", "{\"\\u0000x\":1}",
        "{\"a\":\"x\\u0000y\"}", "{\"a\":true,\"a\":false}", "{\"a\\\"b\":1}", "\x01{\"a\":1}", "{\"a\"\x1f:\x02 1}",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) compare(fixed[i], strlen(fixed[i]));
    /* Nesting at cJSON's limit (1000) and one past it. */
    for (int depth = 999; depth <= 1001; depth++) {
        gen g = {0};
        put(&g, "{\"a\":");
        for (int i = 1; i < depth; i++) put(&g, "[");
        for (int i = 1; i < depth; i++) put(&g, "]");
        put(&g, "}");
        compare(g.b, g.n);
        free(g.b);
    }
    gen g = {0};
    char *buf = NULL;
    size_t bufcap = 0;
    static const char alphabet[] = "{}[]\":,.-+0123456789eE \\untrfalse\x01";
    for (long i = 0; i < count; i++) {
        event(&g);
        compare(g.b, g.n);
        for (int k = 0; k < 4; k++) { /* mutations: cut, drop a byte, insert one, replace one */
            if (bufcap < g.n + 2) buf = realloc(buf, bufcap = 2 * (g.n + 2));
            memcpy(buf, g.b, g.n + 1);
            size_t n = g.n, pos = n ? rnd((uint32_t)n) : 0;
            char c = alphabet[rnd(sizeof alphabet - 1)];
            switch (k) {
            case 0: n = pos; break;
            case 1: if (n) memmove(buf + pos, buf + pos + 1, n-- - pos); break;
            case 2: memmove(buf + pos + 1, buf + pos, n++ - pos + 1); buf[pos] = c; break;
            default: if (n) buf[pos] = c; break;
            }
            buf[n] = 0;
            if (n) compare(buf, n);
        }
    }
    free(g.b);
    free(buf);
    printf("event_json: %d texts compared with cJSON (%ld accepted fields by value), %d differ\n",
           kt_checks, accepted_fields, diffs);
    CHECK_MSG(accepted_fields > count, "only %ld fields compared by value", accepted_fields);
    return kt_finish("test_event_json");
}
