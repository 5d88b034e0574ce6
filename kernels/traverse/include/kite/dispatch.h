/* Kernel dispatch: the traversal kernel is chosen once per process from what the CPU and the
 * OS support (cpuid + xgetbv on x86), unless KITE_ISA=scalar|avx2|avx512|avx512vbmi|neon forces one. The
 * choice is made by the first call of kite_isa_active, kite_isa_active_kernel or
 * kite_forest_predict; a program that wants it made at start-up (KITE_ISA read and any warning
 * printed before its own work) calls kite_isa_active() first, as kite's main does. */
#ifndef KITE_DISPATCH_H
#define KITE_DISPATCH_H

#include <stddef.h>

#include <kite/forest.h>

/* Every traversal kernel has this signature: margins of nrows rows (row r at rows + r*stride)
 * into out[nrows * num_group]. */
typedef void (*kite_margins_fn)(const kite_forest *f, const float *rows, size_t nrows,
                                size_t stride, float *out);

/* The reference kernel: the oracle every other one is tested against. */
void kite_margins_scalar(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out);

typedef enum kite_isa {
    KITE_ISA_SCALAR,
    KITE_ISA_AVX2,
    KITE_ISA_AVX512,
    KITE_ISA_AVX512VBMI, /* the byte-binned kernel (bytebin.h); AVX-512 F+DQ+BW+VL+VBMI */
    KITE_ISA_NEON,
    KITE_ISA__COUNT
} kite_isa;

const char *kite_isa_name(kite_isa isa);

/* 1 if this build has a kernel for isa and this CPU can run it. */
int kite_isa_available(kite_isa isa);

/* The kernel for isa, or NULL when not available. */
kite_margins_fn kite_isa_kernel(kite_isa isa);

/* The ISA chosen for this process (the first call of this, kite_isa_active_kernel or
 * kite_forest_predict decides; thread-safe). If KITE_ISA names an unavailable ISA, the best
 * available one is used and a one-line warning goes to stderr. */
kite_isa kite_isa_active(void);

/* The kernel kite_forest_predict calls (the active ISA's); tests compare it with
 * kite_isa_kernel(forced) to prove KITE_ISA took effect. */
kite_margins_fn kite_isa_active_kernel(void);

/* Margins with the active kernel; then the objective transform unless margin_only.
 * The batch-scoring library call: rows and out are the caller's buffers (out holds
 * nrows * kf_num_group floats); nothing is allocated, so a caller may reuse its buffers
 * call after call, from any number of threads sharing one forest. */
void kite_forest_predict(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out, int margin_only);

#endif
