/* The byte-binned layout (kernels/forest/include/kite/bytebin.h): the bin equivalence it rests on, and each of its
 * applicability rules from both sides; where the CPU has AVX-512 VBMI, which path the kernel
 * takes at each batch-size limit (kite__bytebin_rows counts the rows scored with byte codes)
 * and that every path's margins equal the scalar kernel's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "kite_test.h"
#include "random_forest.h"

/* For every split (feature f, threshold t) and value x: x < t exactly when bin(x) < bin(t)
 * (t is its own feature's threshold number bin(t) - 1, bytebin.h). */
static void check_bins(const kite_forest *f)
{
    const kite_bytebin *b = f->kf_bytebin;
    rf_rng g = {7};
    size_t checked = 0, bad = 0;
    for (size_t i = 0; i < f->kf_num_nodes; i++) {
        const kite_node *n = &f->kf_nodes[i];
        if (n->kn_feature == KITE_NODE_LEAF || i % 3) continue;
        float t = n->kn_value;
        float xs[] = {t, nextafterf(t, -INFINITY), nextafterf(t, INFINITY), 0.0f, -0.0f, INFINITY,
                      -INFINITY, rf_split_value(300, rf_below(&g, 300)), -t, t * 0.5f};
        unsigned bt = kite_bytebin_bin(b, n->kn_feature, t);
        for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++, checked++)
            bad += (xs[k] < t) != (kite_bytebin_bin(b, n->kn_feature, xs[k]) < bt);
        bad += kite_bytebin_bin(b, n->kn_feature, NAN) != 0; /* NaN: the always-left code */
    }
    CHECK_MSG(bad == 0 && checked > 1000, "bins: %zu of %zu disagree with x < t", bad, checked);
}

typedef struct shape {
    const char *sh_name;
    int sh_features, sh_splits_last, sh_depth, sh_groups, sh_cat, sh_nan_threshold;
    int sh_ok;                 /* expected kb_ok */
    int sh_code_bytes;         /* expected kb_code_bytes when ok: 1 byte, 2 16-bit codes */
    int sh_lanes;              /* expected small-batch lanes layout */
    const char *sh_reason;     /* expected in kb_reason when not ok */
    int sh_trees;              /* 0: 1200 >> (depth - 5) */
} shape;

static void build(const shape *s, kite_model *m, kite_forest *f, rf_options *o, int *splits)
{
    for (int i = 0; i < s->sh_features; i++) splits[i] = i + 1 == s->sh_features ? s->sh_splits_last : 1 + i % 9;
    *o = (rf_options){.ro_num_feature = s->sh_features, .ro_num_group = s->sh_groups,
                      .ro_max_depth = s->sh_depth, .ro_num_trees = s->sh_trees ? s->sh_trees : 1200 >> (s->sh_depth - 5),
                      .ro_leaf_percent = 10, .ro_cat_percent = s->sh_cat ? 5 : 0,
                      .ro_splits = splits, .ro_neg_zero = 1};
    rf_model(m, o, 99 + (uint64_t)s->sh_depth);
    if (s->sh_nan_threshold) m->km_trees[0].kt_value[0] = NAN;
    char err[256];
    CHECK_MSG(kite_forest_build(m, f, err, sizeof err) == KITE_ERR_OK, "%s: %s", s->sh_name, err);
}

/* Scores nrows rows with the byte kernel; checks the margins and how many rows took byte
 * codes (want_byte_rows). */
static void check_batch(const kite_forest *f, const rf_options *o, size_t nrows, size_t want_byte_rows,
                        size_t want_lane_rows, const char *name)
{
    kite_margins_fn fn = kite_isa_kernel(KITE_ISA_AVX512VBMI);
    float *x = rf_rows_splits(nrows, (size_t)o->ro_num_feature, o, 20, nrows);
    size_t n = nrows * (size_t)o->ro_num_group;
    float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    kite_margins_scalar(f, x, nrows, (size_t)o->ro_num_feature, want);
    size_t before = kite__bytebin_rows, lanes_before = kite__bytebin_lane_rows;
    fn(f, x, nrows, (size_t)o->ro_num_feature, got);
    CHECK_MSG(kite__bytebin_rows - before == want_byte_rows, "%s, %zu rows: %zu rows took byte codes, want %zu",
              name, nrows, kite__bytebin_rows - before, want_byte_rows);
    CHECK_MSG(kite__bytebin_lane_rows - lanes_before == want_lane_rows,
              "%s, %zu rows: %zu rows took the lanes path, want %zu", name, nrows,
              kite__bytebin_lane_rows - lanes_before, want_lane_rows);
    CHECK_MSG(memcmp(got, want, n * sizeof(float)) == 0, "%s, %zu rows: margins differ from scalar",
              name, nrows);
    free(x);
    free(want);
    free(got);
}

