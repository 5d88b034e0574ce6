/* engine/pin: the core count is sane, and pinning the calling thread leaves it allowed on
 * exactly one CPU (checked with the OS's own view, sched_getaffinity); core indices past the
 * end wrap instead of failing. */
#include <sched.h>

#include "kite_test.h"
#include <kite/pin.h>

int main(void)
{
    int cores = kite_pin_num_cores();
    CHECK(cores >= 1);
    char err[256];
    for (int core = 0; core < cores + 1; core++) {
        int rc = kite_pin_thread_to_core(core, err, sizeof err);
        CHECK_MSG(rc == 0, "core %d: %s", core, err);
        cpu_set_t set;
        CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
        CHECK_MSG(CPU_COUNT(&set) == 1, "core %d: thread may run on %d CPUs", core, CPU_COUNT(&set));
    }
    return kt_finish("test_pin");
}
