#include <kite/config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define KEY(name, type, field, def, lo, hi, help)                                               \
    {name, type, offsetof(kite_config, field), def, lo, hi, help}

const kite_config_key kite_config_keys[] = {
    KEY("brokers", KITE_CONF_STRING, kc_brokers, "", 0, 0,
        "bootstrap servers; empty starts the embedded mock cluster in-process"),
    KEY("topics", KITE_CONF_STRING, kc_topics, "events", 0, 0, "input topics, comma-separated"),
    KEY("group_id", KITE_CONF_STRING, kc_group_id, "kite", 0, 0, "Kafka consumer group (eager range assignor by default; -X "
        "consumer.partition.assignment.strategy=cooperative-sticky rebalances incrementally)"),
    KEY("model", KITE_CONF_STRING, kc_model, "", 0, 0, "XGBoost model file (.json or .ubj)"),
    KEY("feature_spec", KITE_CONF_STRING, kc_feature_spec, "", 0, 0,
        "feature spec (JSON fields are its raw inputs); empty maps JSON fields to the model's "
        "feature_names by name"),
    KEY("encode", KITE_CONF_STRING, kc_encode, "", 0, 0,
        "text values of the direct mapping, e.g. 'Sex=male:0,female:1;Embarked=S:0,C:1'"),
    KEY("predictions_topic", KITE_CONF_STRING, kc_predictions_topic, "predictions", 0, 0,
        "topic for predictions (event key kept)"),
    KEY("alerts_topic", KITE_CONF_STRING, kc_alerts_topic, "alerts", 0, 0,
        "topic for alerts (prediction >= alert_threshold); empty disables alerts"),
    KEY("dead_letter_topic", KITE_CONF_STRING, kc_dead_letter_topic, "dead-letters", 0, 0,
        "topic for events that cannot be parsed or featurized, with the one-line reason"),
    KEY("alert_threshold", KITE_CONF_DOUBLE, kc_alert_threshold, "0.5", -1e300, 1e300,
        "an alert is sent when the (first) prediction is >= this"),
    KEY("batch_size", KITE_CONF_INT, kc_batch_size, "256", 1, 65536,
        "a batch closes at this many events ..."),
    KEY("batch_wait_us", KITE_CONF_INT, kc_batch_wait_us, "1000", 0, 10000000,
        "... or this many microseconds after its first event, whichever comes first (librdkafka "
        "waits in whole ms)"),
    KEY("workers", KITE_CONF_INT, kc_workers, "1", 1, 64, "worker threads; partition p goes to "
        "worker p mod workers"),
    KEY("cores", KITE_CONF_STRING, kc_cores, "auto", 0, 0,
        "cores to pin workers to: comma list (worker i -> i-th entry), 'auto' (worker i -> "
        "core i) or 'none'"),
    KEY("metrics_addr", KITE_CONF_STRING, kc_metrics_addr, "127.0.0.1:9464", 0, 0,
        "address of /metrics, /health, /ready and the status page /status; empty disables; port 0 "
        "picks a free one"),
    KEY("partitions", KITE_CONF_INT, kc_partitions, "4", 1, 1024,
        "partitions of each topic created on the embedded broker"),
    KEY("exit_on_eof", KITE_CONF_BOOL, kc_exit_on_eof, "false", 0, 1,
        "stop (drain, commit, exit 0) once every assigned partition is consumed to its end"),
    KEY("max_inflight", KITE_CONF_INT, kc_max_inflight, "65536", 2, 1 << 22,
        "per partition: events whose outputs await delivery reports (a power of two); a full "
        "window makes its worker wait for deliveries (backpressure)"),
    KEY("drift_profile", KITE_CONF_STRING, kc_drift_profile, "", 0, 0,
        "reference profile from `kite profile`; empty disables drift monitoring"),
    KEY("drift_topic", KITE_CONF_STRING, kc_drift_topic, "drift-events", 0, 0,
        "topic for drift status changes (JSON objects, as `kite drift --events` writes)"),
    KEY("drift_windows", KITE_CONF_STRING, kc_drift_windows, "sliding:1000:100", 0, 0,
        "drift windows, comma-separated `kite drift --window` specs (hourly/daily/weekly use "
        "the events' Kafka timestamps)"),
    KEY("drift_report_dir", KITE_CONF_STRING, kc_drift_report_dir, "", 0, 0,
        "write an HTML + JSON drift report per closed tumbling or hourly/daily/weekly window "
        "into this directory (created if missing); empty: none"),
    KEY("labels_topic", KITE_CONF_STRING, kc_labels_topic, "", 0, 0,
        "topic of delayed labels: JSON {label_field: value} with the scored event's key; joined "
        "to its prediction for the drift monitor's quality metrics (needs drift_profile)"),
    KEY("label_field", KITE_CONF_STRING, kc_label_field, "", 0, 0,
        "name of the label field, in labels_topic messages and (when present) in scored events "
        "themselves (needs drift_profile)"),
    KEY("label_buffer", KITE_CONF_INT, kc_label_buffer, "65536", 1, 1 << 24,
        "predictions kept waiting for their label; the oldest is dropped (and counted) beyond"),
    /* lifecycle (issue 16) */
    KEY("registry_uri", KITE_CONF_STRING, kc_registry_uri, "", 0, 0,
        "local MLflow registry (file store path or file:// URI) for model \"models:/NAME@ALIAS\" "
        "or \"models:/NAME/3\"; empty: $MLFLOW_REGISTRY_URI, $MLFLOW_TRACKING_URI, ./mlruns"),
    KEY("model_watch_ms", KITE_CONF_INT, kc_model_watch_ms, "0", 0, 86400000,
        "check the model reference this often (files, registry alias) and reload on a change; 0: "
        "only SIGHUP and POST /admin/reload"),
    KEY("admin_token", KITE_CONF_STRING, kc_admin_token, "", 0, 0,
        "enables POST /admin/reload on metrics_addr with 'Authorization: Bearer TOKEN' "
        "(--admin-token and $KITE_ADMIN_TOKEN set it too); empty: off"),
    KEY("shadow_model", KITE_CONF_STRING, kc_shadow_model, "", 0, 0,
        "candidate model (a reference like model) that scores every event beside the serving one; "
        "its disagreement goes to /metrics (kite_shadow_*) and, with drift_profile, to every drift "
        "window's reports; empty: none"),
    KEY("shadow_tolerance", KITE_CONF_DOUBLE, kc_shadow_tolerance, "1e-6", 0, 1e300,
        "a shadow prediction further than this from the serving one is a disagreement"),
    KEY("shadow_topic", KITE_CONF_STRING, kc_shadow_topic, "", 0, 0,
        "topic for shadow predictions (JSON with both predictions); empty: none"),
    KEY("guarantee", KITE_CONF_STRING, kc_guarantee, "at_least_once", 0, 0,
        "at_least_once (offsets stored after delivery) or exactly_once (outputs and offsets in "
        "Kafka transactions; read the outputs with isolation.level=read_committed)"),
    KEY("transaction_ms", KITE_CONF_INT, kc_transaction_ms, "100", 1, 60000,
        "exactly_once: commit the open transaction this often (each commit pauses the workers "
        "for its round trips; read_committed readers see outputs at commits)"),
    KEY("transactional_id", KITE_CONF_STRING, kc_transactional_id, "", 0, 0,
        "exactly_once: the producer's transactional.id, unique per instance and stable across "
        "its restarts; empty: `kite-<group_id>-<host>-<pid>`"),
};
const size_t kite_config_nkeys = sizeof kite_config_keys / sizeof kite_config_keys[0];

