/* Model versions swapped under running workers (model_swap.h has the protocol). */
#include "model_swap.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include <kite/mem.h>
#include <kite/xgb_model.h>

#define SWAP_SPEC_MAX_BYTES (16u << 20)

/* An event map and the spec it was built from. Versions whose spec file has the same bytes
 * share one map (so workers keep their keys' feature state across a swap); a map without a
 * spec (the direct mapping) reads the model's names and dictionaries, so it is never shared.
 * sm_refs is changed only under sw_lock. */
struct kite_swap_map {
    kite_event_map *sm_map;
    int sm_refs;
    int sm_has_spec;
    uint64_t sm_spec_hash;
};

/* What the watcher compares: the resolved files and their size/mtime. */
typedef struct swap_files {
    char sf_model[KITE_REF_PATH_MAX], sf_spec[KITE_REF_PATH_MAX];
    int64_t sf_model_mtime_ns, sf_spec_mtime_ns;
    int64_t sf_model_size, sf_spec_size;
} swap_files;

struct kite_model_swap {
    struct kite_model_swap_reader sw_r; /* first: kite_model_swap_enter reads it inline */
    int sw_nreaders;
    pthread_mutex_t sw_lock;          /* reloads, the retired list, renders              */
    kite_served *sw_retired;          /* under sw_lock                                    */
    char *sw_model, *sw_registry, *sw_spec, *sw_encode;
    int sw_required_features;
    swap_files sw_last;               /* files of the last reload attempt (under sw_lock) */
    uint64_t sw_swapped, sw_unchanged, sw_refused; /* under sw_lock                     */
    int sw_last_ok;                   /* 1 when the last reload did not refuse           */
};

static kite_served *swap_active(kite_model_swap *sw)
{
    /* Acquire: pairs with P1 (only reloads store it, and they hold sw_lock too). */
    return atomic_load_explicit(&sw->sw_r.swr_active, memory_order_acquire);
}

static void swap_map_release(kite_swap_map *m)
{
    if (!m || --m->sm_refs > 0) return;
    kite__event_map_free(m->sm_map);
    free(m);
}

static void swap_served_free(kite_served *s)
{
    if (!s) return;
    swap_map_release(s->ksv_mapref);
    kite_loaded_model_release(s->ksv_loaded);
    free(s);
}

static void swap_json_safe(char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) *s = '_';
}

static void swap_stat(const char *path, int64_t *mtime_ns, int64_t *size)
{
    struct stat st;
    if (!*path || stat(path, &st)) {
        *mtime_ns = *size = -1;
        return;
    }
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *size = (int64_t)st.st_size;
}

/* Resolves the reference and stats what it names (no model bytes read). */
static kite_err swap_files_get(kite_model_swap *sw, kite_model_ref *ref, swap_files *f, char *errstr,
                               size_t errstr_size)
{
    memset(f, 0, sizeof *f);
    KITE_TRY(kite_registry_resolve(sw->sw_model, sw->sw_registry, ref, errstr, errstr_size));
    snprintf(f->sf_model, sizeof f->sf_model, "%s", ref->kmr_model);
    snprintf(f->sf_spec, sizeof f->sf_spec, "%s", *ref->kmr_spec ? ref->kmr_spec : sw->sw_spec);
    swap_stat(f->sf_model, &f->sf_model_mtime_ns, &f->sf_model_size);
    swap_stat(f->sf_spec, &f->sf_spec_mtime_ns, &f->sf_spec_size);
    return KITE_ERR_OK;
}

static kite_err swap_spec_hash(const char *path, uint64_t *hash, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "feature spec %s: cannot open", path);
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    char buf[8192];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && total <= SWAP_SPEC_MAX_BYTES) {
        XXH64_update(st, buf, n);
        total += n;
    }
    fclose(f);
    *hash = XXH64_digest(st);
    XXH64_freeState(st);
    return KITE_ERR_OK;
}

/* Builds a version from files f (ref: what they were resolved from). prev: the version now
 * serving (NULL for the first), whose map is shared when the spec bytes are the same. */
