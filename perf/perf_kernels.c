/* The perf check's workload: fixed random forests and rows (tests/support/random_forest.h, fixed
 * seeds), scored once by one kernel. perf/perf_check.sh runs it under callgrind, counting only
 * the instructions inside kite_margins_<isa>, which makes the count independent of timing
 * noise and of the setup code around it.
 *   perf_kernels ISA MODEL      ISA: scalar | avx2 ...   MODEL: d6_t100 | d8_t50 | deep_t20 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "random_forest.h"

#define PERF_ROWS 512
#define PERF_FEATURES 32

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: perf_kernels ISA MODEL\n");
        return 2;
    }
    rf_options o = {.ro_num_feature = PERF_FEATURES, .ro_num_group = 1};
    if (!strcmp(argv[2], "d6_t100")) {
        o.ro_num_trees = 100, o.ro_max_depth = 6, o.ro_leaf_percent = 10;
    } else if (!strcmp(argv[2], "d8_t50")) {
        o.ro_num_trees = 50, o.ro_max_depth = 8, o.ro_leaf_percent = 15;
    } else if (!strcmp(argv[2], "deep_t20")) {
        o.ro_num_trees = 20, o.ro_max_depth = 14, o.ro_leaf_percent = 30;
    } else {
        fprintf(stderr, "perf_kernels: unknown model '%s'\n", argv[2]);
        return 2;
    }
    kite_margins_fn fn = NULL;
    for (int i = 0; i < KITE_ISA__COUNT; i++)
        if (!strcmp(argv[1], kite_isa_name((kite_isa)i))) fn = kite_isa_kernel((kite_isa)i);
    if (!fn) {
        fprintf(stderr, "perf_kernels: kernel '%s' not available here\n", argv[1]);
        return 1;
    }
    kite_model m;
    kite_forest f;
    char err[256];
    rf_model(&m, &o, 2024);
    if (kite_forest_build(&m, &f, err, sizeof err) != KITE_ERR_OK) {
        fprintf(stderr, "perf_kernels: %s\n", err);
        return 1;
    }
    float *x = rf_rows(PERF_ROWS, PERF_FEATURES, PERF_FEATURES, 5, 99);
    float out[PERF_ROWS];
    fn(&f, x, PERF_ROWS, PERF_FEATURES, out);
    double sum = 0;
    for (int i = 0; i < PERF_ROWS; i++) sum += out[i];
    printf("%s %s checksum %.9g\n", argv[1], argv[2], sum);
    free(x);
    kite_forest_free(&f);
    kite_model_free(&m);
    return 0;
}