const kite_config_key *kite_config_find(const char *name)
{
    char norm[64];
    size_t i = 0;
    for (; name[i] && i < sizeof norm - 1; i++) norm[i] = name[i] == '-' ? '_' : name[i];
    norm[i] = 0;
    for (size_t k = 0; k < kite_config_nkeys; k++)
        if (!strcmp(kite_config_keys[k].ck_name, norm)) return &kite_config_keys[k];
    return NULL;
}

/* The README's configuration table (kite serve --help-config=markdown). A cell's '|' would end
 * the cell, so it is escaped; the help texts are single lines, so a row stays one line. */
static void config_md_cell(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|') fputc('\\', out);
        fputc(*p, out);
    }
}

static void config_md_type(FILE *out, const kite_config_key *k)
{
    switch (k->ck_type) {
    case KITE_CONF_STRING: fputs("string", out); return;
    case KITE_CONF_BOOL: fputs("boolean", out); return;
    case KITE_CONF_INT: fprintf(out, "integer, %.0f to %.0f", k->ck_min, k->ck_max); return;
    case KITE_CONF_DOUBLE:
        /* +-1e300 stands for "no bound" in the table. */
        if (k->ck_min <= -1e300) fputs("number", out);
        else fprintf(out, "number >= %g", k->ck_min);
        return;
    }
}

