#include <kite/error.h>

#include <stdarg.h>
#include <stdio.h>

static const char *const kite_err_names[] = {
#define KITE_ERR(name, msg) msg,
#include <kite/errors.def>
#undef KITE_ERR
};

_Static_assert(sizeof kite_err_names / sizeof kite_err_names[0] == KITE_ERR__COUNT,
               "errors.def and kite_err_names disagree");

const char *kite_err_name(kite_err err)
{
    if ((unsigned)err >= KITE_ERR__COUNT) return "unknown error";
    return kite_err_names[err];
}

kite_err kite_errf(kite_err err, char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
        /* An error is one line: input quoted into it (an event's text, a CSV cell) may hold
         * newlines or other control bytes, which would split a log line or a dead letter. */
        for (char *c = errstr; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    }
    return err;
}
