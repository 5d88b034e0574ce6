/* Writes every golden model of every golden set (golden_case.h's GOLDEN_DIRS), with its rows
 * and XGBoost's margins, as a golden_dump.h image into DIR (one NAME.kgd per model) and prints
 * their paths.
 *   golden_dump DIR            (run from the source root) */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_case.h"
#include "golden_dump.h"

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

static int write_image(FILE *fp, const kite_model *m, const kite_matrix *x, const kite_matrix *want,
                       const kite_matrix *pred)
{
    int ok = W(KITE_GOLDEN_DUMP_MAGIC, 1, 8);
    int32_t head[8] = {m->km_num_feature, m->km_num_group, m->km_num_trees, (int32_t)m->km_transform,
                       m->km_version[0], m->km_version[1], m->km_version[2], m->km_tree_weight != NULL};
    ok = ok && W(head, sizeof head[0], 8) && W(m->km_base_margins, sizeof(float), (size_t)m->km_num_group);
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
    uint64_t dims[2] = {x->kmx_rows, x->kmx_cols};
    ok = ok && W(dims, sizeof dims[0], 2) && W(x->kmx_data, 4, x->kmx_rows * x->kmx_cols);
    ok = ok && W(want->kmx_data, 4, x->kmx_rows * (size_t)m->km_num_group);
    uint64_t pcols = pred->kmx_cols;
    return ok && W(&pcols, sizeof pcols, 1) && W(pred->kmx_data, 4, x->kmx_rows * pred->kmx_cols);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: golden_dump DIR\n");
        return 2;
    }
    int written = 0, rc = 0;
    for (size_t di = 0; di < GOLDEN_NUM_DIRS && !rc; di++) {
    cJSON *root = golden_manifest(GOLDEN_DIRS[di]);
    if (!root) return 1;
    const cJSON *models = cJSON_GetObjectItem(root, "models");
    for (const cJSON *e = models ? models->child : NULL; e && !rc; e = e->next) {
        char path[1024], err[512], stem[160];
        golden_case c;
        if (golden_case_load(GOLDEN_DIRS[di], e, &c, err, sizeof err)) {
            fprintf(stderr, "golden_dump: %s\n", err);
            rc = 1;
            break;
        }
        snprintf(stem, sizeof stem, "%s", c.gc_name);
        for (char *s = stem; *s; s++)
            if (*s == '/') *s = '_';
        snprintf(path, sizeof path, "%s/%s.kgd", argv[1], stem);
        FILE *fp = fopen(path, "wb");
        int ok = fp && write_image(fp, &c.gc_model, &c.gc_rows, &c.gc_margins, &c.gc_preds);
        if (fp && fclose(fp)) ok = 0;
        if (ok) {
            printf("%s\n", path);
            written++;
        } else {
            fprintf(stderr, "golden_dump: %s: cannot write\n", path);
            rc = 1;
        }
        golden_case_free(&c);
    }
    cJSON_Delete(root);
    }
    if (!rc && written == 0) {
        fprintf(stderr, "golden_dump: no models in the golden dirs\n");
        rc = 1;
    }
    return rc;
}
