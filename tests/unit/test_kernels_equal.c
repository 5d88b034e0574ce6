/* The all-kernels equality test: random forests (depth 1..12, 1..6 groups, dart weights,
 * categorical splits, perfect and node-walking trees) and random rows (NaN, +-inf, values equal
 * to thresholds, odd strides and batch sizes) scored by every kernel this build and CPU can
 * run; margins must equal the scalar kernel's bit for bit. Then forests shaped for the byte
 * kernel's limits: features with 1, 255 and 256 distinct split values (and 300, 3000: 16-bit codes), -0.0 thresholds,
 * depth 6..9, 16 and 17 groups, NaN-heavy rows, batch sizes 1..4097 around every block edge.
 * Then lossguide-shaped forests: deep (12..20 levels), unbalanced trees, most too deep to pad,
 * so the vector kernels' deep-tree walk (refill lanes) scores them, with NaN-heavy rows and
 * batch sizes 1..4097 that are not multiples of 16. Then forests with -inf and +inf thresholds,
 * on both sides of the float kernels' rule for their -inf/+inf NaN copies (perfect.h). Uses
 * kernels/ only, so the NEON cross build (tests/neon_qemu.sh) compiles and runs this same file under qemu-aarch64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "kite_test.h"
#include "random_forest.h"

static int kernels_run[KITE_ISA__COUNT];
static int byte_cases; /* cases where the byte kernel scored rows with byte codes */
static int lane_cases; /* ... and where its small-batch lanes path scored rows */
static int wide_cases; /* ... and where it scored rows with 16-bit codes */
static int deep_trees; /* KITE_PTREE_NODES trees (too deep to pad) in the forests compared */
static int inf_cases[2]; /* NaN-bearing cases with kp_inf_ok 0 and 1 (float kernels' NaN copies) */

static void check_case(int c, const rf_options *o, size_t nrows, size_t stride, int nan_percent)
{
    kite_model m;
    kite_forest f;
    char err[256];
    rf_model(&m, o, 1000 + (uint64_t)c);
    CHECK_MSG(kite_model_validate(&m, err, sizeof err) == KITE_ERR_OK, "case %d: %s", c, err);
    if (kite_forest_build(&m, &f, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "case %d: %s", c, err);
        kite_model_free(&m);
        return;
    }
    for (int32_t ti = 0; ti < f.kf_num_trees; ti++)
        deep_trees += f.kf_perfect && f.kf_perfect->kp_trees[ti].kpt_kind == KITE_PTREE_NODES;
    if (f.kf_perfect && nan_percent > 0) inf_cases[f.kf_perfect->kp_inf_ok]++;
    float *x = o->ro_splits ? rf_rows_splits(nrows, stride, o, nan_percent, 77 + (uint64_t)c)
                            : rf_rows(nrows, stride, o->ro_num_feature, nan_percent, 77 + (uint64_t)c);
    size_t n = nrows * (size_t)o->ro_num_group;
    float *want = malloc((n + 1) * sizeof(float));
    float *got = malloc((n + 1) * sizeof(float));
    kite_margins_scalar(&f, x, nrows, stride, want);
    for (int isa = 1; isa < KITE_ISA__COUNT; isa++) {
        kite_margins_fn fn = kite_isa_kernel((kite_isa)isa);
        if (!fn) continue;
        kernels_run[isa]++;
        memset(got, 0xff, (n + 1) * sizeof(float));
        size_t byte_rows = kite__bytebin_rows, lane_rows = kite__bytebin_lane_rows;
        fn(&f, x, nrows, stride, got);
        byte_cases += kite__bytebin_rows != byte_rows;
        wide_cases += kite__bytebin_rows != byte_rows && f.kf_bytebin->kb_code_bytes == 2;
        lane_cases += kite__bytebin_lane_rows != lane_rows;
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], sizeof(float)) && !bad++) first = i;
        CHECK_MSG(bad == 0,
                  "case %d (trees %d depth %d groups %d rows %zu): kernel %s: %zu of %zu margins "
                  "differ, first at %zu: %.9g vs scalar %.9g",
                  c, o->ro_num_trees, o->ro_max_depth, o->ro_num_group, nrows,
                  kite_isa_name((kite_isa)isa), bad, n, first, (double)got[first],
                  (double)want[first]);
        CHECK_MSG(memcmp(&got[n], &(uint32_t){0xffffffffu}, sizeof(float)) == 0,
                  "kernel %s wrote past the last margin", kite_isa_name((kite_isa)isa));
    }
    free(got);
    free(want);
    free(x);
    kite_forest_free(&f);
    kite_model_free(&m);
}

