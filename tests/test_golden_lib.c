/* Golden models through the library call (no CLI): kite_model_load + kite_forest_build +
 * kite_forest_predict with margins compared to XGBoost's bit for bit, for every model in
 * tests/golden/manifest.json and every kernel this build and CPU can run. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dispatch.h"
#include "kite_test.h"
#include "xgb_model.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = 0;
    fclose(fp);
    return buf;
}

static void check_model(const cJSON *entry)
{
    char path[512], err[512];
    const char *name = cJSON_GetObjectItem(entry, "name")->valuestring;
    snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(entry, "model")->valuestring);
    kite_model m;
    kite_forest f;
    if (kite_model_load(path, &m, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s", err);
        return;
    }
    /* A forest that did not build has nothing to score (its arrays are freed): fail and stop
     * for this model, as for rows or margins that did not load. */
    if (kite_forest_build(&m, &f, err, sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s: %s", name, err);
        kite_model_free(&m);
        return;
    }
    /* The same for rows or margins that did not load (or disagree on the row count): scoring
     * them would compare nothing, or read past the margins. */
    kite_matrix x = {0}, want = {0};
    float *got = NULL;
    snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(entry, "rows")->valuestring);
    if (kite_csv_load_matrix(path, NULL, m.km_feature_names, m.km_num_feature, &x, err,
                             sizeof err) != KITE_ERR_OK) {
        CHECK_MSG(0, "%s", err);
        goto done;
    }
    snprintf(path, sizeof path, "tests/golden/%s",
             cJSON_GetObjectItem(entry, "margin")->valuestring);
    if (kite_csv_load_matrix(path, NULL, NULL, m.km_num_group, &want, err, sizeof err) !=
        KITE_ERR_OK) {
        CHECK_MSG(0, "%s", err);
        goto done;
    }
    if (want.km_rows != x.km_rows) {
        CHECK_MSG(0, "%s: %zu rows but %zu rows of margins", name, x.km_rows, want.km_rows);
        goto done;
    }
    size_t n = x.km_rows * (size_t)m.km_num_group;
    got = malloc(n * sizeof(float) + 1);
    CHECK_MSG(got != NULL, "%s: out of memory", name);
    for (int isa = 0; got && isa < KITE_ISA__COUNT; isa++) {
        kite_margins_fn fn = kite_isa_kernel((kite_isa)isa);
        if (!fn) continue;
        memset(got, 0xff, n * sizeof(float));
        fn(&f, x.km_data, x.km_rows, x.km_cols, got);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &want.km_data[i], sizeof(float)) != 0;
        CHECK_MSG(bad == 0, "%s, kernel %s: %zu of %zu margins differ", name,
                  kite_isa_name((kite_isa)isa), bad, n);
    }
done:
    free(got);
    kite_matrix_free(&x);
    kite_matrix_free(&want);
    kite_forest_free(&f);
    kite_model_free(&m);
}

int main(void)
{
    char *text = slurp("tests/golden/manifest.json");
    CHECK(text != NULL);
    if (!text) return kt_finish("test_golden_lib");
    cJSON *root = cJSON_Parse(text);
    const cJSON *models = cJSON_GetObjectItem(root, "models");
    CHECK(cJSON_GetArraySize(models) >= 8);
    for (const cJSON *e = models->child; e; e = e->next) check_model(e);
    cJSON_Delete(root);
    free(text);
    return kt_finish("test_golden_lib");
}
