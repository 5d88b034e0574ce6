#include <kite/mem.h>
#include <kite/arena.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#define ARENA_ALIGN 16

static _Thread_local kite_arena *arena_bound;

kite_err kite_arena_init(kite_arena *a, size_t size, char *errstr, size_t errstr_size)
{
    *a = (kite_arena){0};
    void *p = kite_mem_aligned(64, size);
    if (!p)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "arena of %zu bytes", size);
    a->ka_base = p;
    a->ka_size = size;
    return KITE_ERR_OK;
}

void kite_arena_free(kite_arena *a)
{
    free(a->ka_base);
    *a = (kite_arena){0};
}

void *kite_arena_alloc(kite_arena *a, size_t n)
{
    size_t at = (a->ka_used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n > a->ka_size || at > a->ka_size - n) return NULL;
    a->ka_used = at + n;
    return a->ka_base + at;
}

static void *arena_cjson_malloc(size_t n)
{
    kite_arena *a = arena_bound;
    if (a) {
        void *p = kite_arena_alloc(a, n);
        if (p) return p;
        a->ka_fallbacks++;
    }
    return malloc(n);
}

/* Pointers inside any arena bound to this thread are released by kite_arena_reset. Memory from
 * another thread's arena is never freed here: cJSON trees do not cross threads in kite. */
static void arena_cjson_free(void *p)
{
    kite_arena *a = arena_bound;
    if (a && (uintptr_t)p >= (uintptr_t)a->ka_base &&
        (uintptr_t)p < (uintptr_t)a->ka_base + a->ka_size)
        return;
    free(p);
}

static pthread_once_t arena_hooks_once = PTHREAD_ONCE_INIT;

static void arena_hooks_install(void)
{
    cJSON_Hooks hooks = {arena_cjson_malloc, arena_cjson_free};
    cJSON_InitHooks(&hooks);
}

void kite_arena_install_cjson(void) { pthread_once(&arena_hooks_once, arena_hooks_install); }

void kite_arena_bind(kite_arena *a) { arena_bound = a; }
