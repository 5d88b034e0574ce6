/* Private to kite_traverse (kernels/traverse/), not installed.
 * Tree-traversal kernels: one ISA per file (traverse_<isa>.c), all with this signature.
 *
 * A kernel writes the margins of nrows rows into out (row-major, kf_num_group per row):
 * out[r * G + g] = base_margin + sum over trees of group g, in tree order, of the leaf reached.
 * rows[r * stride + j] is feature j of row r; NaN is a missing value.
 * Kernels never allocate; every compiled kernel must give the scalar kernel's bits exactly. */
#ifndef KITE_TRAVERSE_H
#define KITE_TRAVERSE_H

#include <stddef.h>

#include <kite/dispatch.h>


/* The leaf value one tree gives one row, by the scalar rules (vector kernels use it for trees
 * with categorical splits). */
float kite__tree_value_scalar(const kite_forest *f, int32_t tree, const float *row);

/* Adds one row's leaves, in tree order, onto o[0..kf_num_group) using kf_perfect; the vector
 * kernels call it for the rows left over after their last (half-)vector. */
void kite__row_margins(const kite_forest *f, const float *row, float *o);

/* Vector kernels, each compiled with its own ISA flags; call them only through dispatch.h,
 * which checks the CPU first. */
void kite__margins_avx2(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                       float *out);
void kite__margins_avx512(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                         float *out);
void kite__margins_neon(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                       float *out);
/* The byte-binned kernel (traverse_avx512vbmi.c, layout in bytebin.h): 64 rows per register;
 * batches and forests it does not cover go to kite__margins_avx512. */
void kite__margins_avx512vbmi(const kite_forest *f, const float *rows, size_t nrows, size_t stride,
                             float *out);
/* Its 16-bit-code variant (traverse_avx512vbmi_wide.c): 32 rows per register, for forests with
 * 256..65535 split values on some feature; kite__margins_avx512vbmi calls it for them. */
void kite__margins_avx512vbmi_wide(const kite_forest *f, const float *rows, size_t nrows,
                                   size_t stride, float *out);

#endif
