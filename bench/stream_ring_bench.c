/* SPSC ring throughput between two threads pinned to two cores (engine/runtime/include/kite/pin.h, hwloc): items/s for several
 * publish batch sizes. The consumer checks the sequence so the number measures correct
 * transfers.  Usage: bench_ring [items] [core_producer] [core_consumer] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kite/pin.h>
#include <kite/ring.h>

typedef struct bench_arg {
    kite_ring *ring;
    uint64_t items;
    size_t batch;
    int pu;
    uint64_t errors;
} bench_arg;

static void bench_pin(int pu)
{
    char err[256];
    if (kite_pin_thread_to_core(pu, err, sizeof err)) fprintf(stderr, "not pinned: %s\n", err);
}

static void *bench_producer(void *p)
{
    bench_arg *a = p;
    bench_pin(a->pu);
    uint64_t buf[1024];
    for (uint64_t next = 0; next < a->items;) {
        size_t n = a->batch;
        if (n > a->items - next) n = (size_t)(a->items - next);
        for (size_t i = 0; i < n; i++) buf[i] = next + i;
        size_t done = 0;
        while (done < n) done += kite_ring_push_n(a->ring, buf + done, n - done);
        next += n;
    }
    return NULL;
}

static void *bench_consumer(void *p)
{
    bench_arg *a = p;
    bench_pin(a->pu);
    uint64_t buf[1024], expect = 0;
    while (expect < a->items) {
        size_t n = kite_ring_pop_n(a->ring, buf, a->batch);
        for (size_t i = 0; i < n; i++) a->errors += buf[i] != expect++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t items = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000ull;
    int pu_p = argc > 2 ? atoi(argv[2]) : 0, pu_c = argc > 3 ? atoi(argv[3]) : 1;
    size_t batches[] = {256, 64, 16, 1};
    printf("SPSC ring, %llu items, producer core %d, consumer core %d, capacity 4096\n",
           (unsigned long long)items, pu_p, pu_c);
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        kite_ring r;
        char err[128];
        if (kite_ring_init(&r, 4096, err, sizeof err)) return 1;
        bench_arg pa = {&r, items, batches[b], pu_p, 0}, ca = {&r, items, batches[b], pu_c, 0};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_t tp, tc;
        pthread_create(&tc, NULL, bench_consumer, &ca);
        pthread_create(&tp, NULL, bench_producer, &pa);
        pthread_join(tp, NULL);
        pthread_join(tc, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        printf("batch %4zu: %8.1f M items/s  (%.3f s, %llu sequence errors)\n", batches[b],
               (double)items / s / 1e6, s, (unsigned long long)ca.errors);
        kite_ring_free(&r);
    }
    return 0;
}
