/* kite_registry: turns a model reference into the file to load (and, when the version carries
 * one, its feature spec), so `model` may name a registry entry as well as a file.
 *
 *   models/titanic.json            a model file: version = its fingerprint (set by the caller)
 *   DIR with an MLmodel file       an MLflow model directory: flavors.xgboost.data names the file
 *   models:/NAME@ALIAS             a local MLflow registry (file store, as mlflow writes it):
 *   models:/NAME/3                 REGISTRY/models/NAME/aliases/ALIAS holds the version,
 *   models:/NAME/latest            REGISTRY/models/NAME/version-N/meta.yaml its storage_location,
 *                                  an MLflow model directory
 *   DIR/NAME (numbered subdirs)    a plain versioned directory: NAME/VERSION/model.json (or
 *   DIR/NAME@ALIAS                 .ubj) + optional NAME/VERSION/meta.json; the highest VERSION,
 *   DIR/NAME/3                     or the one NAME/aliases.json ({"ALIAS": VERSION}) names
 * Any version directory may hold feature_spec.json: it is that version's spec.
 * REGISTRY: registry_uri (a path or file:// URI), else $MLFLOW_REGISTRY_URI, else
 * $MLFLOW_TRACKING_URI, else ./mlruns. Resolving reads only small metadata files; it is done
 * again on every reload, so an alias moved in the registry is followed. */
#ifndef KITE_REGISTRY_H
#define KITE_REGISTRY_H

#include <stddef.h>

#include <kite/error.h>

#define KITE_REF_PATH_MAX 1024

typedef struct kite_model_ref {
    char kmr_model[KITE_REF_PATH_MAX]; /* model file to load                                 */
    char kmr_spec[KITE_REF_PATH_MAX];  /* the version's feature_spec.json, "" when none      */
    char kmr_version[KITE_REF_PATH_MAX + 32]; /* "titanic/3" (registry, versioned dir), "" for a file */
    const char *kmr_kind;              /* "file", "mlflow-model", "mlflow-registry", "versioned-dir" */
} kite_model_ref;

/* On failure returns non-OK with one line naming the file and what is wrong. */
kite_err kite_registry_resolve(const char *ref, const char *registry_uri, kite_model_ref *out,
                               char *errstr, size_t errstr_size);

/* The value at a dotted key path ("flavors.xgboost.data") of a block-style YAML file: only
 * "key: scalar" / "key:" lines indented by spaces, plain or quoted scalars. Anything else on
 * the path (flow style, anchors, block scalars, tabs) is refused with its line number. */
kite_err kite__yaml_get(const char *path, const char *key_path, char *value, size_t value_size,
                        char *errstr, size_t errstr_size);

#endif
