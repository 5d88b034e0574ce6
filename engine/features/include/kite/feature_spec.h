/* Feature specs: how raw events (CSV rows, JSON events) become a model's feature row.
 *
 * A spec is a JSON file (documented with examples in docs/feature-spec.md) naming the
 * raw input fields with their types, missing markers, categorical maps with an explicit unseen
 * value, the stream key field, the event-time field(s) and format, the warm-up length and the
 * derived features in the model's feature order. engine/features/feature_spec.c reads and checks it;
 * engine/features/features.c keeps the per-key state and computes the features. Both the offline path
 * (`kite featurize`) and the online paths (`kite score --spec`, the stream engine, HTTP) run the
 * same code, so training and serving see the same features. */
#ifndef KITE_FEATURE_SPEC_H
#define KITE_FEATURE_SPEC_H

#include <stddef.h>

#include <kite/error.h>

/* Forward declaration (<kite/model.h>): a spec needs only the model's name. */
typedef struct kite_model kite_model;

typedef struct kite_feature_spec kite_feature_spec;

/* Reads and checks a spec. Errors name the file, the JSON key and why, e.g.
 * "s.json: features[3] (\"co_mean24\"): \"window\" must be an integer in [1, 65536]". */
kite_err kite_feature_spec_load(const char *path, kite_feature_spec **out, char *errstr,
                                size_t errstr_size);
/* Same, from a JSON text; name is used in messages in place of a path. */
kite_err kite_feature_spec_parse(const char *json, size_t len, const char *name,
                                 kite_feature_spec **out, char *errstr, size_t errstr_size);
void kite_feature_spec_free(kite_feature_spec *spec);

int kite_feature_spec_num_inputs(const kite_feature_spec *spec);            /* raw input fields */
const char *kite_feature_spec_input_name(const kite_feature_spec *spec, int i);
int kite_feature_spec_input_index(const kite_feature_spec *spec, const char *name); /* -1 if none */
int kite_feature_spec_num_outputs(const kite_feature_spec *spec);           /* model features */
const char *kite_feature_spec_output_name(const kite_feature_spec *spec, int j);
const char *kite_feature_spec_key_field(const kite_feature_spec *spec);     /* NULL: one stream */
/* Checks output order == model feature_names; errstr names the first mismatch. */
kite_err kite_feature_spec_check_model(const kite_feature_spec *spec, const kite_model *model,
                                       char *errstr, size_t errstr_size);

/* CSV dialect the spec declares for its raw files ("csv": {...}); kite featurize and
 * kite score --spec read raw files with it. */
char kite_feature_spec_csv_delimiter(const kite_feature_spec *spec);
int kite_feature_spec_csv_decimal_comma(const kite_feature_spec *spec);
/* Warm-up length in events per key (0: none) and the spec's default maximum number of keys. */
int kite_feature_spec_warmup(const kite_feature_spec *spec);
size_t kite_feature_spec_max_keys(const kite_feature_spec *spec);

/* Missing values: empty, NA, NaN, nan, null, NULL and the spec's "missing" markers (as text,
 * or as numbers: a marker "-200" also matches the number -200). */
int kite_feature_spec_text_is_missing(const kite_feature_spec *spec, const char *text, size_t len);
int kite_feature_spec_number_is_missing(const kite_feature_spec *spec, double v);

/* 1 if the spec keeps per-key state between events (a lag or rolling window, a warm-up or an
 * event time), so a stream must route each key's events to one place and rebuild it. */
int kite_feature_spec_keeps_state(const kite_feature_spec *spec);
/* Text to number with the spec's decimal comma (surrounding blanks allowed); returns -1 if the
 * text is not a finite number. Does not check missing markers. */
int kite_feature_spec_text_number(const kite_feature_spec *spec, const char *text, size_t len,
                                  double *out);

/* One raw input value, as parsed from a CSV field or a JSON event. */
typedef enum { KITE_RAW_ABSENT = 0, KITE_RAW_NUMBER = 1, KITE_RAW_TEXT = 2 } kite_raw_kind;
typedef struct kite_raw_value {
    kite_raw_kind kind;
    double number;    /* KITE_RAW_NUMBER                                              */
    const char *text; /* KITE_RAW_TEXT: not NUL-terminated, text_len bytes             */
    size_t text_len;
} kite_raw_value;

#endif
