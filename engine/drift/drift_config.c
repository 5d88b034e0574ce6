/* Drift configuration: defaults, window specs, names; status-change events as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_int.h"

void kite_drift_config_default(kite_drift_config *c)
{
    memset(c, 0, sizeof *c);
    c->kdc_test = KITE_DRIFT_TEST_AUTO;
    c->kdc_psi_moderate = 0.1;
    c->kdc_psi_significant = 0.25;
    c->kdc_pvalue = 0.05;
    c->kdc_distance = 0.1;
    c->kdc_drift_share = 0.5;
    c->kdc_nwindows = 1;
    c->kdc_windows[0] = (kite_drift_window_config){"sliding_1000", KITE_WINDOW_SLIDING, 1000, 100, 0, 0};
    c->kdc_label_capacity = 4096;
    c->kdc_ph_delta = 0.005;
    c->kdc_ph_lambda = 50;
    c->kdc_history = 256;
    c->kdc_metrics_max_features = 100;
    c->kdc_shadow = 0;
    c->kdc_shadow_tolerance = 0.01;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || v > (1ull << 40) || s[0] == '-') return -1;
    *out = (size_t)v;
    return 0;
}

kite_err kite_drift_window_parse(const char *spec, kite_drift_window_config *out, char *errstr,
                                 size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    char buf[128];
    if (strlen(spec) >= sizeof buf)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "window '%.40s...': too long", spec);
    snprintf(buf, sizeof buf, "%s", spec);
    char *body = buf, *eq = strchr(buf, '=');
    if (eq) {
        *eq = 0;
        body = eq + 1;
        if (!buf[0] || strlen(buf) >= sizeof out->kwc_name)
            return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "window '%s': bad name", spec);
        snprintf(out->kwc_name, sizeof out->kwc_name, "%.*s", (int)sizeof out->kwc_name - 1, buf);
    }
    char *parts[4] = {0};
    int np = 0;
    for (char *tok = strtok(body, ":"); tok && np < 4; tok = strtok(NULL, ":")) parts[np++] = tok;
    int ok = np >= 1;
    if (ok && !strcmp(parts[0], "sliding") && np == 3) {
        out->kwc_kind = KITE_WINDOW_SLIDING;
        ok = !parse_size(parts[1], &out->kwc_size) && !parse_size(parts[2], &out->kwc_step) &&
             out->kwc_step > 0 && out->kwc_size >= out->kwc_step &&
             out->kwc_size % out->kwc_step == 0;
    } else if (ok && !strcmp(parts[0], "tumbling") && np == 2) {
        out->kwc_kind = KITE_WINDOW_TUMBLING;
        ok = !parse_size(parts[1], &out->kwc_size) && out->kwc_size > 0;
    } else if (ok && np == 1 &&
               (!strcmp(parts[0], "hourly") || !strcmp(parts[0], "daily") ||
                !strcmp(parts[0], "weekly"))) {
        out->kwc_kind = KITE_WINDOW_TIME;
        out->kwc_period_s = parts[0][0] == 'h' ? 3600 : parts[0][0] == 'd' ? 86400 : 604800;
    } else if (ok && !strcmp(parts[0], "time") && np == 2) {
        out->kwc_kind = KITE_WINDOW_TIME;
        char *end;
        out->kwc_period_s = strtod(parts[1], &end);
        ok = *end == 0 && out->kwc_period_s > 0 && isfinite(out->kwc_period_s);
    } else if (ok && !strcmp(parts[0], "decay") && np == 3) {
        out->kwc_kind = KITE_WINDOW_DECAY;
        char *end;
        out->kwc_decay = strtod(parts[2], &end);
        ok = !parse_size(parts[1], &out->kwc_step) && out->kwc_step > 0 && *end == 0 &&
             out->kwc_decay > 0 && out->kwc_decay < 1;
    } else {
        ok = 0;
    }
    if (!ok)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size,
                         "window '%s': expected sliding:SIZE:STEP (SIZE a multiple of STEP), "
                         "tumbling:SIZE, hourly, daily, weekly, time:SECONDS or decay:STEP:FACTOR "
                         "(0 < FACTOR < 1), optionally NAME=...",
                         spec);
    if (!out->kwc_name[0]) {
        const char *b = body; /* strtok cut body; rebuild a readable default name */
        if (out->kwc_kind == KITE_WINDOW_SLIDING)
            snprintf(out->kwc_name, sizeof out->kwc_name, "sliding_%zu", out->kwc_size);
        else if (out->kwc_kind == KITE_WINDOW_TUMBLING)
            snprintf(out->kwc_name, sizeof out->kwc_name, "tumbling_%zu", out->kwc_size);
        else if (out->kwc_kind == KITE_WINDOW_DECAY)
            snprintf(out->kwc_name, sizeof out->kwc_name, "decay_%zu", out->kwc_step);
        else
            snprintf(out->kwc_name, sizeof out->kwc_name, "%.*s", (int)sizeof out->kwc_name - 1, b);
        if (out->kwc_kind == KITE_WINDOW_TIME && !strcmp(b, "time"))
            snprintf(out->kwc_name, sizeof out->kwc_name, "time_%.0f", out->kwc_period_s);
    }
    return KITE_ERR_OK;
}

