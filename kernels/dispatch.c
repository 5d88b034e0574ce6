/* Built with baseline flags only: this file must run on any CPU of the target architecture,
 * so it may only *call* ISA-specific kernels after checking the CPU supports them. */
#include "dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const isa_names[] = {"scalar", "avx2", "avx512", "neon"};
_Static_assert(sizeof isa_names / sizeof isa_names[0] == KITE_ISA__COUNT,
               "isa_names must list every kite_isa");

const char *kite_isa_name(kite_isa isa)
{
    return (unsigned)isa < KITE_ISA__COUNT ? isa_names[isa] : "unknown";
}

/* Kernels compiled into this build (NULL where an ISA's object library was not built). */
static const kite_margins_fn isa_kernels[] = {
    [KITE_ISA_SCALAR] = kite_margins_scalar,
    [KITE_ISA_AVX2] = NULL,
    [KITE_ISA_AVX512] = NULL,
    [KITE_ISA_NEON] = NULL,
};
_Static_assert(sizeof isa_kernels / sizeof isa_kernels[0] == KITE_ISA__COUNT,
               "isa_kernels must have one entry per kite_isa");

static int cpu_supports(kite_isa isa)
{
    switch (isa) {
    case KITE_ISA_SCALAR: return 1;
    default: return 0;
    }
}

int kite_isa_available(kite_isa isa)
{
    return (unsigned)isa < KITE_ISA__COUNT && isa_kernels[isa] && cpu_supports(isa);
}

kite_margins_fn kite_isa_kernel(kite_isa isa)
{
    return kite_isa_available(isa) ? isa_kernels[isa] : NULL;
}

static kite_isa active_isa;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void choose_isa(void)
{
    const char *forced = getenv("KITE_ISA");
    if (forced && *forced) {
        for (int i = 0; i < KITE_ISA__COUNT; i++)
            if (!strcmp(forced, isa_names[i]) && kite_isa_available((kite_isa)i)) {
                active_isa = (kite_isa)i;
                return;
            }
        fprintf(stderr, "kite: KITE_ISA=%s is not available on this CPU/build; choosing automatically\n",
                forced);
    }
    active_isa = KITE_ISA_SCALAR;
    for (int i = KITE_ISA__COUNT - 1; i > 0; i--)
        if (kite_isa_available((kite_isa)i)) {
            active_isa = (kite_isa)i;
            break;
        }
}

kite_isa kite_isa_active(void)
{
    pthread_once(&active_once, choose_isa);
    return active_isa;
}

const char *kite_cpu_features(void) { return ""; }

void kite_forest_predict(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out, int margin_only)
{
    isa_kernels[kite_isa_active()](f, rows, nrows, stride, out);
    if (!margin_only) kite_forest_transform(f, out, nrows);
}