int main(void)
{
    static const shape shapes[] = {
        {"255 split values", 4, 255, 6, 1, 0, 0, 1, 1, 1, NULL, 0},
        {"256 split values", 4, 256, 6, 1, 0, 0, 1, 2, 0, NULL, 0},
        {"1 split value everywhere", 3, 1, 6, 1, 0, 0, 1, 1, 1, NULL, 0},
        {"depth 7", 4, 200, 7, 1, 0, 0, 1, 1, 0, NULL, 0},
        {"depth 8", 4, 255, 8, 1, 0, 0, 1, 1, 0, NULL, 0},
        {"depth 9", 4, 40, 9, 1, 0, 0, 0, 0, 0, "deeper than 8 levels", 0},
        {"256 split values, depth 5", 4, 256, 5, 1, 0, 0, 1, 2, 0, NULL, 0},
        {"256 split values, depth 7", 4, 256, 7, 1, 0, 0, 0, 0, 0, "deeper than their 6", 0},
        {"256 split values, 3 groups", 6, 300, 6, 3, 0, 0, 1, 2, 0, NULL, 0},
        {"5000 split values", 4, 5000, 6, 1, 0, 0, 1, 2, 0, NULL, 0},
        /* One feature, 1700 trees of about 45 splits: every one of its 65535 / 65536 values used. */
        {"65535 split values", 1, 65535, 6, 1, 0, 0, 1, 2, 0, NULL, 1700},
        {"65536 split values", 1, 65536, 6, 1, 0, 0, 0, 0, 0, "65536 distinct split values", 1700},
        {"16 groups", 4, 100, 6, 16, 0, 0, 1, 1, 1, NULL, 0},
        {"17 groups", 4, 100, 6, 17, 0, 0, 0, 0, 0, "too many output groups", 0},
        {"64 features", 64, 30, 6, 1, 0, 0, 1, 1, 1, NULL, 0},
        {"65 features", 65, 30, 6, 1, 0, 0, 1, 1, 0, NULL, 0},
        {"128 features", 128, 30, 6, 1, 0, 0, 1, 1, 0, NULL, 0},
        {"129 features", 129, 30, 6, 1, 0, 0, 0, 0, 0, "more features", 0},
        {"categorical", 4, 30, 6, 1, 1, 0, 0, 0, 0, "categorical", 0},
        {"NaN threshold", 4, 30, 6, 1, 0, 1, 0, 0, 0, "NaN", 0},
    };
    const int have_vbmi = kite_isa_available(KITE_ISA_AVX512VBMI);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        kite_model m;
        kite_forest f;
        rf_options o;
        int splits[256];
        if (s->sh_features > 256) continue;
        build(s, &m, &f, &o, splits);
        const kite_bytebin *b = f.kf_bytebin;
        CHECK_MSG(b != NULL, "%s: no byte layout", s->sh_name);
        if (!b) continue;
        CHECK_MSG(b->kb_ok == s->sh_ok, "%s: kb_ok %d, want %d (%s)", s->sh_name, b->kb_ok, s->sh_ok,
                  b->kb_reason);
        CHECK_MSG((b->kb_lanes != NULL) == s->sh_lanes, "%s: lanes layout %s, want %s", s->sh_name,
                  b->kb_lanes ? "built" : "absent", s->sh_lanes ? "built" : "absent");
        if (s->sh_reason)
            CHECK_MSG(strstr(b->kb_reason, s->sh_reason) != NULL, "%s: reason '%s' lacks '%s'",
                      s->sh_name, b->kb_reason, s->sh_reason);
        if (b->kb_ok) {
            check_bins(&f);
            CHECK_MSG(b->kb_code_bytes == s->sh_code_bytes, "%s: %d-byte codes, want %d", s->sh_name,
                      b->kb_code_bytes, s->sh_code_bytes);
            const size_t min = b->kb_code_bytes == 2 ? KITE_BYTEBIN_WIDE_MIN_ROWS : KITE_BYTEBIN_MIN_ROWS;
            CHECK((size_t)b->kb_min_rows == min && b->kb_vector_rows == 64 / b->kb_code_bytes);
            CHECK(!kite_bytebin_applies(&f, min - 1));
            CHECK(kite_bytebin_applies(&f, min));
            printf("%s: %d-byte codes, %d search steps, %d max split values, %zu KiB of records\n",
                   s->sh_name, b->kb_code_bytes, b->kb_steps, b->kb_max_splits,
                   b->kb_arena_size / 1024);
        } else {
            CHECK(!kite_bytebin_applies(&f, 4096));
            printf("%s: float kernels (%s)\n", s->sh_name, b->kb_reason);
        }
        if (have_vbmi) {
            /* Batch limits: below kb_min_rows (48 of 64 rows with byte codes, 24 of 32 with
             * 16-bit codes) no coded vectors (and no last partial vector under it); of those,
             * up to 7 rows the lanes path where it is built, else the float kernel. */
            const size_t min = b->kb_ok ? (size_t)b->kb_min_rows : KITE_BYTEBIN_MIN_ROWS;
            const size_t vec = b->kb_ok ? (size_t)b->kb_vector_rows : 64;
            const size_t few = KITE_BYTEBIN_LANE_MAX_ROWS;
            const size_t sizes[] = {1, few, few + 1, min - 1, min, vec, vec + few, vec + few + 1,
                                    vec + min - 1, vec + min, 2 * vec + 1, 4096, 4097};
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                size_t nrows = sizes[k], byte = 0;
                if (b->kb_ok && nrows >= min) byte = nrows % vec >= min ? nrows : nrows - nrows % vec;
                size_t rest = nrows - byte, lane = b->kb_lanes && rest <= few ? rest : 0;
                check_batch(&f, &o, nrows, byte, lane, s->sh_name);
            }
        }
        kite_forest_free(&f);
        kite_model_free(&m);
    }
    if (!have_vbmi) printf("avx512vbmi not available here: layout rules checked, kernel not run\n");
    return kt_finish("test_bytebin");
}
