/* No heap allocation per event after warm-up: counts every malloc/calloc/realloc/aligned_alloc
 * (tests/support/alloc_count.h interposes them) around kite_features_update calls on warm keys, for
 * plain events, gap fills, rejected duplicates and bad values. A new key costs at most one
 * allocation (a chunk of key slots). Not under ASan (it owns malloc): label no_asan. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc_count.h"
#include <kite/feature_state.h>
#include "kite_test.h"

int main(void)
{
    const char *json =
        "{\"inputs\": [{\"name\": \"x\"}, {\"name\": \"c\", \"type\": \"category\", \"map\": {\"a\": 1},"
        "  \"unseen\": 0}], \"key\": \"k\", \"max_keys\": 64,"
        " \"time\": {\"field\": \"ts\", \"format\": \"epoch\", \"step_seconds\": 60, \"gaps\": \"fill\"},"
        " \"features\": [{\"name\": \"lag3\", \"kind\": \"lag\", \"input\": \"x\", \"lag\": 3},"
        "  {\"name\": \"m\", \"kind\": \"rolling_mean\", \"input\": \"x\", \"window\": 24},"
        "  {\"name\": \"s\", \"kind\": \"rolling_std\", \"input\": \"x\", \"window\": 24, \"shift\": 1},"
        "  {\"name\": \"lo\", \"kind\": \"rolling_min\", \"input\": \"x\", \"window\": 10},"
        "  {\"name\": \"hi\", \"kind\": \"rolling_max\", \"input\": \"x\", \"window\": 10},"
        "  {\"name\": \"d2\", \"kind\": \"diff2\", \"input\": \"x\"},"
        "  {\"name\": \"c\", \"kind\": \"value\", \"input\": \"c\", \"impute\": 5},"
        "  {\"name\": \"h\", \"kind\": \"cyclic\", \"unit\": \"hour\", \"fn\": \"cos\"}]}";
    char err[512];
    kite_feature_spec *spec = NULL;
    kite_feature_state *st = NULL;
    CHECK(!kite_feature_spec_parse(json, strlen(json), "t.json", &spec, err, sizeof err));
    CHECK(spec && !kite_feature_state_new(spec, 0, &st, err, sizeof err));
    if (!st) return kt_finish("test_features_alloc");
    int ix = kite_feature_spec_input_index(spec, "x"), ic = kite_feature_spec_input_index(spec, "c");
    int ik = kite_feature_spec_input_index(spec, "k"), it = kite_feature_spec_input_index(spec, "ts");
    kite_raw_value in[4];
    float out[8];
    char keys[16][8];
    for (int k = 0; k < 16; k++) snprintf(keys[k], sizeof keys[k], "key%d", k);
    kite_features_status status;
    unsigned long before = 0;
    int failed = 0;
    for (int e = 0; e < 16 * 400; e++) {
        int k = e % 16, step = e / 16;
        if (e == 16 * 100) before = kite_alloc_calls; /* every key has 100 events: warm */
        in[ix] = (kite_raw_value){KITE_RAW_NUMBER, (double)((e * 7919) % 113) - 50, NULL, 0};
        in[ic] = (kite_raw_value){KITE_RAW_TEXT, 0, (e % 3) ? "a" : "zz", (e % 3) ? 1 : 2};
        in[ik] = (kite_raw_value){KITE_RAW_TEXT, 0, keys[k], strlen(keys[k])};
        /* every 50th step of key 3 skips 5 minutes: a gap fill */
        double ts = 1e9 + 60.0 * step + (k == 3 ? 300.0 * (step / 50) : 0);
        in[it] = (kite_raw_value){KITE_RAW_NUMBER, ts, NULL, 0};
        failed += kite_features_update(st, in, out, &status, err, sizeof err) != KITE_ERR_OK;
        if (e >= 16 * 100 && e % 97 == 0) { /* rejected: duplicate time, then a bad value */
            failed += kite_features_update(st, in, out, &status, err, sizeof err) != KITE_ERR_STATE;
            in[it].number += 30;
            in[ix] = (kite_raw_value){KITE_RAW_TEXT, 0, "x1", 2};
            failed += kite_features_update(st, in, out, &status, err, sizeof err) != KITE_ERR_PARSE;
        }
    }
    unsigned long steady = kite_alloc_calls - before;
    CHECK_MSG(failed == 0, "%d events did not give the expected result (last: %s)", failed, err);
    CHECK_MSG(steady == 0, "%lu heap allocations in %d events after warm-up", steady, 16 * 300);
    /* a new key: at most one allocation (a chunk of slots, when the last one is full) */
    before = kite_alloc_calls;
    in[ik] = (kite_raw_value){KITE_RAW_TEXT, 0, "new", 3};
    in[ix] = (kite_raw_value){KITE_RAW_NUMBER, 1, NULL, 0};
    CHECK(!kite_features_update(st, in, out, &status, err, sizeof err));
    CHECK_MSG(kite_alloc_calls - before <= 1, "new key: %lu allocations", kite_alloc_calls - before);
    /* the counter counts: the state's own construction allocates */
    before = kite_alloc_calls;
    kite_feature_state *st2 = NULL;
    CHECK(!kite_feature_state_new(spec, 0, &st2, err, sizeof err) && kite_alloc_calls > before);
    kite_feature_state_free(st2);
    kite_feature_state_free(st);
    kite_feature_spec_free(spec);
    return kt_finish("test_features_alloc");
}