static kite_err swap_build(kite_model_swap *sw, const kite_model_ref *ref, const swap_files *f,
                           const kite_served *prev, kite_served **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_served *s = calloc(1, sizeof *s);
    if (!s) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "model version");
    kite_err err = kite_loaded_model_load(f->sf_model, NULL, &s->ksv_loaded, errstr, errstr_size);
    uint64_t spec_hash = 0;
    if (!err && *f->sf_spec) err = swap_spec_hash(f->sf_spec, &spec_hash, errstr, errstr_size);
    kite_event_map *map = NULL;
    /* Always built: it is the check that the model's features still match the spec. */
    if (!err)
        err = kite__event_map_new(&s->ksv_loaded->klm_model, f->sf_spec, sw->sw_encode, &map, errstr, errstr_size);
    if (!err && sw->sw_required_features > 0 &&
        kite__event_map_num_features(map) != sw->sw_required_features)
        err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                        "%s: %d features, but the drift profile has %d", f->sf_model,
                        kite__event_map_num_features(map), sw->sw_required_features);
    if (err) {
        kite__event_map_free(map);
        swap_served_free(s);
        return err;
    }
    if (prev && *f->sf_spec && prev->ksv_mapref->sm_has_spec && prev->ksv_mapref->sm_spec_hash == spec_hash &&
        kite__event_map_num_features(prev->ksv_map) == kite__event_map_num_features(map)) {
        kite__event_map_free(map); /* same spec: share the map, workers keep their state */
        s->ksv_mapref = prev->ksv_mapref;
        s->ksv_mapref->sm_refs++;
    } else {
        s->ksv_mapref = calloc(1, sizeof *s->ksv_mapref);
        if (!s->ksv_mapref) {
            kite__event_map_free(map);
            swap_served_free(s);
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "event map");
        }
        *s->ksv_mapref = (kite_swap_map){map, 1, *f->sf_spec != 0, spec_hash};
    }
    s->ksv_map = s->ksv_mapref->sm_map;
    s->ksv_nfeatures = kite__event_map_num_features(s->ksv_map);
    s->ksv_groups = s->ksv_loaded->klm_forest.kf_num_group;
    const char *base = strrchr(f->sf_model, '/');
    snprintf(s->ksv_name, sizeof s->ksv_name, "%.120s", base ? base + 1 : f->sf_model);
    snprintf(s->ksv_fingerprint, sizeof s->ksv_fingerprint, "%s", s->ksv_loaded->klm_fingerprint);
    snprintf(s->ksv_version, sizeof s->ksv_version, "%s", *ref->kmr_version ? ref->kmr_version : s->ksv_fingerprint);
    swap_json_safe(s->ksv_name);
    swap_json_safe(s->ksv_version);
    snprintf(s->ksv_model_path, sizeof s->ksv_model_path, "%s", f->sf_model);
    snprintf(s->ksv_spec_path, sizeof s->ksv_spec_path, "%s", f->sf_spec);
    s->ksv_generation = prev ? prev->ksv_generation + 1 : 1;
    *out = s;
    return KITE_ERR_OK;
}

kite_err kite__model_swap_new(const kite_model_swap_config *cfg, int nreaders, kite_model_swap **out,
                             char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_model_swap *sw = calloc(1, sizeof *sw);
    if (!sw) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "model swap");
    pthread_mutex_init(&sw->sw_lock, NULL);
    sw->sw_nreaders = nreaders;
    sw->sw_r.swr_seen = kite_mem_aligned(64, sizeof(kite_swap_seen) * (size_t)(nreaders > 0 ? nreaders : 1));
    sw->sw_model = strdup(cfg->ksc_model ? cfg->ksc_model : "");
    sw->sw_registry = strdup(cfg->ksc_registry ? cfg->ksc_registry : "");
    sw->sw_spec = strdup(cfg->ksc_feature_spec ? cfg->ksc_feature_spec : "");
    sw->sw_encode = strdup(cfg->ksc_encode ? cfg->ksc_encode : "");
    sw->sw_required_features = cfg->ksc_required_features;
    sw->sw_last_ok = 1;
    if (!sw->sw_r.swr_seen || !sw->sw_model || !sw->sw_registry || !sw->sw_spec || !sw->sw_encode) {
        kite__model_swap_free(sw);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "model swap");
    }
    for (int i = 0; i < nreaders; i++) atomic_init(&sw->sw_r.swr_seen[i].sws_generation, 0);
    kite_model_ref ref;
    kite_served *s = NULL;
    kite_err err = swap_files_get(sw, &ref, &sw->sw_last, errstr, errstr_size);
    if (!err) err = swap_build(sw, &ref, &sw->sw_last, NULL, &s, errstr, errstr_size);
    if (err) {
        kite__model_swap_free(sw);
        return err;
    }
    atomic_init(&sw->sw_r.swr_active, s);
    *out = sw;
    return KITE_ERR_OK;
}

