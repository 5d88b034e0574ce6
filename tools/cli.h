/* Private to the kite command (tools/), not installed.
 * Shared pieces of the kite command-line tool: the subcommand table and small helpers. */
#ifndef KITE_CLI_H
#define KITE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kite/csv.h>
#include <kite/forest.h>
#include <kite/http_server.h>
#include <kite/model.h>

#define KITE_VERSION "0.1.0"

/* Exit codes used by every subcommand. */
/* Stable exit codes of every batch command (README "Exit codes"): 3 is a finding the caller
 * asked to fail on (kite drift --fail-on-drift). */
enum { KITE_EXIT_OK = 0, KITE_EXIT_ERROR = 1, KITE_EXIT_USAGE = 2, KITE_EXIT_FINDING = 3 };

/* --json of the batch commands (score, featurize, profile, drift, bench, capacity; README
 * "Exit codes and --json"): the last stdout line is one JSON object,
 *   {"command":C,"result":"ok"|"finding"|"error","ok":B,"exit":rc<, fields>}
 * ("ok" is false only for exit 1 and 2, and then "error" ends the line: the command's one-line
 * error from stderr; fields: JSON members, may be "" or NULL). A command prints its own line
 * with kite__cli_json_result; when it fails before it can (a usage error, a missing file, a
 * bad model), kite__cli_json_end prints the line for it. */
__attribute__((format(printf, 3, 4))) void kite__cli_json_result(const char *command, int rc,
                                                                 const char *fields_fmt, ...);
/* A JSON string of s (quotes and escapes) into out; always NUL-terminates. */
void kite__cli_json_string(char *out, size_t size, const char *s);
/* Called by main around a batch command: with --json (or --json=...) in argv, stderr is
 * replaced by a stream that writes through to fd 2 unchanged and remembers the error line
 * (the last line before any usage text); end prints the fallback line if none was printed
 * and returns rc. Without --json both do nothing. */
void kite__cli_json_begin(const char *command, int argc, char **argv);
int kite__cli_json_end(int rc);
/* Installs the crash report (tools/crash_report.c): a fatal signal prints one line naming it and
 * a backtrace, then kills the process as before. Not under ASan/TSan, whose reports stay. */
void kite__crash_report_install(void);

typedef struct kite_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int batch; /* 1: a batch command, with --json's contract (kite__cli_json_begin) */
} kite_command;

int kite__cmd_score(int argc, char **argv);
int kite__cmd_info(int argc, char **argv);
int kite__cmd_featurize(int argc, char **argv); /* features */
int kite__cmd_bench(int argc, char **argv);
/* --- drift --- */
int kite__cmd_profile(int argc, char **argv);
int kite__cmd_drift(int argc, char **argv);
/* --- http --- */
int kite__serve_http_main(int argc, char **argv); /* tools/cmd_serve_http.c */

/* The HTTP server's command-line options, one parser for both modes of `kite serve --http`:
 * alone (cmd_serve_http.c) and beside the Kafka pipeline (cmd_serve.c), so a flag means the
 * same in both. Beside Kafka the model and feature spec are the pipeline's (--model,
 * --feature-spec / the config file), so --model and --spec are not HTTP options there. */
typedef struct kite_serve_http_opts {
    kite_http_config sho_cfg;   /* threads, limits, timeouts, admin token, pin, quiet      */
    const char *sho_listen;     /* --http ADDR:PORT as given                              */
    double sho_grace_s;         /* --grace-seconds: longest drain after SIGTERM (30)       */
    double sho_idle_s;          /* --drain-idle-seconds (1)                                */
    char sho_addr[128];         /* the address part of sho_listen; sho_cfg points here     */
} kite_serve_http_opts;

/* Defaults; the admin token starts from $KITE_ADMIN_TOKEN. */
void kite__serve_http_opts_init(kite_serve_http_opts *o);
/* If argv[*i] is an HTTP option ("--name value", "--name=value" or a short "-t 2"), stores it,
 * advances *i past its value and returns 1; returns 0 when it is not one, -1 after printing
 * why its value is wrong (a usage error). beside_kafka: --model/--spec are not HTTP options. */
int kite__serve_http_arg(int argc, char **argv, int *i, int beside_kafka, kite_serve_http_opts *o);
/* Splits sho_listen into sho_cfg's address and port; -1 after printing why it is wrong. */
int kite__serve_http_listen(kite_serve_http_opts *o);
/* The options' help lines (without --model/--spec when beside_kafka). */
void kite__serve_http_help(FILE *out, int beside_kafka);
int kite__cmd_serve(int argc, char **argv);
int kite__cmd_produce(int argc, char **argv);
int kite__cmd_broker(int argc, char **argv);
int kite__cmd_capacity(int argc, char **argv);

/* Loads a model file and builds its forest; prints "kite: <reason>" on failure. */
int kite__cli_load_forest(const char *path, kite_model *model, kite_forest *forest);
/* The same, keeping only boosting rounds: range "A:B" (--iteration-range, NULL for all),
 * best_iteration (--best-iteration: rounds up to the model's best_iteration, when it has one).
 * Prints one line and returns -1 on failure. */
int kite__cli_load_forest_rounds(const char *path, const char *range, int best_iteration,
                                kite_model *model, kite_forest *forest);

/* Parses a delimiter argument: "," ";" "\t" or "tab". Returns 0 on error. */
/* The CSV-dialect options, parsed in one place for every command that reads a CSV:
 * -d/--delimiter C ('tab' or \\t for a tab), --decimal-comma, --missing MARKER. A command puts
 * KITE_CLI_CSV_LONGOPTS in its long options and "d:" in its short ones, and hands these three
 * option values to kite_cli_csv_option: 0 taken into *csv, -1 a usage error (printed). */
enum { KITE_CLI_OPT_DECIMAL_COMMA = 1000, KITE_CLI_OPT_MISSING };
#define KITE_CLI_CSV_LONGOPTS                                                                  \
    {"delimiter", required_argument, 0, 'd'},                                                  \
        {"decimal-comma", no_argument, 0, KITE_CLI_OPT_DECIMAL_COMMA},                         \
        {"missing", required_argument, 0, KITE_CLI_OPT_MISSING}
/* prefix goes before the option names in messages ("replay-" for kite serve's
 * --replay-delimiter). */
int kite_cli_csv_option(const char *command, const char *prefix, int opt, const char *arg,
                        kite_csv_options *csv);

/* Parses a number in [lo, hi] for option `opt` of `command` ("kite serve"); on a bad value
 * prints "<command>: <opt>: '<arg>' is not a number in [lo, hi]" and returns -1. */
int kite__cli_number(const char *command, const char *opt, const char *arg, double lo, double hi,
                    double *out);

#endif
