#include <kite/mem.h>
#include <kite/csv.h>
#include <kite/f32.h>
#include <kite/num.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

struct kite_csv_reader {
    FILE *cr_fp;
    int cr_owns_fp;
    char *cr_path;
    kite_csv_options cr_opts;
    char *cr_line;       /* getline buffer                                    */
    size_t cr_line_cap;
    char *cr_buf;        /* unquoted field text of the current row            */
    size_t cr_buf_cap;
    char **cr_fields;
    size_t *cr_columns;
    size_t cr_fields_cap;
    size_t cr_lineno;
    char **cr_header;
    int cr_ncols;
    size_t cr_blank;
};

const char *kite_csv_path(const kite_csv_reader *r) { return r->cr_path; }
int kite_csv_num_columns(const kite_csv_reader *r) { return r->cr_ncols; }
size_t kite_csv_blank_rows(const kite_csv_reader *r) { return r->cr_blank; }

const char *kite_csv_column_name(const kite_csv_reader *r, int col)
{
    return col >= 0 && col < r->cr_ncols ? r->cr_header[col] : NULL;
}

int kite_csv_find_column(const kite_csv_reader *r, const char *name)
{
    for (int i = 0; i < r->cr_ncols; i++)
        if (!strcmp(r->cr_header[i], name)) return i;
    return -1;
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    return kite_mem_grow(p, cap, need, elem, 256);
}

/* Room for field index n in both per-field arrays. */
static int fields_reserve(kite_csv_reader *r, size_t n)
{
    if (n < r->cr_fields_cap) return 0;
    size_t nc = r->cr_fields_cap ? r->cr_fields_cap * 2 : 64;
    while (nc <= n) nc *= 2;
    char **f = realloc(r->cr_fields, nc * sizeof *f);
    if (!f) return -1;
    r->cr_fields = f;
    size_t *c = realloc(r->cr_columns, nc * sizeof *c);
    if (!c) return -1;
    r->cr_columns = c;
    r->cr_fields_cap = nc;
    return 0;
}

/* Splits the logical row starting at the current line into fields. A quoted field may span
 * lines, in which case more lines are read. */
static kite_err split_row(kite_csv_reader *r, ssize_t len, int *nfields, char *errstr,
                          size_t errstr_size)
{
    char delim = r->cr_opts.kco_delimiter;
    size_t start_line = r->cr_lineno;
    size_t out = 0, pos = 0;
    int n = 0, quoted = 0, field_start = 1;
    for (;;) {
        if (reserve((void **)&r->cr_buf, &r->cr_buf_cap, out + (size_t)len + 2, 1))
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", r->cr_path);
        for (; pos < (size_t)len; pos++) {
            char c = r->cr_line[pos];
            if (field_start) {
                if (fields_reserve(r, (size_t)n))
                    return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory",
                                     r->cr_path);
                r->cr_fields[n] = (char *)(uintptr_t)out; /* offset; fixed up below */
                r->cr_columns[n] = pos + 1;
                n++;
                field_start = 0;
                if (c == '"') { quoted = 1; continue; }
            }
            if (quoted) {
                if (c == '"') {
                    if (pos + 1 < (size_t)len && r->cr_line[pos + 1] == '"') {
                        r->cr_buf[out++] = '"';
                        pos++;
                    } else {
                        quoted = 0;
                    }
                } else {
                    r->cr_buf[out++] = c;
                }
                continue;
            }
            if (c == delim) {
                r->cr_buf[out++] = 0;
                field_start = 1;
                continue;
            }
            if (c == '\r' && (pos + 1 == (size_t)len || r->cr_line[pos + 1] == '\n')) continue;
            if (c == '\n') continue;
            r->cr_buf[out++] = c;
        }
        if (!quoted) break;
        /* Quoted field continues on the next line (its newline was copied above). */
        len = getline(&r->cr_line, &r->cr_line_cap, r->cr_fp);
        if (len < 0)
            return kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                             "%s:%zu: quoted field never closed (unterminated quote)", r->cr_path,
                             start_line);
        r->cr_lineno++;
        pos = 0;
    }
    if (field_start) { /* line ended with a delimiter: one more, empty field */
        if (fields_reserve(r, (size_t)n))
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", r->cr_path);
        r->cr_fields[n] = (char *)(uintptr_t)out;
        r->cr_columns[n] = (size_t)len + 1;
        n++;
    }
    r->cr_buf[out] = 0;
    for (int i = 0; i < n; i++) r->cr_fields[i] = r->cr_buf + (uintptr_t)r->cr_fields[i];
    *nfields = n;
    return KITE_ERR_OK;
}

