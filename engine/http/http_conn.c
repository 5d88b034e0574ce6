/* Response text of a connection: a buffer that grows on demand and is reused by every request
 * on the connection, so steady-state responses need no allocation of ours. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/mem.h>
#include "http_internal.h"

void kite__http_conn_reset_resp(kite_http_conn *c)
{
    c->hc_resp_len = 0;
    c->hc_resp_oom = 0;
    if (c->hc_resp) c->hc_resp[0] = 0;
}

static int reserve(kite_http_conn *c, size_t extra)
{
    if (c->hc_resp_oom) return -1;
    if (c->hc_resp_len + extra + 1 <= c->hc_resp_cap) return 0;
    if (kite_mem_grow((void **)&c->hc_resp, &c->hc_resp_cap, c->hc_resp_len + extra + 1, 1, 1024)) {
        c->hc_resp_oom = 1;
        return -1;
    }
    return 0;
}

void kite__http_conn_append(kite_http_conn *c, const char *s, size_t n)
{
    if (reserve(c, n)) return;
    memcpy(c->hc_resp + c->hc_resp_len, s, n);
    c->hc_resp_len += n;
    c->hc_resp[c->hc_resp_len] = 0;
}

void kite__http_conn_printf(kite_http_conn *c, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        kite__http_conn_append(c, small, (size_t)n);
        return;
    }
    if (reserve(c, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(c->hc_resp + c->hc_resp_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->hc_resp_len += (size_t)n;
}

void kite__http_conn_json_string(kite_http_conn *c, const char *s, size_t n)
{
    kite__http_conn_append(c, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        kite__http_conn_append(c, s + run, i - run);
        char esc[8];
        if (ch == '"' || ch == '\\')
            kite__http_conn_append(c, ch == '"' ? "\\\"" : "\\\\", 2);
        else
            kite__http_conn_append(c, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch));
        run = i + 1;
    }
    kite__http_conn_append(c, s + run, n - run);
    kite__http_conn_append(c, "\"", 1);
}

void kite__http_conn_error(kite_http_conn *c, unsigned status, const char *msg)
{
    kite__http_conn_reset_resp(c);
    kite__http_conn_append(c, "{\"error\":", 9);
    kite__http_conn_json_string(c, msg, strlen(msg));
    kite__http_conn_printf(c, ",\"status\":%u}\n", status);
}
