/* Model references: files, MLflow model directories, a local MLflow registry (file store) and
 * plain versioned directories (registry.h). The MLflow layout read here is what mlflow 3.18
 * writes (tests/e2e/registry_mlflow.py creates it with mlflow itself):
 *   REGISTRY/models/NAME/aliases/ALIAS        text: the version number
 *   REGISTRY/models/NAME/version-N/meta.yaml  status: READY, storage_location: file:///...
 *   ARTIFACTS/MLmodel                         flavors: xgboost: data: model.ubj */
#include <kite/registry.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define YAML_MAX_DEPTH 16
#define META_MAX_BYTES (1 << 20) /* metadata files are a few hundred bytes */

static int reg_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int reg_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* snprintf into a path buffer, refusing truncation. */
__attribute__((format(printf, 5, 6))) static kite_err reg_path(char *out, size_t size, char *errstr,
                                                              size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "path longer than %zu bytes", size - 1);
    return KITE_ERR_OK;
}

static char *reg_read(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(META_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, META_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) {
        kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s", path);
        return NULL;
    }
    if (n > META_MAX_BYTES) {
        free(buf);
        kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "%s: larger than %d bytes (not metadata)",
                  path, META_MAX_BYTES);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* One scalar of the YAML subset into value; s points after "key:" and its spaces. */
static kite_err yaml_scalar(const char *path, int line, const char *s, char *value, size_t size,
                            char *errstr, size_t errstr_size)
{
    size_t n = 0;
    if (*s == '\'' || *s == '"') {
        char q = *s++;
        for (; *s; s++) {
            if (*s == q && q == '\'' && s[1] == '\'') s++; /* '' is a quote inside '...' */
            else if (*s == q) break;
            else if (q == '"' && *s == '\\')
                return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                                 "%s: line %d: escapes in double-quoted scalars are not read", path, line);
            if (n + 1 >= size)
                return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "%s: line %d: value too long", path, line);
            value[n++] = *s;
        }
        if (*s != q)
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: line %d: unterminated quote", path, line);
    } else {
        if (strchr("&*|>{[!%@`", *s))
            return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                             "%s: line %d: '%c' (anchors, tags, flow or block scalars) is outside "
                             "the YAML kite reads", path, line, *s);
        const char *end = s + strlen(s);
        const char *hash = strstr(s, " #");
        if (hash) end = hash;
        while (end > s && isspace((unsigned char)end[-1])) end--;
        if ((size_t)(end - s) >= size)
            return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "%s: line %d: value too long", path, line);
        n = (size_t)(end - s);
        memcpy(value, s, n);
    }
    value[n] = 0;
    return KITE_ERR_OK;
}

