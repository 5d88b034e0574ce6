/* The serving model handle: load, atomic swap on reload, and the hazard-pointer protocol that
 * lets workers score without a lock while a reload frees the old model safely.
 *
 * Protocol (one hazard pointer per worker slot):
 *   reader  R1  m = load(s_model)                 seq_cst
 *           R2  store(slot->hs_hazard, m)         seq_cst   pairs with W2
 *           R3  if load(s_model) != m: goto R1    seq_cst   pairs with W1
 *           ... score with m ...
 *           R4  store(slot->hs_hazard, NULL)      release   pairs with W2's load: the reader's
 *                                                           last use of m happens-before free
 *   writer  W1  old = exchange(s_model, new)      seq_cst
 *           W2  wait until no slot's hs_hazard == old (seq_cst loads), then free old
 * Why it is safe: all of R2, R3, W1, W2 are seq_cst, so they sit in one total order. If W2
 * reads a slot before R2, then R3 comes after W1 and sees new: the reader retries and never
 * uses old. If W2 reads after R2, it sees old (or a later value) and waits. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"
#include <kite/mem.h>
#include <kite/clock.h>
#include <kite/feature_spec.h>
#include <kite/xgb_model.h>

void kite__http_model_free(kite_http_model *m)
{
    if (!m) return;
    if (m->hm_names) {
        /* Generated names were allocated here; the model's own belong to kite_model. */
        const kite_model *model = &m->hm_loaded->klm_model;
        if (!model->km_feature_names)
            for (int i = 0; i < model->km_num_feature; i++) free(m->hm_names[i]);
        free(m->hm_names);
    }
    free(m->hm_name_len);
    free(m->hm_info);
    kite_loaded_model_release(m->hm_loaded);
    free(m);
}

/* Appends s to a malloc'd string buffer; returns -1 when out of memory. */
static int info_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (kite_mem_grow((void **)buf, cap, *len + n + 1, 1, 256)) return -1;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

static int info_json_string(char **buf, size_t *len, size_t *cap, const char *s)
{
    int rc = info_append(buf, len, cap, "\"", 1);
    for (; *s && !rc; s++) {
        char esc[8];
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            rc = info_append(buf, len, cap, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            rc = info_append(buf, len, cap, esc, 6);
        } else {
            rc = info_append(buf, len, cap, (const char *)&ch, 1);
        }
    }
    return rc || info_append(buf, len, cap, "\"", 1);
}

/* GET /model: what the HTML form (and a client) needs to build a request. */
static int build_info(kite_http_model *m, const char *path)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    char tmp[160];
    int rc = info_append(&b, &len, &cap, "{\"model_version\":\"", 18);
    rc |= info_append(&b, &len, &cap, m->hm_version, 16);
    rc |= info_append(&b, &len, &cap, "\",\"path\":", 9);
    rc |= info_json_string(&b, &len, &cap, path);
    rc |= info_append(&b, &len, &cap, ",\"objective\":", 13);
    rc |= info_json_string(&b, &len, &cap, m->hm_loaded->klm_model.km_objective);
    int n = snprintf(tmp, sizeof tmp, ",\"num_trees\":%d,\"num_group\":%d,\"features\":[",
                     m->hm_loaded->klm_model.km_num_trees, m->hm_loaded->klm_model.km_num_group);
    rc |= info_append(&b, &len, &cap, tmp, (size_t)n);
    for (int i = 0; i < m->hm_loaded->klm_model.km_num_feature && !rc; i++) {
        if (i) rc |= info_append(&b, &len, &cap, ",", 1);
        rc |= info_json_string(&b, &len, &cap, m->hm_names[i]);
    }
    rc |= info_append(&b, &len, &cap, "]}", 2);
    if (rc) {
        free(b);
        return -1;
    }
    m->hm_info = b;
    m->hm_info_len = len;
    return 0;
}

