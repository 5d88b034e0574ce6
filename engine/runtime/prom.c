#include <kite/mem.h>
#include <kite/prom.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kite_prom_init(kite_prom *p) { *p = (kite_prom){0}; }

void kite_prom_reset(kite_prom *p)
{
    p->kpr_len = 0;
    p->kpr_oom = 0;
    if (p->kpr_buf) p->kpr_buf[0] = 0;
}

void kite_prom_free(kite_prom *p)
{
    free(p->kpr_buf);
    *p = (kite_prom){0};
}

__attribute__((format(printf, 2, 3))) static void prom_printf(kite_prom *p, const char *fmt, ...)
{
    if (p->kpr_oom) return;
    for (;;) {
        size_t room = p->kpr_cap - p->kpr_len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->kpr_buf ? p->kpr_buf + p->kpr_len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            p->kpr_oom = 1;
            return;
        }
        if ((size_t)n < room) {
            p->kpr_len += (size_t)n;
            return;
        }
        if (kite_mem_grow((void **)&p->kpr_buf, &p->kpr_cap, p->kpr_len + (size_t)n + 1, 1, 4096)) {
            p->kpr_oom = 1;
            return;
        }
    }
}

/* Prometheus floats: integers without a fraction, NaN/Inf spelled as the format wants. */
static void prom_value(kite_prom *p, double v)
{
    if (isnan(v)) prom_printf(p, "NaN");
    else if (isinf(v)) prom_printf(p, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) prom_printf(p, "%.0f", v);
    else prom_printf(p, "%.17g", v);
}

void kite_prom_family(kite_prom *p, const char *name, const char *type, const char *help)
{
    prom_printf(p, "# HELP %s ", name);
    /* HELP text escapes backslash and newline. */
    for (const char *c = help; *c; c++) {
        if (*c == '\\') prom_printf(p, "\\\\");
        else if (*c == '\n') prom_printf(p, "\\n");
        else prom_printf(p, "%c", *c);
    }
    prom_printf(p, "\n# TYPE %s %s\n", name, type);
}

void kite_prom_sample(kite_prom *p, const char *name, const char *labels, double value)
{
    if (labels && *labels) prom_printf(p, "%s{%s} ", name, labels);
    else prom_printf(p, "%s ", name);
    prom_value(p, value);
    prom_printf(p, "\n");
}

void kite_prom_histogram(kite_prom *p, const char *name, const char *labels, const double *bounds,
                         const uint64_t *counts, size_t nbounds, double sum)
{
    uint64_t cumulative = 0;
    const char *sep = labels && *labels ? "," : "";
    const char *lab = labels ? labels : "";
    for (size_t i = 0; i <= nbounds; i++) {
        cumulative += counts[i];
        if (i < nbounds) prom_printf(p, "%s_bucket{%s%sle=\"%.9g\"} ", name, lab, sep, bounds[i]);
        else prom_printf(p, "%s_bucket{%s%sle=\"+Inf\"} ", name, lab, sep);
        prom_value(p, (double)cumulative);
        prom_printf(p, "\n");
    }
    if (*lab) prom_printf(p, "%s_sum{%s} ", name, lab);
    else prom_printf(p, "%s_sum ", name);
    prom_value(p, sum);
    if (*lab) prom_printf(p, "\n%s_count{%s} ", name, lab);
    else prom_printf(p, "\n%s_count ", name);
    prom_value(p, (double)cumulative);
    prom_printf(p, "\n");
}

void kite_prom_escape(char *dst, size_t dst_size, const char *value)
{
    size_t o = 0;
    if (!dst_size) return;
    for (const char *c = value; *c && o + 2 < dst_size; c++) {
        if (*c == '\\' || *c == '"') { dst[o++] = '\\'; dst[o++] = *c; }
        else if (*c == '\n') { dst[o++] = '\\'; dst[o++] = 'n'; }
        else dst[o++] = *c;
    }
    dst[o] = 0;
}