void kite__model_swap_leave(kite_model_swap *sw, int i)
{
    /* Release: pairs with C1, like E2. */
    atomic_store_explicit(&sw->sw_r.swr_seen[i].sws_generation, UINT64_MAX, memory_order_release);
}

static int swap_reclaim_locked(kite_model_swap *sw)
{
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < sw->sw_nreaders; i++) {
        uint64_t g = atomic_load_explicit(&sw->sw_r.swr_seen[i].sws_generation, memory_order_acquire); /* C1 */
        if (g < min) min = g;
    }
    int left = 0;
    for (kite_served **p = &sw->sw_retired; *p;) {
        kite_served *s = *p;
        if (s->ksv_generation < min) { /* C2 */
            *p = s->ksv_retired_next;
            swap_served_free(s);
        } else {
            p = &s->ksv_retired_next;
            left++;
        }
    }
    return left;
}

int kite__model_swap_reclaim(kite_model_swap *sw)
{
    pthread_mutex_lock(&sw->sw_lock);
    int left = swap_reclaim_locked(sw);
    pthread_mutex_unlock(&sw->sw_lock);
    return left;
}

static int swap_files_same(const swap_files *a, const swap_files *b)
{
    return !strcmp(a->sf_model, b->sf_model) && !strcmp(a->sf_spec, b->sf_spec) &&
           a->sf_model_mtime_ns == b->sf_model_mtime_ns && a->sf_model_size == b->sf_model_size &&
           a->sf_spec_mtime_ns == b->sf_spec_mtime_ns && a->sf_spec_size == b->sf_spec_size;
}

int kite__model_swap_changed(kite_model_swap *sw)
{
    kite_model_ref ref;
    swap_files f;
    char err[512];
    pthread_mutex_lock(&sw->sw_lock);
    /* A reference that does not resolve now (an alias being moved) counts as a change only
     * when it resolves again: the reload then reports whatever is wrong. */
    int changed = swap_files_get(sw, &ref, &f, err, sizeof err) == KITE_ERR_OK &&
                  !swap_files_same(&f, &sw->sw_last);
    pthread_mutex_unlock(&sw->sw_lock);
    return changed;
}

kite_swap_result kite__model_swap_reload(kite_model_swap *sw, const char *why, char *msg, size_t msg_size)
{
    char err[768];
    kite_model_ref ref;
    swap_files f;
    kite_served *next = NULL;
    pthread_mutex_lock(&sw->sw_lock);
    kite_served *cur = swap_active(sw);
    kite_err e = swap_files_get(sw, &ref, &f, err, sizeof err);
    if (!e) sw->sw_last = f;
    kite_swap_result res;
    if (!e) e = swap_build(sw, &ref, &f, cur, &next, err, sizeof err);
    if (e) {
        res = KITE_SWAP_REFUSED;
        sw->sw_refused++;
        sw->sw_last_ok = 0;
        snprintf(msg, msg_size, "refused: %s; still serving %.200s (fingerprint %s)", err, cur->ksv_version,
                 cur->ksv_fingerprint);
    } else if (next->ksv_loaded->klm_model.km_fingerprint == cur->ksv_loaded->klm_model.km_fingerprint &&
               !strcmp(next->ksv_version, cur->ksv_version) &&
               next->ksv_mapref->sm_has_spec == cur->ksv_mapref->sm_has_spec &&
               next->ksv_mapref->sm_spec_hash == cur->ksv_mapref->sm_spec_hash) {
        res = KITE_SWAP_UNCHANGED; /* same model bytes, same spec map: nothing to swap */
        sw->sw_unchanged++;
        sw->sw_last_ok = 1;
        snprintf(msg, msg_size, "unchanged: still serving %.200s (fingerprint %s)", cur->ksv_version,
                 cur->ksv_fingerprint);
        swap_served_free(next);
    } else {
        res = KITE_SWAP_SWAPPED;
        sw->sw_swapped++;
        sw->sw_last_ok = 1;
        snprintf(msg, msg_size, "swapped %.200s (fingerprint %s) -> %.200s (fingerprint %s, %.300s, generation %" PRIu64 "%s)",
                 cur->ksv_version, cur->ksv_fingerprint, next->ksv_version, next->ksv_fingerprint,
                 next->ksv_model_path, next->ksv_generation,
                 next->ksv_mapref == cur->ksv_mapref ? "" : ", new feature map: key state starts over");
        atomic_store_explicit(&sw->sw_r.swr_active, next, memory_order_release); /* P1 */
        cur->ksv_retired_next = sw->sw_retired;
        sw->sw_retired = cur;
        swap_reclaim_locked(sw);
    }
    pthread_mutex_unlock(&sw->sw_lock);
    fprintf(stderr, "kite: model reload (%s): %s\n", why, msg);
    return res;
}

