#include <stdio.h>
#include <string.h>

#include "cli.h"
#include <kite/cpu.h>
#include <kite/dispatch.h>

#ifndef KITE_BUILD_TYPE
#define KITE_BUILD_TYPE "unknown"
#endif

int kite__cmd_info(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: kite info\n\nPrints the version, build type, detected CPU features, the\n"
               "traversal kernels this build and CPU can run, and the one chosen.\n");
        return KITE_EXIT_OK;
    }
    printf("kite %s\n", KITE_VERSION);
    printf("build type: %s\n", KITE_BUILD_TYPE);
    printf("cpu features: %s\n", kite_cpu_features());
    printf("kernels available:");
    for (int i = 0; i < KITE_ISA__COUNT; i++)
        if (kite_isa_available((kite_isa)i)) printf(" %s", kite_isa_name((kite_isa)i));
    printf("\nkernel chosen: %s\n", kite_isa_name(kite_isa_active()));
    return KITE_EXIT_OK;
}
