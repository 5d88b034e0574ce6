/* libFuzzer target: arbitrary bytes as one Kafka event, through the Kafka path's own steps
 * (kite__event_map_parse, kite__event_map_row, the forest): every input must end as exactly one of
 *   - a dead letter: a non-empty one-line reason (the worker writes it to the dead-letter topic);
 *   - a prediction: a row of floats, each finite or NaN (missing), and a finite prediction.
 * Anything else (no reason on refusal, an infinite feature value scored, a NaN prediction, a
 * crash) aborts. data[0] picks the mapping: bit 0 the Titanic feature spec (keyed state, raw
 * inputs) or the direct mapping by the model's feature names; bit 1 (direct) adds an encode table. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kite/dispatch.h>
#include "event_map.h"
#include <kite/forest.h>
#include <kite/xgb_model.h>

static kite_model model;
static kite_forest forest;
static kite_event_map *maps[3];      /* direct, spec, direct + encode */
static kite_event_state *states[3];
static kite_event_json ev;

static void setup(void)
{
    char err[512];
    if (kite_model_load("models/titanic.json", &model, err, sizeof err) ||
        kite_forest_build(&model, &forest, err, sizeof err) ||
        kite__event_map_new(&model, NULL, NULL, &maps[0], err, sizeof err) ||
        kite__event_map_new(&model, "models/titanic.spec.json", NULL, &maps[1], err, sizeof err) ||
        kite__event_map_new(&model, NULL, "Sex=male:0,female:1", &maps[2], err, sizeof err))
        abort(); /* run from the repository root */
    for (int i = 0; i < 3; i++)
        if (kite__event_state_new(maps[i], &states[i], err, sizeof err)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!maps[0]) setup();
    if (size < 1) return 0;
    int which = data[0] & 1 ? 1 : (data[0] & 2 ? 2 : 0);
    const kite_event_map *m = maps[which];
    float row[64];
    int nf = kite__event_map_num_features(m), missing = -1, warming = -1;
    if (nf > 64) abort();
    char reason[256];
    reason[0] = 0;
    kite_err err = kite__event_map_parse(&ev, data + 1, size - 1, reason, sizeof reason);
    if (!err)
        err = kite__event_map_row(m, states[which], &ev, row, &missing, &warming, reason, sizeof reason);
    if (err) { /* a dead letter: it must say why, on one line */
        if (!reason[0] || strchr(reason, '\n')) abort();
        return 0;
    }
    if (missing < 0 || missing > nf || (warming != 0 && warming != 1)) abort();
    int nan = 0;
    for (int f = 0; f < nf; f++) {
        if (isinf(row[f])) abort(); /* out of float range must be refused, not scored */
        nan += isnan(row[f]);
    }
    if (nan != missing) abort();
    float margin[8];
    kite_forest_predict(&forest, row, 1, (size_t)nf, margin, 1);
    kite_forest_transform(&forest, margin, 1);
    if (!isfinite(margin[0])) abort();
    return 0;
}
