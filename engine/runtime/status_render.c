/* GET /status and /status.json: one fresh scrape, then the page (status_page.c) or the JSON
 * (status_json.c) from the sampler's ring under st_lock. Apart from the sampler (status.c)
 * because the writers read the ring through status.c: with the render there, status.c and the
 * two writers called each other (check_no_cycles). */
#include <stdio.h>
#include <stdlib.h>

#include "status_int.h"

/* One fresh scrape, then the page or JSON under the lock, into a memory stream. */
static char *status_render(kite_status *s, int what, size_t *len)
{
    kite__status_scrape now;
    kite__status_scrape_init(&now);
    char *buf = NULL;
    size_t n = 0;
    if (kite__status_scrape_take(&now, s->st_render, s->st_opaque)) {
        kite__status_scrape_free(&now);
        return NULL;
    }
    FILE *fp = open_memstream(&buf, &n);
    if (!fp) {
        kite__status_scrape_free(&now);
        return NULL;
    }
    pthread_mutex_lock(&s->st_lock);
    if (what == 2) kite__status_json_write(s, &now, fp);
    else kite__status_page_write(s, &now, fp, what == 1);
    pthread_mutex_unlock(&s->st_lock);
    int bad = ferror(fp);
    if (fclose(fp) || bad) {
        free(buf);
        buf = NULL;
    }
    kite__status_scrape_free(&now);
    if (len) *len = buf ? n : 0;
    return buf;
}

char *kite_status_page(kite_status *s, int fragment, size_t *len) { return status_render(s, fragment ? 1 : 0, len); }
char *kite_status_json(kite_status *s, size_t *len) { return status_render(s, 2, len); }
