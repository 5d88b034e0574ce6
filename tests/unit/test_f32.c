/* kite_f32 (kernels/base/include/kite/f32.h): double -> float32 as IEEE 754 rounds it, defined for every double
 * (a plain C cast is undefined beyond float's range), and the CSV loader's use of it. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <kite/csv.h>
#include <kite/f32.h>
#include "kite_test.h"

int main(void)
{
    CHECK(kite_f32(1.5) == 1.5f);
    CHECK(kite_f32(0.1) == 0.1f); /* nearest float, as the plain cast */
    CHECK(kite_f32(-0.0) == 0.0f && signbit(kite_f32(-0.0)));
    CHECK(isnan(kite_f32(NAN)));
    CHECK(kite_f32(INFINITY) == INFINITY && kite_f32(-INFINITY) == -INFINITY);
    CHECK(kite_f32(1e300) == INFINITY && kite_f32(-1e300) == -INFINITY);
    CHECK(kite_f32((double)FLT_MAX) == FLT_MAX);
    /* Above FLT_MAX but below the midpoint to 2^128: rounds down to FLT_MAX. */
    CHECK(kite_f32(0x1.fffffefp127) == FLT_MAX && kite_f32(-0x1.fffffefp127) == -FLT_MAX);
    /* The midpoint ties to even: infinity (FLT_MAX's significand is odd). */
    CHECK(kite_f32(0x1.ffffffp127) == INFINITY);
    CHECK(kite_f32(1e-50) == 0.0f);               /* underflow to zero, as the cast */
    CHECK(kite_f32(0x1p-149) == 0x1p-149f);       /* the smallest subnormal survives */
    /* The array form (the feature rows' hot loop) gives the same answers. */
    const double in[6] = {1.5, 1e300, -1e300, 0x1.fffffefp127, NAN, 0.1};
    float out[6];
    kite_f32_array(in, out, 6);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(memcmp(&out[i], &(float){kite_f32(in[i])}, sizeof(float)) == 0 || (isnan(out[i]) && isnan(in[i])),
                  "kite_f32_array[%d] = %g, kite_f32 = %g", i, (double)out[i], (double)kite_f32(in[i]));
    CHECK(kite_int_clamp(1e300, 0, 100) == 100 && kite_int_clamp(-1e300, 0, 100) == 0);
    CHECK(kite_int_clamp(NAN, 0, 100) == 0 && kite_int_clamp(7.9, 0, 100) == 7);

    /* A CSV number beyond float32 is refused, naming the cell (docs/bad-input.md: the same
     * rule as POST /predict and the Kafka path); FLT_MAX itself loads. */
    const char *path = "/tmp/kite_test_f32.csv";
    const char *rows[] = {"a,b,c\n1e300,1,2\n", "a,b,c\n1,-1e300,2\n", "a,b,c\n1,2,3.4028235e38\n"};
    for (int r = 0; r < 3; r++) {
        FILE *fp = fopen(path, "w");
        CHECK(fp != NULL);
        if (!fp) break;
        fputs(rows[r], fp);
        fclose(fp);
        kite_matrix x = {0};
        char err[256] = "";
        kite_err e = kite_csv_load_matrix(path, NULL, NULL, 3, &x, err, sizeof err);
        if (r < 2) {
            CHECK_MSG(e != KITE_ERR_OK && strstr(err, "out of float32 range") &&
                          strstr(err, r ? "column \"b\"" : "column \"a\""), "%s", err);
        } else {
            CHECK_MSG(e == KITE_ERR_OK, "%s", err);
            if (!e) CHECK(x.kmx_data[2] == FLT_MAX);
        }
        if (!e) kite_matrix_free(&x);
    }
    remove(path);
    return kt_finish("test_f32");
}
