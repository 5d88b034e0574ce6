#include <kite/clock.h>

#include <sys/resource.h>
#include <time.h>

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kite_clock_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

double kite_clock_mono_s(void) { return (double)kite_clock_mono_ns() * 1e-9; }

int64_t kite_clock_wall_us(void) { return clock_ns(CLOCK_REALTIME) / 1000; }

int64_t kite_clock_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

int64_t kite_clock_process_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}
