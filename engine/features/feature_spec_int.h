/* Private to kite_features (engine/features/), not installed.
 * The checked, resolved form of a feature spec, shared by engine/features/feature_spec.c (which fills
 * it) and engine/features/features.c (which runs it). Not part of the public API.
 *
 * Everything the hot path needs is resolved at load time: input names become indices, each
 * input that needs history gets a ring (length a power of two >= its longest look-back + 1),
 * each distinct (input, window, shift) of the rolling features shares one window accumulator,
 * and cyclical encodings become small sin/cos tables. */
#ifndef KITE_FEATURE_SPEC_INT_H
#define KITE_FEATURE_SPEC_INT_H

#include <stdint.h>

#include <kite/event_time.h>
#include <kite/feature_spec.h>

#define KITE_SPEC_MAX_WINDOW 65536 /* longest window / lag / shift, in events         */
#define KITE_SPEC_MAX_CATS 4096    /* categories of one categorical input             */
#define KITE_SPEC_MAX_FEATURES 100000

typedef enum kite_input_type {
    KITE_INPUT_NUMBER,   /* numbers (text parsed with the spec's decimal comma)        */
    KITE_INPUT_CATEGORY, /* text looked up in ksi_cat_*, unseen -> ksi_unseen          */
    KITE_INPUT_TEXT      /* key and event-time fields: never a number                  */
} kite_input_type;

typedef struct kite_spec_input {
    char *ksi_name;
    kite_input_type ksi_type;
    int ksi_num_cats;
    char **ksi_cat_names;    /* category texts                                          */
    size_t *ksi_cat_lens;
    double *ksi_cat_nums;    /* the category text as a number (NaN if it is not one)    */
    double *ksi_cat_values;  /* what each category encodes to                           */
    double ksi_unseen;       /* value for a category not in the map (NaN: missing)      */
    int ksi_ring;            /* index into ksp_rings, or -1 (no history kept)            */
} kite_spec_input;

typedef enum kite_feature_kind {
    KITE_FEAT_VALUE,   /* the input itself (after impute / standardize)               */
    KITE_FEAT_LAG,     /* x[t - lag]                                                   */
    KITE_FEAT_DIFF,    /* x[t-s] - x[t-s-1]                                            */
    KITE_FEAT_DIFF2,   /* (x[t-s] - x[t-s-1]) - (x[t-s-1] - x[t-s-2])                   */
    KITE_FEAT_MEAN,    /* rolling over x[t-s-w+1 .. t-s], missing values skipped        */
    KITE_FEAT_STD,     /* sample std (ddof 1), needs >= 2 values                        */
    KITE_FEAT_MIN,
    KITE_FEAT_MAX,
    KITE_FEAT_SUM,
    KITE_FEAT_COUNT,   /* number of non-missing values in the window                    */
    KITE_FEAT_RATIO,   /* a / b (missing when b == 0)                                   */
    KITE_FEAT_PRODUCT, /* a * b                                                         */
    KITE_FEAT_CYCLIC   /* sin or cos of the event time's hour / weekday / month         */
} kite_feature_kind;

typedef enum kite_time_unit { KITE_UNIT_HOUR, KITE_UNIT_WEEKDAY, KITE_UNIT_MONTH } kite_time_unit;

typedef struct kite_spec_feature {
    char *ksf_name;
    kite_feature_kind ksf_kind;
    int ksf_input;         /* input index (a for ratio/product)                        */
    int ksf_input_b;       /* b for ratio/product, else -1                             */
    int ksf_lag;           /* lag, or the shift of diff/diff2/rolling                  */
    int ksf_window;        /* rolling window in events                                 */
    int ksf_acc;           /* index into ksp_accs for rolling kinds, else -1            */
    kite_time_unit ksf_unit;
    int ksf_cos;           /* cyclic: 1 cos, 0 sin                                     */
    double ksf_impute;     /* replaces a missing result; NaN: stays missing            */
    double ksf_center;     /* standardize: (v - center) / scale; 0 / 1 when absent     */
    double ksf_scale;
} kite_spec_feature;

/* One rolling window shared by every rolling feature on the same (input, window, shift). */
typedef struct kite_spec_acc {
    int ksa_input;
    int ksa_ring;
    int ksa_window;
    int ksa_shift;
    int ksa_want_var;      /* a std feature uses it: keep Welford M2                   */
    int ksa_want_min;      /* keep the window's min (features_window.h)                */
    int ksa_want_max;
} kite_spec_acc;

typedef struct kite_spec_ring {
    int ksr_input;
    uint32_t ksr_len;      /* power of two > longest look-back                          */
} kite_spec_ring;

typedef enum kite_order_policy { KITE_ORDER_REJECT, KITE_ORDER_ACCEPT } kite_order_policy;

struct kite_feature_spec {
    char *ksp_path;
    char ksp_delimiter;
    int ksp_decimal_comma;
    int ksp_num_missing;
    char **ksp_missing;          /* extra missing markers ("-200"); empty/NA/NaN/null always */
    double *ksp_missing_nums;    /* each marker as a number (NaN if it is not one)          */
    int ksp_key_input;           /* -1: one stream                                          */
    kite_time_format ksp_time_format;
    char *ksp_time_pattern;
    int ksp_time_inputs[2];      /* one or two fields, joined by one space when two; -1     */
    int64_t ksp_step_ms;         /* expected spacing of events; 0: unknown                  */
    int ksp_fill_gaps;           /* 1: a gap of k steps pushes k-1 all-missing events        */
    kite_order_policy ksp_on_duplicate;
    kite_order_policy ksp_on_out_of_order;
    int ksp_warmup;
    size_t ksp_max_keys;
    int ksp_evict;           /* "when_full": "evict": a new key replaces the least recently seen */
    int ksp_num_inputs;
    kite_spec_input *ksp_inputs;
    int ksp_num_features;
    kite_spec_feature *ksp_features;
    int ksp_num_accs;
    kite_spec_acc *ksp_accs;
    int ksp_num_rings;
    kite_spec_ring *ksp_rings;
    int ksp_max_lookback;        /* longest look-back of any ring (bounds gap filling)      */
    double ksp_cyc_table[3][2][24]; /* [unit][cos][value]: sin/cos(2*pi*v/period)            */
};

/* Errors are one line: control characters that came from user text (a JSON key with "\n", a
 * quoted CSV field with a line break) are replaced by '?'. */
static inline void kite_spec_one_line(char *errstr)
{
    for (; errstr && *errstr; errstr++)
        if ((unsigned char)*errstr < 0x20 || *errstr == 0x7f) *errstr = '?';
}

/* kite_feature_spec_number_is_missing, inlined for the per-event path. */
static inline int kite_spec_number_missing(const kite_feature_spec *s, double v)
{
    if (v != v) return 1;
    for (int i = 0; i < s->ksp_num_missing; i++)
        if (v == s->ksp_missing_nums[i]) return 1;
    return 0;
}

#endif
