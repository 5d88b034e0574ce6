#include "pin_hwloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <hwloc.h>

/* One topology for the process: loading it reads /sys and costs milliseconds. */
static hwloc_topology_t pin_topology;
static int pin_topology_ok;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_topology_load(void)
{
    if (hwloc_topology_init(&pin_topology) == 0 && hwloc_topology_load(pin_topology) == 0)
        pin_topology_ok = 1;
}

int kite_pin_num_pus(void)
{
    pthread_once(&pin_once, pin_topology_load);
    if (!pin_topology_ok) return 1;
    int n = hwloc_get_nbobjs_by_type(pin_topology, HWLOC_OBJ_PU);
    return n > 0 ? n : 1;
}

kite_err kite_pin_current_thread(int pu, char *desc, size_t desc_size, char *errstr,
                                 size_t errstr_size)
{
    int n = kite_pin_num_pus();
    if (!pin_topology_ok)
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "hwloc: cannot load topology");
    hwloc_obj_t obj = hwloc_get_obj_by_type(pin_topology, HWLOC_OBJ_PU, (unsigned)(pu % n));
    if (!obj || !obj->cpuset)
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "hwloc: no PU %d", pu % n);
    if (hwloc_set_cpubind(pin_topology, obj->cpuset, HWLOC_CPUBIND_THREAD) != 0)
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "hwloc: bind to PU L#%u: %s",
                         obj->logical_index, strerror(errno));
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(pin_topology, HWLOC_OBJ_CORE, obj);
    hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(pin_topology, HWLOC_OBJ_PACKAGE, obj);
    snprintf(desc, desc_size, "PU L#%u (OS %u) core L#%d package L#%d", obj->logical_index,
             obj->os_index, core ? (int)core->logical_index : -1,
             pkg ? (int)pkg->logical_index : -1);
    return KITE_ERR_OK;
}
