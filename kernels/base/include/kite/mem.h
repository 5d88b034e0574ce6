/* kite's one aligned allocator and one growth rule for arrays that grow. */
#ifndef KITE_MEM_H
#define KITE_MEM_H

#include <stddef.h>

/* bytes of memory aligned to align (a power of two), zeroed; NULL when out of memory. A size
 * of 0 still returns a block (of align bytes), so NULL always means failure. Free with free(). */
void *kite_mem_aligned(size_t align, size_t bytes);

/* Makes *arr (an array of elem-byte items, *cap of them) hold at least need items: doubling,
 * from at least `initial`. Returns 0, or -1 when out of memory or the size would overflow
 * (then *arr and *cap are unchanged and still valid). New items are not initialised. */
int kite_mem_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t initial);

#endif
