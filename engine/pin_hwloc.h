/* Pinning the calling thread to one processing unit, through hwloc (topology-aware, logs
 * what it did). Kept behind this one function so the OS-specific code lives in one place. */
#ifndef KITE_PIN_HWLOC_H
#define KITE_PIN_HWLOC_H

#include <stddef.h>

#include "kite_error.h"

/* Number of processing units (logical CPUs) the process may run on; >= 1. */
int kite_pin_num_pus(void);

/* Binds the calling thread to PU pu (hwloc logical index, modulo the PU count) and writes a
 * line such as "PU L#1 (OS 1) core L#1 package L#0" into desc. */
kite_err kite_pin_current_thread(int pu, char *desc, size_t desc_size, char *errstr,
                                 size_t errstr_size);

#endif