static const char *const test_names[KITE_DRIFT_TEST__COUNT] = {
    "auto", "psi", "ks", "chisquare", "z", "jensenshannon", "wasserstein"};

kite_err kite_drift_test_parse(const char *name, kite_drift_test *out)
{
    for (int t = 0; t < KITE_DRIFT_TEST__COUNT; t++)
        if (!strcmp(name, test_names[t])) {
            *out = (kite_drift_test)t;
            return KITE_ERR_OK;
        }
    return KITE_ERR_USAGE;
}

const char *kite_drift_test_name(kite_drift_test t)
{
    return (unsigned)t < KITE_DRIFT_TEST__COUNT ? test_names[t] : "?";
}

const char *kite_drift_level_name(kite_drift_level l)
{
    return l == KITE_DRIFT_SIGNIFICANT ? "significant" : l == KITE_DRIFT_MODERATE ? "moderate" : "none";
}

/* JSON has no NaN or infinity: such values are written as null. */
static int put_num(char *buf, size_t size, int at, const char *key, double v)
{
    size_t room = (size_t)at < size ? size - (size_t)at : 0;
    char *dst = room ? buf + at : NULL;
    if (isfinite(v)) return snprintf(dst, room, ",\"%s\":%.9g", key, v);
    return snprintf(dst, room, ",\"%s\":null", key);
}

int kite_drift_event_json(const kite_drift_monitor *m, const kite_drift_event *e, char *buf,
                          size_t size)
{
    static const char *const kinds[] = {"feature", "dataset", "prediction", "concept"};
    const char *window = e->kde_window >= 0 ? m->dm_cfg.kdc_windows[e->kde_window].kwc_name : "";
    int n = snprintf(buf, size, "{\"type\":\"drift\",\"kind\":\"%s\",\"window\":\"%s\"",
                     kinds[e->kde_kind & 3], window);
    size_t room;
#define ROOM() (room = (size_t)n < size ? size - (size_t)n : 0, room ? buf + n : NULL)
    if (e->kde_kind == KITE_DRIFT_EVENT_FEATURE) {
        /* Column names come from the profile: escape quotes and backslashes. */
        char name[2 * KITE_PROFILE_NAME_MAX];
        const char *s = m->dm_profile->kpf_columns[e->kde_column].kpc_name;
        size_t j = 0;
        for (; *s && j + 2 < sizeof name; s++) {
            if (*s == '"' || *s == '\\') name[j++] = '\\';
            name[j++] = (unsigned char)*s < 0x20 ? ' ' : *s;
        }
        name[j] = 0;
        char *d = ROOM();
        n += snprintf(d, room, ",\"feature\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"", name,
                      kite_drift_level_name((kite_drift_level)e->kde_from),
                      kite_drift_level_name((kite_drift_level)e->kde_to));
    } else {
        char *d = ROOM();
        n += snprintf(d, room, ",\"from\":%s,\"to\":%s", e->kde_from ? "true" : "false",
                      e->kde_to ? "true" : "false");
    }
    n += put_num(buf, size, n, "psi", e->kde_psi);
    n += put_num(buf, size, n, "statistic", e->kde_stat);
    n += put_num(buf, size, n, "p_value", e->kde_pvalue);
    if (e->kde_kind == KITE_DRIFT_EVENT_DATASET) n += put_num(buf, size, n, "drifted_share", e->kde_share);
    if (e->kde_kind == KITE_DRIFT_EVENT_DATASET && m->dm_sh_slot) /* the window's, at that check */
        n += put_num(buf, size, n, "shadow_disagreement_share", e->kde_shadow_share);
    n += put_num(buf, size, n, "end_event", (double)e->kde_end_event);
    n += put_num(buf, size, n, "end_time", e->kde_end_time);
    char *d = ROOM();
    n += snprintf(d, room, "}");
#undef ROOM
    return n;
}
