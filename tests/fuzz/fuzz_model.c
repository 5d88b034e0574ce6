/* libFuzzer target: arbitrary bytes as a model file (JSON or UBJSON). Loading must either fail
 * with a message or produce a model whose forest scores a row without any sanitizer report. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <kite/dispatch.h>
#include <kite/xgb_model.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kite_model m;
    char err[512];
    if (kite_model_load_buffer("fuzz", data, size, &m, err, sizeof err) != KITE_ERR_OK) return 0;
    kite_forest f;
    if (kite_forest_build(&m, &f, err, sizeof err) == KITE_ERR_OK) {
        float *row = malloc((size_t)m.km_num_feature * sizeof(float));
        float *out = malloc((size_t)m.km_num_group * sizeof(float));
        if (row && out) {
            for (int32_t j = 0; j < m.km_num_feature; j++) row[j] = (j % 3 == 0) ? NAN : (float)j;
            kite_forest_predict(&f, row, 1, (size_t)m.km_num_feature, out, 0);
        }
        free(row);
        free(out);
        kite_forest_free(&f);
    }
    kite_model_free(&m);
    return 0;
}
