/* kite serve's configuration: one table of keys (name, type, default, help) drives the JSON
 * config file (kite.json), the command-line flags (--batch-size = batch_size), --help and the
 * README's configuration table (kite_config_write_markdown, printed by
 * `kite serve --help-config=markdown`; ctest check_readme_config fails when the README's copy
 * differs). librdkafka properties pass through untouched (kc_kafka). */
#ifndef KITE_CONFIG_H
#define KITE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include <kite/error.h>

#define KITE_CONFIG_MAX_KAFKA 64

typedef struct kite_config {
    char *kc_brokers;           /* "" = start the embedded mock cluster                  */
    char *kc_topics;            /* input topics, comma-separated                         */
    char *kc_group_id;
    char *kc_model;
    char *kc_feature_spec;
    char *kc_encode;            /* text-to-number maps for the direct field mapping      */
    char *kc_predictions_topic;
    char *kc_alerts_topic;      /* "" = no alerts                                        */
    char *kc_dead_letter_topic;
    double kc_alert_threshold;
    long kc_batch_size;
    long kc_batch_wait_us;
    long kc_workers;
    char *kc_cores;             /* comma list of PUs, "auto" or "none"                   */
    char *kc_metrics_addr;      /* host:port, "" = no HTTP endpoint                      */
    long kc_partitions;         /* partitions of topics created on the embedded broker   */
    long kc_exit_on_eof;        /* 1: stop once every assigned partition is consumed     */
    long kc_max_inflight;       /* per partition: input events awaiting delivery reports */
    char *kc_drift_profile;     /* reference profile (kite profile); "" = no drift monitor */
    char *kc_drift_topic;       /* drift status changes (JSON), one per change           */
    char *kc_drift_windows;     /* comma-separated window specs (kite drift --window)    */
    char *kc_drift_report_dir;  /* a report per closed tumbling/time window; "" = none  */
    char *kc_labels_topic;      /* delayed labels: {label_field: y} keyed like the event */
    char *kc_label_field;       /* field holding the label (labels topic or the event)   */
    long kc_label_buffer;       /* predictions awaiting their label (oldest dropped)     */
    /* lifecycle (issue 16): model references, hot reload */
    char *kc_registry_uri;      /* MLflow file store for models:/ references            */
    long kc_model_watch_ms;     /* > 0: poll the model reference this often, reload on change */
    char *kc_admin_token;       /* POST /admin/reload on metrics_addr; "" = off          */
    char *kc_shadow_model;      /* candidate scoring beside the serving model; "" = none */
    double kc_shadow_tolerance; /* |shadow - serving| above this counts as a disagreement */
    char *kc_shadow_topic;      /* shadow predictions; "" = metrics only                 */
    char *kc_guarantee;         /* at_least_once | exactly_once (engine/stream/txn.c)      */
    long kc_transaction_ms;     /* exactly_once: commit the open transaction this often  */
    char *kc_transactional_id;  /* exactly_once: "" = kite-<group>-<host>-<pid>          */
    char *kc_kafka[KITE_CONFIG_MAX_KAFKA][2]; /* -X key=value pairs, in order            */
    int kc_nkafka;
} kite_config;

typedef enum { KITE_CONF_STRING, KITE_CONF_INT, KITE_CONF_DOUBLE, KITE_CONF_BOOL } kite_conf_type;

typedef struct kite_config_key {
    const char *ck_name;
    kite_conf_type ck_type;
    size_t ck_offset;
    const char *ck_default;
    double ck_min, ck_max;     /* for numbers */
    const char *ck_help;
} kite_config_key;

extern const kite_config_key kite_config_keys[];
extern const size_t kite_config_nkeys;

/* Fills every key with its default. */
kite_err kite_config_init(kite_config *c, char *errstr, size_t errstr_size);
void kite_config_free(kite_config *c);

/* Sets one key from text; errstr names the key and what is wrong. name may use '-' for '_'. */
kite_err kite_config_set(kite_config *c, const char *name, const char *value, char *errstr,
                         size_t errstr_size);

/* Adds a librdkafka property ("key=value" as -X takes it). */
kite_err kite_config_set_kafka(kite_config *c, const char *kv, char *errstr, size_t errstr_size);

/* Reads a JSON object of keys; "kafka": {"prop": "value"} holds librdkafka properties. */
kite_err kite_config_load(kite_config *c, const char *path, char *errstr, size_t errstr_size);
/* Same, from a JSON text of len bytes; path names it in messages. */
kite_err kite_config_parse(kite_config *c, const char *text, size_t len, const char *path,
                           char *errstr, size_t errstr_size);

/* Whether name is a key of the table (with '-' or '_'). */
const kite_config_key *kite_config_find(const char *name);

/* Writes the key table as one Markdown table (key, type and range, default, meaning), one row
 * per key in table order; the README's configuration table is this text verbatim. Returns
 * KITE_ERR_IO when writing to out fails. */
kite_err kite_config_write_markdown(FILE *out);

#endif
