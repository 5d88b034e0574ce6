/* CSV loader: dialects, missing markers, AirQualityUCI.csv as it is, errors with positions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kite/csv.h>
#include "kite_test.h"

static const char *write_tmp(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/kite_test_csv_%d_%s", (int)getpid(), name);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void test_quoting_and_missing(void)
{
    const char *p = write_tmp("q.csv", "id,name,x,y\r\n"
                                       "1,\"Braund, Mr. Owen\",1.5,NA\r\n"
                                       "2,\"say \"\"hi\"\"\",,-200\r\n"
                                       "3,\"two\nlines\",NaN,7\r\n");
    kite_csv_options o = KITE_CSV_OPTIONS_DEFAULT;
    o.kco_missing = "-200";
    char err[256];
    kite_csv_reader *r;
    CHECK(kite_csv_open(p, &o, &r, err, sizeof err) == KITE_ERR_OK);
    CHECK(kite_csv_num_columns(r) == 4);
    CHECK(kite_csv_find_column(r, "y") == 3);
    kite_csv_row row;
    CHECK(kite_csv_next(r, &row, err, sizeof err) == KITE_ERR_OK && row.kcr_nfields == 4);
    CHECK(!strcmp(row.kcr_fields[1], "Braund, Mr. Owen"));
    CHECK(!strcmp(row.kcr_fields[3], "NA"));
    CHECK(kite_csv_next(r, &row, err, sizeof err) == KITE_ERR_OK);
    CHECK(!strcmp(row.kcr_fields[1], "say \"hi\""));
    CHECK(row.kcr_line == 3);
    CHECK(kite_csv_next(r, &row, err, sizeof err) == KITE_ERR_OK);
    CHECK(!strcmp(row.kcr_fields[1], "two\nlines"));
    CHECK(kite_csv_next(r, &row, err, sizeof err) == KITE_ERR_OK && row.kcr_nfields == 0);
    kite_csv_close(r);

    char *names[] = {"y", "x"};
    kite_matrix m;
    CHECK(kite_csv_load_matrix(p, &o, names, 2, &m, err, sizeof err) == KITE_ERR_OK);
    CHECK(m.kmx_rows == 3 && m.kmx_cols == 2);
    CHECK(isnan(m.kmx_data[0]) && m.kmx_data[1] == 1.5f);
    CHECK(isnan(m.kmx_data[2]) && isnan(m.kmx_data[3])); /* -200 marker, empty */
    CHECK(m.kmx_data[4] == 7.0f && isnan(m.kmx_data[5]));
    kite_matrix_free(&m);
}

static void test_errors(void)
{
    char err[256];
    kite_matrix m;
    const char *p = write_tmp("bad.csv", "a,b\n1,2\n3,x7\n");
    char *names[] = {"a", "b"};
    CHECK(kite_csv_load_matrix(p, NULL, names, 2, &m, err, sizeof err) == KITE_ERR_CSV);
    CHECK_MSG(strstr(err, ":3:3: column \"b\": \"x7\" is not a number") != NULL, "%s", err);

    char *missing[] = {"a", "zz"};
    CHECK(kite_csv_load_matrix(p, NULL, missing, 2, &m, err, sizeof err) == KITE_ERR_CSV);
    CHECK_MSG(strstr(err, "no column \"zz\"") != NULL, "%s", err);

    p = write_tmp("quote.csv", "a,b\n1,\"open\n");
    CHECK(kite_csv_load_matrix(p, NULL, names, 2, &m, err, sizeof err) == KITE_ERR_CSV);
    CHECK_MSG(strstr(err, ":2: quoted field never closed") != NULL, "%s", err);

    p = write_tmp("wide.csv", "a,b\n1,2,3\n");
    CHECK(kite_csv_load_matrix(p, NULL, names, 2, &m, err, sizeof err) == KITE_ERR_CSV);
    CHECK_MSG(strstr(err, ":2:5: 3 fields but the header names 2") != NULL, "%s", err);

    p = write_tmp("empty.csv", "");
    CHECK(kite_csv_load_matrix(p, NULL, names, 2, &m, err, sizeof err) == KITE_ERR_CSV);
    CHECK(kite_csv_load_matrix("/nonexistent/x.csv", NULL, names, 2, &m, err, sizeof err) ==
          KITE_ERR_IO);
}

/* AirQualityUCI.csv exactly as UCI ships it: ';', decimal commas, -200 for missing, a header
 * ending "AH,,,,,", trailing ";;" on rows and ~100 blank ";;;;" rows at the end. */
static void test_air_quality(void)
{
    kite_csv_options o = {';', 1, "-200"};
    char err[256];
    char *names[] = {"CO(GT)", "PT08.S1(CO)", "NMHC(GT)", "C6H6(GT)", "T", "RH", "AH"};
    kite_matrix m;
    kite_err e = kite_csv_load_matrix("data/AirQualityUCI.csv", &o, names, 7, &m, err, sizeof err);
    CHECK_MSG(e == KITE_ERR_OK, "%s", err);
    if (e != KITE_ERR_OK) return;
    CHECK_MSG(m.kmx_rows == 9357, "rows %zu", m.kmx_rows);
    /* First row: 10/03/2004;18.00.00;2,6;1360;150;11,9;...;13,6;48,9;0,7578 */
    CHECK(m.kmx_data[0] == 2.6f && m.kmx_data[1] == 1360.0f && m.kmx_data[2] == 150.0f);
    CHECK(m.kmx_data[3] == 11.9f && m.kmx_data[4] == 13.6f && m.kmx_data[6] == 0.7578f);
    size_t missing_co = 0;
    for (size_t r = 0; r < m.kmx_rows; r++) missing_co += isnan(m.kmx_data[r * 7]);
    CHECK_MSG(missing_co == 1683, "missing CO(GT) %zu", missing_co); /* awk: 1592 "-200" + 91 "-200,0" */
    kite_matrix_free(&m);
}

int main(void)
{
    test_quoting_and_missing();
    test_errors();
    test_air_quality();
    return kt_finish("test_csv");
}
