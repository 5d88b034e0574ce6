/* Reference profile JSON: save, load (with one-line errors naming the field), free. */
#include <kite/profile.h>

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>

#define PROFILE_FORMAT_VERSION 1
#define PROFILE_MAX_BYTES (256u << 20)

void kite_profile_free(kite_profile *p)
{
    if (!p) return;
    for (int j = 0; j < p->kpf_ncolumns; j++) {
        kite_profile_column *c = &p->kpf_columns[j];
        free(c->kpc_edges);
        free(c->kpc_counts);
        free(c->kpc_fine_edges);
        free(c->kpc_fine_counts);
    }
    free(p->kpf_columns);
    memset(p, 0, sizeof *p);
}

int kite_profile_find(const kite_profile *p, const char *name)
{
    for (int j = 0; j < p->kpf_ncolumns; j++)
        if (!strcmp(p->kpf_columns[j].kpc_name, name)) return j;
    return -1;
}

int kite_profile_num_features(const kite_profile *p)
{
    int n = p->kpf_ncolumns;
    return n > 0 && p->kpf_columns[n - 1].kpc_role == KITE_PROFILE_PREDICTION ? n - 1 : n;
}

void kite_profile_set_metric(kite_profile *p, const char *name, double value)
{
    int k = 0;
    while (k < p->kpf_nmetrics && strcmp(p->kpf_metrics[k].kpm_name, name)) k++;
    if (k == KITE_PROFILE_MAX_METRICS) return;
    if (k == p->kpf_nmetrics) p->kpf_nmetrics++;
    snprintf(p->kpf_metrics[k].kpm_name, sizeof p->kpf_metrics[k].kpm_name, "%s", name);
    p->kpf_metrics[k].kpm_value = value;
}

/* ---- save ------------------------------------------------------------------------------- */

static cJSON *float_array(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

static cJSON *double_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* JSON has no NaN: a statistic of an all-missing column is written as null. */
static void add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

kite_err kite_profile_save(const kite_profile *p, const char *path, char *errstr,
                           size_t errstr_size)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: no memory", path);
    cJSON_AddNumberToObject(root, "kite_profile", PROFILE_FORMAT_VERSION);
    cJSON_AddNumberToObject(root, "rows", p->kpf_rows);
    cJSON_AddNumberToObject(root, "bins", p->kpf_bins);
    cJSON_AddNumberToObject(root, "fine_bins", p->kpf_fine_bins);
    cJSON *cols = cJSON_AddArrayToObject(root, "columns");
    for (int j = 0; j < p->kpf_ncolumns; j++) {
        const kite_profile_column *c = &p->kpf_columns[j];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(cols, o);
        cJSON_AddStringToObject(o, "name", c->kpc_name);
        cJSON_AddStringToObject(o, "role", c->kpc_role == KITE_PROFILE_PREDICTION ? "prediction"
                                                                                  : "feature");
        int cat = c->kpc_kind == KITE_PROFILE_CATEGORICAL;
        cJSON_AddStringToObject(o, "kind", cat ? "categorical" : "numeric");
        cJSON_AddNumberToObject(o, "count", c->kpc_count);
        cJSON_AddNumberToObject(o, "missing", c->kpc_missing);
        double total = c->kpc_count + c->kpc_missing;
        add_number(o, "missing_rate", total > 0 ? c->kpc_missing / total : NAN);
        add_number(o, "mean", c->kpc_mean);
        add_number(o, "std", c->kpc_std);
        add_number(o, "min", c->kpc_min);
        add_number(o, "max", c->kpc_max);
        cJSON_AddItemToObject(o, cat ? "categories" : "edges",
                              float_array(c->kpc_edges, c->kpc_nedges));
        cJSON_AddItemToObject(o, "counts", double_array(c->kpc_counts, c->kpc_nedges + 1));
        if (!cat) {
            cJSON_AddItemToObject(o, "fine_edges", float_array(c->kpc_fine_edges, c->kpc_nfine));
            cJSON_AddItemToObject(o, "fine_counts",
                                  double_array(c->kpc_fine_counts, c->kpc_nfine + 1));
        }
    }
    if (p->kpf_task[0]) {
        cJSON *q = cJSON_AddObjectToObject(root, "quality");
        cJSON_AddStringToObject(q, "task", p->kpf_task);
        cJSON_AddStringToObject(q, "label", p->kpf_label);
        cJSON *m = cJSON_AddObjectToObject(q, "metrics");
        for (int k = 0; k < p->kpf_nmetrics; k++)
            add_number(m, p->kpf_metrics[k].kpm_name, p->kpf_metrics[k].kpm_value);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: no memory", path);
    FILE *fp = fopen(path, "w");
    int ok = fp && fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    if (fp && fclose(fp) != 0) ok = 0;
    free(text);
    return ok ? KITE_ERR_OK : kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot write", path);
}

/* ---- load ------------------------------------------------------------------------------- */

static char *read_file(const char *path, char *errstr, size_t errstr_size, kite_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *err = kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0) break;
        if (len + 1 == cap) {
            if (cap >= PROFILE_MAX_BYTES) {
                free(buf);
                fclose(fp);
                *err = kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "%s: larger than %u bytes",
                                 path, PROFILE_MAX_BYTES);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf) *err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: no memory", path);
    else buf[len] = 0;
    return buf;
}

