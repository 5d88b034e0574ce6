/* kite capacity's latency sweep: the rate where p99 latency leaves its floor (the knee).
 *
 * CPU per event says how many events a core can score; it does not say at what rate queueing
 * starts, where the broker's own work, the load producer and kite share the machine. So the
 * sweep offers load at equally spaced rates and measures, per rate, event timestamp -> the
 * prediction's delivery report, as kite serve does. The load comes from a separate process
 * (`kite produce --rate`, this executable), so the producer's CPU is not kite's and its
 * pacing does not wait on kite's threads.
 *
 * Latency-minded settings, documented in the README: the load producer sends with
 * linger.ms=1 (its default 5 would add up to 5 ms before an event even leaves); kite's
 * consumer keeps fetch.wait.max.ms=10 (a real broker answers a fetch as soon as one byte is
 * there, so this bounds only idle fetches) and its producer linger.ms=1, batch_wait_us=1000. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capacity.h"
#include "cli.h"
#include <kite/clock.h>
#include <kite/html_svg.h>
#include <kite/pipeline.h>

extern char **environ;

#define SWEEP_READY_TIMEOUT_S 60.0 /* a group join on a loaded 3-node cluster */

typedef struct sweep_run {
    kite_pipeline *swp_pl;
    kite_err swp_err;
    char swp_errstr[600];
} sweep_run;

static void *sweep_thread(void *arg)
{
    sweep_run *r = arg;
    r->swp_err = kite_pipeline_run(r->swp_pl, r->swp_errstr, sizeof r->swp_errstr);
    return NULL;
}

static void sweep_nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* `kite produce` at rate (0: as fast as it can) for n events into partition 0; waits for it.
 * 0 = exit status 0. */
