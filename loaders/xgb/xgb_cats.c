/* gradient_booster.model.cats (XGBoost 3.1+): the training DataFrame's categories per feature,
 *   {"enc": [per feature: {"offsets": [...], "values": [UTF-8 bytes]} for strings,
 *                         {"type": T, "values": [numbers]} for numbers, empty for numeric
 *                         features],
 *    "feature_segments": [...], "sorted_idx": [...]}
 * A tree's category code is the position in its feature's list. */
#include "xgb_cats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kite_category_dict *cmp_dict; /* qsort has no context argument */

static int cmp_codes(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (cmp_dict->kcd_numeric) {
        double u = cmp_dict->kcd_values[x], v = cmp_dict->kcd_values[y];
        return (u > v) - (u < v);
    }
    return strcmp(cmp_dict->kcd_names[x], cmp_dict->kcd_names[y]);
}

static kite_err read_dict(const cJSON *enc, int32_t f, kite_category_dict *d, char *errstr,
                          size_t errstr_size)
{
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(enc, "values");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(enc, "offsets");
    if (!cJSON_IsArray(values))
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size, "cats.enc[%d]: no \"values\" array", f);
    int nv = cJSON_GetArraySize(values);
    if (cJSON_IsArray(offsets)) { /* strings: offsets into the byte values */
        int no = cJSON_GetArraySize(offsets);
        if (no == 0) return KITE_ERR_OK;
        d->kcd_count = no - 1 > 0 ? no - 1 : 0;
        /* XGBoost writes count + 1 offsets, the last one the end. */
        unsigned char *bytes = malloc((size_t)nv + 1);
        int32_t *off = malloc((size_t)no * sizeof *off);
        d->kcd_names = calloc((size_t)no, sizeof(char *));
        if (!bytes || !off || !d->kcd_names) {
            free(bytes);
            free(off);
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        int i = 0;
        kite_err err = KITE_ERR_OK;
        for (const cJSON *v = values->child; v; v = v->next, i++) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 255) {
                err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                                "cats.enc[%d].values[%d]: not a byte", f, i);
                break;
            }
            bytes[i] = (unsigned char)v->valuedouble;
        }
        i = 0;
        for (const cJSON *v = offsets->child; v && err == KITE_ERR_OK; v = v->next, i++) {
            double o = cJSON_IsNumber(v) ? v->valuedouble : -1;
            if (o != floor(o) || o < (i ? off[i - 1] : 0) || o > nv)
                err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                                "cats.enc[%d].offsets[%d]: must rise within the %d bytes", f, i, nv);
            else
                off[i] = (int32_t)o;
        }
        if (err == KITE_ERR_OK && off[no - 1] != nv)
            err = kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                            "cats.enc[%d]: offsets end at %d, values has %d bytes", f, off[no - 1], nv);
        for (int32_t c = 0; c < d->kcd_count && err == KITE_ERR_OK; c++) {
            size_t len = (size_t)(off[c + 1] - off[c]);
            d->kcd_names[c] = malloc(len + 1);
            if (!d->kcd_names[c]) {
                err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
                break;
            }
            memcpy(d->kcd_names[c], bytes + off[c], len);
            d->kcd_names[c][len] = 0;
        }
        free(bytes);
        free(off);
        if (err != KITE_ERR_OK) return err;
    } else {
        if (nv == 0) return KITE_ERR_OK;
        d->kcd_numeric = 1;
        d->kcd_count = nv;
        d->kcd_values = malloc((size_t)nv * sizeof(double));
        if (!d->kcd_values) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
        int i = 0;
        for (const cJSON *v = values->child; v; v = v->next, i++) {
            if (!cJSON_IsNumber(v))
                return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                                 "cats.enc[%d].values[%d]: expected a number", f, i);
            d->kcd_values[i] = v->valuedouble;
        }
    }
    d->kcd_sorted = malloc((size_t)d->kcd_count * sizeof(int32_t) + 1);
    if (!d->kcd_sorted) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (int32_t c = 0; c < d->kcd_count; c++) d->kcd_sorted[c] = c;
    cmp_dict = d;
    qsort(d->kcd_sorted, (size_t)d->kcd_count, sizeof(int32_t), cmp_codes);
    for (int32_t c = 1; c < d->kcd_count; c++)
        if (!cmp_codes(&d->kcd_sorted[c - 1], &d->kcd_sorted[c]))
            return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                             "cats.enc[%d]: category %d appears twice", f, d->kcd_sorted[c]);
    return KITE_ERR_OK;
}

kite_err kite__xgb_read_cats(const cJSON *cats, kite_model *m, char *errstr, size_t errstr_size)
{
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(cats, "enc");
    if (!cJSON_IsArray(enc) || cJSON_GetArraySize(enc) == 0) return KITE_ERR_OK;
    if (cJSON_GetArraySize(enc) != m->km_num_feature)
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                         "cats.enc has %d entries, num_feature is %d", cJSON_GetArraySize(enc),
                         m->km_num_feature);
    m->km_cats = calloc((size_t)m->km_num_feature, sizeof *m->km_cats);
    if (!m->km_cats) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    int32_t f = 0, any = 0;
    for (const cJSON *e = enc->child; e; e = e->next, f++) {
        KITE_TRY(read_dict(e, f, &m->km_cats[f], errstr, errstr_size));
        any |= m->km_cats[f].kcd_count > 0;
    }
    if (!any) {
        free(m->km_cats);
        m->km_cats = NULL;
    }
    return KITE_ERR_OK;
}
