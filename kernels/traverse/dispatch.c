/* Built with baseline flags only: this file must run on any CPU of the target architecture,
 * so it may only *call* ISA-specific kernels after checking the CPU supports them.
 *
 * x86-64: cpuid says what the CPU implements; xgetbv says whether the OS saves the wider
 * registers on a context switch (XCR0 bits 1-2 for AVX's YMM state, bits 5-7 for AVX-512's
 * opmask and ZMM state). Both must agree before a kernel is usable, as in xxHash's
 * xxh_x86dispatch.c. AArch64: getauxval(AT_HWCAP) & HWCAP_ASIMD. */
#include <kite/dispatch.h>

#include "traverse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define KITE_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#define KITE_ARM64 1
#endif

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

/* What the CPU (and OS) can run, found once. */
typedef struct cpu_caps {
    int cc_avx2;   /* AVX2 instructions and YMM state enabled by the OS              */
    int cc_avx512; /* AVX-512 F+DQ+BW+VL and opmask/ZMM state enabled by the OS     */
    int cc_vbmi;   /* cc_avx512 and AVX-512 VBMI (vpermb, vpermi2b)                 */
    int cc_neon;   /* AArch64 Advanced SIMD                                         */
    char cc_names[160];
} cpu_caps;

static cpu_caps caps;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;

static void caps_add(const char *name, int present)
{
    if (!present) return;
    size_t len = strlen(caps.cc_names);
    snprintf(caps.cc_names + len, sizeof caps.cc_names - len, "%s%s", len ? " " : "", name);
}

#ifdef KITE_X86
static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    /* xgetbv with ecx = 0 reads XCR0; encoded as bytes so baseline flags (no -mxsave) do. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static void detect_caps(void)
{
#ifdef KITE_X86
    unsigned a, b, c, d;
    unsigned ecx1 = 0, ebx7 = 0, ecx7 = 0;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) ecx1 = c;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        ebx7 = b;
        ecx7 = c;
    }
    int osxsave = (ecx1 >> 27) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_os = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
    int zmm_os = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    int avx = (ecx1 >> 28) & 1, fma = (ecx1 >> 12) & 1;
    int avx2 = (ebx7 >> 5) & 1, bmi2 = (ebx7 >> 8) & 1;
    int f512 = (ebx7 >> 16) & 1, dq = (ebx7 >> 17) & 1, bw = (ebx7 >> 30) & 1,
        vl = (ebx7 >> 31) & 1;
    caps_add("sse4.2", (ecx1 >> 20) & 1);
    caps_add("avx", avx);
    caps_add("fma", fma);
    caps_add("avx2", avx2);
    caps_add("bmi2", bmi2);
    caps_add("avx512f", f512);
    caps_add("avx512dq", dq);
    caps_add("avx512bw", bw);
    caps_add("avx512vl", vl);
    caps_add("avx512vbmi", (ecx7 >> 1) & 1);
    caps_add("os-ymm", ymm_os);
    caps_add("os-zmm", zmm_os);
    caps.cc_avx2 = avx && avx2 && ymm_os;
    caps.cc_avx512 = caps.cc_avx2 && f512 && dq && bw && vl && zmm_os;
    caps.cc_vbmi = caps.cc_avx512 && ((ecx7 >> 1) & 1);
#elif defined(KITE_ARM64)
    caps.cc_neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    caps_add("asimd", caps.cc_neon);
#endif
    if (!caps.cc_names[0]) snprintf(caps.cc_names, sizeof caps.cc_names, "(none detected)");
}

static int cpu_supports(kite_isa isa)
{
    pthread_once(&caps_once, detect_caps);
    switch (isa) {
    case KITE_ISA_SCALAR: return 1;
    case KITE_ISA_AVX2: return caps.cc_avx2;
    case KITE_ISA_AVX512: return caps.cc_avx512;
    case KITE_ISA_AVX512VBMI: return caps.cc_vbmi;
    case KITE_ISA_NEON: return caps.cc_neon;
    default: return 0;
    }
}

const char *kite_cpu_features(void)
{
    pthread_once(&caps_once, detect_caps);
    return caps.cc_names;
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
    const char *forced = getenv("KITE_ISA");
    active_isa = KITE_ISA_SCALAR;
    for (int i = KITE_ISA__COUNT - 1; i > 0; i--)
        if (kite_isa_available((kite_isa)i)) {
            active_isa = (kite_isa)i;
            break;
        }
    if (forced && *forced) {
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
