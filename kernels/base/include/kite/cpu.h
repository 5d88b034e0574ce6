/* The one CPU probe (kernels/base/cpu.c): what this CPU implements and the OS saves, found once
 * per process and read by every dispatch table, so the traversal and the binning kernels can
 * never disagree about the machine. Thread-safe. */
#ifndef KITE_CPU_H
#define KITE_CPU_H

typedef struct kite_cpu {
    int kcpu_avx2;       /* AVX2 instructions and YMM state enabled by the OS              */
    int kcpu_avx512;     /* AVX-512 F+DQ+BW+VL and opmask/ZMM state enabled by the OS     */
    int kcpu_avx512vbmi; /* kcpu_avx512 and AVX-512 VBMI (vpermb, vpermi2b)                 */
    int kcpu_neon;       /* AArch64 Advanced SIMD                                         */
} kite_cpu;

const kite_cpu *kite_cpu_get(void);

/* Human-readable list of CPU features detected, e.g. "sse4.2 avx2 fma avx512f avx512bw". */
const char *kite_cpu_features(void);

/* The ISA the environment forces (KITE_ISA, e.g. "scalar", "avx2"), or NULL when unset or
 * empty. Each dispatch table decides what a name means for it: the traversal takes that
 * kernel, the binning goes scalar for "scalar". */
const char *kite_cpu_forced_isa(void);

#endif
