/* kite bench's perf gate: figures to and from JSON, the candidate-vs-baseline comparison, and
 * the callgrind run that counts a kernel's instructions (see bench_gate.h). */
#include <stdio.h>

#include "bench_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

const char *bench_measure_name(bench_measure m)
{
    return m == BENCH_INSTRUCTIONS ? "instructions" : "time";
}

static void gate_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static const bench_entry *gate_find(const bench_figures *f, const bench_entry *e)
{
    for (int i = 0; i < f->bf_nentries; i++)
        if (!strcmp(f->bf_entries[i].be_kernel, e->be_kernel) &&
            f->bf_entries[i].be_batch == e->be_batch)
            return &f->bf_entries[i];
    return NULL;
}

void bench_write_json(FILE *out, const bench_figures *f, const bench_figures *base,
                      double max_regression)
{
    fprintf(out, "{\n  \"kite_bench\": 1,\n  \"model\": ");
    gate_json_string(out, f->bf_model);
    fprintf(out, ",\n  \"model_fingerprint\": \"%s\",\n  \"trees\": %d,\n  \"groups\": %d,\n"
                 "  \"max_depth\": %d,\n  \"features\": %d,\n  \"input\": ",
            f->bf_fingerprint, f->bf_trees, f->bf_groups, f->bf_max_depth, f->bf_features);
    gate_json_string(out, f->bf_input);
    fprintf(out, ",\n  \"rows\": %zu,\n  \"repeat\": %d,\n  \"seconds\": %g,\n"
                 "  \"entries\": [",
            f->bf_rows, f->bf_repeat, f->bf_seconds);
    for (int i = 0; i < f->bf_nentries; i++) {
        const bench_entry *e = &f->bf_entries[i];
        fprintf(out, "%s\n    {\"kernel\": \"%s\", \"batch\": %zu, \"measure\": \"%s\", ",
                i ? "," : "", e->be_kernel, e->be_batch, bench_measure_name(e->be_measure));
        fprintf(out, "\"%s\": %.17g, \"ns_per_tree_row\": %.17g, \"rows_per_s\": %.17g, "
                     "\"us_per_call\": %.17g",
                e->be_measure == BENCH_INSTRUCTIONS ? "instructions_per_row" : "ns_per_row",
                e->be_per_row, e->be_ns_per_tree_row, e->be_rows_per_s, e->be_us_per_call);
        const bench_entry *b = base ? gate_find(base, e) : NULL;
        if (b && b->be_measure == e->be_measure)
            fprintf(out, ", \"baseline\": %.17g, \"change\": %.17g, \"regression\": %s",
                    b->be_per_row, e->be_per_row / b->be_per_row - 1,
                    e->be_per_row > b->be_per_row * (1 + max_regression) ? "true" : "false");
        fputc('}', out);
    }
    fprintf(out, "\n  ]");
    if (base) fprintf(out, ",\n  \"max_regression\": %.17g", max_regression);
    fprintf(out, "\n}\n");
}

static int gate_err(char *errstr, size_t size, const char *path, const char *what)
{
    snprintf(errstr, size, "%s: %s", path, what);
    return -1;
}

static char *gate_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    fclose(fp);
    *len = n;
    return buf;
}

