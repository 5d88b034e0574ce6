/* Prometheus text exposition format (version 0.0.4) writer, shared by every /metrics endpoint.
 *
 * Appends to a growable buffer; the caller renders from its own counters (summed without locks)
 * and serves kpr_buf. Follows the format's rules that promtool checks: one HELP and one TYPE line
 * per family before its samples, counters named *_total, histograms as cumulative _bucket
 * samples with le="..." ending in le="+Inf", then _sum and _count; label values escaped. */
#ifndef KITE_PROM_H
#define KITE_PROM_H

#include <stddef.h>
#include <stdint.h>

typedef struct kite_prom {
    char *kpr_buf;   /* NUL-terminated text                                   */
    size_t kpr_len;
    size_t kpr_cap;
    int kpr_oom;     /* set if an append failed; the text is then incomplete  */
} kite_prom;

void kite_prom_init(kite_prom *p);
void kite_prom_reset(kite_prom *p);
void kite_prom_free(kite_prom *p);

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram, untyped). */
void kite_prom_family(kite_prom *p, const char *name, const char *type, const char *help);

/* One sample: name{labels} value. labels is the inside of the braces, already escaped
 * (e.g. "partition=\"3\""), or NULL for none. */
void kite_prom_sample(kite_prom *p, const char *name, const char *labels, double value);

/* A histogram's samples from non-cumulative bucket counts: counts[i] observations <= bounds[i]
 * (and > bounds[i-1]), counts[nbounds] those above the last bound. */
void kite_prom_histogram(kite_prom *p, const char *name, const char *labels, const double *bounds,
                         const uint64_t *counts, size_t nbounds, double sum);

/* Escapes a label value (backslash, double quote, newline) into dst; always NUL-terminates. */
void kite_prom_escape(char *dst, size_t dst_size, const char *value);

#endif
