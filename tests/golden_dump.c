/* Writes every golden model of tests/golden/manifest.json, with its rows and XGBoost's margins,
 * as a golden_dump.h image into DIR (one NAME.kgd per model) and prints their paths.
 *   golden_dump DIR            (run from the source root) */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "golden_dump.h"
#include "xgb_model.h"

#define W(ptr, size, count) write_or_zeros(fp, (ptr), (size), (size_t)(count))

/* The loader leaves per-node category arrays NULL in a model without categorical splits: such
 * an array is written as zeros (no categorical split, no categories), which reads back the same. */
static int write_or_zeros(FILE *fp, const void *ptr, size_t size, size_t count)
{
    if (ptr) return fwrite(ptr, size, count, fp) == count;
    static const char zeros[64];
    for (size_t i = 0; i < count; i++)
        if (fwrite(zeros, size, 1, fp) != 1) return 0;
    return 1;
}

static int write_image(FILE *fp, const kite_model *m, const kite_matrix *x, const kite_matrix *want)
{
    int ok = W(KITE_GOLDEN_DUMP_MAGIC, 1, 8);
    int32_t head[8] = {m->km_num_feature, m->km_num_group, m->km_num_trees, (int32_t)m->km_transform,
                       m->km_version[0], m->km_version[1], m->km_version[2], m->km_tree_weight != NULL};
    ok = ok && W(head, sizeof head[0], 8) && W(&m->km_base_margin, sizeof(float), 1);
    for (int32_t t = 0; ok && t < m->km_num_trees; t++) {
        const kite_tree *tr = &m->km_trees[t];
        int32_t n = tr->kt_num_nodes;
        ok = W(&n, sizeof n, 1) && W(tr->kt_left, 4, n) && W(tr->kt_right, 4, n) &&
             W(tr->kt_feature, 4, n) && W(tr->kt_value, 4, n) && W(tr->kt_default_left, 1, n) &&
             W(tr->kt_is_cat, 1, n) && W(tr->kt_cat_begin, 4, n) && W(tr->kt_cat_count, 4, n) &&
             W(&tr->kt_num_cats, 4, 1) && (tr->kt_num_cats == 0 || W(tr->kt_cats, 4, tr->kt_num_cats));
    }
    ok = ok && W(m->km_tree_group, 4, m->km_num_trees);
    if (m->km_tree_weight) ok = ok && W(m->km_tree_weight, 4, m->km_num_trees);
    uint64_t dims[2] = {x->km_rows, x->km_cols};
    ok = ok && W(dims, sizeof dims[0], 2) && W(x->km_data, 4, x->km_rows * x->km_cols);
    return ok && W(want->km_data, 4, x->km_rows * (size_t)m->km_num_group);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: golden_dump DIR\n");
        return 2;
    }
    FILE *mf = fopen("tests/golden/manifest.json", "rb");
    if (!mf) {
        fprintf(stderr, "golden_dump: tests/golden/manifest.json: cannot open (run from the source root)\n");
        return 1;
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, mf);
    fclose(mf);
    text[len] = 0;
    cJSON *root = cJSON_Parse(text);
    const cJSON *models = cJSON_GetObjectItem(root, "models");
    int written = 0;
    for (const cJSON *e = models ? models->child : NULL; e; e = e->next) {
        char path[1024], err[512];
        const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
        kite_model m;
        kite_matrix x, want;
        snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(e, "model")->valuestring);
        if (kite_model_load(path, &m, err, sizeof err) != KITE_ERR_OK) {
            fprintf(stderr, "golden_dump: %s\n", err);
            return 1;
        }
        snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(e, "rows")->valuestring);
        if (kite_csv_load_matrix(path, NULL, m.km_feature_names, m.km_num_feature, &x, err, sizeof err)) {
            fprintf(stderr, "golden_dump: %s\n", err);
            return 1;
        }
        snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(e, "margin")->valuestring);
        if (kite_csv_load_matrix(path, NULL, NULL, m.km_num_group, &want, err, sizeof err)) {
            fprintf(stderr, "golden_dump: %s\n", err);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s.kgd", argv[1], name);
        FILE *fp = fopen(path, "wb");
        if (!fp || !write_image(fp, &m, &x, &want) || fclose(fp)) {
            fprintf(stderr, "golden_dump: %s: cannot write\n", path);
            return 1;
        }
        printf("%s\n", path);
        written++;
        kite_matrix_free(&x);
        kite_matrix_free(&want);
        kite_model_free(&m);
    }
    cJSON_Delete(root);
    if (written == 0) {
        fprintf(stderr, "golden_dump: no models in tests/golden/manifest.json\n");
        return 1;
    }
    return 0;
}