typedef struct load_ctx {
    const char *path;
    char *errstr;
    size_t errstr_size;
} load_ctx;

static kite_err bad(const load_ctx *x, int col, const char *field, const char *what)
{
    if (col >= 0)
        return kite_errf(KITE_ERR_PARSE, x->errstr, x->errstr_size, "%s: columns[%d].%s: %s",
                         x->path, col, field, what);
    return kite_errf(KITE_ERR_PARSE, x->errstr, x->errstr_size, "%s: %s: %s", x->path, field, what);
}

static kite_err get_number(const load_ctx *x, const cJSON *o, int col, const char *key, int nullable,
                           double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (nullable && cJSON_IsNull(it)) {
        *out = NAN;
        return KITE_ERR_OK;
    }
    if (!cJSON_IsNumber(it)) return bad(x, col, key, "missing or not a number");
    *out = it->valuedouble;
    return KITE_ERR_OK;
}

static kite_err get_floats(const load_ctx *x, const cJSON *o, int col, const char *key, float **out,
                           int *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a)) return bad(x, col, key, "missing or not an array");
    int len = cJSON_GetArraySize(a);
    if (len > KITE_BINNING_MAX_EDGES) return bad(x, col, key, "too many edges");
    *out = malloc(((size_t)len + 1) * sizeof **out);
    if (!*out) return kite_errf(KITE_ERR_NOMEM, x->errstr, x->errstr_size, "%s: no memory", x->path);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        /* Range first: converting a double beyond FLT_MAX to float is undefined behaviour. */
        if (!cJSON_IsNumber(it) || !(fabs(it->valuedouble) <= FLT_MAX))
            return bad(x, col, key, "holds a value that is not a finite float32 number");
        (*out)[i] = (float)it->valuedouble;
        if (i > 0 && !((*out)[i] > (*out)[i - 1]))
            return bad(x, col, key, "values are not strictly increasing");
        i++;
    }
    *n = len;
    return KITE_ERR_OK;
}

static kite_err get_counts(const load_ctx *x, const cJSON *o, int col, const char *key, int want,
                           double **out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a)) return bad(x, col, key, "missing or not an array");
    if (cJSON_GetArraySize(a) != want) {
        char what[64];
        snprintf(what, sizeof what, "has %d entries, expected %d", cJSON_GetArraySize(a), want);
        return bad(x, col, key, what);
    }
    *out = calloc((size_t)want + 1, sizeof **out);
    if (!*out) return kite_errf(KITE_ERR_NOMEM, x->errstr, x->errstr_size, "%s: no memory", x->path);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) || isinf(it->valuedouble))
            return bad(x, col, key, "holds a value that is not a count >= 0");
        (*out)[i++] = it->valuedouble;
    }
    return KITE_ERR_OK;
}

static kite_err load_column(const load_ctx *x, const cJSON *o, int j, kite_profile_column *c)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) >= sizeof c->kpc_name)
        return bad(x, j, "name", "missing, empty or too long");
    snprintf(c->kpc_name, sizeof c->kpc_name, "%s", name->valuestring);
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(o, "role");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsString(role) ||
        (strcmp(role->valuestring, "feature") && strcmp(role->valuestring, "prediction")))
        return bad(x, j, "role", "must be \"feature\" or \"prediction\"");
    if (!cJSON_IsString(kind) ||
        (strcmp(kind->valuestring, "numeric") && strcmp(kind->valuestring, "categorical")))
        return bad(x, j, "kind", "must be \"numeric\" or \"categorical\"");
    c->kpc_role = strcmp(role->valuestring, "feature") ? KITE_PROFILE_PREDICTION
                                                        : KITE_PROFILE_FEATURE;
    int cat = !strcmp(kind->valuestring, "categorical");
    c->kpc_kind = cat ? KITE_PROFILE_CATEGORICAL : KITE_PROFILE_NUMERIC;
    KITE_TRY(get_number(x, o, j, "count", 0, &c->kpc_count));
    KITE_TRY(get_number(x, o, j, "missing", 0, &c->kpc_missing));
    KITE_TRY(get_number(x, o, j, "mean", 1, &c->kpc_mean));
    KITE_TRY(get_number(x, o, j, "std", 1, &c->kpc_std));
    KITE_TRY(get_number(x, o, j, "min", 1, &c->kpc_min));
    KITE_TRY(get_number(x, o, j, "max", 1, &c->kpc_max));
    KITE_TRY(get_floats(x, o, j, cat ? "categories" : "edges", &c->kpc_edges, &c->kpc_nedges));
    KITE_TRY(get_counts(x, o, j, "counts", c->kpc_nedges + 1, &c->kpc_counts));
    if (!cat) {
        KITE_TRY(get_floats(x, o, j, "fine_edges", &c->kpc_fine_edges, &c->kpc_nfine));
        KITE_TRY(get_counts(x, o, j, "fine_counts", c->kpc_nfine + 1, &c->kpc_fine_counts));
    }
    /* Checks use count as the total of both histograms: they must agree. */
    double sum = 0, fine = 0;
    for (int i = 0; i <= c->kpc_nedges; i++) sum += c->kpc_counts[i];
    for (int i = 0; !cat && i <= c->kpc_nfine; i++) fine += c->kpc_fine_counts[i];
    if (sum != c->kpc_count) return bad(x, j, "counts", "do not sum to \"count\"");
    if (!cat && fine != c->kpc_count) return bad(x, j, "fine_counts", "do not sum to \"count\"");
    return KITE_ERR_OK;
}

