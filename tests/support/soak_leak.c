/* A deliberate leak for proving that the soak's growth check fails on one (tools/soak.sh,
 * tests/e2e/soak.py): LD_PRELOAD this into kite serve with KITE_SOAK_LEAK_KB_PER_S=N and a thread
 * allocates and touches N KiB a second that it never frees, as a leak on kite's event path
 * would at a steady rate. Test-only: kite itself has no such code path. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long soak_leak_kb_per_s;

static void *soak_leak_run(void *unused)
{
    (void)unused;
    size_t piece = (size_t)soak_leak_kb_per_s * 1024 / 10;
    for (;;) {
        char *p = malloc(piece);
        if (p) memset(p, 0x5a, piece); /* touched, so it is resident */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

__attribute__((constructor)) static void soak_leak_start(void)
{
    const char *env = getenv("KITE_SOAK_LEAK_KB_PER_S");
    soak_leak_kb_per_s = env ? strtol(env, NULL, 10) : 0;
    if (soak_leak_kb_per_s <= 0) return;
    pthread_t t;
    if (!pthread_create(&t, NULL, soak_leak_run, NULL)) pthread_detach(t);
}
