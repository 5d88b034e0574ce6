/* libFuzzer target: arbitrary bytes as a `kite serve --config` file. Loading must either fail
 * with a message naming the key or fill a configuration, never crash. */
#include <stdint.h>

#include <kite/config.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kite_config c;
    char err[512];
    if (kite_config_init(&c, err, sizeof err) != KITE_ERR_OK) return 0;
    (void)kite_config_parse(&c, (const char *)data, size, "fuzz", err, sizeof err);
    kite_config_free(&c);
    return 0;
}
