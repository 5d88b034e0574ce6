/* The golden cases of every golden set (GOLDEN_DIRS: XGBoost 1.7.4's tests/golden/xgb1.7,
 * 3.4's tests/golden/xgb3 and the version cases tests/golden/xgb3/v*), loaded the one way every
 * C test and tool reads them: the model (cut to the rounds its manifest "args" name), its rows
 * (columns by the model's feature names; category strings coded by the model's dictionary) and
 * XGBoost's margins, checked to have as many rows. Run from the source root. */
#ifndef KITE_GOLDEN_CASE_H
#define KITE_GOLDEN_CASE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include <kite/csv.h>
#include <kite/xgb_model.h>

#include <string.h>

static const char *const GOLDEN_DIRS[] = {
    "tests/golden/xgb1.7",      "tests/golden/xgb3",        "tests/golden/xgb3/v1.7.2",
    "tests/golden/xgb3/v2.1.4", "tests/golden/xgb3/v3.1.3", "tests/golden/xgb3/v3.2.0",
    "tests/golden/xgb3/v3.3.0", "tests/golden/xgb3/v3.4.1",
};
#define GOLDEN_NUM_DIRS (sizeof GOLDEN_DIRS / sizeof GOLDEN_DIRS[0])

typedef struct golden_case {
    char gc_name[160];     /* "<dir>/<name>" */
    kite_model gc_model;
    kite_matrix gc_rows;   /* gc_model.km_num_feature columns */
    kite_matrix gc_margins; /* gc_model.km_num_group columns, one row per row */
    kite_matrix gc_preds;   /* XGBoost's predictions (outputs per row columns) */
} golden_case;

/* A golden dir's manifest as a cJSON tree (cJSON_Delete it), or NULL with a line on stderr. */
static inline cJSON *golden_manifest(const char *dir)
{
    char mpath[512];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    FILE *fp = fopen(mpath, "rb");
    cJSON *root = NULL;
    if (fp) {
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (text && fread(text, 1, (size_t)n, fp) == (size_t)n) {
            text[n] = 0;
            root = cJSON_Parse(text);
        }
        free(text);
        fclose(fp);
    }
    if (!root) fprintf(stderr, "%s: cannot read (run from the source root)\n", mpath);
    return root;
}

static inline void golden_case_free(golden_case *c)
{
    kite_matrix_free(&c->gc_rows);
    kite_matrix_free(&c->gc_margins);
    kite_matrix_free(&c->gc_preds);
    kite_model_free(&c->gc_model);
}

/* Loads one manifest entry; 0, or -1 with the reason in err (nothing left to free). */
/* The manifest's "args" as `kite score` reads them: --best-iteration, --iteration-range A:B. */
static inline int golden_case_rounds(const cJSON *entry, kite_model *m, char *err, size_t err_size)
{
    const cJSON *args = cJSON_GetObjectItem(entry, "args");
    for (const cJSON *a = args ? args->child : NULL; a; a = a->next) {
        int32_t begin = 0, end = 0;
        if (!strcmp(a->valuestring, "--best-iteration")) {
            if (m->km_best_iteration >= 0) end = m->km_best_iteration + 1;
        } else if (!strcmp(a->valuestring, "--iteration-range") && a->next) {
            a = a->next;
            if (sscanf(a->valuestring, "%d:%d", &begin, &end) != 2) return -1;
        } else {
            snprintf(err, err_size, "golden manifest: unknown arg %s", a->valuestring);
            return -1;
        }
        if (kite_model_keep_iterations(m, begin, end, err, err_size) != KITE_ERR_OK) return -1;
    }
    return 0;
}

static inline int golden_case_load(const char *dir, const cJSON *entry, golden_case *c, char *err,
                                   size_t err_size)
{
    char path[1024];
    memset(c, 0, sizeof *c);
    snprintf(c->gc_name, sizeof c->gc_name, "%s/%s", dir, cJSON_GetObjectItem(entry, "name")->valuestring);
    snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(entry, "model")->valuestring);
    if (kite_model_load(path, &c->gc_model, err, err_size) != KITE_ERR_OK) return -1;
    if (golden_case_rounds(entry, &c->gc_model, err, err_size)) {
        kite_model_free(&c->gc_model);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(entry, "rows")->valuestring);
    int bad = kite_csv_load_model_rows(path, NULL, &c->gc_model, 0, &c->gc_rows, err, err_size) != KITE_ERR_OK;
    if (!bad) {
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(entry, "margin")->valuestring);
        bad = kite_csv_load_matrix(path, NULL, NULL, c->gc_model.km_num_group, &c->gc_margins, err,
                                   err_size) != KITE_ERR_OK;
    }
    if (!bad) {
        int outs = c->gc_model.km_transform == KITE_TRANSFORM_SOFTMAX ? 1 : c->gc_model.km_num_group;
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(entry, "pred")->valuestring);
        bad = kite_csv_load_matrix(path, NULL, NULL, outs, &c->gc_preds, err, err_size) != KITE_ERR_OK;
    }
    if (!bad && c->gc_margins.kmx_rows != c->gc_rows.kmx_rows) {
        snprintf(err, err_size, "%s: %zu rows but %zu rows of margins", c->gc_name,
                 c->gc_rows.kmx_rows, c->gc_margins.kmx_rows);
        bad = 1;
    }
    if (bad) golden_case_free(c);
    return bad ? -1 : 0;
}

#endif
