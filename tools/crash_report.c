/* One line and a backtrace when kite crashes, instead of a bare "Segmentation fault": a CI log
 * or a supervisor's journal then says which signal, where, and in which frames, so a crash seen
 * once can be found. The handler writes with write(2) only, then restores the default action and
 * raises the signal again, so the exit status (and any core dump) is the same as without it. */
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CRASH_REPORT_SANITIZED 1 /* the sanitizer's own report is better, and its handler must stay */
#else
#define CRASH_REPORT_SANITIZED 0
#endif

#if !CRASH_REPORT_SANITIZED
static const struct {
    int sig;
    const char *name;
} crash_signals[] = {
    {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGILL, "SIGILL"}, {SIGFPE, "SIGFPE"}, {SIGABRT, "SIGABRT"},
};

static void crash_write(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void crash_write_hex(uintptr_t v)
{
    char buf[2 + 2 * sizeof v + 1], *p = buf + sizeof buf - 1;
    *p = 0;
    do {
        *--p = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    *--p = 'x';
    *--p = '0';
    crash_write(p);
}

static void crash_on_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    const char *name = "signal";
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        if (crash_signals[i].sig == sig) name = crash_signals[i].name;
    crash_write("kite: crashed: ");
    crash_write(name);
    if (info && info->si_code <= 0) { /* kill(2), tgkill(2), raise(3), abort(3) */
        crash_write(", sent by pid ");
        crash_write_hex((uintptr_t)info->si_pid);
    } else {
        crash_write(", fault address ");
        crash_write_hex((uintptr_t)(info ? info->si_addr : 0));
    }
    crash_write("; backtrace (addr2line -f -e <kite> <offset>):\n");
    void *frames[48];
    int n = backtrace(frames, 48);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    raise(sig); /* the default action again (SA_RESETHAND): delivered when this returns */
}
#endif

void kite__crash_report_install(void)
{
#if !CRASH_REPORT_SANITIZED
    /* backtrace() loads libgcc on its first call (which allocates): do it now, not in a handler. */
    void *warm[1];
    (void)backtrace(warm, 1);
    /* A stack overflow leaves no stack to run the handler on: give the main thread another. */
    static char alt_stack[64 * 1024];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    int on_alt = sigaltstack(&ss, NULL) == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | (on_alt ? SA_ONSTACK : 0);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        sigaction(crash_signals[i].sig, &sa, NULL);
#endif
}
