/* libFuzzer target: arbitrary bytes as a `kite serve --config` file. Loading must either fail
 * with a message naming the key or fill a configuration, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kite_fuzz_config_%d.json", (int)getpid());
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    kite_config c;
    char err[512];
    if (kite_config_init(&c, err, sizeof err) != KITE_ERR_OK) return 0;
    (void)kite_config_load(&c, path, err, sizeof err);
    kite_config_free(&c);
    return 0;
}
