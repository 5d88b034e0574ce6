/* Chooses the binning kernel once. Built with baseline flags: it only calls the AVX2 variant
 * after the one CPU probe (kernels/base/cpu.c, which the traversal dispatch reads too) says the
 * CPU and the OS support AVX2. KITE_ISA=scalar makes it scalar, as it does the traversal. */
#include <pthread.h>
#include <string.h>

#include <kite/binning.h>
#include <kite/cpu.h>

static kite_binning_fn binning_active = kite_binning_index_scalar;
static kite_binning_count_fn binning_count_active = kite_binning_count_scalar;
static const char *binning_name = "scalar";
static pthread_once_t binning_once = PTHREAD_ONCE_INIT;

static void binning_choose(void)
{
#if defined(KITE_HAVE_BINNING_AVX2)
    const char *forced = kite_cpu_forced_isa();
    if (forced && !strcmp(forced, "scalar")) return;
    if (kite_cpu_get()->kcpu_avx2) {
        binning_active = kite_binning_index_avx2;
        binning_count_active = kite_binning_count_avx2;
        binning_name = "avx2";
    }
#endif
}

void kite_binning_index(const float *edges, int nedges, const float *values, size_t nvalues,
                        size_t stride, uint16_t *out)
{
    pthread_once(&binning_once, binning_choose);
    binning_active(edges, nedges, values, nvalues, stride, out);
}

void kite_binning_count(const float *edges, int nedges, const float *values, size_t nvalues,
                        size_t stride, double *counts)
{
    pthread_once(&binning_once, binning_choose);
    binning_count_active(edges, nedges, values, nvalues, stride, counts);
}

const char *kite_binning_active(void)
{
    pthread_once(&binning_once, binning_choose);
    return binning_name;
}
