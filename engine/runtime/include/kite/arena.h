/* kite_arena: a bump allocator reset once per event, and the cJSON hooks that route a thread's
 * cJSON allocations into its arena, so parsing an event costs no malloc.
 *
 * cJSON's hooks are process-wide; the arena is per thread (a _Thread_local pointer set by
 * kite_arena_bind). A thread with no bound arena, or an allocation that does not fit, falls
 * back to malloc; free() of an arena pointer is a no-op, of any other pointer a real free. */
#ifndef KITE_ARENA_H
#define KITE_ARENA_H

#include <stddef.h>

#include <kite/error.h>

typedef struct kite_arena {
    char *ka_base;
    size_t ka_size;
    size_t ka_used;
    size_t ka_fallbacks; /* allocations that did not fit and went to malloc */
} kite_arena;

kite_err kite_arena_init(kite_arena *a, size_t size, char *errstr, size_t errstr_size);
void kite_arena_free(kite_arena *a);

/* 16-byte aligned memory from the arena, or NULL when it is full. */
void *kite_arena_alloc(kite_arena *a, size_t n);

static inline void kite_arena_reset(kite_arena *a) { a->ka_used = 0; }

/* Installs the cJSON hooks (once per process; call before starting threads that use cJSON). */
void kite_arena_install_cjson(void);

/* This thread's cJSON allocations go to a (NULL: back to malloc). */
void kite_arena_bind(kite_arena *a);

#endif
