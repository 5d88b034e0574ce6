/* Built with baseline flags only: this file must run on any CPU of the target architecture,
 * so it may only *call* ISA-specific kernels after kite_cpu (kernels/base/cpu.c, the one
 * probe every dispatch table reads, as in xxHash's xxh_x86dispatch.c) says the CPU and the OS
 * support them. */
#include <kite/cpu.h>
#include <kite/dispatch.h>

#include "traverse.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *const isa_names[] = {"scalar", "avx2", "avx512", "avx512vbmi", "neon"};
_Static_assert(sizeof isa_names / sizeof isa_names[0] == KITE_ISA__COUNT,
               "isa_names must list every kite_isa");

const char *kite_isa_name(kite_isa isa)
{
    return (unsigned)isa < KITE_ISA__COUNT ? isa_names[isa] : "unknown";
}

/* Kernels compiled into this build (NULL where an ISA's object library was not built;
 * CMake defines KITE_HAVE_<ISA> for each one it builds). */
static const kite_margins_fn isa_kernels[] = {
    [KITE_ISA_SCALAR] = kite_margins_scalar,
#ifdef KITE_HAVE_AVX2
    [KITE_ISA_AVX2] = kite__margins_avx2,
#else
    [KITE_ISA_AVX2] = NULL,
#endif
#ifdef KITE_HAVE_AVX512
    [KITE_ISA_AVX512] = kite__margins_avx512,
#else
    [KITE_ISA_AVX512] = NULL,
#endif
#ifdef KITE_HAVE_AVX512VBMI
    [KITE_ISA_AVX512VBMI] = kite__margins_avx512vbmi,
#else
    [KITE_ISA_AVX512VBMI] = NULL,
#endif
#ifdef KITE_HAVE_NEON
    [KITE_ISA_NEON] = kite__margins_neon,
#else
    [KITE_ISA_NEON] = NULL,
#endif
};
_Static_assert(sizeof isa_kernels / sizeof isa_kernels[0] == KITE_ISA__COUNT,
               "isa_kernels must have one entry per kite_isa");

static int cpu_supports(kite_isa isa)
{
    const kite_cpu *cpu = kite_cpu_get();
    switch (isa) {
    case KITE_ISA_SCALAR: return 1;
    case KITE_ISA_AVX2: return cpu->kcpu_avx2;
    case KITE_ISA_AVX512: return cpu->kcpu_avx512;
    case KITE_ISA_AVX512VBMI: return cpu->kcpu_avx512vbmi;
    case KITE_ISA_NEON: return cpu->kcpu_neon;
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
static kite_margins_fn active_fn;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void choose_isa(void)
{
    const char *forced = kite_cpu_forced_isa();
    active_isa = KITE_ISA_SCALAR;
    for (int i = KITE_ISA__COUNT - 1; i > 0; i--)
        if (kite_isa_available((kite_isa)i)) {
            active_isa = (kite_isa)i;
            break;
        }
    if (forced) {
        int found = 0;
        for (int i = 0; i < KITE_ISA__COUNT; i++)
            if (!strcmp(forced, isa_names[i]) && kite_isa_available((kite_isa)i)) {
                active_isa = (kite_isa)i;
                found = 1;
            }
        if (!found)
            fprintf(stderr, "kite: KITE_ISA=%s is not available on this CPU/build; using %s\n",
                    forced, isa_names[active_isa]);
    }
    active_fn = isa_kernels[active_isa];
}

kite_isa kite_isa_active(void)
{
    pthread_once(&active_once, choose_isa);
    return active_isa;
}

kite_margins_fn kite_isa_active_kernel(void)
{
    pthread_once(&active_once, choose_isa);
    return active_fn;
}

void kite_forest_predict(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out, int margin_only)
{
    kite_isa_active_kernel()(f, rows, nrows, stride, out);
    if (!margin_only) kite_forest_transform(f, out, nrows);
}