kite_err kite__yaml_get(const char *path, const char *key_path, char *value, size_t value_size,
                        char *errstr, size_t errstr_size)
{
    char *text = reg_read(path, errstr, errstr_size);
    if (!text) return KITE_ERR_IO;
    int indents[YAML_MAX_DEPTH];
    char keys[YAML_MAX_DEPTH][64];
    int depth = 0, line = 0;
    kite_err err = KITE_ERR_PARSE;
    int found = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
        line++; /* blank lines are skipped by strtok_r, so numbers count non-empty lines */
        size_t len = strlen(l);
        if (len && l[len - 1] == '\r') l[--len] = 0;
        int ind = 0;
        while (l[ind] == ' ') ind++;
        if (l[ind] == '\t') {
            err = kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: line %d: tab in indentation", path, line);
            goto out;
        }
        const char *k = l + ind;
        if (!*k || *k == '#' || *k == '-') continue; /* lists never lie on the paths kite reads */
        const char *colon = strstr(k, ": ");
        if (!colon && len && l[len - 1] == ':') colon = l + len - 1;
        if (!colon || (size_t)(colon - k) >= sizeof keys[0]) continue;
        while (depth > 0 && indents[depth - 1] >= ind) depth--;
        char key[64];
        memcpy(key, k, (size_t)(colon - k));
        key[colon - k] = 0;
        /* Does keys[0..depth) + key equal key_path? */
        char full[512];
        size_t fl = 0;
        for (int d = 0; d < depth; d++) fl += (size_t)snprintf(full + fl, sizeof full - fl, "%s.", keys[d]);
        snprintf(full + fl, sizeof full - fl, "%s", key);
        const char *v = colon + 1;
        while (*v == ' ') v++;
        if (!strcmp(full, key_path)) {
            if (!*v) {
                err = kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: line %d: %s is a mapping, not a value",
                                path, line, key_path);
                goto out;
            }
            err = yaml_scalar(path, line, v, value, value_size, errstr, errstr_size);
            found = 1;
        } else if (*v && !strncmp(key_path, full, strlen(full)) && key_path[strlen(full)] == '.') {
            /* A key on the path holds a value in place of the mapping kite looks into. */
            if (*v == '{' || *v == '[')
                err = kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                                "%s: line %d: %s in flow style ('%c') is outside the YAML kite reads",
                                path, line, full, *v);
            else
                err = kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: line %d: %s is a value, not a mapping",
                                path, line, full);
            goto out;
        } else if (!*v) {
            if (depth == YAML_MAX_DEPTH) {
                err = kite_errf(KITE_ERR_LIMIT, errstr, errstr_size, "%s: line %d: nested deeper than %d",
                                path, line, YAML_MAX_DEPTH);
                goto out;
            }
            indents[depth] = ind;
            snprintf(keys[depth++], sizeof keys[0], "%s", key);
        }
    }
    if (!found) err = kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: no key %s", path, key_path);
out:
    free(text);
    return err;
}

/* An MLflow model directory: MLmodel's xgboost flavor names the model file. */
static kite_err reg_mlflow_model(const char *dir, kite_model_ref *out, char *errstr, size_t errstr_size)
{
    char mlmodel[KITE_REF_PATH_MAX], data[512];
    KITE_TRY(reg_path(mlmodel, sizeof mlmodel, errstr, errstr_size, "%s/MLmodel", dir));
    kite_err yerr = kite__yaml_get(mlmodel, "flavors.xgboost.data", data, sizeof data, errstr, errstr_size);
    if (yerr) {
        char inner[256];
        if (yerr == KITE_ERR_PARSE && strstr(errstr, "no key") &&
            kite__yaml_get(mlmodel, "flavors.xgboost", data, sizeof data, inner, sizeof inner) ==
                KITE_ERR_PARSE && strstr(inner, "no key"))
            return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                             "%s: no xgboost flavor (kite scores XGBoost models only)", mlmodel);
        return yerr;
    }
    if (strstr(data, "..") || data[0] == '/')
        return kite_errf(KITE_ERR_PARSE, errstr, errstr_size,
                         "%s: flavors.xgboost.data \"%s\" leaves the model directory", mlmodel, data);
    KITE_TRY(reg_path(out->kmr_model, sizeof out->kmr_model, errstr, errstr_size, "%s/%s", dir, data));
    if (!reg_is_file(out->kmr_model))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: flavors.xgboost.data: %s is missing",
                         mlmodel, out->kmr_model);
    char spec[KITE_REF_PATH_MAX];
    if (!reg_path(spec, sizeof spec, errstr, errstr_size, "%s/feature_spec.json", dir) && reg_is_file(spec))
        snprintf(out->kmr_spec, sizeof out->kmr_spec, "%s", spec);
    out->kmr_kind = "mlflow-model";
    return KITE_ERR_OK;
}

static const char *reg_strip_file_uri(const char *uri)
{
    if (!strncmp(uri, "file://", 7)) return uri + 7;
    return uri;
}

/* Largest N among entries of dir named PREFIX N (N all digits); -1 when none. */
static long reg_latest(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    long best = -1;
    size_t pl = strlen(prefix);
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, prefix, pl) || !n[pl]) continue;
        char *end = NULL;
        long v = strtol(n + pl, &end, 10);
        if (*end || v < 0 || !isdigit((unsigned char)n[pl])) continue;
        if (v > best) best = v;
    }
    closedir(d);
    return best;
}

