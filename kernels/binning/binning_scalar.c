/* Scalar binning kernel: the reference every other variant must match bit for bit. */
#include <kite/binning.h>

void kite_binning_index_scalar(const float *edges, int nedges, const float *values,
                               size_t nvalues, size_t stride, uint16_t *out)
{
    for (size_t k = 0; k < nvalues; k++)
        out[k] = (uint16_t)kite_bin_of(edges, nedges, values[k * stride]);
}

/* Chunks of this many values count in integer scratch before the doubles are touched. */
#define BINNING_COUNT_CHUNK 1024

void kite_binning_count_scalar(const float *edges, int nedges, const float *values,
                               size_t nvalues, size_t stride, double *counts)
{
    uint16_t idx[BINNING_COUNT_CHUNK];
    for (size_t k0 = 0; k0 < nvalues; k0 += BINNING_COUNT_CHUNK) {
        size_t n = nvalues - k0 < BINNING_COUNT_CHUNK ? nvalues - k0 : BINNING_COUNT_CHUNK;
        kite_binning_index_scalar(edges, nedges, values + k0 * stride, n, stride, idx);
        for (size_t k = 0; k < n; k++) counts[idx[k]] += 1;
    }
}