/* Reads the next non-blank physical row. *nfields == 0 at end of file. */
static kite_err read_row(kite_csv_reader *r, int *nfields, size_t *row_line, char *errstr,
                         size_t errstr_size)
{
    for (;;) {
        ssize_t len = getline(&r->cr_line, &r->cr_line_cap, r->cr_fp);
        if (len < 0) {
            *nfields = 0;
            return KITE_ERR_OK;
        }
        r->cr_lineno++;
        *row_line = r->cr_lineno;
        KITE_TRY(split_row(r, len, nfields, errstr, errstr_size));
        int blank = 1;
        for (int i = 0; i < *nfields && blank; i++) {
            const char *f = r->cr_fields[i];
            /* A field of only commas counts as empty: AirQualityUCI.csv's blank rows are
             * ";;;;;;;;;;;;;;;;,,,,," */
            while (*f == ',' || isspace((unsigned char)*f)) f++;
            if (*f) blank = 0;
        }
        if (!blank) return KITE_ERR_OK;
        if (r->cr_ncols > 0) r->cr_blank++;
    }
}

/* Reads the header row of a reader whose stream is open; frees r on failure. */
static kite_err csv_start(kite_csv_reader *r, kite_csv_reader **out, char *errstr,
                          size_t errstr_size)
{
    const char *path = r->cr_path;
    int n;
    size_t line;
    kite_err err = read_row(r, &n, &line, errstr, errstr_size);
    if (err == KITE_ERR_OK && n == 0)
        err = kite_errf(KITE_ERR_CSV, errstr, errstr_size, "%s:1: empty file, expected a header row",
                        path);
    if (err != KITE_ERR_OK) {
        kite_csv_close(r);
        return err;
    }
    /* Drop trailing empty header fields (";;" at the end of AirQualityUCI.csv's header). */
    while (n > 0 && r->cr_fields[n - 1][0] == 0) n--;
    r->cr_header = calloc((size_t)n + 1, sizeof(char *));
    if (!r->cr_header) {
        err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
        kite_csv_close(r); /* after the message: path is r's */
        return err;
    }
    for (int i = 0; i < n; i++) {
        char *name = strdup(r->cr_fields[i]);
        if (!name) {
            err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
            kite_csv_close(r);
            return err;
        }
        size_t l = strlen(name);
        while (l > 0 && (isspace((unsigned char)name[l - 1]) ||
                         (r->cr_opts.kco_delimiter != ',' && name[l - 1] == ',')))
            name[--l] = 0;
        r->cr_header[i] = name;
    }
    r->cr_ncols = n;
    *out = r;
    return KITE_ERR_OK;
}

static kite_csv_reader *csv_new(const char *name, const kite_csv_options *opts)
{
    kite_csv_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->cr_opts = opts ? *opts : KITE_CSV_OPTIONS_DEFAULT;
    if (!r->cr_opts.kco_delimiter) r->cr_opts.kco_delimiter = ',';
    if (!(r->cr_path = strdup(name))) {
        free(r);
        return NULL;
    }
    return r;
}

kite_err kite_csv_open(const char *path, const kite_csv_options *opts, kite_csv_reader **out,
                       char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_csv_reader *r = csv_new(path, opts);
    if (!r) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    if (!strcmp(path, "-")) {
        r->cr_fp = stdin;
    } else {
        r->cr_fp = fopen(path, "rb");
        r->cr_owns_fp = 1;
    }
    if (!r->cr_fp) {
        kite_err e = kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        r->cr_owns_fp = 0;
        kite_csv_close(r);
        return e;
    }
    return csv_start(r, out, errstr, errstr_size);
}

kite_err kite_csv_open_stream(FILE *fp, const char *name, const kite_csv_options *opts,
                              kite_csv_reader **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_csv_reader *r = csv_new(name, opts);
    if (!r) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", name);
    r->cr_fp = fp; /* the caller's: kite_csv_close leaves it open */
    return csv_start(r, out, errstr, errstr_size);
}