/* Splits "NAME@ALIAS" / "NAME/VERSION" / "NAME": *sel is "@alias", "/3" or "". */
static kite_err reg_split(const char *what, const char *s, char *name, size_t size, const char **sel,
                          char *errstr, size_t errstr_size)
{
    const char *at = strrchr(s, '@'), *slash = strrchr(s, '/');
    const char *cut = at && (!slash || at > slash) ? at : NULL;
    if (!cut && slash && slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1)) cut = slash;
    if (!cut && slash && !strcmp(slash, "/latest")) cut = slash;
    size_t n = cut ? (size_t)(cut - s) : strlen(s);
    if (!n || n >= size)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "%s \"%s\": no model name", what, s);
    memcpy(name, s, n);
    name[n] = 0;
    *sel = cut ? cut : "";
    return KITE_ERR_OK;
}

static kite_err reg_mlflow_registry(const char *ref, const char *registry_uri, kite_model_ref *out,
                                    char *errstr, size_t errstr_size)
{
    const char *root = registry_uri && *registry_uri ? registry_uri : getenv("MLFLOW_REGISTRY_URI");
    if (!root || !*root) root = getenv("MLFLOW_TRACKING_URI");
    if (!root || !*root) root = "mlruns";
    if (strstr(root, "://") && strncmp(root, "file://", 7))
        return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                         "registry \"%s\": kite reads a local MLflow file store (a path or file:// URI)",
                         root);
    root = reg_strip_file_uri(root);
    char name[256], dir[KITE_REF_PATH_MAX], file[KITE_REF_PATH_MAX], text[64];
    const char *sel;
    KITE_TRY(reg_split("model", ref + strlen("models:/"), name, sizeof name, &sel, errstr, errstr_size));
    KITE_TRY(reg_path(dir, sizeof dir, errstr, errstr_size, "%s/models/%s", root, name));
    if (!reg_is_dir(dir))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: registered model \"%s\" not found in %s",
                         ref, name, root);
    long version;
    if (*sel == '@') {
        KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/aliases/%s", dir, sel + 1));
        char *t = reg_read(file, errstr, errstr_size);
        if (!t)
            return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: alias \"%s\" not set (%s missing)",
                             ref, sel + 1, file);
        snprintf(text, sizeof text, "%s", t);
        free(t);
        char *end = NULL;
        version = strtol(text, &end, 10);
        while (end && isspace((unsigned char)*end)) end++;
        if (end == text || *end || version < 1)
            return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: \"%s\" is not a version number",
                             file, text);
    } else if (*sel == '/' && strcmp(sel, "/latest")) {
        version = strtol(sel + 1, NULL, 10);
    } else {
        version = reg_latest(dir, "version-");
        if (version < 0) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: no version in %s", ref, dir);
    }
    KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/version-%ld/meta.yaml", dir, version));
    if (!reg_is_file(file))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: version %ld not found (%s missing)", ref,
                         version, file);
    char status[64], location[KITE_REF_PATH_MAX];
    KITE_TRY(kite__yaml_get(file, "status", status, sizeof status, errstr, errstr_size));
    if (strcmp(status, "READY"))
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size, "%s: version %ld is %s, not READY", ref,
                         version, status);
    KITE_TRY(kite__yaml_get(file, "storage_location", location, sizeof location, errstr, errstr_size));
    if (strstr(location, "://") && strncmp(location, "file://", 7))
        return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                         "%s: storage_location %s is not a local file:// location", file, location);
    KITE_TRY(reg_mlflow_model(reg_strip_file_uri(location), out, errstr, errstr_size));
    out->kmr_kind = "mlflow-registry";
    snprintf(out->kmr_version, sizeof out->kmr_version, "%s/%ld", name, version);
    return KITE_ERR_OK;
}

