/* kite error values.
 *
 * Errors are values with words: every fallible function returns a kite_err and, where a user
 * needs to know *what* was wrong, fills a caller-owned buffer (errstr, errstr_size) with one
 * line such as "model.json: tree 17 node 40: split feature 91 >= num_feature 32". */
#ifndef KITE_ERROR_H
#define KITE_ERROR_H

#include <stddef.h>

typedef enum kite_err {
#define KITE_ERR(name, msg) KITE_ERR_##name,
#include <kite/errors.def>
#undef KITE_ERR
    KITE_ERR__COUNT
} kite_err;

/* Short generic text for an error code ("invalid model"); never NULL. */
const char *kite_err_name(kite_err err);

/* printf into errstr (if non-NULL) and return err: lets a loader write
 *   return kite_errf(KITE_ERR_PARSE, errstr, size, "%s: line %zu: ...", path, line); */
kite_err kite_errf(kite_err err, char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Return-on-error: propagate a failing kite_err unchanged. */
#define KITE_TRY(expr)                                                                  \
    do {                                                                                \
        kite_err kite_try_err_ = (expr);                                                \
        if (kite_try_err_ != KITE_ERR_OK) return kite_try_err_;                         \
    } while (0)

#endif