void kite_csv_close(kite_csv_reader *r)
{
    if (!r) return;
    if (r->cr_owns_fp && r->cr_fp) fclose(r->cr_fp);
    if (r->cr_header)
        for (int i = 0; i < r->cr_ncols; i++) free(r->cr_header[i]);
    free(r->cr_header);
    free(r->cr_line);
    free(r->cr_buf);
    free(r->cr_fields);
    free(r->cr_columns);
    free(r->cr_path);
    free(r);
}

kite_err kite_csv_next(kite_csv_reader *r, kite_csv_row *row, char *errstr, size_t errstr_size)
{
    int n;
    size_t line = 0;
    KITE_TRY(read_row(r, &n, &line, errstr, errstr_size));
    row->kcr_nfields = 0;
    if (n == 0) return KITE_ERR_OK;
    for (int i = r->cr_ncols; i < n; i++) {
        const char *f = r->cr_fields[i];
        while (*f == ',' || isspace((unsigned char)*f)) f++;
        if (*f)
            return kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                             "%s:%zu:%zu: %d fields but the header names %d", r->cr_path, line,
                             r->cr_columns[i], n, r->cr_ncols);
    }
    row->kcr_fields = r->cr_fields;
    row->kcr_columns = r->cr_columns;
    row->kcr_nfields = n < r->cr_ncols ? n : r->cr_ncols;
    row->kcr_line = line;
    return KITE_ERR_OK;
}

int kite_csv_is_missing(const kite_csv_options *opts, const char *text)
{
    while (isspace((unsigned char)*text)) text++;
    if (!*text) return 1;
    if (!strcasecmp(text, "NA") || !strcasecmp(text, "NaN") || !strcasecmp(text, "null") ||
        !strcasecmp(text, "N/A"))
        return 1;
    if (opts && opts->kco_missing && *opts->kco_missing) {
        if (!strcmp(text, opts->kco_missing)) return 1;
        /* Also "-200,0" or "-200.0" for a marker of "-200": compare as numbers. */
        char *end1, *end2;
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%s", text);
        if (opts->kco_decimal_comma)
            for (char *p = tmp; *p; p++)
                if (*p == ',') *p = '.';
        double a = kite_num_parse_double(tmp, &end1),
               b = kite_num_parse_double(opts->kco_missing, &end2);
        if (end1 != tmp && !*end1 && end2 != opts->kco_missing && !*end2 && a == b) return 1;
    }
    return 0;
}

int kite_csv_parse_float(const kite_csv_options *opts, const char *text, float *out)
{
    if (kite_csv_is_missing(opts, text)) {
        *out = NAN;
        return 0;
    }
    char tmp[128];
    const char *s = text;
    while (isspace((unsigned char)*s)) s++;
    size_t l = strlen(s);
    while (l > 0 && isspace((unsigned char)s[l - 1])) l--;
    if (l >= sizeof tmp) return -1;
    memcpy(tmp, s, l);
    tmp[l] = 0;
    if (opts && opts->kco_decimal_comma)
        for (char *p = tmp; *p; p++)
            if (*p == ',') *p = '.';
    char *end;
    /* strtod then a cast to float: the value a pandas/numpy float64 column becomes when it is
     * handed to XGBoost as float32, so kite sees what the training pipeline saw (the locale-free
     * parser returns strtod's double bit for bit, loaders/csv/include/kite/num.h). */
    double d = kite_num_parse_double(tmp, &end);
    if (end == tmp || *end) return -1;
    *out = kite_f32(d);
    return 0;
}

void kite_matrix_free(kite_matrix *m)
{
    if (!m) return;
    free(m->kmx_data);
    *m = (kite_matrix){0};
}

/* One field for column j: a number, or (when the model has a category dictionary for
 * feature j) a category coded by it. 0, or -1 with the reason in why. */
int kite_csv_parse_model_value(const kite_csv_options *o, const kite_model *model, int j,
                               const char *text, float *v, char *why, size_t why_size)
{
    static const kite_csv_options defaults = KITE_CSV_OPTIONS_DEFAULT;
    if (!o) o = &defaults;
    const kite_category_dict *d = model && model->km_cats ? &model->km_cats[j] : NULL;
    if (d && d->kcd_count > 0 && !kite_csv_is_missing(o, text)) {
        if (kite_model_category_code(model, j, text, v, why, why_size) == KITE_ERR_OK) return 0;
        return -1;
    }
    if (kite_csv_parse_float(o, text, v)) {
        snprintf(why, why_size, "\"%s\" is not a number", text);
        return -1;
    }
    if (isinf(*v)) { /* "inf", "1e39": refused, as HTTP /predict and the Kafka path do */
        snprintf(why, why_size, "\"%s\" is out of float32 range", text);
        return -1;
    }
    return 0;
}

