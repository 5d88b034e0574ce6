/* Private to kite_runtime (engine/runtime/), not installed.
 * Internals of the status page, shared by status.c (sampler, ring, drift events),
 * status_scrape.c (the /metrics text parsed back), status_page.c (HTML), status_json.c and
 * status_render.c (the request side: a scrape, then one of the two writers). */
#ifndef KITE_STATUS_INT_H
#define KITE_STATUS_INT_H

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>

#include <kite/status.h>

/* ---- one /metrics rendering, parsed (status_scrape.c) ------------------------------------ */

typedef struct kite__status_sample {
    const char *ss_name;     /* into the scrape's text, not NUL-terminated   */
    size_t ss_name_len;
    const char *ss_labels;   /* inside the braces, exactly as written; "" none */
    size_t ss_labels_len;
    double ss_value;
    char ss_type;            /* the family's TYPE: 'c', 'g', 'h', or 'u'     */
} kite__status_sample;

typedef struct kite__status_scrape {
    kite_prom sc_text;
    kite__status_sample *sc_samples;
    size_t sc_n, sc_cap;
    double sc_unix;          /* wall clock when rendered                     */
} kite__status_scrape;

void kite__status_scrape_init(kite__status_scrape *sc);
void kite__status_scrape_free(kite__status_scrape *sc);
/* Renders and parses; 0 on success, -1 when out of memory or the text does not parse. */
int kite__status_scrape_take(kite__status_scrape *sc, kite_status_render_fn render, void *opaque);
/* name{labels} exactly (labels "" or NULL: the sample without labels); NULL if absent. */
const kite__status_sample *kite__status_scrape_find(const kite__status_scrape *sc, const char *name,
                                                    const char *labels);
/* Sum over every sample of the family name (any labels); NaN when there is none. */
double kite__status_scrape_sum(const kite__status_scrape *sc, const char *name);
/* Prometheus's histogram_quantile(q) over the cumulative name_bucket{labels,le} samples:
 * linear interpolation inside the bucket holding rank q * count, the largest finite bound
 * when that is the +Inf bucket, NaN with no observations. */
double kite__status_scrape_quantile(const kite__status_scrape *sc, const char *name,
                                    const char *labels, double q);
/* The same on bucket counts already gathered: les ascending (+Inf last), cumulative counts. */
double kite__status_quantile(const double *les, const double *cum, int n, double q);
/* Value of label key in a label text (unescaped into out); 1 if found. */
int kite__status_label(const char *labels, size_t len, const char *key, char *out, size_t size);
/* "le" bound of a bucket sample's labels, and the labels before it (into base); 1 if found. */
int kite__status_split_le(const char *labels, size_t len, char *base, size_t base_size, double *le);

/* ---- the ring of samples (status.c) ------------------------------------------------------ */

typedef struct kite__status_series {
    char *sr_key;            /* "name{labels}" or "name"                            */
    size_t sr_name_len;      /* the name's length within sr_key                     */
    int sr_rate;             /* 1: a counter, stored as per-second rate             */
    double sr_prev;          /* the previous scraped value (NaN before the first)   */
    uint64_t sr_seen;        /* the last sample that had it                         */
    float *sr_values;        /* KITE_STATUS_SECONDS, slot k % KITE_STATUS_SECONDS  */
} kite__status_series;

typedef struct kite__status_event {
    double ev_unix;
    char ev_window[40];
    char ev_what[200];       /* "feature \"T\": none -> significant", "dataset drift" */
    int ev_worse;            /* 1: a status got worse                               */
} kite__status_event;

struct kite_status {
    char st_title[64];
    kite_status_render_fn st_render;
    void *st_opaque;
    int st_interval_ms;
    pthread_t st_thread;
    int st_started;
    double st_started_unix;
    /* Everything below is written by the sampler thread and read by page/JSON requests,
     * both under st_lock. */
    pthread_mutex_t st_lock;
    pthread_cond_t st_cond;
    int st_stop;
    uint64_t st_nsamples;    /* samples taken; sample k sits in slot k % SECONDS    */
    double st_times[KITE_STATUS_SECONDS];
    kite__status_series *st_series;
    int st_nseries;
    int *st_index;           /* open addressing over st_series by key, 2 x MAX slots */
    uint64_t st_untracked;   /* series of the latest sample past KITE_STATUS_MAX_SERIES */
    kite__status_event st_events[KITE_STATUS_EVENTS];
    uint64_t st_nevents;     /* events so far; event i in slot i % EVENTS            */
};

/* Index of the series with this key, or -1 (caller holds st_lock). */
int kite__status_series_find(const kite_status *s, const char *key);
/* Samples in the history (<= SECONDS) and the count of the first one in it. */
uint64_t kite__status_history(const kite_status *s, uint64_t *first);
/* A series' stored value at sample k (NaN if out of the ring or not seen then). */
double kite__status_value_at(const kite_status *s, int series, uint64_t k);
/* Mean of a series over the last n samples (finite ones only); NaN if none. */
double kite__status_recent_mean(const kite_status *s, int series, uint64_t n);

/* status_page.c / status_json.c, called by status_render.c: under st_lock, from the ring and
 * a fresh scrape. */
void kite__status_page_write(const kite_status *s, const kite__status_scrape *now, FILE *fp,
                             int fragment);
void kite__status_json_write(const kite_status *s, const kite__status_scrape *now, FILE *fp);

#endif
