/* libFuzzer target: arbitrary bytes as a reference profile (kite profile's JSON). Loading must
 * either fail with a message or give a profile a drift monitor can run on: a few hundred rows
 * observed and checked without any sanitizer report. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <kite/drift.h>
#include <kite/profile.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kite_profile p;
    char err[512];
    if (kite_profile_parse((const char *)data, size, "fuzz", &p, err, sizeof err) != KITE_ERR_OK) return 0;
    kite_drift_config c;
    kite_drift_config_default(&c);
    c.kdc_windows[0] = (kite_drift_window_config){"s", KITE_WINDOW_SLIDING, 100, 20, 0, 0};
    c.kdc_windows[1] = (kite_drift_window_config){"t", KITE_WINDOW_TUMBLING, 50, 0, 0, 0};
    c.kdc_nwindows = 2;
    kite_drift_monitor *m = NULL;
    int nf = kite_profile_num_features(&p);
    if (nf > 0 && nf < 4096 && kite_drift_monitor_new(&p, &c, &m, err, sizeof err) == KITE_ERR_OK) {
        float *rows = malloc((size_t)nf * 64 * sizeof *rows), pred[64];
        for (int b = 0; rows && b < 5; b++) {
            for (int r = 0; r < 64; r++) {
                for (int j = 0; j < nf; j++)
                    rows[(size_t)r * (size_t)nf + (size_t)j] = (r + j) % 11 == 0 ? NAN : (float)((r * 7 + j * 3 + b) % 40) - 5;
                pred[r] = (float)(r % 10) / 10.0f;
            }
            kite_drift_observe(m, rows, 64, (size_t)nf, pred, NULL);
            kite_drift_event ev[64];
            while (kite_drift_events(m, ev, 64)) {
            }
        }
        kite_drift_flush(m);
        free(rows);
        kite_drift_monitor_free(m);
    }
    kite_profile_free(&p);
    return 0;
}
