/* The golden cases of tests/golden/manifest.json, loaded the one way every C test and tool
 * reads them: the model, its rows (columns by the model's feature names) and XGBoost's margins,
 * checked to have as many rows. Run from the source root. */
#ifndef KITE_GOLDEN_CASE_H
#define KITE_GOLDEN_CASE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "csv.h"
#include "xgb_model.h"

#define GOLDEN_MANIFEST "tests/golden/manifest.json"

typedef struct golden_case {
    const char *gc_name;   /* the manifest's, valid while its cJSON lives */
    kite_model gc_model;
    kite_matrix gc_rows;   /* gc_model.km_num_feature columns */
    kite_matrix gc_margins; /* gc_model.km_num_group columns, one row per row */
} golden_case;

/* The manifest as a cJSON tree (cJSON_Delete it), or NULL with a line on stderr. */
static inline cJSON *golden_manifest(void)
{
    FILE *fp = fopen(GOLDEN_MANIFEST, "rb");
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
    if (!root) fprintf(stderr, "%s: cannot read (run from the source root)\n", GOLDEN_MANIFEST);
    return root;
}

static inline void golden_case_free(golden_case *c)
{
    kite_matrix_free(&c->gc_rows);
    kite_matrix_free(&c->gc_margins);
    kite_model_free(&c->gc_model);
}

/* Loads one manifest entry; 0, or -1 with the reason in err (nothing left to free). */
static inline int golden_case_load(const cJSON *entry, golden_case *c, char *err, size_t err_size)
{
    char path[1024];
    *c = (golden_case){.gc_name = cJSON_GetObjectItem(entry, "name")->valuestring};
    snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(entry, "model")->valuestring);
    if (kite_model_load(path, &c->gc_model, err, err_size) != KITE_ERR_OK) return -1;
    snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(entry, "rows")->valuestring);
    int bad = kite_csv_load_matrix(path, NULL, c->gc_model.km_feature_names,
                                   c->gc_model.km_num_feature, &c->gc_rows, err, err_size) != KITE_ERR_OK;
    if (!bad) {
        snprintf(path, sizeof path, "tests/golden/%s", cJSON_GetObjectItem(entry, "margin")->valuestring);
        bad = kite_csv_load_matrix(path, NULL, NULL, c->gc_model.km_num_group, &c->gc_margins, err,
                                   err_size) != KITE_ERR_OK;
    }
    if (!bad && c->gc_margins.km_rows != c->gc_rows.km_rows) {
        snprintf(err, err_size, "%s: %zu rows but %zu rows of margins", c->gc_name,
                 c->gc_rows.km_rows, c->gc_margins.km_rows);
        bad = 1;
    }
    if (bad) golden_case_free(c);
    return bad ? -1 : 0;
}

#endif
