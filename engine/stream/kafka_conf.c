#include "kafka_conf.h"

#include <string.h>

kite_err kite__kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                             char *errstr, size_t errstr_size)
{
    char kerr[256];
    if (rd_kafka_conf_set(conf, key, value, kerr, sizeof kerr) != RD_KAFKA_CONF_OK)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "librdkafka property %s: %s", key,
                         kerr);
    return KITE_ERR_OK;
}

kite_err kite__kafka_conf_apply_user(rd_kafka_conf_t *conf, const kite_config *cfg,
                                    const char *role, char *errstr, size_t errstr_size)
{
    size_t rlen = strlen(role);
    for (int i = 0; i < cfg->kc_nkafka; i++) {
        const char *key = cfg->kc_kafka[i][0];
        if (!strncmp(key, "consumer.", 9) || !strncmp(key, "producer.", 9)) {
            if (strncmp(key, role, rlen) || key[rlen] != '.') continue;
            key += rlen + 1;
        }
        KITE_TRY(kite__kafka_conf_set(conf, key, cfg->kc_kafka[i][1], errstr, errstr_size));
    }
    return KITE_ERR_OK;
}
