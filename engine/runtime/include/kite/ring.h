/* kite_ring: a lock-free single-producer / single-consumer ring of 64-bit items.
 *
 * Exactly one thread pushes and exactly one thread pops (the roles may move to another thread
 * only across a happens-before edge, e.g. a mutex hand-off while the owner is parked).
 *
 * Layout (three cache lines, so the two threads never write the same line):
 *
 *   line  field            written by  read by     meaning
 *   0     kr_head          producer    consumer    next slot to fill, published (atomic)
 *   0     kr_head_local    producer    producer    next slot to fill, not yet published
 *   0     kr_tail_cache    producer    producer    last kr_tail the producer read
 *   1     kr_tail          consumer    producer    next slot to read (atomic)
 *   1     kr_head_cache    consumer    consumer    last kr_head the consumer read
 *   2     kr_slots/kr_mask init only   both        slot array, capacity - 1
 *
 * Indices grow without bound (size_t, wrapping is harmless because only differences are used)
 * and are masked into the slot array, so head - tail is the fill level and full means
 * head - tail == capacity (no wasted slot).
 *
 * Why the caches: reading the other thread's index pulls its cache line over; the producer
 * re-reads kr_tail only when its cached copy says the ring is full, the consumer re-reads
 * kr_head only when its cached copy says the ring is empty. Why batched publish: kite_ring_push
 * only fills slots; one release store in kite_ring_publish makes the whole batch visible, so a
 * batch of N items costs one shared-line write instead of N.
 *
 * Memory ordering, with the operation each pairs with:
 *   P1 producer store-release kr_head   pairs with C1 consumer load-acquire kr_head:
 *      slot writes before P1 are visible to the consumer after C1 sees the new head.
 *   C2 consumer store-release kr_tail   pairs with P2 producer load-acquire kr_tail:
 *      the consumer's slot reads before C2 finish before the producer, after P2, overwrites
 *      those slots.
 *   Each thread reads its own index relaxed (only it writes it). */
#ifndef KITE_RING_H
#define KITE_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kite/error.h>
#include <kite/mem.h>

#define KITE_CACHE_LINE 64

typedef struct kite_ring {
    alignas(KITE_CACHE_LINE) _Atomic size_t kr_head; /* producer line                   */
    size_t kr_head_local;
    size_t kr_tail_cache;
    alignas(KITE_CACHE_LINE) _Atomic size_t kr_tail; /* consumer line                   */
    size_t kr_head_cache;
    alignas(KITE_CACHE_LINE) uint64_t *kr_slots;     /* read-only after init            */
    size_t kr_mask;
} kite_ring;

_Static_assert(offsetof(kite_ring, kr_tail) - offsetof(kite_ring, kr_head) >= KITE_CACHE_LINE,
               "producer and consumer indices must sit on different cache lines");

/* capacity must be a power of two >= 2. */
static inline kite_err kite_ring_init(kite_ring *r, size_t capacity, char *errstr,
                                      size_t errstr_size)
{
    if (capacity < 2 || (capacity & (capacity - 1)))
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size,
                         "ring capacity %zu is not a power of two >= 2", capacity);
    if (capacity > SIZE_MAX / sizeof(uint64_t))
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "ring of %zu slots is too large", capacity);
    /* Zeroed (touched) now, so the ring is resident from the start: left to first touch, a
     * 2^21-slot delivery ring (16 MiB) grew kite's RSS by 8 bytes per output until it wrapped,
     * ~23 minutes at 3,000 events/s, which reads as a leak in a soak (tools/soak.sh). */
    void *slots = kite_mem_aligned(KITE_CACHE_LINE, capacity * sizeof(uint64_t));
    if (!slots)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "ring of %zu slots", capacity);
    r->kr_slots = slots;
    r->kr_mask = capacity - 1;
    r->kr_head_local = r->kr_tail_cache = r->kr_head_cache = 0;
    atomic_init(&r->kr_head, 0);
    atomic_init(&r->kr_tail, 0);
    return KITE_ERR_OK;
}

static inline void kite_ring_free(kite_ring *r)
{
    free(r->kr_slots);
    r->kr_slots = NULL;
}

static inline size_t kite_ring_capacity(const kite_ring *r) { return r->kr_mask + 1; }

/* Producer: stores v in the next slot without publishing it. Returns 0, or -1 when full. */
static inline int kite_ring_push(kite_ring *r, uint64_t v)
{
    size_t head = r->kr_head_local;
    if (head - r->kr_tail_cache > r->kr_mask) {
        /* P2: pairs with C2; the consumer has finished reading every slot below tail. */
        r->kr_tail_cache = atomic_load_explicit(&r->kr_tail, memory_order_acquire);
        if (head - r->kr_tail_cache > r->kr_mask) return -1;
    }
    r->kr_slots[head & r->kr_mask] = v;
    r->kr_head_local = head + 1;
    return 0;
}

/* Producer: makes every pushed item visible to the consumer. */
static inline void kite_ring_publish(kite_ring *r)
{
    /* P1: pairs with C1; the slot writes above happen before the consumer reads them. */
    atomic_store_explicit(&r->kr_head, r->kr_head_local, memory_order_release);
}

/* Producer: pushes up to n items and publishes them; returns how many fit. */
static inline size_t kite_ring_push_n(kite_ring *r, const uint64_t *v, size_t n)
{
    size_t head = r->kr_head_local;
    size_t room = kite_ring_capacity(r) - (head - r->kr_tail_cache);
    if (room < n) {
        /* P2: pairs with C2 (see kite_ring_push). */
        r->kr_tail_cache = atomic_load_explicit(&r->kr_tail, memory_order_acquire);
        room = kite_ring_capacity(r) - (head - r->kr_tail_cache);
    }
    if (n > room) n = room;
    for (size_t i = 0; i < n; i++) r->kr_slots[(head + i) & r->kr_mask] = v[i];
    r->kr_head_local = head + n;
    kite_ring_publish(r);
    return n;
}

/* Consumer: copies up to max published items into out and frees their slots; returns the
 * number copied (0 when empty). */
static inline size_t kite_ring_pop_n(kite_ring *r, uint64_t *out, size_t max)
{
    /* Relaxed: only this thread writes kr_tail. */
    size_t tail = atomic_load_explicit(&r->kr_tail, memory_order_relaxed);
    size_t avail = r->kr_head_cache - tail;
    if (avail < max) {
        /* C1: pairs with P1; slots below the loaded head hold the producer's writes. */
        r->kr_head_cache = atomic_load_explicit(&r->kr_head, memory_order_acquire);
        avail = r->kr_head_cache - tail;
    }
    if (max > avail) max = avail;
    for (size_t i = 0; i < max; i++) out[i] = r->kr_slots[(tail + i) & r->kr_mask];
    if (max)
        /* C2: pairs with P2; our slot reads are done before the producer may reuse them. */
        atomic_store_explicit(&r->kr_tail, tail + max, memory_order_release);
    return max;
}

/* Either side: items published and not yet popped (a snapshot; exact only when both are idle). */
static inline size_t kite_ring_size(kite_ring *r)
{
    /* Acquire on both: pairs with P1 and C2; a consistent-enough snapshot for metrics. */
    size_t tail = atomic_load_explicit(&r->kr_tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&r->kr_head, memory_order_acquire);
    return head - tail;
}

#endif