int bench_read_json(const char *path, bench_figures *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = gate_slurp(path, &len);
    if (!text) return gate_err(errstr, errstr_size, path, strerror(errno));
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return gate_err(errstr, errstr_size, path, "not a JSON object (kite bench --json writes one)");
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "kite_bench");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
    int rc = 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != 1)
        rc = gate_err(errstr, errstr_size, path, "field \"kite_bench\": expected 1 (the format version)");
    else if (!cJSON_IsArray(entries))
        rc = gate_err(errstr, errstr_size, path, "field \"entries\": expected an array");
    if (!rc) {
        const cJSON *s;
        if (cJSON_IsString(s = cJSON_GetObjectItemCaseSensitive(root, "model")))
            snprintf(out->bf_model, sizeof out->bf_model, "%s", s->valuestring);
        if (cJSON_IsString(s = cJSON_GetObjectItemCaseSensitive(root, "input")))
            snprintf(out->bf_input, sizeof out->bf_input, "%s", s->valuestring);
        if (cJSON_IsString(s = cJSON_GetObjectItemCaseSensitive(root, "model_fingerprint")))
            snprintf(out->bf_fingerprint, sizeof out->bf_fingerprint, "%s", s->valuestring);
        if (cJSON_IsNumber(s = cJSON_GetObjectItemCaseSensitive(root, "trees"))) out->bf_trees = s->valueint;
        if (cJSON_IsNumber(s = cJSON_GetObjectItemCaseSensitive(root, "max_depth")))
            out->bf_max_depth = s->valueint;
        if (cJSON_IsNumber(s = cJSON_GetObjectItemCaseSensitive(root, "rows")))
            out->bf_rows = (size_t)s->valuedouble;
    }
    int i = 0;
    const cJSON *e;
    const cJSON *list = rc ? NULL : entries;
    cJSON_ArrayForEach(e, list)
    {
        char what[160];
        if (i == BENCH_MAX_ENTRIES) {
            rc = gate_err(errstr, errstr_size, path, "more entries than kite bench writes");
            break;
        }
        bench_entry *be = &out->bf_entries[i];
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kernel");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "batch");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "measure");
        int instr = cJSON_IsString(m) && !strcmp(m->valuestring, "instructions");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, instr ? "instructions_per_row" : "ns_per_row");
        const char *bad = !cJSON_IsString(k) || strlen(k->valuestring) >= sizeof be->be_kernel
                              ? "kernel"
                          : !cJSON_IsNumber(b) || b->valuedouble < 1 ? "batch"
                          : !cJSON_IsString(m) || (!instr && strcmp(m->valuestring, "time"))
                              ? "measure (instructions or time)"
                          : !cJSON_IsNumber(p) || !(p->valuedouble > 0)
                              ? (instr ? "instructions_per_row" : "ns_per_row")
                              : NULL;
        if (bad) {
            snprintf(what, sizeof what, "entries[%d]: field %s is missing or wrong", i, bad);
            rc = gate_err(errstr, errstr_size, path, what);
            break;
        }
        snprintf(be->be_kernel, sizeof be->be_kernel, "%s", k->valuestring);
        be->be_batch = (size_t)b->valuedouble;
        be->be_measure = instr ? BENCH_INSTRUCTIONS : BENCH_TIME;
        be->be_per_row = p->valuedouble;
        i++;
    }
    out->bf_nentries = i;
    cJSON_Delete(root);
    return rc;
}

int bench_compare(FILE *out, const bench_figures *cand, const bench_figures *base,
                  double max_regression)
{
    fprintf(out, "baseline:  %s (%d trees, max depth %d), %zu rows of %s\n", base->bf_model,
            base->bf_trees, base->bf_max_depth, base->bf_rows, base->bf_input);
    fprintf(out, "candidate: %s (%d trees, max depth %d), %zu rows of %s\n", cand->bf_model,
            cand->bf_trees, cand->bf_max_depth, cand->bf_rows, cand->bf_input);
    fprintf(out, "%-8s %7s %-12s %16s %16s %9s  %s\n", "kernel", "batch", "measure",
            "baseline/row", "now/row", "change", "verdict");
    int bad = 0, compared = 0;
    for (int i = 0; i < cand->bf_nentries; i++) {
        const bench_entry *e = &cand->bf_entries[i];
        const bench_entry *b = gate_find(base, e);
        if (!b) {
            fprintf(out, "%-8s %7zu %-12s %16s %16.2f %9s  new (not in the baseline)\n",
                    e->be_kernel, e->be_batch, bench_measure_name(e->be_measure), "-",
                    e->be_per_row, "");
            continue;
        }
        if (b->be_measure != e->be_measure) {
            fprintf(out, "%-8s %7zu %-12s %16.2f %16.2f %9s  NOT COMPARABLE (baseline: %s)\n",
                    e->be_kernel, e->be_batch, bench_measure_name(e->be_measure), b->be_per_row,
                    e->be_per_row, "", bench_measure_name(b->be_measure));
            bad++;
            continue;
        }
        compared++;
        double change = e->be_per_row / b->be_per_row - 1;
        int regressed = e->be_per_row > b->be_per_row * (1 + max_regression);
        bad += regressed;
        fprintf(out, "%-8s %7zu %-12s %16.2f %16.2f %+8.2f%%  %s\n", e->be_kernel, e->be_batch,
                bench_measure_name(e->be_measure), b->be_per_row, e->be_per_row, change * 100,
                regressed ? "REGRESSION" : "ok");
    }
    for (int i = 0; i < base->bf_nentries; i++)
        if (!gate_find(cand, &base->bf_entries[i]))
            fprintf(out, "%-8s %7zu %-12s %16.2f %16s %9s  not measured now (kernel or batch "
                         "not run)\n",
                    base->bf_entries[i].be_kernel, base->bf_entries[i].be_batch,
                    bench_measure_name(base->bf_entries[i].be_measure),
                    base->bf_entries[i].be_per_row, "-", "");
    if (!compared) {
        fprintf(out, "kite bench: no entry of the baseline was measured the same way now: "
                     "nothing compared\n");
        return -1;
    }
    if (bad)
        fprintf(out, "kite bench: %d of %d entries regressed more than %.4g%% or could not be "
                     "compared\n", bad, cand->bf_nentries, max_regression * 100);
    else
        fprintf(out, "kite bench: no regression over %.4g%% (%d entries compared)\n",
                max_regression * 100, compared);
    return bad;
}

