/* Private to the kite command (tools/), not installed.
 * kite capacity's parts. cmd_capacity.c parses the options, measures CPU per event with a drain
 * and prints the plan; capacity_sweep.c runs the latency sweep on a live pipeline (the knee:
 * the rate where p99 latency leaves its floor), analyses the curve and writes it as SVG. */
#ifndef KITE_CAPACITY_H
#define KITE_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include <kite/config.h>
#include <kite/csv.h>
#include <kite/error.h>

#define KITE__CAPACITY_TOPIC "capacity-events"
#define KITE__CAPACITY_MAX_STEPS 32

/* Written by cmd_capacity.c (capacity_parse); read by both files. */
typedef struct kite__capacity_opts {
    const char *model, *spec, *input, *key, *drift_profile, *brokers, *plot;
    double rate, headroom;
    long events, cores_per_instance, batch_size;
    kite_csv_options csv;
    int json;
    int sweep;            /* 1: run the sweep (default with --brokers), 0: not           */
    double sweep_max;     /* top rate of the sweep; 0: 1.2 x the drain's events/s         */
    long sweep_steps;     /* equally spaced rates sweep_max * k / steps, k = 1..steps    */
    double step_seconds;  /* load at each rate for this long                             */
    double knee_factor;   /* p99 above factor x floor + 1 ms has left the floor          */
} kite__capacity_opts;

/* The pipeline configuration both measurements use: one worker, group kite-capacity on topic
 * capacity-events; exit_on_eof for the drain, live for the sweep. cfg is initialised here and
 * must be freed by the caller (also on failure). */
kite_err kite__capacity_config(const kite__capacity_opts *o, const char *brokers, int exit_on_eof,
                               kite_config *cfg, char *errstr, size_t errstr_size);

/* One rate of the sweep. Latencies are event timestamp (set by the load producer, ms
 * resolution) -> the prediction's delivery report, from kite's histogram (within 12%). */
typedef struct kite__capacity_step {
    double kcs_rate;        /* target events/s                                          */
    double kcs_achieved;    /* events / the load producer's wall time (start to exit)  */
    uint64_t kcs_events;    /* events the load producer sent (and had acknowledged)    */
    uint64_t kcs_consumed;  /* events the pipeline consumed in this step               */
    double kcs_p50_ms, kcs_p99_ms, kcs_p999_ms;
    int kcs_kept_up;        /* every event consumed within the deadline after the load */
} kite__capacity_step;

typedef struct kite__capacity_curve {
    kite__capacity_step kcc_steps[KITE__CAPACITY_MAX_STEPS];
    int kcc_nsteps;         /* steps run; fewer than planned when one fell behind      */
    int kcc_planned;
    /* Set by kite__capacity_knee: */
    double kcc_floor_ms;    /* the lower p99 of the two lowest rates                   */
    double kcc_threshold_ms; /* knee_factor x floor + 1 ms (the timestamps' resolution) */
    int kcc_knee;           /* index of the last step still at the floor (every step up
                             * to it kept up with p99 <= threshold); -1: none           */
    int kcc_beyond;         /* every planned step stayed at the floor: the knee is past
                             * the sweep's top rate                                     */
} kite__capacity_curve;

/* Runs the sweep on brokers (topic capacity-events, which the drain created or filled): per
 * rate, a fresh pipeline joins group kite-capacity, a separate `kite produce --rate` process
 * (this executable) sends rate x step_seconds events to partition 0, the pipeline is stopped
 * once it consumed them and its latency percentiles are the step's. Stops after a step that
 * fell behind (its backlog would land in the next step). Progress lines go to stderr unless
 * quiet. Returns 0, or -1 with errstr set (a pipeline or the load producer failed). */
int kite__capacity_sweep(const kite__capacity_opts *o, const char *brokers, double top_rate,
                         int quiet, kite__capacity_curve *out, char *errstr, size_t errstr_size);

/* Floor, threshold, knee and beyond from the steps run (pure arithmetic). */
void kite__capacity_knee(kite__capacity_curve *c, double knee_factor);

/* The curve (p50, p99, p99.9 per rate; the floor and threshold as dashed lines) as a
 * standalone SVG file. Returns 0, or -1 with errstr naming the file. */
int kite__capacity_plot(const kite__capacity_curve *c, const char *path, char *errstr,
                        size_t errstr_size);

#endif
