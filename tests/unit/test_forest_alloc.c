/* kite_forest_predict allocates nothing per call (its promise in kernels/traverse/include/kite/dispatch.h): counts
 * every malloc/calloc/realloc/aligned_alloc (tests/support/alloc_count.h interposes them) around
 * repeated calls on loaded golden models, after one warm-up call, at batch sizes 1, 7, 16 and
 * 4096, with and without the objective transform, for every kernel this build and CPU can run.
 *
 * The kernel is chosen once per process, so `test_forest_alloc` (no argument) runs itself
 * once per available ISA as `KITE_ISA=<isa> test_forest_alloc <isa>`; each child first proves
 * the forced kernel is the one kite_forest_predict calls. Not under ASan (it owns malloc):
 * label no_asan. */
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "alloc_count.h"
#include <kite/csv.h>
#include <kite/dispatch.h>
#include "kite_test.h"
#include <kite/xgb_model.h>

extern char **environ;

/* Models chosen to reach every path of the kernels and transforms (file, why). */
static const char *const models[][2] = {
    {"binary_logistic_d6.json", "the common case: depth 6, NaN, sigmoid"},
    {"multi_softprob4.json", "4 groups: per-group margins, softprob"},
    {"multi_softmax3.ubj", "3 groups: argmax output"},
    {"categorical.json", "categorical splits: the scalar rules inside vector kernels"},
    {"reg_lossguide_255.json", "deep trees: padded 8-level head, then scalar walks"},
    {"reg_squarederror_d12.ubj", "depth 12: past the perfect-tree limit"},
    {"dart_binary.json", "dart tree weights"},
    {"single_leaf.json", "trees of depth 0"},
};

enum { MAX_BATCH = 4096, BUF_ROWS = 2 * MAX_BATCH };
static const size_t batches[] = {1, 7, 16, MAX_BATCH};

/* Every call of one (model, batch, margin_only) case after the warm-up: rows move through the
 * buffer at an odd step so vector blocks start at different rows; 16384 rows and 8 to 512
 * calls, so a per-call, per-block or per-row allocation would show many times over while the
 * deep models stay fast on the scalar kernel. */
static void check_batch(const char *name, const kite_forest *f, const float *rows, size_t cols,
                        const float *ref, float *out, size_t batch, int margin_only)
{
    size_t groups = (size_t)f->kf_num_group;
    size_t calls = 16384 / batch, step = batch % 2 ? batch : batch + 1;
    calls = calls < 8 ? 8 : calls > 512 ? 512 : calls;
    kite_forest_predict(f, rows, batch, cols, out, margin_only); /* warm-up, not counted */
    unsigned long before = kite_alloc_calls;
    size_t wrong = 0;
    for (size_t c = 0; c < calls; c++) {
        size_t r = c * step % (BUF_ROWS - batch + 1); /* first row of this call */
        kite_forest_predict(f, rows + r * cols, batch, cols, out, margin_only);
        /* margins must be the scalar kernel's, so the calls counted did the work */
        if (margin_only)
            wrong += memcmp(out, ref + r * groups, batch * groups * sizeof(float)) != 0;
    }
    unsigned long allocs = kite_alloc_calls - before;
    CHECK_MSG(allocs == 0, "%s, kernel %s, batch %zu%s: %lu heap allocations in %zu calls",
              name, kite_isa_name(kite_isa_active()), batch, margin_only ? " (margins)" : "",
              allocs, calls);
    CHECK_MSG(wrong == 0, "%s, kernel %s, batch %zu: %zu of %zu calls differ from scalar", name,
              kite_isa_name(kite_isa_active()), batch, wrong, calls);
}

