/* KITE_ISA forcing: run as `KITE_ISA=<isa> test_isa_force <isa>` (tests.cmake registers one per
 * ISA). When the ISA is available here, kite_isa_active() must be it and the kernel that
 * kite_forest_predict calls must be that ISA's function; when it is not, the best available
 * kernel must be chosen instead (never an ISA the CPU cannot run). */
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "kite_test.h"
#include "random_forest.h"

int main(int argc, char **argv)
{
    const char *want = argc > 1 ? argv[1] : "";
    const char *env = getenv("KITE_ISA");
    CHECK_MSG(env && !strcmp(env, want), "run me as KITE_ISA=%s test_isa_force %s", want, want);
    int forced = -1;
    for (int i = 0; i < KITE_ISA__COUNT; i++)
        if (!strcmp(kite_isa_name((kite_isa)i), want)) forced = i;
    CHECK_MSG(forced >= 0, "unknown ISA '%s'", want);
    kite_isa active = kite_isa_active();
    CHECK(kite_isa_available(active));
    CHECK(kite_isa_active_kernel() == kite_isa_kernel(active));
    if (forced >= 0 && kite_isa_available((kite_isa)forced)) {
        CHECK_MSG(active == (kite_isa)forced, "forced %s, active %s", want, kite_isa_name(active));
        printf("KITE_ISA=%s: kernel %s runs\n", want, kite_isa_name(active));
    } else {
        for (int i = KITE_ISA__COUNT - 1; i > (int)active; i--)
            CHECK_MSG(!kite_isa_available((kite_isa)i), "fell back to %s though %s is available",
                      kite_isa_name(active), kite_isa_name((kite_isa)i));
        printf("KITE_ISA=%s: not available here, fell back to %s\n", want, kite_isa_name(active));
    }
    /* The predict call goes through the active kernel and matches the scalar oracle. */
    rf_options o = {.ro_num_trees = 20, .ro_num_feature = 8, .ro_num_group = 1, .ro_max_depth = 6};
    kite_model m;
    kite_forest f;
    char err[256];
    rf_model(&m, &o, 5);
    CHECK_MSG(kite_forest_build(&m, &f, err, sizeof err) == KITE_ERR_OK, "%s", err);
    float *x = rf_rows(50, 8, 8, 10, 6);
    float got[50], ref[50];
    size_t byte_rows = kite__bytebin_rows;
    kite_forest_predict(&f, x, 50, 8, got, 1);
    kite_margins_scalar(&f, x, 50, 8, ref);
    CHECK(memcmp(got, ref, sizeof got) == 0);
    /* The byte kernel really scored (50 rows >= KITE_BYTEBIN_MIN_ROWS, a byte-eligible forest). */
    if (active == KITE_ISA_AVX512VBMI)
        CHECK_MSG(kite__bytebin_rows - byte_rows == 50, "avx512vbmi active but %zu rows took byte codes",
                  kite__bytebin_rows - byte_rows);
    free(x);
    kite_forest_free(&f);
    kite_model_free(&m);
    return kt_finish("test_isa_force");
}
