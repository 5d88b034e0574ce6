/* libFuzzer target: arbitrary bytes as a feature spec. Parsing must either fail with a message
 * or give a spec whose state then takes a stream of events (numbers, texts, gaps, repeats,
 * missing values, several keys, times going back) without any sanitizer report: the feature
 * engine must hold for every window, lag and encoding a spec can ask for. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/feature_spec.h>
#include <kite/feature_state.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kite_feature_spec *spec = NULL;
    char err[512];
    if (kite_feature_spec_parse((const char *)data, size, "fuzz", &spec, err, sizeof err) != KITE_ERR_OK)
        return 0;
    kite_feature_state *st = NULL;
    if (kite_feature_state_new(spec, 4, &st, err, sizeof err) == KITE_ERR_OK) {
        int nin = kite_feature_spec_num_inputs(spec), nout = kite_feature_spec_num_outputs(spec);
        kite_raw_value *in = calloc((size_t)(nin > 0 ? nin : 1), sizeof *in);
        float *row = malloc((size_t)(nout > 0 ? nout : 1) * sizeof *row);
        static const char *const texts[] = {"male", "female", "", "NA", "-200", "2004-03-10T18:00:00",
                                            "10/03/2004 18.00.00", "1078941600", "k1", "k2", "x"};
        char num[32];
        for (int e = 0; in && row && e < 300; e++) {
            for (int i = 0; i < nin; i++) {
                unsigned r = (unsigned)(e * 31 + i * 7) % 13;
                if (r < 6) {
                    in[i] = (kite_raw_value){KITE_RAW_NUMBER, (double)((e * 3 + i) % 50) - 7.5, NULL, 0};
                } else if (r < 8) {
                    /* Epoch-like and hour-stepped values, sometimes going back or repeating. */
                    snprintf(num, sizeof num, "%d", 1078941600 + 3600 * (e - (e % 17 == 0 ? 5 : 0)));
                    in[i] = (kite_raw_value){KITE_RAW_TEXT, 0, num, strlen(num)};
                } else if (r < 12) {
                    const char *t = texts[(e + i) % (sizeof texts / sizeof texts[0])];
                    in[i] = (kite_raw_value){KITE_RAW_TEXT, 0, t, strlen(t)};
                } else {
                    in[i] = (kite_raw_value){KITE_RAW_ABSENT, 0, NULL, 0};
                }
                if (e % 23 == 0) in[i] = (kite_raw_value){KITE_RAW_NUMBER, NAN, NULL, 0};
            }
            kite_features_status status;
            kite_features_prefetch(st, in);
            (void)kite_features_update(st, in, row, &status, err, sizeof err);
        }
        free(in);
        free(row);
        kite_feature_state_free(st);
    }
    kite_feature_spec_free(spec);
    return 0;
}
