/* Private to kite_stream (engine/stream/), not installed.
 * Building librdkafka configurations from kite_config: kite's own settings first, then the
 * user's -X properties (which win). */
#ifndef KITE_KAFKA_CONF_H
#define KITE_KAFKA_CONF_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include <kite/config.h>
#include <kite/error.h>

/* Sets key=value or fails with "librdkafka property key: reason". */
kite_err kite__kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                             char *errstr, size_t errstr_size);
/* Applies cfg's -X pairs for role ("consumer" or "producer"): "consumer.session.timeout.ms"
 * goes to the consumer only, "producer.linger.ms" to producers only, plain keys to both. */
kite_err kite__kafka_conf_apply_user(rd_kafka_conf_t *conf, const kite_config *cfg,
                                    const char *role, char *errstr, size_t errstr_size);

#endif