static int sweep_load(const kite__capacity_opts *o, const char *brokers, double rate, long n,
                      double *seconds, char *errstr, size_t errstr_size)
{
    char self[4096], rate_s[32], n_s[32], delim[2] = {o->csv.kco_delimiter, 0};
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        snprintf(errstr, errstr_size, "sweep: cannot find this program (/proc/self/exe): %s",
                 strerror(errno));
        return -1;
    }
    self[len] = 0;
    snprintf(rate_s, sizeof rate_s, "%.3f", rate);
    snprintf(n_s, sizeof n_s, "%ld", n);
    char *argv[32];
    int a = 0;
    const char *fixed[] = {self, "produce", "-q", "-b", brokers, "-t", KITE__CAPACITY_TOPIC,
                           "-i", o->input, "-p", "0", "--repeat", "1000000", "--limit", n_s,
                           "-X", "linger.ms=1"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[a++] = (char *)fixed[i];
    if (rate > 0) { argv[a++] = "--rate"; argv[a++] = rate_s; }
    if (o->key) { argv[a++] = "-k"; argv[a++] = (char *)o->key; }
    if (o->csv.kco_delimiter && o->csv.kco_delimiter != ',') { argv[a++] = "-d"; argv[a++] = delim; }
    if (o->csv.kco_decimal_comma) argv[a++] = "--decimal-comma";
    if (o->csv.kco_missing) { argv[a++] = "--missing"; argv[a++] = (char *)o->csv.kco_missing; }
    argv[a] = NULL;
    pid_t pid;
    double t0 = kite_clock_mono_s();
    int rc = posix_spawn(&pid, self, NULL, NULL, argv, environ);
    if (rc) {
        snprintf(errstr, errstr_size, "sweep: cannot start kite produce: %s", strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    *seconds = kite_clock_mono_s() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(errstr, errstr_size, "sweep: the load producer (kite produce --rate %.0f) %s %d",
                 rate, WIFEXITED(status) ? "exited with status" : "was killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* One step: a live pipeline, the load, wait for the events, stop. */
static int sweep_step(const kite__capacity_opts *o, const char *brokers, double rate,
                      kite__capacity_step *s, char *errstr, size_t errstr_size)
{
    kite_config cfg;
    sweep_run run = {0};
    int rc = -1;
    *s = (kite__capacity_step){.kcs_rate = rate};
    if (kite__capacity_config(o, brokers, 0, &cfg, errstr, errstr_size) ||
        kite_pipeline_new(&cfg, &run.swp_pl, errstr, errstr_size)) {
        kite_config_free(&cfg);
        return -1;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, sweep_thread, &run)) {
        snprintf(errstr, errstr_size, "sweep: cannot start the pipeline thread");
        goto out;
    }
    /* Load only once the partition is assigned: a join's wait is not latency. */
    double deadline = kite_clock_mono_s() + SWEEP_READY_TIMEOUT_S;
    while (!kite_pipeline_ready(run.swp_pl) && kite_clock_mono_s() < deadline) sweep_nap();
    int ready = kite_pipeline_ready(run.swp_pl);
    if (!ready) snprintf(errstr, errstr_size, "sweep: no partition assigned within %.0f s",
                         SWEEP_READY_TIMEOUT_S);
    /* Assigned is not yet fetching (offset lookup, first fetch: hundreds of ms on a loaded
     * cluster), and events waiting for that would make the lowest rates look the slowest.
     * One probe event, consumed before the load starts, proves the fetch loop runs; its own
     * latency is one sample of the step's, which can only be the step's maximum. */
    kite_pipeline_totals t;
    kite_pipeline_totals_get(run.swp_pl, &t);
    uint64_t before = t.ktl_consumed; /* a previous run's uncommitted tail, if any */
    double secs = 0;
    if (ready && sweep_load(o, brokers, 0, 1, &secs, errstr, errstr_size)) ready = 0;
    if (ready) {
        deadline = kite_clock_mono_s() + SWEEP_READY_TIMEOUT_S;
        do kite_pipeline_totals_get(run.swp_pl, &t);
        while (t.ktl_consumed <= before && kite_clock_mono_s() < deadline && (sweep_nap(), 1));
        if (t.ktl_consumed <= before) {
            snprintf(errstr, errstr_size, "sweep: the probe event was not consumed within %.0f s",
                     SWEEP_READY_TIMEOUT_S);
            ready = 0;
        }
        before = t.ktl_consumed;
    }
    long n = (long)llround(rate * o->step_seconds);
    if (n < 50) n = 50;
    int loaded = ready && sweep_load(o, brokers, rate, n, &secs, errstr, errstr_size) == 0;
    if (loaded) {
        /* Behind by more than this after the load ended is past any knee. */
        double wait = 2 * o->step_seconds > 10 ? 2 * o->step_seconds : 10;
        deadline = kite_clock_mono_s() + wait;
        do {
            kite_pipeline_totals_get(run.swp_pl, &t);
            if (t.ktl_consumed >= before + (uint64_t)n) break;
            sweep_nap();
        } while (kite_clock_mono_s() < deadline);
        s->kcs_kept_up = t.ktl_consumed >= before + (uint64_t)n;
        s->kcs_events = (uint64_t)n;
        s->kcs_achieved = secs > 0 ? (double)n / secs : 0;
    }
    kite_pipeline_stop(run.swp_pl);
    pthread_join(th, NULL);
    if (run.swp_err) {
        snprintf(errstr, errstr_size, "sweep at %.0f events/s: %s", rate, run.swp_errstr);
        goto out;
    }
    if (!loaded) goto out;
    kite_pipeline_totals_get(run.swp_pl, &t);
    s->kcs_consumed = t.ktl_consumed - before;
    s->kcs_p50_ms = t.ktl_latency_p50_us / 1000;
    s->kcs_p99_ms = t.ktl_latency_p99_us / 1000;
    s->kcs_p999_ms = t.ktl_latency_p999_us / 1000;
    rc = 0;
out:
    kite_pipeline_free(run.swp_pl);
    kite_config_free(&cfg);
    return rc;
}

int kite__capacity_sweep(const kite__capacity_opts *o, const char *brokers, double top_rate,
                         int quiet, kite__capacity_curve *out, char *errstr, size_t errstr_size)
{
    *out = (kite__capacity_curve){.kcc_planned = (int)o->sweep_steps, .kcc_knee = -1};
    for (int i = 0; i < out->kcc_planned; i++) {
        double rate = top_rate * (i + 1) / out->kcc_planned;
        kite__capacity_step *s = &out->kcc_steps[i];
        if (!quiet)
            fprintf(stderr, "kite capacity: sweep %d/%d: %.0f events/s for %.1f s\n", i + 1,
                    out->kcc_planned, rate, o->step_seconds);
        if (sweep_step(o, brokers, rate, s, errstr, errstr_size)) return -1;
        out->kcc_nsteps = i + 1;
        if (!s->kcs_kept_up) {
            if (!quiet)
                fprintf(stderr, "kite capacity: sweep: %.0f events/s fell behind (%llu of %llu "
                        "consumed); the sweep stops here\n", rate,
                        (unsigned long long)s->kcs_consumed, (unsigned long long)s->kcs_events);
            break;
        }
    }
    return 0;
}

void kite__capacity_knee(kite__capacity_curve *c, double knee_factor)
{
    c->kcc_knee = -1;
    c->kcc_beyond = 0;
    c->kcc_floor_ms = c->kcc_threshold_ms = 0;
    if (c->kcc_nsteps == 0) return;
    /* The lower of the two lowest rates' p99: one noisy step (a neighbour's build) should not
     * raise the floor. */
    double floor = c->kcc_steps[0].kcs_p99_ms;
    if (c->kcc_nsteps > 1 && c->kcc_steps[1].kcs_kept_up && c->kcc_steps[1].kcs_p99_ms < floor)
        floor = c->kcc_steps[1].kcs_p99_ms;
    c->kcc_floor_ms = floor;
    c->kcc_threshold_ms = knee_factor * floor + 1.0;
    for (int i = 0; i < c->kcc_nsteps; i++) {
        const kite__capacity_step *s = &c->kcc_steps[i];
        if (!s->kcs_kept_up || s->kcs_p99_ms > c->kcc_threshold_ms) break;
        c->kcc_knee = i;
    }
    c->kcc_beyond = c->kcc_knee == c->kcc_planned - 1;
}

int kite__capacity_plot(const kite__capacity_curve *c, const char *path, char *errstr,
                        size_t errstr_size)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        snprintf(errstr, errstr_size, "--plot %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = (size_t)c->kcc_nsteps;
    double values[3 * KITE__CAPACITY_MAX_STEPS];
    for (size_t i = 0; i < n; i++) {
        values[i] = c->kcc_steps[i].kcs_p50_ms;
        values[n + i] = c->kcc_steps[i].kcs_p99_ms;
        values[2 * n + i] = c->kcc_steps[i].kcs_p999_ms;
    }
    static const char *const names[] = {"p50 ms", "p99 ms", "p99.9 ms"};
    char first[64] = "", last[64] = "", knee[160];
    if (n) {
        snprintf(first, sizeof first, "%.0f events/s", c->kcc_steps[0].kcs_rate);
        snprintf(last, sizeof last, "%.0f events/s", c->kcc_steps[n - 1].kcs_rate);
    }
    if (c->kcc_beyond)
        snprintf(knee, sizeof knee, "knee beyond the sweep (p99 at its floor up to %.0f events/s)",
                 c->kcc_steps[n - 1].kcs_rate);
    else if (c->kcc_knee >= 0)
        snprintf(knee, sizeof knee, "knee at %.0f events/s (p99 leaves its floor above it)",
                 c->kcc_steps[c->kcc_knee].kcs_rate);
    else
        snprintf(knee, sizeof knee, "knee below the sweep's lowest rate");
    double hl[2] = {c->kcc_floor_ms, c->kcc_threshold_ms};
    kite__html_svg_chart chart = {.names = names, .values = values, .nseries = 3, .npoints = n,
                                  .hlines = hl, .nhlines = 2, .x_first = first, .x_last = last};
    /* The shared chart is an inline <svg>; a file needs the namespace on its root, which the
     * nested chart inherits. */
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"700\" height=\"300\" "
          "viewBox=\"0 0 700 300\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<text x=\"50\" y=\"16\">kite capacity: latency, event timestamp -&gt; prediction "
          "delivered, by offered rate; ", fp);
    kite__html_svg_text(fp, knee);
    fputs("</text>\n<g transform=\"translate(0,30)\">\n", fp);
    kite__html_svg_line_chart(fp, &chart);
    fputs("</g>\n</svg>\n", fp);
    if (fclose(fp)) {
        snprintf(errstr, errstr_size, "--plot %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
