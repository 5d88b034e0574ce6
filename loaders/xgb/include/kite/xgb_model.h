/* XGBoost model files (JSON and UBJSON, as Booster.save_model writes them in 1.7 and 2.x)
 * into a validated kite_model. */
#ifndef KITE_XGB_MODEL_H
#define KITE_XGB_MODEL_H

#include <stddef.h>

#include <kite/error.h>
#include <kite/model.h>

/* Largest model file accepted: far above any real forest, low enough to refuse absurd input
 * before reading it into memory. */
#define KITE_MODEL_MAX_FILE_BYTES ((size_t)2 << 30)

/* Loads path (format sniffed from the first bytes, not the extension). On failure returns
 * non-OK, leaves *model zeroed and writes one line "path: where: what" into errstr. */
kite_err kite_model_load(const char *path, kite_model *model, char *errstr, size_t errstr_size);

/* Same, from a buffer already in memory; name is used in messages. */
kite_err kite_model_load_buffer(const char *name, const unsigned char *buf, size_t len,
                                kite_model *model, char *errstr, size_t errstr_size);

#endif