kite_err kite__http_model_from(kite_loaded_model *lm, const char *path, kite_http_model **out,
                              char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_http_model *m = calloc(1, sizeof *m);
    if (!m) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    m->hm_loaded = kite_loaded_model_retain(lm);
    snprintf(m->hm_version, sizeof m->hm_version, "%s", lm->klm_fingerprint);
    const kite_model *model = &lm->klm_model;
    int nf = model->km_num_feature;
    m->hm_names = calloc((size_t)nf + 1, sizeof *m->hm_names);
    m->hm_name_len = calloc((size_t)nf + 1, sizeof *m->hm_name_len);
    int oom = !m->hm_names || !m->hm_name_len;
    for (int i = 0; i < nf && !oom; i++) {
        if (model->km_feature_names) {
            m->hm_names[i] = model->km_feature_names[i];
        } else {
            char tmp[24];
            snprintf(tmp, sizeof tmp, "f%d", i);
            oom = !(m->hm_names[i] = strdup(tmp));
        }
        if (!oom) m->hm_name_len[i] = strlen(m->hm_names[i]);
    }
    if (oom || build_info(m, path)) {
        kite__http_model_free(m);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    }
    m->hm_loaded_unix = (double)kite_clock_wall_us() * 1e-6;
    *out = m;
    return KITE_ERR_OK;
}

kite_err kite__http_model_load(const char *path, kite_http_model **out, char *errstr,
                              size_t errstr_size)
{
    kite_loaded_model *lm;
    KITE_TRY(kite_loaded_model_load(path, NULL, &lm, errstr, errstr_size));
    kite_err err = kite__http_model_from(lm, path, out, errstr, errstr_size);
    kite_loaded_model_release(lm); /* the handle holds its own reference */
    return err;
}

int kite__http_model_feature(const kite_http_model *m, const char *name, size_t len, int hint)
{
    int nf = m->hm_loaded->klm_model.km_num_feature;
    /* Clients usually send fields in the model's order: try the expected one first, so a
     * row costs one comparison per field instead of a scan. */
    if (hint >= 0 && hint < nf && m->hm_name_len[hint] == len &&
        !memcmp(m->hm_names[hint], name, len))
        return hint;
    for (int i = 0; i < nf; i++)
        if (m->hm_name_len[i] == len && !memcmp(m->hm_names[i], name, len)) return i;
    return -1;
}

/* ---- slots --------------------------------------------------------------------------- */

/* Which slot this thread owns, per server (a process could run two servers). Keyed by the
 * server's id, not its address: a later server could be allocated at a freed one's address. */
static _Thread_local uint64_t tls_server_id;
static _Thread_local kite_http_slot *tls_slot;
static _Atomic uint64_t next_server_id = 1; /* relaxed fetch_add: unique ids only */

uint64_t kite__http_server_new_id(void)
{
    return atomic_fetch_add_explicit(&next_server_id, 1, memory_order_relaxed);
}

static void pin_this_thread(kite_http_server *srv)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed)) return;
    int n = CPU_COUNT(&allowed);
    if (n <= 0) return;
    /* relaxed: only distinct round-robin numbers are needed, no ordering with other data */
    int want = atomic_fetch_add_explicit(&srv->s_next_cpu, 1, memory_order_relaxed) % n;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (seen++ != want) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 && !srv->s_cfg.khc_quiet)
            fprintf(stderr, "kite: http worker pinned to cpu %d\n", cpu);
        return;
    }
}

/* Its address identifies the calling thread among live threads. */
static _Thread_local char tls_token;

static kite_http_slot *slot_get(kite_http_server *srv, int may_pin)
{
    if (tls_server_id == srv->s_id && tls_slot) return tls_slot;
    /* A thread that alternates between servers finds the slot it already has. relaxed: a
     * thread only needs to recognise its own store of hs_owner, which it made itself. */
    int used = atomic_load_explicit(&srv->s_next_slot, memory_order_relaxed);
    for (int i = 0; i < used && i < KITE_HTTP_MAX_SLOTS; i++)
        if (atomic_load_explicit(&srv->s_slots[i].hs_owner, memory_order_relaxed) == &tls_token) {
            tls_server_id = srv->s_id;
            tls_slot = &srv->s_slots[i];
            return tls_slot;
        }
    /* relaxed: the index only has to be unique; the slot's memory was zeroed before the
     * daemon (and so this thread) started, which orders it before this use. */
    int i = atomic_fetch_add_explicit(&srv->s_next_slot, 1, memory_order_relaxed);
    if (i >= KITE_HTTP_MAX_SLOTS) return NULL;
    tls_server_id = srv->s_id;
    tls_slot = &srv->s_slots[i];
    atomic_store_explicit(&tls_slot->hs_owner, (void *)&tls_token, memory_order_relaxed);
    if (may_pin && srv->s_cfg.khc_pin_threads) pin_this_thread(srv);
    return tls_slot;
}

