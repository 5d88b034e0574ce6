/* kite_status: the live status page (GET /status) and its data (GET /status.json), served by
 * kite itself on the metrics address of `kite serve` and beside /predict in `kite serve --http`.
 *
 * The page shows what /metrics says, nothing else: a sampler thread renders the server's own
 * /metrics text once per second (the same render function the endpoint calls), parses it and
 * keeps the last KITE_STATUS_SECONDS of the series the page charts in a ring (rates for
 * counters, values for gauges). A request renders /metrics once more for the page's current
 * numbers, so they equal a scrape taken at the same moment; each number carries data-metric /
 * data-labels / data-value attributes (and data-derived for sums, rates and quantiles) that
 * name the series it comes from. The page is one self-contained HTML document with inline CSS
 * and SVG (charts drawn by engine/runtime/html_svg.c, shared with the drift report) and a 20-line
 * script that swaps in a fresh rendering (GET /status?fragment=1) every 2 seconds. */
#ifndef KITE_STATUS_H
#define KITE_STATUS_H

#include <stddef.h>

#include <kite/error.h>
#include <kite/prom.h>

#define KITE_STATUS_SECONDS 600   /* history kept: 10 minutes of 1 s samples   */
#define KITE_STATUS_MAX_SERIES 1024 /* series charted; the rest are counted only */
#define KITE_STATUS_EVENTS 256    /* recent drift status changes kept (the page lists 50) */

typedef struct kite_status kite_status;

/* Renders the server's /metrics text into p; called from the sampler thread and from
 * request threads, so it must be safe to call concurrently with itself. */
typedef void (*kite_status_render_fn)(void *opaque, kite_prom *p);

/* Starts the sampler (first sample at once, then every interval_ms; 0: 1000). title names
 * the process on the page ("kite serve"). On failure *out stays NULL. */
kite_err kite_status_start(const char *title, kite_status_render_fn render, void *opaque,
                           int interval_ms, kite_status **out, char *errstr, size_t errstr_size);
/* Stops and joins the sampler and frees everything; NULL is a no-op. */
void kite_status_stop(kite_status *s);

/* The page (fragment: only the part the script swaps in) or the JSON document, as a
 * malloc'ed NUL-terminated text the caller frees; NULL when out of memory. */
char *kite_status_page(kite_status *s, int fragment, size_t *len);
char *kite_status_json(kite_status *s, size_t *len);

#endif
