/* Thread pinning and core count: the one place kite talks to hwloc about CPU topology.
 *
 * Cores are numbered 0..kite_pin_num_cores()-1 in hwloc's logical order; a core index past the
 * end wraps around, so callers may pin worker t to core t without checking the machine size.
 * The topology is loaded once per process (thread-safe) and kept until exit. */
#ifndef KITE_PIN_H
#define KITE_PIN_H

#include <stddef.h>

/* Physical cores this process may run on (at least 1, even if hwloc fails). */
int kite_pin_num_cores(void);

/* Binds the calling thread to one hardware thread of core `core % kite_pin_num_cores()`.
 * Returns 0, or -1 with a one-line reason in errstr (e.g. binding not supported here). */
int kite_pin_thread_to_core(int core, char *errstr, size_t errstr_size);

#endif
