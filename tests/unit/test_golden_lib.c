/* Golden models through the library call (no CLI): kite_model_load + kite_forest_build +
 * kite_forest_predict with margins compared to XGBoost's bit for bit, for every model in
 * golden set (tests/support/golden_case.h: 1.7.4, 3.4 and the version cases) and every kernel this
 * build and CPU can run. With AVX-512 VBMI, the byte kernel must have scored with byte codes on
 * every model its layout covers (500 rows: seven full 64-row blocks and a partial one). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "golden_case.h"
#include "kite_test.h"

static int byte_models, wide_models, lane_models, models_seen;

static void check_model(const char *dir, const cJSON *entry)
{
    char err[512];
    golden_case c;
    /* Rows or margins that did not load (or disagree on the row count) would compare nothing,
     * or read past the margins: fail and stop for this model. */
    if (golden_case_load(dir, entry, &c, err, sizeof err)) {
        CHECK_MSG(0, "%s", err);
        return;
    }
    /* The same for a forest that did not build: it has nothing to score. */
    kite_forest f;
    if (kite_forest_build(&c.gc_model, &f, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s: %s", c.gc_name, err);
        golden_case_free(&c);
        return;
    }
    const kite_matrix *x = &c.gc_rows, *want = &c.gc_margins;
    size_t n = x->kmx_rows * (size_t)c.gc_model.km_num_group;
    float *got = malloc(n * sizeof(float) + 1);
    CHECK_MSG(got != NULL, "%s: out of memory", c.gc_name);
    for (int isa = 0; got && isa < KITE_ISA__COUNT; isa++) {
        kite_margins_fn fn = kite_isa_kernel((kite_isa)isa);
        if (!fn) continue;
        memset(got, 0xff, n * sizeof(float));
        size_t byte_rows = kite__bytebin_rows;
        fn(&f, x->kmx_data, x->kmx_rows, x->kmx_cols, got);
        if (isa == KITE_ISA_AVX512VBMI) {
            const kite_bytebin *bb = f.kf_bytebin;
            int covered = bb && bb->kb_ok && x->kmx_rows >= (size_t)bb->kb_min_rows;
            /* Whole vectors (64 rows, 32 with 16-bit codes) and a last one of >= kb_min_rows. */
            size_t want_rows = 0;
            if (covered) {
                size_t vec = (size_t)bb->kb_vector_rows, tail = x->kmx_rows % vec;
                want_rows = tail >= (size_t)bb->kb_min_rows ? x->kmx_rows : x->kmx_rows - tail;
            }
            CHECK_MSG(kite__bytebin_rows - byte_rows == want_rows,
                      "%s: byte layout %s, but %zu of %zu rows took bin codes (want %zu)", c.gc_name,
                      covered ? "covers it" : "does not cover it", kite__bytebin_rows - byte_rows,
                      x->kmx_rows, want_rows);
            printf("%s: avx512vbmi %s\n", c.gc_name,
                   !covered ? (bb ? bb->kb_reason : "-")
                   : bb->kb_code_bytes == 2 ? "scored with 16-bit codes" : "scored with byte codes");
            byte_models += covered;
            wide_models += covered && bb->kb_code_bytes == 2;
        }
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &want->kmx_data[i], sizeof(float)) != 0;
        CHECK_MSG(bad == 0, "%s, kernel %s: %zu of %zu margins differ", c.gc_name,
                  kite_isa_name((kite_isa)isa), bad, n);
        /* A small batch too (the one-row paths: the float kernels' and the byte lanes path). */
        size_t few = x->kmx_rows < 5 ? x->kmx_rows : 5, nfew = few * (size_t)c.gc_model.km_num_group;
        size_t lane_rows = kite__bytebin_lane_rows;
        memset(got, 0xff, nfew * sizeof(float));
        fn(&f, x->kmx_data, few, x->kmx_cols, got);
        if (isa == KITE_ISA_AVX512VBMI) lane_models += kite__bytebin_lane_rows - lane_rows == few;
        bad = 0;
        for (size_t i = 0; i < nfew; i++) bad += memcmp(&got[i], &want->kmx_data[i], sizeof(float)) != 0;
        CHECK_MSG(bad == 0, "%s, kernel %s, batch %zu: %zu of %zu margins differ", c.gc_name,
                  kite_isa_name((kite_isa)isa), few, bad, nfew);
    }
    free(got);
    models_seen++;
    kite_forest_free(&f);
    golden_case_free(&c);
}

int main(void)
{
    for (size_t d = 0; d < GOLDEN_NUM_DIRS; d++) {
        cJSON *root = golden_manifest(GOLDEN_DIRS[d]);
        CHECK(root != NULL);
        if (!root) continue;
        const cJSON *models = cJSON_GetObjectItem(root, "models");
        CHECK(cJSON_GetArraySize(models) >= 3);
        for (const cJSON *e = models ? models->child : NULL; e; e = e->next) check_model(GOLDEN_DIRS[d], e);
        cJSON_Delete(root);
    }
    if (kite_isa_available(KITE_ISA_AVX512VBMI)) {
        printf("avx512vbmi: %d of %d golden models scored with bin codes (%d of them 16-bit), %d by "
               "the lanes path at batch 5\n", byte_models, models_seen, wide_models, lane_models);
        CHECK_MSG(wide_models >= 1, "16-bit codes on no golden model (reg_exact_wide_bins)");
        CHECK_MSG(lane_models >= models_seen / 4, "lanes path on only %d of %d golden models",
                  lane_models, models_seen);
        CHECK_MSG(byte_models >= models_seen / 2, "byte codes on only %d of %d golden models",
                  byte_models, models_seen);
    }
    return kt_finish("test_golden_lib");
}
