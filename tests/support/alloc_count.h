/* Counting allocator for tests and benches that must prove "no heap allocation per event":
 * include in exactly one .c file of an executable. It interposes malloc, calloc, realloc,
 * free, aligned_alloc, posix_memalign and memalign (the executable's definitions win over
 * libc's for every caller, shared libraries included) and forwards to glibc's __libc_*
 * entry points. kite_alloc_calls counts allocating calls (free is not counted).
 * Not for ASan builds (ASan interposes the same symbols): label such tests no_asan. */
#ifndef KITE_ALLOC_COUNT_H
#define KITE_ALLOC_COUNT_H

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

/* Single-threaded users only: a plain counter. */
static volatile unsigned long kite_alloc_calls;

void *malloc(size_t n)
{
    kite_alloc_calls++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    kite_alloc_calls++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    kite_alloc_calls++;
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *aligned_alloc(size_t align, size_t n)
{
    kite_alloc_calls++;
    return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n)
{
    kite_alloc_calls++;
    return __libc_memalign(align, n);
}
int posix_memalign(void **out, size_t align, size_t n)
{
    kite_alloc_calls++;
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

#endif
