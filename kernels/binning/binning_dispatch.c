/* Chooses the binning kernel once. Built with baseline flags: it only calls the AVX2 variant
 * after the CPU (and, through libgcc's check of XCR0, the OS) says AVX2 works. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>

static kite_binning_fn binning_active = kite_binning_index_scalar;
static kite_binning_count_fn binning_count_active = kite_binning_count_scalar;
static const char *binning_name = "scalar";
static pthread_once_t binning_once = PTHREAD_ONCE_INIT;

static void binning_choose(void)
{
#if defined(KITE_HAVE_BINNING_AVX2)
    const char *forced = getenv("KITE_ISA");
    if (forced && !strcmp(forced, "scalar")) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
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
