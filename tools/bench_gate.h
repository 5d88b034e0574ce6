/* Private to the kite command (tools/), not installed.
 * kite bench's figures as data: the JSON a CI job stores (kite bench --json) and the
 * comparison of a candidate against it (--baseline FILE --max-regression P).
 *
 * Each entry is one kernel at one batch size, measured one of two ways:
 *   instructions: callgrind's instruction count (Ir) inside the scoring loop, per row; the
 *                 same binary, model and rows give the same count on every run and machine
 *                 with the same ISA, so a 1% change is real. Needs valgrind, which cannot run
 *                 AVX-512 code.
 *   time:         the median of N timed runs (thread CPU time) of ns per row; noisy on a
 *                 shared machine, so give it a looser --max-regression. */
#ifndef KITE_BENCH_GATE_H
#define KITE_BENCH_GATE_H

#include <stddef.h>
#include <stdio.h>

typedef enum bench_measure { BENCH_TIME, BENCH_INSTRUCTIONS } bench_measure;

#define BENCH_MAX_ENTRIES 64

typedef struct bench_entry {
    char be_kernel[16];
    size_t be_batch;
    bench_measure be_measure;
    double be_per_row;          /* the compared figure: instructions or ns per row         */
    double be_ns_per_tree_row;  /* median timing, for reading (both measures)             */
    double be_rows_per_s;
    double be_us_per_call;
} bench_entry;

typedef struct bench_figures {
    char bf_model[512];
    char bf_input[512];
    char bf_fingerprint[17];    /* the model file's xxh64                                  */
    int bf_trees, bf_groups, bf_max_depth, bf_features;
    size_t bf_rows;
    int bf_repeat;              /* timed runs per time entry (the median is kept)         */
    double bf_seconds;          /* per timed run                                           */
    int bf_nentries;
    bench_entry bf_entries[BENCH_MAX_ENTRIES];
} bench_figures;

const char *bench_measure_name(bench_measure m);

/* The figures as one JSON object (with the comparison when base is not NULL). */
void bench_write_json(FILE *out, const bench_figures *f, const bench_figures *base,
                      double max_regression);

/* Reads figures written by bench_write_json; 0, or -1 with errstr naming file and field. */
int bench_read_json(const char *path, bench_figures *out, char *errstr, size_t errstr_size);

/* Prints the comparison table and a verdict line; returns the number of entries that
 * regressed more than max_regression (a fraction: 0.05) plus the entries that could not be
 * compared with a measure the baseline has (a gate that cannot measure must not pass);
 * -1 when no entry could be compared at all. */
int bench_compare(FILE *out, const bench_figures *cand, const bench_figures *base,
                  double max_regression);

/* Instructions callgrind counts in one `kite bench --callgrind-child` run (argv: that run's
 * arguments after the program path). 0 with *ir set, or -1 with errstr. */
int bench_callgrind_count(const char *valgrind, char *const *child_args, double *ir,
                          char *errstr, size_t errstr_size);

/* valgrind's path ($KITE_VALGRIND, else the first on PATH), or NULL. */
const char *bench_find_valgrind(char *buf, size_t size);

#endif