static kite_err load_root(const load_ctx *x, const cJSON *root, kite_profile *p)
{
    double version = 0;
    if (!cJSON_IsObject(root)) return bad(x, -1, "(top level)", "not a JSON object");
    KITE_TRY(get_number(x, root, -1, "kite_profile", 0, &version));
    if (version != PROFILE_FORMAT_VERSION)
        return bad(x, -1, "kite_profile", "unsupported format version (expected 1)");
    double bins = 0, fine = 0;
    KITE_TRY(get_number(x, root, -1, "rows", 0, &p->kpf_rows));
    KITE_TRY(get_number(x, root, -1, "bins", 0, &bins));
    KITE_TRY(get_number(x, root, -1, "fine_bins", 0, &fine));
    /* The ranges `kite profile` accepts (--bins, --fine-bins); checked before the int cast,
     * which is undefined for a double out of int's range. */
    if (!(bins >= 1 && bins <= 1000)) return bad(x, -1, "bins", "must be an integer in [1, 1000]");
    if (!(fine >= 1 && fine <= 4000)) return bad(x, -1, "fine_bins", "must be an integer in [1, 4000]");
    p->kpf_bins = (int)bins;
    p->kpf_fine_bins = (int)fine;
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "columns");
    if (!cJSON_IsArray(cols) || cJSON_GetArraySize(cols) == 0)
        return bad(x, -1, "columns", "missing, not an array or empty");
    int n = cJSON_GetArraySize(cols);
    p->kpf_columns = calloc((size_t)n, sizeof *p->kpf_columns);
    if (!p->kpf_columns)
        return kite_errf(KITE_ERR_NOMEM, x->errstr, x->errstr_size, "%s: no memory", x->path);
    p->kpf_ncolumns = n;
    int j = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, cols)
    {
        if (!cJSON_IsObject(o)) return bad(x, j, "(column)", "not an object");
        KITE_TRY(load_column(x, o, j, &p->kpf_columns[j]));
        if (p->kpf_columns[j].kpc_role == KITE_PROFILE_PREDICTION && j != n - 1)
            return bad(x, j, "role", "the prediction must be the last column");
        for (int k = 0; k < j; k++)
            if (!strcmp(p->kpf_columns[k].kpc_name, p->kpf_columns[j].kpc_name))
                return bad(x, j, "name", "repeats an earlier column's name");
        j++;
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quality");
    if (q) {
        const cJSON *task = cJSON_GetObjectItemCaseSensitive(q, "task");
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(q, "label");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(q, "metrics");
        if (!cJSON_IsString(task) || !cJSON_IsObject(m))
            return bad(x, -1, "quality", "needs a \"task\" string and a \"metrics\" object");
        snprintf(p->kpf_task, sizeof p->kpf_task, "%s", task->valuestring);
        if (cJSON_IsString(label)) snprintf(p->kpf_label, sizeof p->kpf_label, "%s", label->valuestring);
        const cJSON *it;
        cJSON_ArrayForEach(it, m) kite_profile_set_metric(p, it->string,
                                                          cJSON_IsNumber(it) ? it->valuedouble : NAN);
    }
    return KITE_ERR_OK;
}

kite_err kite_profile_load(const char *path, kite_profile *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    kite_err err = KITE_ERR_OK;
    char *text = read_file(path, errstr, errstr_size, &err);
    if (!text) return err;
    err = kite_profile_parse(text, strlen(text), path, out, errstr, errstr_size);
    free(text);
    return err;
}

kite_err kite_profile_parse(const char *json, size_t len, const char *name, kite_profile *out,
                            char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root)
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: offset %zu: invalid JSON", name,
                         end ? (size_t)(end - json) : (size_t)0);
    load_ctx x = {name, errstr, errstr_size};
    kite_err err = load_root(&x, root, out);
    cJSON_Delete(root);
    if (err != KITE_ERR_OK) kite_profile_free(out);
    return err;
}
