/* Prometheus text writer: writes a sample exposition to argv[1] (checked by promtool in the
 * prom_promtool test) and checks its shape here. */
#include <math.h>
#include <string.h>

#include "kite_test.h"
#include <kite/prom.h>

int main(int argc, char **argv)
{
    kite_prom p;
    kite_prom_init(&p);
    kite_prom_family(&p, "kite_events_consumed_total", "counter", "Events read from Kafka.");
    kite_prom_sample(&p, "kite_events_consumed_total", "partition=\"0\"", 12);
    kite_prom_sample(&p, "kite_events_consumed_total", "partition=\"1\"", 3);
    kite_prom_family(&p, "kite_model_info", "gauge", "Model loaded.\nOne line per model.");
    char esc[64];
    kite_prom_escape(esc, sizeof esc, "a\"b\\c\nd");
    CHECK(!strcmp(esc, "a\\\"b\\\\c\\nd"));
    char labels[96];
    snprintf(labels, sizeof labels, "version=\"%s\"", esc);
    kite_prom_sample(&p, "kite_model_info", labels, 1);
    kite_prom_family(&p, "kite_score_latency_seconds", "histogram", "Scoring latency per batch.");
    double bounds[] = {1e-6, 1e-5, 1e-4};
    uint64_t counts[] = {5, 3, 0, 2};
    kite_prom_histogram(&p, "kite_score_latency_seconds", NULL, bounds, counts, 3, 0.5);
    kite_prom_family(&p, "kite_drift_psi", "gauge", "PSI.");
    kite_prom_sample(&p, "kite_drift_psi", "feature=\"x\"", NAN);
    CHECK(!p.kpr_oom);
    CHECK(strstr(p.kpr_buf, "kite_score_latency_seconds_bucket{le=\"+Inf\"} 10\n") != NULL);
    CHECK(strstr(p.kpr_buf, "kite_score_latency_seconds_bucket{le=\"1e-05\"} 8\n") != NULL);
    CHECK(strstr(p.kpr_buf, "kite_score_latency_seconds_count 10\n") != NULL);
    CHECK(strstr(p.kpr_buf, "# HELP kite_model_info Model loaded.\\nOne line per model.\n") != NULL);
    CHECK(strstr(p.kpr_buf, "kite_drift_psi{feature=\"x\"} NaN\n") != NULL);
    if (argc > 1) {
        FILE *fp = fopen(argv[1], "w");
        CHECK(fp != NULL);
        if (fp) {
            fputs(p.kpr_buf, fp);
            fclose(fp);
        }
    }
    kite_prom_free(&p);
    return kt_finish("test_prom");
}
