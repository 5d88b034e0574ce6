/* What the rest of kite asks of a resolved feature spec: its inputs and outputs by index and
 * name, the CSV dialect, warm-up and key limits, and how a value reads as missing or as a
 * number. Apart from the reader (feature_spec.c) because the features array's reader
 * (feature_spec_features.c) looks inputs up by name, and feature_spec.c calls it: with the
 * queries in feature_spec.c the two files called each other (check_no_cycles). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "feature_spec_int.h"

int kite_feature_spec_num_inputs(const kite_feature_spec *s) { return s->ksp_num_inputs; }
const char *kite_feature_spec_input_name(const kite_feature_spec *s, int i)
{
    return i >= 0 && i < s->ksp_num_inputs ? s->ksp_inputs[i].ksi_name : NULL;
}
int kite_feature_spec_input_index(const kite_feature_spec *s, const char *name)
{
    for (int i = 0; i < s->ksp_num_inputs; i++)
        if (!strcmp(s->ksp_inputs[i].ksi_name, name)) return i;
    return -1;
}
int kite_feature_spec_num_outputs(const kite_feature_spec *s) { return s->ksp_num_features; }
const char *kite_feature_spec_output_name(const kite_feature_spec *s, int j)
{
    return j >= 0 && j < s->ksp_num_features ? s->ksp_features[j].ksf_name : NULL;
}
const char *kite_feature_spec_key_field(const kite_feature_spec *s)
{
    return s->ksp_key_input >= 0 ? s->ksp_inputs[s->ksp_key_input].ksi_name : NULL;
}
char kite_feature_spec_csv_delimiter(const kite_feature_spec *s) { return s->ksp_delimiter; }
int kite_feature_spec_csv_decimal_comma(const kite_feature_spec *s) { return s->ksp_decimal_comma; }
int kite_feature_spec_warmup(const kite_feature_spec *s) { return s->ksp_warmup; }
size_t kite_feature_spec_max_keys(const kite_feature_spec *s) { return s->ksp_max_keys; }

int kite_feature_spec_text_is_missing(const kite_feature_spec *s, const char *t, size_t n)
{
    if (n == 0) return 1;
    if ((n == 2 && !strncmp(t, "NA", 2)) || (n == 3 && (!strncmp(t, "NaN", 3) || !strncmp(t, "nan", 3))) ||
        (n == 4 && (!strncmp(t, "null", 4) || !strncmp(t, "NULL", 4))))
        return 1;
    for (int i = 0; i < s->ksp_num_missing; i++)
        if (strlen(s->ksp_missing[i]) == n && !memcmp(s->ksp_missing[i], t, n)) return 1;
    return 0;
}

int kite_feature_spec_keeps_state(const kite_feature_spec *s)
{
    return s && (s->ksp_num_rings || s->ksp_num_accs || s->ksp_warmup || s->ksp_time_format != KITE_TIME_NONE);
}

int kite_feature_spec_number_is_missing(const kite_feature_spec *s, double v)
{
    if (v != v) return 1;
    for (int i = 0; i < s->ksp_num_missing; i++)
        if (v == s->ksp_missing_nums[i]) return 1;
    return 0;
}

int kite_feature_spec_text_number(const kite_feature_spec *s, const char *t, size_t n, double *out)
{
    char buf[64];
    if (n >= sizeof buf) return -1;
    size_t b = 0, e = n;
    while (b < e && (t[b] == ' ' || t[b] == '\t')) b++;
    while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r')) e--;
    if (b == e) return -1;
    for (size_t i = b; i < e; i++) {
        char c = t[i];
        if (c == ',' && s->ksp_decimal_comma) c = '.';
        buf[i - b] = c;
    }
    buf[e - b] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end || buf[0] == 'i' || buf[0] == 'I' || (!isfinite(v) && v == v)) return -1;
    *out = v;
    return 0;
}
