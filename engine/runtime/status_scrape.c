/* The /metrics text read back: the page's numbers come from exactly what a scrape returns.
 * The grammar is what engine/runtime/prom.c writes (and Prometheus's text format 0.0.4 allows):
 *   # HELP name text | # TYPE name type | name[{k="v",...}] value      (one per line)
 * Label values may hold \" \\ \n escapes and any other byte, so the closing brace is found by
 * walking the quoted values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/mem.h>
#include <kite/clock.h>
#include "status_int.h"

void kite__status_scrape_init(kite__status_scrape *sc) { memset(sc, 0, sizeof *sc); }

void kite__status_scrape_free(kite__status_scrape *sc)
{
    kite_prom_free(&sc->sc_text);
    free(sc->sc_samples);
    memset(sc, 0, sizeof *sc);
}

static int scrape_push(kite__status_scrape *sc, const kite__status_sample *x)
{
    if (kite_mem_grow((void **)&sc->sc_samples, &sc->sc_cap, sc->sc_n + 1, sizeof *sc->sc_samples, 256))
        return -1;
    sc->sc_samples[sc->sc_n++] = *x;
    return 0;
}

/* The end of a label text starting after '{': the index of its '}', or -1. */
static long labels_end(const char *s, size_t len)
{
    int quoted = 0;
    for (size_t i = 0; i < len; i++) {
        if (quoted) {
            if (s[i] == '\\') i++;
            else if (s[i] == '"') quoted = 0;
        } else if (s[i] == '"') quoted = 1;
        else if (s[i] == '}') return (long)i;
    }
    return -1;
}

static char type_code(const char *t, size_t n)
{
    if (n == 7 && !memcmp(t, "counter", 7)) return 'c';
    if (n == 5 && !memcmp(t, "gauge", 5)) return 'g';
    if (n == 9 && !memcmp(t, "histogram", 9)) return 'h';
    return 'u';
}

int kite__status_scrape_take(kite__status_scrape *sc, kite_status_render_fn render, void *opaque)
{
    sc->sc_unix = (double)kite_clock_wall_us() * 1e-6;
    kite_prom_reset(&sc->sc_text);
    sc->sc_n = 0;
    render(opaque, &sc->sc_text);
    if (sc->sc_text.kpr_oom) return -1;
    const char *p = sc->sc_text.kpr_buf ? sc->sc_text.kpr_buf : "";
    const char *family = "";
    size_t family_len = 0;
    char type = 'u';
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > 7 && !memcmp(p, "# TYPE ", 7)) {
            const char *name = p + 7, *sp = memchr(name, ' ', n - 7);
            if (sp) {
                family = name;
                family_len = (size_t)(sp - name);
                type = type_code(sp + 1, (size_t)(p + n - sp - 1));
            }
        } else if (n && p[0] != '#') {
            kite__status_sample x = {.ss_name = p, .ss_labels = "", .ss_type = 'u'};
            size_t i = 0;
            while (i < n && p[i] != '{' && p[i] != ' ') i++;
            x.ss_name_len = i;
            if (i < n && p[i] == '{') {
                long e = labels_end(p + i + 1, n - i - 1);
                if (e < 0) return -1;
                x.ss_labels = p + i + 1;
                x.ss_labels_len = (size_t)e;
                i += (size_t)e + 2;
            }
            if (i >= n || p[i] != ' ') return -1;
            char *end = NULL;
            x.ss_value = strtod(p + i + 1, &end);
            if (end == p + i + 1) return -1;
            /* A sample belongs to the family of the TYPE line before it: name, or name_bucket,
             * _sum, _count of a histogram. */
            if (family_len && x.ss_name_len >= family_len && !memcmp(x.ss_name, family, family_len))
                x.ss_type = type;
            if (scrape_push(sc, &x)) return -1;
        }
        p += n + (eol ? 1 : 0);
    }
    return 0;
}

static int name_is(const kite__status_sample *x, const char *name)
{
    size_t n = strlen(name);
    return x->ss_name_len == n && !memcmp(x->ss_name, name, n);
}