const char *bench_find_valgrind(char *buf, size_t size)
{
    const char *env = getenv("KITE_VALGRIND");
    if (env) return *env && access(env, X_OK) == 0 ? env : NULL; /* "" turns it off */
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n && (size_t)snprintf(buf, size, "%.*s/valgrind", (int)n, p) < size &&
            access(buf, X_OK) == 0)
            return buf;
        p += n + (colon != NULL);
    }
    return NULL;
}

/* The total of a callgrind output file: its "totals:" line (the "summary:" line can read 0
 * when collection starts off, as here). */
static int gate_read_total(const char *path, double *ir)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, fp))
        if (!strncmp(line, "totals:", 7)) found = sscanf(line + 7, "%lf", ir) == 1;
    fclose(fp);
    return found ? 0 : -1;
}

int bench_callgrind_count(const char *valgrind, char *const *child_args, double *ir,
                          char *errstr, size_t errstr_size)
{
    char dir[] = "/tmp/kite-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(errstr, errstr_size, "callgrind: temporary directory: %s", strerror(errno));
        return -1;
    }
    char outfile[64], logfile[64], outarg[96], self[4096];
    snprintf(outfile, sizeof outfile, "%s/cg.out", dir);
    snprintf(logfile, sizeof logfile, "%s/log", dir);
    snprintf(outarg, sizeof outarg, "--callgrind-out-file=%s", outfile);
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0) {
        snprintf(errstr, errstr_size, "callgrind: cannot find this program (/proc/self/exe)");
        rmdir(dir);
        return -1;
    }
    self[sn] = 0;
    /* Collection is off until the child's scoring loop turns it on (valgrind/callgrind.h), so
     * the count is the kernel's alone, not model loading or CSV parsing. */
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)valgrind;
    argv[n++] = "--tool=callgrind";
    argv[n++] = outarg;
    argv[n++] = "--instr-atstart=no";
    argv[n++] = "--collect-atstart=no";
    argv[n++] = self;
    for (int i = 0; child_args[i] && n < 63; i++) argv[n++] = child_args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(valgrind, argv);
        _exit(127);
    }
    int status = 0, rc = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        char tail[256] = "";
        FILE *lf = fopen(logfile, "r");
        if (lf) { /* the log's last line says why */
            char line[256];
            while (fgets(line, sizeof line, lf))
                if (line[0] && line[0] != '\n') snprintf(tail, sizeof tail, "%s", line);
            fclose(lf);
            tail[strcspn(tail, "\n")] = 0;
        }
        snprintf(errstr, errstr_size, "callgrind run failed (%s %s): %s", valgrind,
                 pid < 0 ? "could not start" : "exit status", tail);
        rc = -1;
    } else if (gate_read_total(outfile, ir) || !(*ir > 0)) {
        snprintf(errstr, errstr_size, "callgrind counted no instructions in the scoring loop");
        rc = -1;
    }
    unlink(outfile);
    unlink(logfile);
    rmdir(dir);
    return rc;
}
