/* --json of the batch commands (cli.h): the summary line, and the failure line for a command
 * that ends before it could print one. The failure's words are the one-line error the command
 * already wrote on stderr: rather than threading a message out of every error path of six
 * commands and the loaders under them, stderr is a write-through stream while the command
 * runs (glibc fopencookie; main's process only) that keeps the line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CLI_JSON_LINE 1024

static struct {
    const char *cj_command; /* NULL: not in --json mode                        */
    int cj_printed;         /* a summary line went out (kite__cli_json_result)  */
    int cj_usage;           /* usage text began: later lines are not the error */
    char cj_error[CLI_JSON_LINE], cj_cur[CLI_JSON_LINE];
    size_t cj_curlen;
    FILE *cj_real;          /* the original stderr, restored by end            */
} cli_json;

void kite__cli_json_string(char *out, size_t size, const char *s)
{
    size_t n = 0;
    if (size < 3) {
        if (size) *out = 0;
        return;
    }
    out[n++] = '"';
    for (; s && *s && n + 8 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') out[n++] = '\\', out[n++] = (char)ch;
        else if (ch < 0x20) n += (size_t)snprintf(out + n, size - n, "\\u%04x", ch);
        else out[n++] = (char)ch;
    }
    out[n++] = '"';
    out[n] = 0;
}

void kite__cli_json_result(const char *command, int rc, const char *fields_fmt, ...)
{
    char *fields = NULL; /* any length: bench's figures ride in it */
    if (fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        if (vasprintf(&fields, fields_fmt, ap) < 0) fields = NULL;
        va_end(ap);
    }
    int ok = rc == KITE_EXIT_OK || rc == KITE_EXIT_FINDING;
    char err[2 * CLI_JSON_LINE] = "";
    if (!ok) /* a failure names itself: the one line the command wrote on stderr */
        kite__cli_json_string(err, sizeof err, cli_json.cj_error[0] ? cli_json.cj_error : "failed (no message)");
    printf("{\"command\":\"%s\",\"result\":\"%s\",\"ok\":%s,\"exit\":%d%s%s%s%s}\n", command,
           rc == KITE_EXIT_OK ? "ok" : rc == KITE_EXIT_FINDING ? "finding" : "error", ok ? "true" : "false", rc,
           fields && *fields ? "," : "", fields ? fields : "", ok ? "" : ",\"error\":", err);
    free(fields);
    fflush(stdout);
    cli_json.cj_printed = 1;
}

/* A complete stderr line: the error is the last one before usage text (a usage error prints
 * its reason, then the usage), skipping blank and indented lines (tables, continuations). */
static void cli_json_line(const char *line, size_t n)
{
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
    if (!strncmp(line, "usage:", 6)) cli_json.cj_usage = 1;
    if (cli_json.cj_usage || n == 0 || line[0] == ' ' || line[0] == '\t') return;
    const char *cr = memrchr(line, '\r', n); /* a progress line: keep what follows the last \r */
    if (cr) {
        n -= (size_t)(cr + 1 - line);
        line = cr + 1;
    }
    if (n == 0) return;
    memcpy(cli_json.cj_error, line, n);
    cli_json.cj_error[n] = 0;
}

static ssize_t cli_json_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    for (size_t done = 0; done < size;) { /* through to fd 2 first, unchanged */
        ssize_t w = write(STDERR_FILENO, buf + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    for (size_t i = 0; i < size; i++) {
        if (buf[i] == '\n') {
            cli_json_line(cli_json.cj_cur, cli_json.cj_curlen);
            cli_json.cj_curlen = 0;
        } else if (cli_json.cj_curlen + 1 < CLI_JSON_LINE) {
            cli_json.cj_cur[cli_json.cj_curlen++] = buf[i];
        }
    }
    return (ssize_t)size;
}

void kite__cli_json_begin(const char *command, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--json") || !strncmp(argv[i], "--json=", 7)) json = 1;
    if (!json) return;
    cli_json.cj_command = command;
    FILE *tee = fopencookie(NULL, "w", (cookie_io_functions_t){.write = cli_json_write});
    if (!tee) return; /* the fallback line then has no words, the exit code still tells */
    setvbuf(tee, NULL, _IONBF, 0); /* stderr's own behaviour: every write goes out at once */
    cli_json.cj_real = stderr;
    stderr = tee;
}

int kite__cli_json_end(int rc)
{
    if (!cli_json.cj_command) return rc;
    if (cli_json.cj_real) {
        if (cli_json.cj_curlen) cli_json_line(cli_json.cj_cur, cli_json.cj_curlen); /* no final \n */
        FILE *tee = stderr;
        stderr = cli_json.cj_real;
        fclose(tee);
    }
    if (!cli_json.cj_printed) kite__cli_json_result(cli_json.cj_command, rc, NULL); /* --help too */
    return rc;
}