kite_err kite_config_write_markdown(FILE *out)
{
    fputs("| key | type | default | meaning |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < kite_config_nkeys; i++) {
        const kite_config_key *k = &kite_config_keys[i];
        fprintf(out, "| `%s` | ", k->ck_name);
        config_md_type(out, k);
        if (*k->ck_default) fprintf(out, " | `%s` | ", k->ck_default);
        else fputs(" | `\"\"` | ", out);
        config_md_cell(out, k->ck_help);
        fputs(" |\n", out);
    }
    return fflush(out) || ferror(out) ? KITE_ERR_IO : KITE_ERR_OK;
}

static kite_err config_apply(kite_config *c, const kite_config_key *k, const char *value,
                             char *errstr, size_t errstr_size)
{
    void *field = (char *)c + k->ck_offset;
    char *end = NULL;
    switch (k->ck_type) {
    case KITE_CONF_STRING: {
        char *copy = strdup(value);
        if (!copy) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "config %s", k->ck_name);
        free(*(char **)field);
        *(char **)field = copy;
        return KITE_ERR_OK;
    }
    case KITE_CONF_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1")) *(long *)field = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0")) *(long *)field = 0;
        else
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                             "config %s: \"%s\" is not true or false", k->ck_name, value);
        return KITE_ERR_OK;
    case KITE_CONF_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->ck_min || v > k->ck_max)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                             "config %s: \"%s\" is not an integer in [%.0f, %.0f]", k->ck_name,
                             value, k->ck_min, k->ck_max);
        *(long *)field = v;
        return KITE_ERR_OK;
    }
    case KITE_CONF_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end || isnan(v) || v < k->ck_min || v > k->ck_max)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                             "config %s: \"%s\" is not a number", k->ck_name, value);
        *(double *)field = v;
        return KITE_ERR_OK;
    }
    }
    return KITE_ERR_CONFIG;
}

kite_err kite_config_init(kite_config *c, char *errstr, size_t errstr_size)
{
    memset(c, 0, sizeof *c);
    for (size_t k = 0; k < kite_config_nkeys; k++)
        KITE_TRY(config_apply(c, &kite_config_keys[k], kite_config_keys[k].ck_default, errstr,
                              errstr_size));
    return KITE_ERR_OK;
}

void kite_config_free(kite_config *c)
{
    for (size_t k = 0; k < kite_config_nkeys; k++)
        if (kite_config_keys[k].ck_type == KITE_CONF_STRING)
            free(*(char **)((char *)c + kite_config_keys[k].ck_offset));
    for (int i = 0; i < c->kc_nkafka; i++) {
        free(c->kc_kafka[i][0]);
        free(c->kc_kafka[i][1]);
    }
    memset(c, 0, sizeof *c);
}

