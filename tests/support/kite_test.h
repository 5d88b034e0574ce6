/* Minimal assertion helpers for kite's C tests: each failed check prints file:line and the
 * expression, and the test exits 1 at the end with a pass/fail count. */
#ifndef KITE_TEST_H
#define KITE_TEST_H

#include <stdio.h>

static int kt_checks, kt_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        kt_checks++;                                                                         \
        if (!(cond)) {                                                                       \
            kt_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                 \
    do {                                                                                     \
        kt_checks++;                                                                         \
        if (!(cond)) {                                                                       \
            kt_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

static inline int kt_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, kt_checks - kt_failures, kt_failures);
    return kt_failures ? 1 : 0;
}

#endif
