/* A loaded model: an XGBoost model file, its scoring forest and its version, loaded once and
 * shared by whoever scores with it. kite score and the other batch commands, POST /predict
 * and each of the pipeline's served versions load through here, so a model is read, checked
 * and built the same way everywhere; and `kite serve --http` beside Kafka hands the
 * pipeline's first version to the HTTP server instead of loading the file a second time.
 *
 * Immutable once loaded; the reference count makes sharing across threads safe (the last
 * kite_loaded_model_release frees it). */
#ifndef KITE_LOADED_MODEL_H
#define KITE_LOADED_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <kite/error.h>
#include <kite/forest.h>
#include <kite/model.h>

typedef struct kite_loaded_model {
    kite_model klm_model;
    kite_forest klm_forest;
    char klm_fingerprint[17];         /* 16 hex digits of km_fingerprint (xxh64 of the file) */
    _Atomic long klm_refs;
} kite_loaded_model;

/* Which boosting rounds to keep (XGBoost's iteration_range): rounds [klo_begin, klo_end),
 * klo_end 0 meaning the last; klo_best_iteration: rounds 0..best_iteration when the model has
 * one (the sklearn wrapper's predict). */
typedef struct kite_loaded_model_opts {
    int32_t klo_begin, klo_end;
    int klo_keep_range;               /* 1: apply klo_begin/klo_end                          */
    int klo_best_iteration;
} kite_loaded_model_opts;

/* Loads path (a model file, not a registry reference) with every round (opts NULL) or the
 * rounds opts names. One reference, the caller's. Errors name the file: "path: what". */
kite_err kite_loaded_model_load(const char *path, const kite_loaded_model_opts *opts,
                                kite_loaded_model **out, char *errstr, size_t errstr_size);
/* One more reference (any thread); returns m. */
kite_loaded_model *kite_loaded_model_retain(kite_loaded_model *m);
/* Drops one reference; the last frees the model and its forest. NULL is ignored. */
void kite_loaded_model_release(kite_loaded_model *m);

#endif