const kite__status_sample *kite__status_scrape_find(const kite__status_scrape *sc, const char *name,
                                                    const char *labels)
{
    size_t ln = labels ? strlen(labels) : 0;
    for (size_t i = 0; i < sc->sc_n; i++) {
        const kite__status_sample *x = &sc->sc_samples[i];
        if (name_is(x, name) && x->ss_labels_len == ln && !memcmp(x->ss_labels, labels ? labels : "", ln))
            return x;
    }
    return NULL;
}

double kite__status_scrape_sum(const kite__status_scrape *sc, const char *name)
{
    double sum = NAN;
    for (size_t i = 0; i < sc->sc_n; i++)
        if (name_is(&sc->sc_samples[i], name)) sum = (isnan(sum) ? 0 : sum) + sc->sc_samples[i].ss_value;
    return sum;
}

int kite__status_label(const char *labels, size_t len, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key), i = 0;
    while (i < len) {
        size_t k0 = i;
        while (i < len && labels[i] != '=') i++;
        if (i + 1 >= len || labels[i + 1] != '"') return 0;
        int match = i - k0 == kl && !memcmp(labels + k0, key, kl);
        size_t o = 0;
        for (i += 2; i < len && labels[i] != '"'; i++) {
            char c = labels[i];
            if (c == '\\' && i + 1 < len) {
                c = labels[++i];
                if (c == 'n') c = '\n';
            }
            if (match && o + 1 < size) out[o++] = c;
        }
        if (match) {
            if (size) out[o] = 0;
            return 1;
        }
        i += 2; /* the closing quote and the comma */
    }
    return 0;
}

int kite__status_split_le(const char *labels, size_t len, char *base, size_t base_size, double *le)
{
    /* prom.c writes le last: `...,le="x"` or `le="x"`. */
    const char *at = NULL;
    for (size_t i = 0; i + 4 <= len; i++)
        if (!memcmp(labels + i, "le=\"", 4) && (i == 0 || labels[i - 1] == ',')) at = labels + i;
    if (!at) return 0;
    size_t blen = (size_t)(at - labels);
    if (blen) blen--; /* the comma */
    if (blen + 1 > base_size) return 0;
    memcpy(base, labels, blen);
    base[blen] = 0;
    *le = !strncmp(at + 4, "+Inf", 4) ? INFINITY : strtod(at + 4, NULL);
    return 1;
}

double kite__status_quantile(const double *les, const double *cum, int n, double q)
{
    if (n < 2 || !isinf(les[n - 1])) return NAN;
    double total = cum[n - 1];
    if (!(total > 0)) return NAN;
    double rank = q * total;
    int b = 0;
    while (b < n - 1 && cum[b] < rank) b++;
    if (b == n - 1) return les[n - 2];
    double start = b == 0 ? (les[0] > 0 ? 0 : les[0]) : les[b - 1];
    double below = b == 0 ? 0 : cum[b - 1];
    double count = cum[b] - below;
    if (b == 0 && les[0] <= 0) return les[0];
    return start + (les[b] - start) * ((rank - below) / count);
}

#define STATUS_MAX_BUCKETS 64

double kite__status_scrape_quantile(const kite__status_scrape *sc, const char *name,
                                    const char *labels, double q)
{
    char bucket[128], base[512];
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    double les[STATUS_MAX_BUCKETS], cum[STATUS_MAX_BUCKETS];
    int n = 0;
    for (size_t i = 0; i < sc->sc_n && n < STATUS_MAX_BUCKETS; i++) {
        const kite__status_sample *x = &sc->sc_samples[i];
        double le;
        if (!name_is(x, bucket) ||
            !kite__status_split_le(x->ss_labels, x->ss_labels_len, base, sizeof base, &le) ||
            strcmp(base, labels ? labels : ""))
            continue;
        les[n] = le;
        cum[n++] = x->ss_value; /* written in ascending le order by prom.c */
    }
    return kite__status_quantile(les, cum, n, q);
}