static kite_err load_matrix(const char *path, const kite_csv_options *opts, char *const *names,
                            int ncols, const kite_model *model, kite_matrix *out, char *errstr,
                            size_t errstr_size)
{
    *out = (kite_matrix){0};
    kite_csv_reader *r;
    KITE_TRY(kite_csv_open(path, opts, &r, errstr, errstr_size));
    int *map = malloc((size_t)(ncols > 0 ? ncols : 1) * sizeof(int));
    if (!map) {
        kite_csv_close(r);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
    }
    kite_err err = KITE_ERR_OK;
    for (int j = 0; j < ncols && err == KITE_ERR_OK; j++) {
        map[j] = names ? kite_csv_find_column(r, names[j]) : j;
        if (names && map[j] < 0)
            err = kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                            "%s:1: no column \"%s\" (the model's feature %d)", path, names[j], j);
        for (int c = map[j] + 1; names && map[j] >= 0 && c < r->cr_ncols && !err; c++)
            if (!strcmp(r->cr_header[c], names[j])) /* as HTTP /predict and Kafka refuse it */
                err = kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                                "%s:1: column \"%s\" given twice", path, names[j]);
        else if (!names && j >= r->cr_ncols)
            err = kite_errf(KITE_ERR_CSV, errstr, errstr_size,
                            "%s:1: %d columns but the model needs %d", path, r->cr_ncols, ncols);
    }
    size_t cap = 0;
    float *data = NULL;
    size_t rows = 0;
    kite_csv_row row;
    while (err == KITE_ERR_OK) {
        err = kite_csv_next(r, &row, errstr, errstr_size);
        if (err != KITE_ERR_OK || row.kcr_nfields == 0) break;
        if (reserve((void **)&data, &cap, (rows + 1) * (size_t)ncols, sizeof(float))) {
            err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", path);
            break;
        }
        for (int j = 0; j < ncols; j++) {
            float v = NAN;
            char why[256];
            if (map[j] < row.kcr_nfields &&
                kite_csv_parse_model_value(&r->cr_opts, model, j, row.kcr_fields[map[j]], &v, why,
                                           sizeof why)) {
                err = kite_errf(KITE_ERR_CSV, errstr, errstr_size, "%s:%zu:%zu: column \"%s\": %s",
                                path, row.kcr_line, row.kcr_columns[map[j]], r->cr_header[map[j]],
                                why);
                break;
            }
            data[rows * (size_t)ncols + (size_t)j] = v;
        }
        rows++;
    }
    free(map);
    kite_csv_close(r);
    if (err != KITE_ERR_OK) {
        free(data);
        return err;
    }
    out->kmx_data = data;
    out->kmx_rows = rows;
    out->kmx_cols = (size_t)ncols;
    return KITE_ERR_OK;
}

kite_err kite_csv_load_matrix(const char *path, const kite_csv_options *opts, char *const *names,
                              int ncols, kite_matrix *out, char *errstr, size_t errstr_size)
{
    return load_matrix(path, opts, names, ncols, NULL, out, errstr, errstr_size);
}

kite_err kite_csv_load_model_rows(const char *path, const kite_csv_options *opts,
                                  const kite_model *model, int by_position, kite_matrix *out,
                                  char *errstr, size_t errstr_size)
{
    return load_matrix(path, opts, by_position ? NULL : model->km_feature_names,
                       model->km_num_feature, model, out, errstr, errstr_size);
}

kite_err kite_csv_load_column(const char *path, const kite_csv_options *opts, const char *name,
                              float **out, size_t *nrows, char *errstr, size_t errstr_size)
{
    kite_matrix m;
    char *names[1] = {(char *)name};
    KITE_TRY(kite_csv_load_matrix(path, opts, names, 1, &m, errstr, errstr_size));
    *out = m.kmx_data;
    *nrows = m.kmx_rows;
    return KITE_ERR_OK;
}
