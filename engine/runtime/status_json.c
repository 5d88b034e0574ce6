/* GET /status.json: what the page shows, for scripts. The current samples (every series of a
 * fresh /metrics rendering, by "name{labels}"), the last JSON_SECONDS samples of every charted
 * series (counters as per-second rates; null where a sample had no value) with their times,
 * and the recent drift events. Numbers are printed with %.17g, so they read back exactly. */
#include <math.h>
#include <string.h>

#include "status_int.h"

#define JSON_SECONDS 60

static void json_string(FILE *fp, const char *s, size_t n)
{
    fputc('"', fp);
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

static void json_number(FILE *fp, double v)
{
    if (isfinite(v)) fprintf(fp, "%.17g", v);
    else fputs("null", fp);
}

void kite__status_json_write(const kite_status *s, const kite__status_scrape *now, FILE *fp)
{
    fputs("{\"title\":", fp);
    json_string(fp, s->st_title, strlen(s->st_title));
    fprintf(fp, ",\"unix\":%.3f,\"interval_ms\":%d,\"samples_taken\":%llu,\"untracked_series\":%llu,\"current\":{",
            now->sc_unix, s->st_interval_ms, (unsigned long long)s->st_nsamples,
            (unsigned long long)s->st_untracked);
    char key[1024];
    for (size_t i = 0; i < now->sc_n; i++) {
        const kite__status_sample *x = &now->sc_samples[i];
        snprintf(key, sizeof key, x->ss_labels_len ? "%.*s{%.*s}" : "%.*s%.*s", (int)x->ss_name_len,
                 x->ss_name, (int)x->ss_labels_len, x->ss_labels);
        if (i) fputc(',', fp);
        json_string(fp, key, strlen(key));
        fputc(':', fp);
        json_number(fp, x->ss_value);
    }
    uint64_t first, n = kite__status_history(s, &first);
    if (n > JSON_SECONDS) {
        first += n - JSON_SECONDS;
        n = JSON_SECONDS;
    }
    fputs("},\"times\":[", fp);
    for (uint64_t k = 0; k < n; k++) {
        if (k) fputc(',', fp);
        fprintf(fp, "%.3f", s->st_times[(first + k) % KITE_STATUS_SECONDS]);
    }
    fputs("],\"series\":{", fp);
    for (int i = 0; i < s->st_nseries; i++) {
        const kite__status_series *r = &s->st_series[i];
        if (i) fputc(',', fp);
        json_string(fp, r->sr_key, strlen(r->sr_key));
        fprintf(fp, ":{\"kind\":\"%s\",\"values\":[", r->sr_rate ? "rate" : "value");
        for (uint64_t k = 0; k < n; k++) {
            if (k) fputc(',', fp);
            json_number(fp, kite__status_value_at(s, i, first + k));
        }
        fputs("]}", fp);
    }
    fputs("},\"events\":[", fp);
    uint64_t nev = s->st_nevents < KITE_STATUS_EVENTS ? s->st_nevents : KITE_STATUS_EVENTS;
    for (uint64_t i = 0; i < nev; i++) {
        const kite__status_event *e = &s->st_events[(s->st_nevents - nev + i) % KITE_STATUS_EVENTS];
        if (i) fputc(',', fp);
        fprintf(fp, "{\"unix\":%.3f,\"window\":", e->ev_unix);
        json_string(fp, e->ev_window, strlen(e->ev_window));
        fputs(",\"change\":", fp);
        json_string(fp, e->ev_what, strlen(e->ev_what));
        fprintf(fp, ",\"worse\":%s}", e->ev_worse ? "true" : "false");
    }
    fputs("]}\n", fp);
}
