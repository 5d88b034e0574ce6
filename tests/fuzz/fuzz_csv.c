/* libFuzzer target: arbitrary bytes as a CSV file loaded as a 3-column matrix. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <kite/csv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kite_fuzz_csv_%d.csv", (int)getpid());
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    kite_csv_options o = {size > 0 && data[0] & 1 ? ';' : ',', size > 1 && (data[1] & 1), "-200"};
    kite_matrix m;
    char err[256];
    if (kite_csv_load_matrix(path, &o, NULL, 3, &m, err, sizeof err) == KITE_ERR_OK)
        kite_matrix_free(&m);
    unlink(path);
    return 0;
}