void kite__model_swap_render(kite_model_swap *sw, kite_prom *p, const char *prefix)
{
    char name[96];
#define SWAP_NAME(suffix) (snprintf(name, sizeof name, "%s" suffix, prefix), name)
    pthread_mutex_lock(&sw->sw_lock); /* the active version cannot be freed meanwhile */
    const kite_served *s = swap_active(sw);
    char labels[1600];
    snprintf(labels, sizeof labels, "model=\"%s\",fingerprint=\"%s\",version=\"%.1200s\"", s->ksv_name,
             s->ksv_fingerprint, s->ksv_version);
    kite_prom_family(p, SWAP_NAME("_info"), "gauge", "The model being served (value 1).");
    kite_prom_sample(p, name, labels, 1);
    kite_prom_family(p, SWAP_NAME("_generation"), "gauge",
                     "Generation of the served model: 1 at start, +1 per swap.");
    kite_prom_sample(p, name, NULL, (double)s->ksv_generation);
    kite_prom_family(p, SWAP_NAME("_reloads_total"), "counter",
                     "Model reloads (SIGHUP, POST /admin/reload, model_watch_ms) by result.");
    kite_prom_sample(p, name, "result=\"swapped\"", (double)sw->sw_swapped);
    kite_prom_sample(p, name, "result=\"unchanged\"", (double)sw->sw_unchanged);
    kite_prom_sample(p, name, "result=\"refused\"", (double)sw->sw_refused);
    kite_prom_family(p, SWAP_NAME("_last_reload_ok"), "gauge",
                     "0 when the last reload refused its model (the previous one still serves).");
    kite_prom_sample(p, name, NULL, sw->sw_last_ok);
    int retired = 0;
    for (const kite_served *r = sw->sw_retired; r; r = r->ksv_retired_next) retired++;
    kite_prom_family(p, SWAP_NAME("_versions_retired"), "gauge",
                     "Replaced versions still held by a worker's batch (freed once all moved on).");
    kite_prom_sample(p, name, NULL, retired);
#undef SWAP_NAME
    pthread_mutex_unlock(&sw->sw_lock);
}

void kite__model_swap_describe(kite_model_swap *sw, char *out, size_t size)
{
    pthread_mutex_lock(&sw->sw_lock);
    const kite_served *s = swap_active(sw);
    snprintf(out, size, "%.200s (fingerprint %s, generation %" PRIu64 ")", s->ksv_version, s->ksv_fingerprint,
             s->ksv_generation);
    pthread_mutex_unlock(&sw->sw_lock);
}

const kite_served *kite__model_swap_initial(kite_model_swap *sw) { return swap_active(sw); }

void kite__model_swap_free(kite_model_swap *sw)
{
    if (!sw) return;
    /* Every reader has left: nothing is held. */
    while (sw->sw_retired) {
        kite_served *s = sw->sw_retired;
        sw->sw_retired = s->ksv_retired_next;
        swap_served_free(s);
    }
    swap_served_free(atomic_load_explicit(&sw->sw_r.swr_active, memory_order_relaxed));
    free(sw->sw_r.swr_seen);
    free(sw->sw_model);
    free(sw->sw_registry);
    free(sw->sw_spec);
    free(sw->sw_encode);
    pthread_mutex_destroy(&sw->sw_lock);
    free(sw);
}
