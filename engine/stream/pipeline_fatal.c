/* The first fatal error of a pipeline: any thread may hit one (a fenced producer, a consumer
 * error, out of memory); the first reason is kept for `kite serve`'s exit line and /health. */
#include <stdarg.h>
#include <stdio.h>

#include "pipeline_fatal.h"

void kite__pipeline_fatal(kite_pipeline *pl, const char *fmt, ...)
{
    kite_pipeline_fatal *f = &pl->pl_fatal;
    int unclaimed = 0;
    /* acq_rel: the winner alone writes the reason (no other thread touches it before the
     * pf_set release store below publishes it). */
    if (atomic_compare_exchange_strong_explicit(&f->pf_claim, &unclaimed, 1, memory_order_acq_rel,
                                                memory_order_relaxed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->pf_reason, sizeof f->pf_reason, fmt, ap);
        va_end(ap);
        /* Only the winner publishes: a reader that sees pf_set sees the whole reason. The
         * others' errors are already fatal through it. */
        atomic_store_explicit(&f->pf_set, 1, memory_order_release); /* pairs: the acquire below */
    }
}

void kite__pipeline_kafka_error(kite_pipeline *pl, kite_stats_block *st, const char *side,
                                rd_kafka_t *rk, int err, const char *reason)
{
    kite_stats_add(st, KITE_C_KAFKA_ERRORS, 1);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[256];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        kite__pipeline_fatal(pl, "%s: %.200s", side, fatal);
    }
    fprintf(stderr, "kite: %s: %s: %s\n", side, rd_kafka_err2name(err), reason);
}

int kite__pipeline_fatal_set(kite_pipeline *pl)
{
    return atomic_load_explicit(&pl->pl_fatal.pf_set, memory_order_acquire);
}
