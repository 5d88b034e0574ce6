/* XGBoost objectives: how a margin becomes a prediction (PredTransform) and how base_score
 * becomes the intercept in margin space (ProbToMargin), by the version that wrote the model. */
#include "xgb_objective.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { MARGIN_IDENTITY, MARGIN_LOGIT, MARGIN_LOG } xgb_margin;

typedef struct xgb_objective {
    const char *name;
    kite_transform transform;
    xgb_margin margin;
} xgb_objective;

static const xgb_objective xgb_objectives[] = {
    {"binary:logistic", KITE_TRANSFORM_SIGMOID, MARGIN_LOGIT},
    {"reg:logistic", KITE_TRANSFORM_SIGMOID, MARGIN_LOGIT},
    {"binary:logitraw", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"binary:hinge", KITE_TRANSFORM_HINGE, MARGIN_IDENTITY},
    {"reg:squarederror", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:linear", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:squaredlogerror", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:pseudohubererror", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:absoluteerror", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:quantileerror", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"reg:expectileerror", KITE_TRANSFORM_CUMULATIVE, MARGIN_IDENTITY},
    {"count:poisson", KITE_TRANSFORM_EXP, MARGIN_LOG},
    {"reg:gamma", KITE_TRANSFORM_EXP, MARGIN_LOG},
    {"reg:tweedie", KITE_TRANSFORM_EXP, MARGIN_LOG},
    {"survival:cox", KITE_TRANSFORM_EXP, MARGIN_LOG},
    {"survival:aft", KITE_TRANSFORM_EXP, MARGIN_LOG},
    {"multi:softprob", KITE_TRANSFORM_SOFTPROB, MARGIN_IDENTITY},
    {"multi:softmax", KITE_TRANSFORM_SOFTMAX, MARGIN_IDENTITY},
    {"rank:pairwise", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"rank:ndcg", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
    {"rank:map", KITE_TRANSFORM_IDENTITY, MARGIN_IDENTITY},
};

static int version_at_least(const int *v, int major, int minor)
{
    return v[0] > major || (v[0] == major && v[1] >= minor);
}

kite_err kite__xgb_parse_base_score(const char *text, float *out, int max, int *n, char *errstr,
                                    size_t errstr_size)
{
    const char *s = text;
    *n = 0;
    while (isspace((unsigned char)*s)) s++;
    int list = *s == '[';
    if (list) s++;
    for (;;) {
        while (isspace((unsigned char)*s)) s++;
        char *end;
        errno = 0;
        float f = strtof(s, &end);
        if (end == s || errno == ERANGE || !isfinite(f))
            return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                             "learner_model_param.base_score: \"%s\" is not a number or list of numbers",
                             text);
        if (*n == max)
            return kite_errf(KITE_ERR_LIMIT, errstr, errstr_size,
                             "learner_model_param.base_score: more than %d values", max);
        out[(*n)++] = f;
        s = end;
        while (isspace((unsigned char)*s)) s++;
        if (list && *s == ',') { s++; continue; }
        break;
    }
    if (list && *s++ != ']')
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                         "learner_model_param.base_score: \"%s\" is malformed", text);
    while (isspace((unsigned char)*s)) s++;
    if (*s)
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                         "learner_model_param.base_score: \"%s\" is malformed", text);
    return KITE_ERR_OK;
}

/* ProbToMargin of one value, or a message when the value is outside the objective's range. */
static kite_err to_margin(const xgb_objective *o, const int *version, float b, float *margin,
                          char *errstr, size_t errstr_size)
{
    switch (o->margin) {
    case MARGIN_IDENTITY:
        *margin = b;
        return KITE_ERR_OK;
    case MARGIN_LOGIT:
        if (version_at_least(version, 3, 2)) {
            /* 3.2+ accepts [0, 1] and clamps to [1e-6, 1 - 1e-6] before the logit. */
            if (!(b >= 0.0f && b <= 1.0f))
                return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                                 "base_score %g must be in [0, 1] for %s", (double)b, o->name);
            b = fminf(fmaxf(b, 1e-6f), 1.0f - 1e-6f);
        } else if (!(b > 0.0f && b < 1.0f)) {
            return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                             "base_score %g must be in (0, 1) for %s", (double)b, o->name);
        }
        *margin = -logf(1.0f / b - 1.0f);
        return KITE_ERR_OK;
    case MARGIN_LOG:
        if (!(b > 0.0f))
            return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                             "base_score %g must be > 0 for %s", (double)b, o->name);
        *margin = logf(b);
        return KITE_ERR_OK;
    }
    return KITE_ERR_INVALID_MODEL;
}

kite_err kite__xgb_apply_objective(const char *objective, const float *base, int nbase,
                                   kite_model *m, char *errstr, size_t errstr_size)
{
    const xgb_objective *o = NULL;
    for (size_t i = 0; i < sizeof xgb_objectives / sizeof xgb_objectives[0]; i++)
        if (!strcmp(xgb_objectives[i].name, objective)) o = &xgb_objectives[i];
    if (!o)
        return kite_errf(KITE_ERR_UNSUPPORTED, errstr, errstr_size,
                         "objective \"%s\" is not supported", objective);
    int32_t g = m->km_num_group;
    if (nbase != 1 && nbase != g)
        return kite_errf(KITE_ERR_INVALID_MODEL, errstr, errstr_size,
                         "learner_model_param.base_score has %d values for %d outputs", nbase, g);
    snprintf(m->km_objective, sizeof m->km_objective, "%s", o->name);
    m->km_transform = o->transform;
    /* 3.4 sorts the outputs of a multi-quantile model per row so quantiles never cross. */
    if (!strcmp(o->name, "reg:quantileerror") && g > 1 && version_at_least(m->km_version, 3, 4))
        m->km_transform = KITE_TRANSFORM_SORTED;
    m->km_base_scores = calloc((size_t)g, sizeof(float));
    m->km_base_margins = calloc((size_t)g, sizeof(float));
    if (!m->km_base_scores || !m->km_base_margins)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "out of memory");
    for (int32_t k = 0; k < g; k++) {
        float b = base[nbase == 1 ? 0 : k];
        m->km_base_scores[k] = b;
        KITE_TRY(to_margin(o, m->km_version, b, &m->km_base_margins[k], errstr, errstr_size));
    }
    if (m->km_transform == KITE_TRANSFORM_CUMULATIVE)
        for (int32_t k = 1; k < g; k++) {
            /* The inverse of the cumulative transform: each step's gap (less the 1e-6 the
             * transform adds, at least 1e-6) through the inverse softplus d + log(-expm1(-d)). */
            float d = (m->km_base_scores[k] - m->km_base_scores[k - 1]) - 1e-6f;
            if (!(d >= 1e-6f)) d = 1e-6f;
            m->km_base_margins[k] = d + logf(-expm1f(-d));
        }
    return KITE_ERR_OK;
}
