#include <kite/mem.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *kite_mem_aligned(size_t align, size_t bytes)
{
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    if (bytes > SIZE_MAX - align) return NULL;
    size_t size = bytes ? (bytes + align - 1) / align * align : align;
    void *p = aligned_alloc(align, size);
    if (p) memset(p, 0, size);
    return p;
}

int kite_mem_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t initial)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : (initial ? initial : 1);
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return -1;
        nc *= 2;
    }
    if (elem && nc > SIZE_MAX / elem) return -1;
    void *p = realloc(*arr, nc * elem);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}