/* A plain versioned directory: BASE/VERSION/model.json|model.ubj, BASE/aliases.json. */
static kite_err reg_versioned(const char *base, const char *sel, kite_model_ref *out, char *errstr,
                              size_t errstr_size)
{
    long version = -1;
    char file[KITE_REF_PATH_MAX];
    if (*sel == '@') {
        KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/aliases.json", base));
        char *t = reg_read(file, errstr, errstr_size);
        if (!t) return KITE_ERR_IO;
        cJSON *j = cJSON_Parse(t);
        free(t);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, sel + 1);
        if (cJSON_IsNumber(v)) version = (long)v->valuedouble;
        else if (cJSON_IsString(v)) version = strtol(v->valuestring, NULL, 10);
        cJSON_Delete(j);
        if (!j) return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: not a JSON object", file);
        if (version < 0)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "%s: no alias \"%s\" (or not a version)",
                             file, sel + 1);
    } else if (*sel == '/' && strcmp(sel, "/latest")) version = strtol(sel + 1, NULL, 10);
    else version = reg_latest(base, "");
    if (version < 0) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: no numbered version directory", base);
    char vdir[KITE_REF_PATH_MAX];
    KITE_TRY(reg_path(vdir, sizeof vdir, errstr, errstr_size, "%s/%ld", base, version));
    if (!reg_is_dir(vdir))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: version %ld not found", base, version);
    const char *model_name = "model.json";
    char chosen[256];
    KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/meta.json", vdir));
    if (reg_is_file(file)) { /* optional; "model" may name another file of the version */
        char *t = reg_read(file, errstr, errstr_size);
        cJSON *j = t ? cJSON_Parse(t) : NULL;
        free(t);
        if (!j) return kite_errf(KITE_ERR_PARSE, errstr, errstr_size, "%s: not a JSON object", file);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
        if (cJSON_IsString(m) && !strchr(m->valuestring, '/')) {
            snprintf(chosen, sizeof chosen, "%s", m->valuestring);
            model_name = chosen;
        }
        cJSON_Delete(j);
    } else {
        KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/model.json", vdir));
        if (!reg_is_file(file)) model_name = "model.ubj";
    }
    KITE_TRY(reg_path(out->kmr_model, sizeof out->kmr_model, errstr, errstr_size, "%s/%s", vdir, model_name));
    if (!reg_is_file(out->kmr_model))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: no model file (model.json or model.ubj)", vdir);
    KITE_TRY(reg_path(file, sizeof file, errstr, errstr_size, "%s/feature_spec.json", vdir));
    if (reg_is_file(file)) snprintf(out->kmr_spec, sizeof out->kmr_spec, "%s", file);
    const char *nm = strrchr(base, '/');
    snprintf(out->kmr_version, sizeof out->kmr_version, "%s/%ld", nm && nm[1] ? nm + 1 : base, version);
    out->kmr_kind = "versioned-dir";
    return KITE_ERR_OK;
}

kite_err kite_registry_resolve(const char *ref, const char *registry_uri, kite_model_ref *out,
                               char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    out->kmr_kind = "file";
    if (!strncmp(ref, "models:/", 8)) return reg_mlflow_registry(ref, registry_uri, out, errstr, errstr_size);
    if (reg_is_file(ref)) return reg_path(out->kmr_model, sizeof out->kmr_model, errstr, errstr_size, "%s", ref);
    char mlmodel[KITE_REF_PATH_MAX];
    if (!reg_path(mlmodel, sizeof mlmodel, errstr, errstr_size, "%s/MLmodel", ref) && reg_is_file(mlmodel))
        return reg_mlflow_model(ref, out, errstr, errstr_size);
    char base[KITE_REF_PATH_MAX];
    const char *sel;
    KITE_TRY(reg_split("model", ref, base, sizeof base, &sel, errstr, errstr_size));
    if (!*sel && reg_is_dir(ref) && reg_latest(ref, "") < 0)
        return kite_errf(KITE_ERR_IO, errstr, errstr_size,
                         "%s: a directory with neither an MLmodel file nor numbered versions", ref);
    if (!reg_is_dir(base))
        return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", ref, strerror(ENOENT));
    return reg_versioned(base, sel, out, errstr, errstr_size);
}
