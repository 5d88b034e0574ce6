/* kite_num: locale-free number text <-> binary for outside input and predictions.
 *
 * Parsing (loaders/csv/num_parse.c) returns exactly what glibc's strtod / strtof return in the C
 * locale, bit for bit, end pointer included (same grammar: leading white space, sign, decimal
 * digits with an optional point and exponent; hex floats, inf/infinity/nan/nan(...) spellings
 * and digit strings past 19 significant digits take the slow path, strtod_l/strtof_l with a C
 * locale object made once). The fast path is Clinger's exact one (w <= 2^53, |q| <= 22) and
 * Eisel-Lemire (one or two 64x128-bit products against a table of powers of five) for up to
 * 19 significant digits. It does not set errno (kite reads none after strtod).
 *
 * Why not glibc: strtod costs ~700 instructions a number (callgrind, Titanic-like values) and
 * cJSON adds a localeconv() per number; this parser ~190, and %.9g ~2,100 against ~275 for
 * the formatter (bench/RESULTS.md). Why not a library: Debian packages none for C (fast_float
 * and double-conversion are C++, Ryu only as Rust crates).
 *
 * Formatting (loaders/csv/num_format.c) writes the shortest decimal that reads back as the same
 * float32 (Ryu's f2s), laid out as printf's %g with precision 9 would lay it out: fixed for
 * decimal exponents -4..8, d.ddde+XX otherwise, no trailing zeros. When 9 digits are needed
 * the text is %.9g's; otherwise it is shorter (0.1f gives "0.1", %.9g "0.100000001"). Both
 * strtof and (float)strtod read it back as the same float32. Non-finite values are printed
 * as %.9g prints them: "inf", "-inf", "nan", "-nan". */
#ifndef KITE_NUM_H
#define KITE_NUM_H

#include <stddef.h>

/* Room for any kite_num_format_float text and its NUL ("-1.17549435e-38" is 15 chars). */
#define KITE_NUM_FLOAT_CHARS 24

/* strtod(s, end) in the C locale. */
double kite_num_parse_double(const char *s, char **end);

/* The same over s[0..n) only (a token inside a larger buffer, not NUL-terminated);
 * *used = characters taken (0: no number). */
double kite_num_parse_double_n(const char *s, size_t n, size_t *used);

/* strtof(s, end) in the C locale: rounded once, straight to float32 (not via double). */
float kite_num_parse_float(const char *s, char **end);

/* Writes v's shortest round-trip text and a NUL into buf (KITE_NUM_FLOAT_CHARS bytes);
 * returns its length. */
size_t kite_num_format_float(float v, char *buf);

#endif