kite_err kite_config_set(kite_config *c, const char *name, const char *value, char *errstr,
                         size_t errstr_size)
{
    const kite_config_key *k = kite_config_find(name);
    if (!k) return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "unknown config key \"%s\"", name);
    return config_apply(c, k, value, errstr, errstr_size);
}

static kite_err config_add_kafka(kite_config *c, const char *key, const char *value, char *errstr,
                                 size_t errstr_size)
{
    if (c->kc_nkafka >= KITE_CONFIG_MAX_KAFKA)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "more than %d librdkafka properties", KITE_CONFIG_MAX_KAFKA);
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "librdkafka property %s", key);
    }
    c->kc_kafka[c->kc_nkafka][0] = k;
    c->kc_kafka[c->kc_nkafka][1] = v;
    c->kc_nkafka++;
    return KITE_ERR_OK;
}

kite_err kite_config_set_kafka(kite_config *c, const char *kv, char *errstr, size_t errstr_size)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                         "-X \"%s\": expected property=value", kv);
    char key[256];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof key)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "-X: property name too long");
    memcpy(key, kv, n);
    key[n] = 0;
    return config_add_kafka(c, key, eq + 1, errstr, errstr_size);
}

kite_err kite_config_load(kite_config *c, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            char *nt = realloc(text, cap = cap * 2 + 4096);
            if (!nt) {
                free(text);
                fclose(f);
                return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "%s", path);
            }
            text = nt;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    text[len] = 0;
    kite_err err = kite_config_parse(c, text, len, path, errstr, errstr_size);
    free(text);
    return err;
}

kite_err kite_config_parse(kite_config *c, const char *text, size_t len, const char *path,
                           char *errstr, size_t errstr_size)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    kite_err err = KITE_ERR_OK;
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                        "%s: not a JSON object (error near byte %ld)", path,
                        root || !at ? 0L : (long)(at - text));
        goto done;
    }
    for (cJSON *it = root->child; it && !err; it = it->next) {
        if (!strcmp(it->string, "kafka")) {
            if (!cJSON_IsObject(it)) {
                err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                                "%s: \"kafka\" must be an object of librdkafka properties", path);
                break;
            }
            for (cJSON *p = it->child; p && !err; p = p->next) {
                char num[64];
                const char *v = cJSON_IsString(p) ? p->valuestring : NULL;
                if (cJSON_IsNumber(p)) snprintf(num, sizeof num, "%.17g", p->valuedouble), v = num;
                if (cJSON_IsBool(p)) v = cJSON_IsTrue(p) ? "true" : "false";
                if (!v)
                    err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                                    "%s: kafka.%s: expected a string, number or boolean", path,
                                    p->string);
                else err = config_add_kafka(c, p->string, v, errstr, errstr_size);
            }
            continue;
        }
        const kite_config_key *k = kite_config_find(it->string);
        if (!k) {
            err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "%s: unknown key \"%s\"", path,
                            it->string);
            break;
        }
        char num[64];
        const char *v = NULL;
        if (cJSON_IsString(it)) v = it->valuestring;
        else if (cJSON_IsNumber(it)) {
            if (k->ck_type == KITE_CONF_INT) snprintf(num, sizeof num, "%.0f", it->valuedouble);
            else snprintf(num, sizeof num, "%.17g", it->valuedouble);
            v = num;
        } else if (cJSON_IsBool(it)) v = cJSON_IsTrue(it) ? "true" : "false";
        if (!v) {
            err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                            "%s: key \"%s\": expected a string, number or boolean", path, it->string);
            break;
        }
        char inner[384];
        err = config_apply(c, k, v, inner, sizeof inner);
        if (err) kite_errf(err, errstr, errstr_size, "%s: %s", path, inner);
    }
done:
    cJSON_Delete(root);
    return err;
}
