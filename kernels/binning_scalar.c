/* Scalar binning kernel: the reference every other variant must match bit for bit. */
#include "binning.h"

void kite_binning_index_scalar(const float *edges, int nedges, const float *values,
                               size_t nvalues, size_t stride, uint16_t *out)
{
    for (size_t k = 0; k < nvalues; k++)
        out[k] = (uint16_t)kite_bin_of(edges, nedges, values[k * stride]);
}