int main(int argc, char **argv)
{
    int cases = argc > 1 ? atoi(argv[1]) : 120;
    rf_rng g = {42};
    for (int c = 0; c < cases; c++) {
        rf_options o = {0};
        o.ro_max_depth = 1 + c % 12;
        o.ro_num_trees = 1 + (int)rf_below(&g, o.ro_max_depth > 9 ? 12 : 60);
        o.ro_num_feature = 1 + (int)rf_below(&g, 40);
        o.ro_num_group = c % 4 == 3 ? 2 + (int)rf_below(&g, 5) : 1;
        o.ro_leaf_percent = (int)rf_below(&g, 4) * 15; /* 0: perfect trees */
        o.ro_cat_percent = c % 7 == 6 ? 10 : 0;
        o.ro_dart = c % 5 == 4;
        size_t nrows = c % 3 == 0 ? 1 + rf_below(&g, 40) : 1 + rf_below(&g, 300);
        size_t stride = (size_t)o.ro_num_feature + (c % 2 ? rf_below(&g, 5) : 0);
        int nan_percent = c % 4 == 0 ? 0 : (int)rf_below(&g, 30);
        check_case(c, &o, nrows, stride, nan_percent);
    }
    int random_byte_cases = byte_cases;
    /* Forests at the byte kernel's limits. Features: 1 split value, 255, 255 or 256, a few. */
    static const size_t batches[] = {1, 2, 17, 47, 48, 49, 63, 64, 65, 111, 112, 113,
                                     127, 128, 129, 1000, 4095, 4096, 4097};
    const size_t nbatches = sizeof batches / sizeof batches[0];
    int limit_cases = 0;
    for (int shape = 0; shape < 10 && cases >= 120; shape++) {
        /* Shapes 8, 9: 16-bit codes (300 and 3000 split values), depth 4 and 6, 1 and 3 groups. */
        int splits[4] = {1, 255, shape >= 8 ? 300 + 2700 * (shape - 8) : shape % 2 ? 256 : 255, 7};
        rf_options o = {0};
        o.ro_num_feature = 4;
        o.ro_splits = splits;
        o.ro_neg_zero = 1;
        o.ro_max_depth = shape >= 8 ? 4 + 2 * (shape - 8) : 6 + shape / 2; /* 6, 7, 8 and 9 */
        o.ro_num_trees = shape >= 8 ? 1200 : 900 >> (shape / 2);
        o.ro_num_group = shape == 2 ? 16 : shape == 3 ? 17 : shape == 9 ? 3 : 1;
        o.ro_leaf_percent = shape % 3 == 0 ? 0 : 20;
        for (size_t bi = shape % 2; bi < nbatches; bi += 2) {
            int nan_percent = (int)(bi * 7 % 90); /* 0 .. 89: NaN-heavy rows too */
            check_case(1000 + 100 * shape + (int)bi, &o, batches[bi], 4 + bi % 3, nan_percent);
            limit_cases++;
        }
    }
    /* Lossguide-shaped: a 40..48% chance of a leaf at each node below the root gives trees
     * whose paths end anywhere from level 1 to the maximum, the shape that stalls lanes
     * walking in lock step. Shape 3 adds categorical splits (those trees take the scalar
     * rules inside the vector kernels), shape 4 dart weights, shapes 1 and 5 several groups. */
    int deep_before = deep_trees;
    for (int shape = 0; shape < 6 && cases >= 120; shape++) {
        rf_options o = {0};
        o.ro_max_depth = (int[]){12, 14, 16, 17, 19, 20}[shape];
        o.ro_num_trees = 24 + 8 * shape;
        o.ro_num_feature = 5 + 7 * shape;
        o.ro_num_group = shape == 1 ? 3 : shape == 5 ? 2 : 1;
        o.ro_leaf_percent = 40 + (shape * 3) % 9;
        o.ro_cat_percent = shape == 3 ? 5 : 0;
        o.ro_dart = shape == 4;
        for (size_t bi = shape % 2; bi < nbatches; bi += 2) {
            int nan_percent = shape == 0 ? 0 : (int)((bi * 13 + (size_t)shape * 11) % 80);
            check_case(3000 + 100 * shape + (int)bi, &o, batches[bi],
                       (size_t)o.ro_num_feature + bi % 3, nan_percent);
            limit_cases++;
        }
    }
    /* Infinite thresholds: a default-left split at -inf turns the float kernels' -inf/+inf NaN
     * copies off (kp_inf_ok 0: NaN tested per level); at +inf, or default-right, they stay on. */
    int inf_before[2] = {inf_cases[0], inf_cases[1]};
    for (int shape = 0; shape < 8 && cases >= 120; shape++) {
        rf_options o = {0};
        o.ro_max_depth = 2 + shape;
        o.ro_num_trees = shape < 4 ? 1 + shape : 40;
        o.ro_num_feature = 3 + 4 * shape;
        o.ro_num_group = shape == 5 ? 3 : 1;
        o.ro_leaf_percent = shape % 2 ? 25 : 0;
        o.ro_inf_percent = shape < 4 ? 30 : 3;
        for (size_t bi = shape % 2; bi < nbatches; bi += 2) {
            check_case(5000 + 100 * shape + (int)bi, &o, batches[bi],
                       (size_t)o.ro_num_feature + bi % 2, 10 + (int)(bi * 11 % 70));
            limit_cases++;
        }
    }
    if (cases >= 120)
        CHECK_MSG(inf_cases[0] - inf_before[0] >= 5 && inf_cases[1] - inf_before[1] >= 5,
                  "infinite thresholds: %d cases without the NaN copies, %d with (want >= 5 each)",
                  inf_cases[0] - inf_before[0], inf_cases[1] - inf_before[1]);
    printf("NaN-bearing cases: %d with the float kernels' -inf/+inf copies, %d without\n",
           inf_cases[1], inf_cases[0]);
    if (cases >= 120)
        CHECK_MSG(deep_trees - deep_before >= 500, "only %d trees too deep to pad were compared",
                  deep_trees - deep_before);
    for (int isa = 1; isa < KITE_ISA__COUNT; isa++)
        if (kite_isa_available((kite_isa)isa))
            printf("kernel %s: compared on %d random forests and %d limit cases\n",
                   kite_isa_name((kite_isa)isa), kernels_run[isa] - limit_cases, limit_cases);
    if (kite_isa_available(KITE_ISA_AVX512VBMI)) {
        printf("kernel avx512vbmi: byte codes scored %d random forests and %d limit cases (%d of "
               "them 16-bit codes); the lanes path %d cases\n", random_byte_cases,
               byte_cases - random_byte_cases, wide_cases, lane_cases);
        CHECK_MSG(wide_cases >= 15, "16-bit codes ran on only %d cases", wide_cases);
        CHECK_MSG(lane_cases >= 10, "lanes path ran on only %d cases", lane_cases);
        /* The byte path must really have run, on random forests and at the limits. */
        CHECK_MSG(random_byte_cases >= 30 && byte_cases - random_byte_cases >= 20,
                  "byte kernel ran on only %d + %d cases", random_byte_cases,
                  byte_cases - random_byte_cases);
    }
    /* A build with no vector kernel for this CPU compares nothing: say so, don't pass. */
    int any = 0;
    for (int isa = 1; isa < KITE_ISA__COUNT; isa++) any |= kernels_run[isa] > 0;
    CHECK_MSG(any || getenv("KITE_EQUAL_ALLOW_SCALAR_ONLY"), "no vector kernel available to compare");
    return kt_finish("test_kernels_equal");
}
