#include "kafka_conf.h"

kite_err kite_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                             char *errstr, size_t errstr_size)
{
    char kerr[256];
    if (rd_kafka_conf_set(conf, key, value, kerr, sizeof kerr) != RD_KAFKA_CONF_OK)
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "librdkafka property %s: %s", key,
                         kerr);
    return KITE_ERR_OK;
}

kite_err kite_kafka_conf_apply_user(rd_kafka_conf_t *conf, const kite_config *cfg, char *errstr,
                                    size_t errstr_size)
{
    for (int i = 0; i < cfg->kc_nkafka; i++)
        KITE_TRY(kite_kafka_conf_set(conf, cfg->kc_kafka[i][0], cfg->kc_kafka[i][1], errstr,
                                     errstr_size));
    return KITE_ERR_OK;
}
