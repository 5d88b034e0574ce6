/* Private to kite_xgb (loaders/xgb/), not installed.
 * UBJSON (Universal Binary JSON, as XGBoost's save_model("m.ubj") writes it) into a cJSON tree,
 * so one model reader serves both formats. Bounded: nesting depth is capped and every count
 * is checked against the bytes left, so a corrupt length cannot trigger a huge allocation. */
#ifndef KITE_UBJSON_H
#define KITE_UBJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include <kite/error.h>

/* Parses buf[0..len). On error returns non-OK and writes "offset N: what" into errstr. */
kite_err kite__ubjson_parse(const unsigned char *buf, size_t len, cJSON **out, char *errstr,
                           size_t errstr_size);

#endif
