/* The one CPU probe: what the CPU implements and the OS saves, found once per process; every
 * dispatch table (the traversal kernels, the binning kernels) reads it, and KITE_ISA is read
 * here alone.
 *
 * x86-64: cpuid says what the CPU implements; xgetbv says whether the OS saves the wider
 * registers on a context switch (XCR0 bits 1-2 for AVX's YMM state, bits 5-7 for AVX-512's
 * opmask and ZMM state). Both must agree before a kernel is usable, as in xxHash's
 * xxh_x86dispatch.c. AArch64: getauxval(AT_HWCAP) & HWCAP_ASIMD. Built with baseline flags. */
#include <kite/cpu.h>

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

static kite_cpu caps;
static char caps_names[160];
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_add_name(const char *name, int present)
{
    if (!present) return;
    size_t len = strlen(caps_names);
    snprintf(caps_names + len, sizeof caps_names - len, "%s%s", len ? " " : "", name);
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

static void cpu_probe(void)
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
    cpu_add_name("sse4.2", (ecx1 >> 20) & 1);
    cpu_add_name("avx", avx);
    cpu_add_name("fma", fma);
    cpu_add_name("avx2", avx2);
    cpu_add_name("bmi2", bmi2);
    cpu_add_name("avx512f", f512);
    cpu_add_name("avx512dq", dq);
    cpu_add_name("avx512bw", bw);
    cpu_add_name("avx512vl", vl);
    cpu_add_name("avx512vbmi", (ecx7 >> 1) & 1);
    cpu_add_name("os-ymm", ymm_os);
    cpu_add_name("os-zmm", zmm_os);
    caps.kcpu_avx2 = avx && avx2 && ymm_os;
    caps.kcpu_avx512 = caps.kcpu_avx2 && f512 && dq && bw && vl && zmm_os;
    caps.kcpu_avx512vbmi = caps.kcpu_avx512 && ((ecx7 >> 1) & 1);
#elif defined(KITE_ARM64)
    caps.kcpu_neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    cpu_add_name("asimd", caps.kcpu_neon);
#endif
    if (!caps_names[0]) snprintf(caps_names, sizeof caps_names, "(none detected)");
}

const char *kite_cpu_features(void)
{
    pthread_once(&cpu_once, cpu_probe);
    return caps_names;
}


const kite_cpu *kite_cpu_get(void)
{
    pthread_once(&cpu_once, cpu_probe);
    return &caps;
}

const char *kite_cpu_forced_isa(void)
{
    const char *forced = getenv("KITE_ISA");
    return forced && *forced ? forced : NULL;
}
