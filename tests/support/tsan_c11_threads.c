/* ThreadSanitizer shim for C11 <threads.h>, linked only into -DKITE_SANITIZE=thread builds.
 *
 * Why: Debian's librdkafka creates its threads and locks with C11 thrd_create / mtx_lock, and
 * glibc implements those by calling its internal pthread functions directly, past TSan's
 * interceptors. TSan then meets threads it never set up (it crashes in its allocator on their
 * first malloc) and locks it cannot see. Defining the C11 functions here, on top of the public
 * pthread calls that TSan intercepts, interposes them for librdkafka (the executable's
 * definitions win in the dynamic linker's lookup). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int shim_rc(int rc)
{
    switch (rc) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

typedef struct shim_start {
    thrd_start_t fn;
    void *arg;
} shim_start;

static void *shim_thread(void *p)
{
    shim_start s = *(shim_start *)p;
    free(p);
    return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    shim_start *s = malloc(sizeof *s);
    if (!s) return thrd_nomem;
    s->fn = func;
    s->arg = arg;
    pthread_t t;
    int rc = pthread_create(&t, NULL, shim_thread, s);
    if (rc) {
        free(s);
        return shim_rc(rc);
    }
    *thr = (thrd_t)t;
    return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
    void *ret = NULL;
    int rc = pthread_join((pthread_t)thr, &ret);
    if (!rc && res) *res = (int)(intptr_t)ret;
    return shim_rc(rc);
}

int thrd_detach(thrd_t thr) { return shim_rc(pthread_detach((pthread_t)thr)); }

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (type & mtx_recursive) pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
    pthread_mutexattr_destroy(&a);
    return shim_rc(rc);
}

int mtx_lock(mtx_t *m) { return shim_rc(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return shim_rc(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return shim_rc(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}
int mtx_unlock(mtx_t *m) { return shim_rc(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int cnd_init(cnd_t *c) { return shim_rc(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return shim_rc(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return shim_rc(pthread_cond_broadcast((pthread_cond_t *)c)); }
int cnd_wait(cnd_t *c, mtx_t *m)
{
    return shim_rc(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return shim_rc(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
