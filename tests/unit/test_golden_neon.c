/* The golden models on every kernel of a build without loaders (the NEON build under
 * qemu-aarch64, tests/e2e/neon_qemu.sh): reads golden_dump.h images written by the x86 build's
 * golden_dump (tests/support/golden_dump.c), rebuilds each kite_model, and requires every
 * available kernel's margins to equal XGBoost's bit for bit.
 *   test_golden_neon FILE.kgd...        prints "kernel K: N golden models equal" per kernel */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "golden_dump.h"
#include "kite_test.h"

typedef struct image {
    kite_model m;
    float *rows, *margin, *pred; /* pred: XGBoost's predictions, pcols per row */
    uint64_t nrows, ncols;
    size_t pcols;
} image;

/* ulp distance of two floats of the same sign class (monotone integer line). */
static int64_t ulps(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    int64_t x = ia < 0 ? -(int64_t)(ia & 0x7fffffff) : ia, y = ib < 0 ? -(int64_t)(ib & 0x7fffffff) : ib;
    return x > y ? x - y : y - x;
}

/* Reads count items into a fresh allocation; NULL on a short file. */
static void *read_array(FILE *fp, size_t size, size_t count)
{
    void *p = malloc(size * (count ? count : 1));
    if (p && fread(p, size, count, fp) != count) {
        free(p);
        p = NULL;
    }
    return p;
}

static int read_image(const char *path, image *img)
{
    memset(img, 0, sizeof *img);
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    char magic[8];
    int32_t head[8];
    int ok = fread(magic, 1, 8, fp) == 8 && !memcmp(magic, KITE_GOLDEN_DUMP_MAGIC, 8) &&
             fread(head, sizeof head[0], 8, fp) == 8 &&
             head[1] > 0 && head[2] > 0 &&
             (img->m.km_base_margins = read_array(fp, sizeof(float), (size_t)head[1])) != NULL;
    kite_model *m = &img->m;
    if (ok) {
        m->km_num_feature = head[0], m->km_num_group = head[1], m->km_num_trees = head[2];
        m->km_transform = (kite_transform)head[3];
        m->km_version[0] = head[4], m->km_version[1] = head[5], m->km_version[2] = head[6];
        m->km_trees = calloc((size_t)m->km_num_trees, sizeof *m->km_trees);
        ok = m->km_trees != NULL;
    }
    for (int32_t t = 0; ok && t < m->km_num_trees; t++) {
        kite_tree *tr = &m->km_trees[t];
        int32_t n = 0;
        ok = fread(&n, sizeof n, 1, fp) == 1 && n > 0;
        if (!ok) break;
        tr->kt_num_nodes = n;
        ok = (tr->kt_left = read_array(fp, 4, (size_t)n)) && (tr->kt_right = read_array(fp, 4, (size_t)n)) &&
             (tr->kt_feature = read_array(fp, 4, (size_t)n)) && (tr->kt_value = read_array(fp, 4, (size_t)n)) &&
             (tr->kt_default_left = read_array(fp, 1, (size_t)n)) && (tr->kt_is_cat = read_array(fp, 1, (size_t)n)) &&
             (tr->kt_cat_begin = read_array(fp, 4, (size_t)n)) && (tr->kt_cat_count = read_array(fp, 4, (size_t)n)) &&
             fread(&tr->kt_num_cats, 4, 1, fp) == 1 && (tr->kt_cats = read_array(fp, 4, tr->kt_num_cats));
    }
    ok = ok && (m->km_tree_group = read_array(fp, 4, (size_t)m->km_num_trees));
    if (ok && head[7]) ok = (m->km_tree_weight = read_array(fp, 4, (size_t)m->km_num_trees)) != NULL;
    uint64_t dims[2];
    ok = ok && fread(dims, sizeof dims[0], 2, fp) == 2 && dims[1] == (uint64_t)m->km_num_feature &&
         dims[0] < (1u << 24);
    if (ok) {
        img->nrows = dims[0], img->ncols = dims[1];
        ok = (img->rows = read_array(fp, 4, img->nrows * img->ncols)) &&
             (img->margin = read_array(fp, 4, img->nrows * (size_t)m->km_num_group));
        uint64_t pcols = 0;
        ok = ok && fread(&pcols, sizeof pcols, 1, fp) == 1 && pcols >= 1 &&
             pcols <= (uint64_t)m->km_num_group;
        if (ok) {
            img->pcols = (size_t)pcols;
            ok = (img->pred = read_array(fp, 4, img->nrows * img->pcols)) != NULL;
        }
    }
    fclose(fp);
    return ok;
}

int main(int argc, char **argv)
{
    int per_kernel[KITE_ISA__COUNT] = {0};
    int models = 0;
    for (int a = 1; a < argc; a++) {
        image img;
        char err[512];
        CHECK_MSG(read_image(argv[a], &img), "%s: not a complete golden image", argv[a]);
        kite_forest f;
        if (kite_model_validate(&img.m, err, sizeof err) != KITE_ERR_OK ||
            kite_forest_build(&img.m, &f, err, sizeof err) != KITE_ERR_OK) {
            CHECK_MSG(0, "%s: %s", argv[a], err);
            kite_model_free(&img.m);
            continue;
        }
        size_t n = img.nrows * (size_t)img.m.km_num_group;
        float *got = malloc((n ? n : 1) * sizeof(float));
        for (int isa = 0; isa < KITE_ISA__COUNT; isa++) {
            kite_margins_fn fn = kite_isa_kernel((kite_isa)isa);
            if (!fn) continue;
            memset(got, 0xff, n * sizeof(float));
            fn(&f, img.rows, img.nrows, img.ncols, got);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &img.margin[i], sizeof(float)) != 0;
            CHECK_MSG(bad == 0, "%s, kernel %s: %zu of %zu margins differ from XGBoost's", argv[a],
                      kite_isa_name((kite_isa)isa), bad, n);
            /* Predictions: the transform on this kernel's margins (aarch64's libm under qemu).
             * 0 ulp for the 3.x sets; the 1.7.4 set allows 1, as golden_cli does there (libm may
             * differ from the one that XGBoost build used). */
            int64_t tol = strstr(argv[a], "/tests_golden_") ? 1 : 0, worst = 0;
            kite_forest_transform(&f, got, img.nrows);
            size_t g = (size_t)img.m.km_num_group, pbad = 0;
            for (size_t r = 0; r < img.nrows; r++)
                for (size_t k = 0; k < img.pcols; k++) {
                    int64_t u = ulps(got[r * g + k], img.pred[r * img.pcols + k]);
                    if (u > worst) worst = u;
                    pbad += u > tol;
                }
            CHECK_MSG(pbad == 0, "%s, kernel %s: %zu predictions differ from XGBoost's (worst %lld ulp)",
                      argv[a], kite_isa_name((kite_isa)isa), pbad, (long long)worst);
            per_kernel[isa] += bad == 0 && pbad == 0;
        }
        models++;
        free(got);
        free(img.rows);
        free(img.margin);
        free(img.pred);
        kite_forest_free(&f);
        kite_model_free(&img.m);
    }
    CHECK_MSG(models > 0, "no golden images given");
    for (int isa = 0; isa < KITE_ISA__COUNT; isa++)
        if (kite_isa_kernel((kite_isa)isa))
            printf("kernel %s: %d of %d golden models equal XGBoost (margins and predictions)\n",
                   kite_isa_name((kite_isa)isa),
                   per_kernel[isa], models);
    return kt_finish("test_golden_neon");
}
