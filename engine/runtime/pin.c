#include <kite/pin.h>

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static hwloc_topology_t pin_topology;
static int pin_cores = 1;
static int pin_ok;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_load(void)
{
    if (hwloc_topology_init(&pin_topology) != 0) return;
    if (hwloc_topology_load(pin_topology) != 0) {
        hwloc_topology_destroy(pin_topology);
        return;
    }
    int n = hwloc_get_nbobjs_by_type(pin_topology, HWLOC_OBJ_CORE);
    if (n <= 0) n = hwloc_get_nbobjs_by_type(pin_topology, HWLOC_OBJ_PU);
    pin_cores = n > 0 ? n : 1;
    pin_ok = 1;
}

int kite_pin_num_cores(void)
{
    pthread_once(&pin_once, pin_load);
    return pin_cores;
}

int kite_pin_thread_to_core(int core, char *errstr, size_t errstr_size)
{
    pthread_once(&pin_once, pin_load);
    if (!pin_ok) {
        snprintf(errstr, errstr_size, "hwloc could not load the CPU topology");
        return -1;
    }
    if (core < 0) core = -core;
    core %= pin_cores;
    hwloc_obj_t obj = hwloc_get_obj_by_type(pin_topology, HWLOC_OBJ_CORE, (unsigned)core);
    if (!obj) obj = hwloc_get_obj_by_type(pin_topology, HWLOC_OBJ_PU, (unsigned)core);
    if (!obj || !obj->cpuset) {
        snprintf(errstr, errstr_size, "core %d: not in the hwloc topology", core);
        return -1;
    }
    /* One hardware thread of the core: the thread stays put instead of hopping between
     * SMT siblings. */
    hwloc_bitmap_t set = hwloc_bitmap_dup(obj->cpuset);
    if (!set) {
        snprintf(errstr, errstr_size, "core %d: out of memory", core);
        return -1;
    }
    hwloc_bitmap_singlify(set);
    int rc = hwloc_set_cpubind(pin_topology, set, HWLOC_CPUBIND_THREAD);
    int err = errno;
    hwloc_bitmap_free(set);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "core %d: hwloc_set_cpubind: %s", core, strerror(err));
        return -1;
    }
    return 0;
}
