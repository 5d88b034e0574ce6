/* Shared pieces of the kite command-line tool: the subcommand table and small helpers. */
#ifndef KITE_CLI_H
#define KITE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "forest.h"
#include "model.h"

#define KITE_VERSION "0.1.0"

/* Exit codes used by every subcommand. */
enum { KITE_EXIT_OK = 0, KITE_EXIT_ERROR = 1, KITE_EXIT_USAGE = 2 };

typedef struct kite_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} kite_command;

int kite_cmd_score(int argc, char **argv);
int kite_cmd_info(int argc, char **argv);
int kite_cmd_featurize(int argc, char **argv); /* features */
int kite_cmd_bench(int argc, char **argv);
/* --- drift --- */
int kite_cmd_profile(int argc, char **argv);
int kite_cmd_drift(int argc, char **argv);
/* --- http --- */
int kite_serve_http_main(int argc, char **argv); /* tools/cmd_serve_http.c */
int kite_cmd_serve(int argc, char **argv);
int kite_cmd_produce(int argc, char **argv);
int kite_cmd_broker(int argc, char **argv);

/* Loads a model file and builds its forest; prints "kite: <reason>" on failure. */
int kite_cli_load_forest(const char *path, kite_model *model, kite_forest *forest);

/* Parses a delimiter argument: "," ";" "\t" or "tab". Returns 0 on error. */
char kite_cli_delimiter(const char *arg);

/* Monotonic clock in seconds. */
double kite_cli_now(void);

#endif