kite_http_slot *kite__http_slot_get(kite_http_server *srv) { return slot_get(srv, 1); }

kite_http_slot *kite__http_slot_get_unpinned(kite_http_server *srv) { return slot_get(srv, 0); }

kite_http_model *kite__http_model_acquire(kite_http_server *srv, kite_http_slot *slot)
{
    kite_http_model *m = atomic_load_explicit(&srv->s_model, memory_order_seq_cst); /* R1 */
    for (;;) {
        atomic_store_explicit(&slot->hs_hazard, m, memory_order_seq_cst);            /* R2 */
        kite_http_model *again = atomic_load_explicit(&srv->s_model, memory_order_seq_cst); /* R3 */
        if (again == m) return m;
        m = again;
    }
}

void kite__http_model_release(kite_http_slot *slot)
{
    atomic_store_explicit(&slot->hs_hazard, NULL, memory_order_release);             /* R4 */
}

kite_err kite_http_server_reload(kite_http_server *srv, char *version, char *errstr,
                                 size_t errstr_size)
{
    pthread_mutex_lock(&srv->s_reload_lock);
    kite_http_model *fresh;
    kite_err err = kite__http_model_load(srv->s_model_path, &fresh, errstr, errstr_size);
    char why[400];
    if (err == KITE_ERR_OK && srv->s_spec &&
        kite_feature_spec_check_model(srv->s_spec, &fresh->hm_loaded->klm_model, why, sizeof why)) {
        /* the feature state is built for the spec: a model that wants other features is refused */
        err = kite_errf(KITE_ERR_SPEC, errstr, errstr_size, "%s does not fit the feature spec: %s",
                        srv->s_model_path, why);
        kite__http_model_free(fresh);
    }
    if (err != KITE_ERR_OK) {
        /* relaxed: a statistic */
        atomic_fetch_add_explicit(&srv->s_reloads_failed, 1, memory_order_relaxed);
        if (version) /* lock held: the serving model cannot be freed under us */
            memcpy(version, atomic_load_explicit(&srv->s_model, memory_order_acquire)->hm_version, 17);
        pthread_mutex_unlock(&srv->s_reload_lock);
        return err;
    }
    kite_http_model *old = atomic_exchange_explicit(&srv->s_model, fresh, memory_order_seq_cst); /* W1 */
    int nslots = atomic_load_explicit(&srv->s_next_slot, memory_order_relaxed);
    if (nslots > KITE_HTTP_MAX_SLOTS) nslots = KITE_HTTP_MAX_SLOTS;
    for (int i = 0; i < nslots; i++) {
        /* W2: a reader holds old only for one request's scoring (microseconds). */
        while (atomic_load_explicit(&srv->s_slots[i].hs_hazard, memory_order_seq_cst) == old) {
            struct timespec pause = {0, 50000};
            nanosleep(&pause, NULL);
        }
    }
    kite__http_model_free(old);
    atomic_fetch_add_explicit(&srv->s_reloads_ok, 1, memory_order_relaxed); /* a statistic */
    if (version) memcpy(version, fresh->hm_version, 17);
    pthread_mutex_unlock(&srv->s_reload_lock);
    return KITE_ERR_OK;
}

void kite_http_server_version(kite_http_server *srv, char version[17])
{
    /* Models are freed only under the reload lock, so holding it keeps this one alive.
     * acquire: pairs with reload's seq_cst exchange (W1): the model's fields are visible. */
    pthread_mutex_lock(&srv->s_reload_lock);
    kite_http_model *m = atomic_load_explicit(&srv->s_model, memory_order_acquire);
    memcpy(version, m->hm_version, 17);
    pthread_mutex_unlock(&srv->s_reload_lock);
}
