/* Load + keep rounds + build the forest, the one way every scorer gets a model. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <kite/loaded_model.h>
#include <kite/xgb_model.h>

kite_err kite_loaded_model_load(const char *path, const kite_loaded_model_opts *opts,
                                kite_loaded_model **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_loaded_model *m = calloc(1, sizeof *m);
    if (!m) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    kite_err err = kite_model_load(path, &m->klm_model, errstr, errstr_size);
    if (err) {
        free(m);
        return err;
    }
    char inner[400];
    if (opts && (opts->klo_keep_range || opts->klo_best_iteration)) {
        int32_t begin = opts->klo_keep_range ? opts->klo_begin : 0;
        int32_t end = opts->klo_keep_range ? opts->klo_end : 0;
        /* A model without early stopping keeps every round under best_iteration too. */
        if (opts->klo_best_iteration && m->klm_model.km_best_iteration >= 0)
            end = m->klm_model.km_best_iteration + 1;
        err = kite_model_keep_iterations(&m->klm_model, begin, end, inner, sizeof inner);
    }
    if (!err) err = kite_forest_build(&m->klm_model, &m->klm_forest, inner, sizeof inner);
    if (err) {
        kite_model_free(&m->klm_model);
        free(m);
        return kite_errf(err, errstr, errstr_size, "%s: %s", path, inner);
    }
    snprintf(m->klm_fingerprint, sizeof m->klm_fingerprint, "%016" PRIx64,
             m->klm_model.km_fingerprint);
    atomic_init(&m->klm_refs, 1);
    *out = m;
    return KITE_ERR_OK;
}

kite_loaded_model *kite_loaded_model_retain(kite_loaded_model *m)
{
    /* Relaxed: a new reference is made from one the caller holds, which keeps m alive. */
    atomic_fetch_add_explicit(&m->klm_refs, 1, memory_order_relaxed);
    return m;
}

void kite_loaded_model_release(kite_loaded_model *m)
{
    if (!m) return;
    /* acq_rel: every holder's reads of m happen-before the last one frees it. */
    if (atomic_fetch_sub_explicit(&m->klm_refs, 1, memory_order_acq_rel) != 1) return;
    kite_forest_free(&m->klm_forest);
    kite_model_free(&m->klm_model);
    free(m);
}
