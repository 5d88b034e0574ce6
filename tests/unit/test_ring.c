/* kite_ring: single-thread semantics (full, empty, wrap, batched publish) and a two-thread
 * stress that checks every item arrives once and in order. Runs under ThreadSanitizer (label
 * tsan), which would report a missing acquire/release pairing as a data race on the slots. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "kite_test.h"
#include <kite/ring.h>

#define STRESS_ITEMS 1000000u

static void test_single_thread(void)
{
    kite_ring r;
    char err[128];
    CHECK(kite_ring_init(&r, 3, err, sizeof err) == KITE_ERR_USAGE);
    CHECK(kite_ring_init(&r, 8, err, sizeof err) == KITE_ERR_OK);
    uint64_t out[16];
    CHECK(kite_ring_pop_n(&r, out, 16) == 0);
    for (uint64_t i = 0; i < 8; i++) CHECK(kite_ring_push(&r, i) == 0);
    CHECK(kite_ring_push(&r, 99) == -1);                 /* full: no wasted slot          */
    CHECK(kite_ring_pop_n(&r, out, 16) == 0);            /* not published yet             */
    kite_ring_publish(&r);
    CHECK(kite_ring_size(&r) == 8);
    CHECK(kite_ring_pop_n(&r, out, 3) == 3);
    CHECK(out[0] == 0 && out[2] == 2);
    uint64_t more[5] = {8, 9, 10, 11, 12};
    CHECK(kite_ring_push_n(&r, more, 5) == 3);           /* only three slots were freed   */
    size_t n = kite_ring_pop_n(&r, out, 16);
    CHECK(n == 8);
    for (size_t i = 0; i < n; i++) CHECK_MSG(out[i] == 3 + i, "slot %zu = %llu", i,
                                             (unsigned long long)out[i]);
    /* Wrap many times around the slot array. */
    int bad = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        bad |= kite_ring_push(&r, i) != 0;
        kite_ring_publish(&r);
        bad |= kite_ring_pop_n(&r, out, 1) != 1 || out[0] != i;
    }
    CHECK(!bad);
    kite_ring_free(&r);
}

static void *stress_producer(void *arg)
{
    kite_ring *r = arg;
    uint64_t batch[32];
    uint64_t next = 0;
    while (next < STRESS_ITEMS) {
        /* Alternate single pushes and batches to exercise both paths. */
        if (next % 3 == 0) {
            if (kite_ring_push(r, next) == 0) {
                next++;
                kite_ring_publish(r);
            }
            continue;
        }
        size_t n = 0;
        while (n < 32 && next + n < STRESS_ITEMS) { batch[n] = next + n; n++; }
        next += kite_ring_push_n(r, batch, n);
    }
    return NULL;
}

static void test_two_threads(void)
{
    kite_ring r;
    char err[128];
    CHECK(kite_ring_init(&r, 1024, err, sizeof err) == KITE_ERR_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, stress_producer, &r) == 0);
    uint64_t expect = 0, out[64];
    size_t out_of_order = 0;
    while (expect < STRESS_ITEMS) {
        size_t n = kite_ring_pop_n(&r, out, 64);
        for (size_t i = 0; i < n; i++) {
            if (out[i] != expect) out_of_order++;
            expect = out[i] + 1;
        }
    }
    pthread_join(t, NULL);
    CHECK_MSG(out_of_order == 0, "%zu items out of sequence", out_of_order);
    CHECK(expect == STRESS_ITEMS);
    CHECK(kite_ring_pop_n(&r, out, 64) == 0);
    kite_ring_free(&r);
}

int main(void)
{
    test_single_thread();
    test_two_threads();
    return kt_finish("test_ring");
}
