/* Private to kite_stream (engine/stream/), not installed.
 * kite_model_swap: the model the pipeline's workers score with, swapped while they run.
 *
 * A served version (kite_served) is immutable once published: model, forest, event map and
 * the names every prediction carries. A reload (SIGHUP, POST /admin/reload, or a change the
 * watcher sees) builds the next one beside it and, only when everything loaded and checked,
 * publishes it with one atomic pointer store and a new generation. Workers take the pointer
 * at the start of each batch (kite_model_swap_peek/hold), so a batch is scored by exactly one
 * version, the switch falls between batches, and no event is dropped or scored twice by it.
 * A refused version changes nothing: the old one keeps scoring.
 *
 * Reclamation (RCU-style, one generation word per worker):
 *   worker   E1  s = load(swr_active)                 acquire   pairs with P1
 *            E2  store(seen[i], s->ksv_generation)    release   pairs with C1: the worker's
 *                                                              uses of its previous version
 *                                                              happen-before this store
 *   reload   P1  store(swr_active, next)              release   (next fully built before)
 *   reclaim  C1  min over i of load(seen[i])         acquire
 *            C2  free each retired version whose generation < that minimum
 * A worker's seen only grows (generations are monotonic), and it stores the new generation
 * only after its previous batch is done; so seen[i] > g proves worker i no longer holds any
 * version of generation <= g. A worker that exits stores UINT64_MAX (it holds nothing). */
#ifndef KITE_MODEL_SWAP_H
#define KITE_MODEL_SWAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "event_map.h"
#include <kite/error.h>
#include <kite/forest.h>
#include <kite/loaded_model.h>
#include <kite/model.h>
#include <kite/prom.h>
#include <kite/registry.h>

typedef struct kite_swap_map kite_swap_map; /* an event map shared by versions with one spec */

typedef struct kite_served {
    kite_loaded_model *ksv_loaded;     /* model and forest (one reference)                  */
    const kite_event_map *ksv_map;     /* ksv_mapref's map                                  */
    kite_swap_map *ksv_mapref;
    uint64_t ksv_generation;           /* 1 for the first version, +1 per swap             */
    int ksv_nfeatures, ksv_groups;
    char ksv_name[128];                /* model file's base name, JSON-safe                */
    char ksv_fingerprint[20];          /* xxh64 of the model file, hex                     */
    char ksv_version[KITE_REF_PATH_MAX + 32]; /* registry "name/N", else the fingerprint; JSON-safe */
    char ksv_model_path[KITE_REF_PATH_MAX];
    char ksv_spec_path[KITE_REF_PATH_MAX];
    struct kite_served *ksv_retired_next; /* model_swap.c: retired list, under sw_lock     */
} kite_served;

typedef struct kite_model_swap_config {
    const char *ksc_model;            /* a reference (loaders/xgb/include/kite/registry.h)                  */
    const char *ksc_registry;         /* registry_uri ("" = environment / ./mlruns)        */
    const char *ksc_feature_spec;     /* used when the version carries no spec of its own  */
    const char *ksc_encode;
    int ksc_required_features;        /* > 0: a version must have this many (drift profile) */
} kite_model_swap_config;

typedef enum kite_swap_result {
    KITE_SWAP_SWAPPED = 0,
    KITE_SWAP_UNCHANGED = 1,
    KITE_SWAP_REFUSED = 2
} kite_swap_result;

typedef struct kite_model_swap kite_model_swap;

/* Loads the first version; nreaders workers will call enter. Strings of cfg are copied.
 * On failure *out is NULL and errstr says why (the caller exits). */
kite_err kite__model_swap_new(const kite_model_swap_config *cfg, int nreaders, kite_model_swap **out,
                             char *errstr, size_t errstr_size);
void kite__model_swap_free(kite_model_swap *sw);

/* Reader i at a batch boundary: E1, the version to score the next batch with; then, once
 * the reader is done with whatever it held (its previous version's state), E2. */
static inline const kite_served *kite_model_swap_peek(kite_model_swap *sw);
static inline void kite_model_swap_hold(kite_model_swap *sw, int i, const kite_served *s);
/* Reader i stops (holds no version from now on). */
void kite__model_swap_leave(kite_model_swap *sw, int i);

/* Builds and publishes the next version (thread-safe: one reload at a time). why names the
 * trigger in the log line ("SIGHUP", "admin", "watch"). msg receives one line: what was
 * swapped, or why the new version was refused. */
kite_swap_result kite__model_swap_reload(kite_model_swap *sw, const char *why, char *msg,
                                        size_t msg_size);
/* Watcher: 1 when the reference now resolves to other files, or their size/mtime changed
 * since the last reload attempt (a refused version is not retried until it changes again). */
int kite__model_swap_changed(kite_model_swap *sw);
/* Frees retired versions every reader has moved past (C1, C2); returns how many remain. */
int kite__model_swap_reclaim(kite_model_swap *sw);

/* PREFIX_info{model,fingerprint,version}, PREFIX_generation, reload counters (prefix
 * "kite_model" for the serving model, "kite_shadow_model" for the candidate). */
void kite__model_swap_render(kite_model_swap *sw, kite_prom *p, const char *prefix);
/* The current version under the swap's lock, for readers outside the workers (summary). */
void kite__model_swap_describe(kite_model_swap *sw, char *out, size_t size);
/* The first version's row width and output count (buffers are sized from it). */
const kite_served *kite__model_swap_initial(kite_model_swap *sw);

/* --- inline reader path; fields private to model_swap.c below --- */
typedef struct kite_swap_seen {
    _Atomic uint64_t sws_generation;
    char sws_pad[64 - sizeof(uint64_t)]; /* one cache line per worker: no false sharing */
} kite_swap_seen;

struct kite_model_swap_reader {
    _Atomic(kite_served *) swr_active;
    kite_swap_seen *swr_seen;
};

static inline const kite_served *kite_model_swap_peek(kite_model_swap *sw)
{
    struct kite_model_swap_reader *r = (struct kite_model_swap_reader *)sw;
    return atomic_load_explicit(&r->swr_active, memory_order_acquire); /* E1 */
}

static inline void kite_model_swap_hold(kite_model_swap *sw, int i, const kite_served *s)
{
    struct kite_model_swap_reader *r = (struct kite_model_swap_reader *)sw;
    atomic_store_explicit(&r->swr_seen[i].sws_generation, s->ksv_generation, memory_order_release); /* E2 */
}

#endif
