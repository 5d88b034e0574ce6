/* kite's one clock API. Every timestamp and duration in kite comes from here, so a test or a
 * port changes one file. All are thread-safe; kite_clock_mono_ns is also async-signal-safe
 * (clock_gettime is, by POSIX). */
#ifndef KITE_CLOCK_H
#define KITE_CLOCK_H

#include <stdint.h>

/* Monotonic time (CLOCK_MONOTONIC): for durations, deadlines, rates. */
int64_t kite_clock_mono_ns(void);
double kite_clock_mono_s(void);

/* Wall-clock time (CLOCK_REALTIME) in microseconds since 1970-01-01 UTC: for timestamps that
 * leave the process (records, reports, Kafka timestamps, latency across processes). */
int64_t kite_clock_wall_us(void);

/* CPU time: this thread's (nanoseconds), and the process's user + system (microseconds). */
int64_t kite_clock_thread_cpu_ns(void);
int64_t kite_clock_process_cpu_us(void);

#endif
