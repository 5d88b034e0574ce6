/* Category dictionaries (XGBoost 3.1+ `cats`) on the Kafka event path: JSON events holding the
 * training DataFrame's category strings map to the same feature rows `kite score` builds from
 * the CSV (loaders/csv/csv.c) and score to XGBoost's margins bit for bit; an unseen category is a
 * dead-letter reason naming it; an encode table that disagrees with the model's dictionary is
 * refused at load. Model and rows: tests/golden/xgb3/categorical_strings.*. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kite/csv.h>
#include <kite/dispatch.h>
#include "event_map.h"
#include <kite/forest.h>
#include "kite_test.h"
#include <kite/xgb_model.h>

#define DIR "tests/golden/xgb3/"

/* A JSON string of text into *o (names and categories here need only quote and backslash). */
static void json_string(char **o, const char *text)
{
    *(*o)++ = '"';
    for (; *text; text++) {
        if (*text == '"' || *text == '\\') *(*o)++ = '\\';
        *(*o)++ = *text;
    }
    *(*o)++ = '"';
}

static int parse_event(kite_event_json *ev, const char *text)
{
    size_t at;
    return kite__event_json_parse(ev, text, strlen(text), &at);
}

int main(void)
{
    char err[512];
    kite_model m;
    CHECK_MSG(kite_model_load(DIR "categorical_strings.json", &m, err, sizeof err) == KITE_ERR_OK, "%s", err);
    CHECK(m.km_cats != NULL && m.km_cats[1].kcd_count == 12 && m.km_cats[3].kcd_count == 3);
    kite_matrix x, want;
    CHECK_MSG(kite_csv_load_model_rows(DIR "categorical_strings.rows.csv", NULL, &m, 0, &x, err, sizeof err) ==
              KITE_ERR_OK, "%s", err);
    CHECK_MSG(kite_csv_load_matrix(DIR "categorical_strings.margin.csv", NULL, NULL, 1, &want, err, sizeof err) ==
              KITE_ERR_OK, "%s", err);
    kite_event_map *map = NULL;
    CHECK_MSG(kite__event_map_new(&m, NULL, NULL, &map, err, sizeof err) == KITE_ERR_OK, "%s", err);
    kite_forest f;
    CHECK(kite_forest_build(&m, &f, err, sizeof err) == KITE_ERR_OK);

    /* Each CSV row again as a JSON event, categories as strings. */
    kite_csv_reader *r;
    CHECK(kite_csv_open(DIR "categorical_strings.rows.csv", NULL, &r, err, sizeof err) == KITE_ERR_OK);
    kite_csv_row row;
    size_t n = 0, same_rows = 0, same_margins = 0;
    float feat[4], margin;
    kite_event_json ev = {0};
    while (kite_csv_next(r, &row, err, sizeof err) == KITE_ERR_OK && row.kcr_nfields) {
        /* The event's text: numbers as the CSV spells them (read as strtod reads them). */
        char text[4096], *o = text;
        *o++ = '{';
        for (int c = 0; c < row.kcr_nfields && o < text + sizeof text - 512; c++) {
            const char *t = row.kcr_fields[c], *name = kite_csv_column_name(r, c);
            if (c) *o++ = ',';
            json_string(&o, name);
            *o++ = ':';
            if (!*t) o += sprintf(o, "null");
            else if (c == 1 || c == 3) json_string(&o, t);
            else o += sprintf(o, "%s", t);
        }
        *o++ = '}';
        *o = 0;
        CHECK_MSG(parse_event(&ev, text) == 0, "event %zu: %s", n, text);
        int missing, warm;
        kite_err e = kite__event_map_row(map, NULL, &ev, feat, &missing, &warm, err, sizeof err);
        CHECK_MSG(e == KITE_ERR_OK, "event %zu: %s", n, err);
        same_rows += !memcmp(feat, x.kmx_data + n * 4, sizeof feat);
        kite_isa_kernel(KITE_ISA_SCALAR)(&f, feat, 1, 4, &margin);
        same_margins += !memcmp(&margin, &want.kmx_data[n], sizeof margin);
        n++;
    }
    kite_csv_close(r);
    CHECK_MSG(n == 500 && same_rows == n && same_margins == n,
              "%zu events: %zu rows equal the CSV's, %zu margins equal XGBoost's", n, same_rows, same_margins);

    /* An unseen category: a one-line reason naming it (XGBoost 3.x refuses it too). */
    CHECK(parse_event(&ev, "{\"num_a\":0.5,\"color\":\"purple\",\"num_b\":1,\"size\":\"M\"}") == 0);
    int missing, warm;
    CHECK(kite__event_map_row(map, NULL, &ev, feat, &missing, &warm, err, sizeof err) == KITE_ERR_PARSE);
    CHECK_MSG(strstr(err, "\"purple\" is not one of feature color's 12 training categories") != NULL, "%s", err);
    kite__event_json_free(&ev);
    kite__event_map_free(map);

    /* An encode table must agree with the model's dictionary. */
    float red;
    CHECK(kite_model_category_code(&m, 1, "red", &red, err, sizeof err) == KITE_ERR_OK);
    char agree[64], disagree[64];
    snprintf(agree, sizeof agree, "color=red:%g", (double)red);
    snprintf(disagree, sizeof disagree, "color=red:%g", (double)red + 1);
    CHECK_MSG(kite__event_map_new(&m, NULL, agree, &map, err, sizeof err) == KITE_ERR_OK, "%s", err);
    kite__event_map_free(map);
    map = NULL;
    CHECK(kite__event_map_new(&m, NULL, disagree, &map, err, sizeof err) == KITE_ERR_CONFIG);
    CHECK_MSG(strstr(err, "model's own category dictionary") != NULL, "%s", err);
    CHECK(kite__event_map_new(&m, NULL, "color=purple:3", &map, err, sizeof err) == KITE_ERR_CONFIG);

    /* A feature spec whose category map disagrees with the model's dictionary is refused at
     * load; the one that agrees loads. */
    const char *colors[12];
    for (int c = 0; c < 12; c++) colors[c] = m.km_cats[1].kcd_names[c];
    for (int wrong = 0; wrong < 2; wrong++) {
        char spec[4096], path[] = "/tmp/kite_test_categories_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        size_t o = (size_t)snprintf(spec, sizeof spec,
                                    "{\"kite_feature_spec\": 1, \"name\": \"cats\", \"inputs\": ["
                                    "{\"name\": \"num_a\", \"type\": \"number\"},"
                                    "{\"name\": \"color\", \"type\": \"category\", \"unseen\": null, \"map\": {");
        for (int c = 0; c < 12; c++)
            o += (size_t)snprintf(spec + o, sizeof spec - o, "%s\"%s\": %d", c ? "," : "", colors[c],
                                  wrong && c == 3 ? 4 : c);
        o += (size_t)snprintf(spec + o, sizeof spec - o,
                              "}}, {\"name\": \"num_b\", \"type\": \"number\"},"
                              "{\"name\": \"size\", \"type\": \"category\", \"unseen\": null, "
                              "\"map\": {\"%s\": 0, \"%s\": 1, \"%s\": 2}}],"
                              "\"features\": [{\"name\": \"num_a\", \"kind\": \"value\", \"input\": \"num_a\"},"
                              "{\"name\": \"color\", \"kind\": \"value\", \"input\": \"color\"},"
                              "{\"name\": \"num_b\", \"kind\": \"value\", \"input\": \"num_b\"},"
                              "{\"name\": \"size\", \"kind\": \"value\", \"input\": \"size\"}]}",
                              m.km_cats[3].kcd_names[0], m.km_cats[3].kcd_names[1], m.km_cats[3].kcd_names[2]);
        CHECK(write(fd, spec, o) == (ssize_t)o);
        close(fd);
        kite_err e = kite__event_map_new(&m, path, NULL, &map, err, sizeof err);
        if (wrong)
            CHECK_MSG(e != KITE_ERR_OK && strstr(err, "model's own category dictionary codes it 3"),
                      "a disagreeing spec map: %s", err);
        else
            CHECK_MSG(e == KITE_ERR_OK, "an agreeing spec map loads: %s", err);
        if (e == KITE_ERR_OK) kite__event_map_free(map);
        map = NULL;
        unlink(path);
    }

    kite_forest_free(&f);
    kite_matrix_free(&x);
    kite_matrix_free(&want);
    kite_model_free(&m);
    return kt_finish("test_categories");
}