static void check_model(const char *file)
{
    char path[512], err[512];
    kite_model m;
    kite_forest f;
    kite_matrix x = {0};
    snprintf(path, sizeof path, "tests/golden/xgb1.7/%s", file);
    unsigned long before = kite_alloc_calls;
    if (kite_model_load(path, &m, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s", err);
        return;
    }
    /* the counter counts: loading a model allocates (else a zero below would prove nothing) */
    CHECK_MSG(kite_alloc_calls > before, "%s: loading counted no allocation", file);
    if (kite_forest_build(&m, &f, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s: %s", file, err);
        kite_model_free(&m);
        return;
    }
    /* golden rows: the model name up to its extension, plus ".rows.csv" */
    snprintf(path, sizeof path, "tests/golden/xgb1.7/%.*s.rows.csv", (int)strcspn(file, "."), file);
    kite_err e = kite_csv_load_matrix(path, NULL, m.km_feature_names, m.km_num_feature, &x, err,
                                      sizeof err);
    int loaded = e == KITE_ERR_OK && x.kmx_rows > 0;
    CHECK_MSG(loaded, "%s", e == KITE_ERR_OK ? "no rows" : err);
    size_t cols = x.kmx_cols, groups = (size_t)f.kf_num_group;
    /* the golden rows tiled to BUF_ROWS, so the 4096-row batch scores real rows */
    float *rows = loaded ? malloc(BUF_ROWS * cols * sizeof(float) + 1) : NULL;
    float *ref = malloc(BUF_ROWS * groups * sizeof(float));
    float *out = malloc(MAX_BATCH * groups * sizeof(float));
    if (rows && ref && out) {
        for (size_t r = 0; r < BUF_ROWS; r++)
            memcpy(rows + r * cols, x.kmx_data + (r % x.kmx_rows) * cols, cols * sizeof(float));
        kite_margins_scalar(&f, rows, BUF_ROWS, cols, ref);
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
            for (int margin_only = 0; margin_only < 2; margin_only++)
                check_batch(file, &f, rows, cols, ref, out, batches[b], margin_only);
    } else {
        CHECK_MSG(!loaded, "%s: out of memory", file);
    }
    free(rows);
    free(ref);
    free(out);
    kite_matrix_free(&x);
    kite_forest_free(&f);
    kite_model_free(&m);
}

/* Child: KITE_ISA=<isa> test_forest_alloc <isa>. */
static int run_forced(const char *want)
{
    const char *env = getenv("KITE_ISA");
    CHECK_MSG(env && !strcmp(env, want), "run me as KITE_ISA=%s test_forest_alloc %s", want, want);
    kite_isa active = kite_isa_active();
    CHECK_MSG(!strcmp(kite_isa_name(active), want), "forced %s, active %s", want,
              kite_isa_name(active));
    CHECK(kite_isa_active_kernel() == kite_isa_kernel(active));
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) check_model(models[i][0]);
    char name[64];
    snprintf(name, sizeof name, "test_forest_alloc %s", want);
    return kt_finish(name);
}

int main(int argc, char **argv)
{
    if (argc > 1) return run_forced(argv[1]);
    int ran = 0;
    for (int i = 0; i < KITE_ISA__COUNT; i++) {
        if (!kite_isa_available((kite_isa)i)) {
            printf("kernel %s: not available here\n", kite_isa_name((kite_isa)i));
            continue;
        }
        /* KITE_ISA is read once per process, at its first dispatch: one process per ISA.
         * This process never dispatches, so setting it here changes nothing for itself. */
        const char *isa = kite_isa_name((kite_isa)i);
        char *child_argv[] = {argv[0], (char *)isa, NULL};
        pid_t pid;
        int status = 0;
        setenv("KITE_ISA", isa, 1);
        fflush(stdout); /* this process's lines before the child's */
        int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, child_argv, environ);
        CHECK_MSG(rc == 0, "spawning the %s child: %s", isa, strerror(rc));
        if (rc) continue;
        CHECK_MSG(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "kernel %s: child failed (status %d)", isa, status);
        ran++;
    }
    unsetenv("KITE_ISA");
    /* scalar is always available: at least one kernel ran */
    CHECK_MSG(ran >= 1, "no kernel was checked");
    return kt_finish("test_forest_alloc");
}
