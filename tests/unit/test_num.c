/* loaders/csv/num_parse.c and num_format.c against glibc, value by value.
 *
 * Parsing: every text (edge cases, then random ones: random double and float bit patterns
 * printed with random %g/%e precisions and as kite prints them, random digit strings with a
 * random point and exponent, ties and near-ties between floats) must give strtod's double
 * and strtof's float, bit for bit, with the same end pointer; the bounded form
 * (kite_num_parse_double_n) the same on a token followed by more digits.
 * Formatting: for edge floats and random bit patterns (every class: subnormal, normal, +-0,
 * +-inf, NaN) the text must read back as the same float32 through strtof, (float)strtod and
 * kite's parser; be no longer than %.9g's; equal %.9g's when it has 9 digits; and be shortest:
 * no text with one digit less (the two neighbours of the value at that length) reads back.
 *
 * KITE_NUM_TEST_COUNT=N sets the random values per family (default 400000: about 3 s here). */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite_test.h"
#include <kite/num.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static uint32_t fbits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static int parse_failures;

/* One text through both parsers and the bounded form, against glibc. */
static void check_parse(const char *s)
{
    char *end_g, *end_k, *fend_g, *fend_k;
    double dg = strtod(s, &end_g), dk = kite_num_parse_double(s, &end_k);
    float fg = strtof(s, &fend_g), fk = kite_num_parse_float(s, &fend_k);
    int ok = dbits(dg) == dbits(dk) && end_g == end_k && fbits(fg) == fbits(fk) &&
             fend_g == fend_k;
    /* Bounded: the token then a digit that must not be read. */
    size_t n = strlen(s), used = 0;
    char buf[512];
    if (n + 2 < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '7';
        buf[n + 1] = 0;
        double bn = kite_num_parse_double_n(buf, n, &used);
        ok = ok && dbits(bn) == dbits(dg) && used == (size_t)(end_g - s);
    }
    kt_checks++;
    if (!ok && parse_failures++ < 20) {
        kt_failures++;
        fprintf(stderr,
                "parse \"%s\": strtod %a (+%td) kite %a (+%td); strtof %a (+%td) kite %a (+%td); "
                "bounded used %zu\n",
                s, dg, end_g - s, dk, end_k - s, (double)fg, fend_g - s, (double)fk, fend_k - s,
                used);
    } else if (!ok) {
        kt_failures++;
    }
}

static const char *const edge_texts[] = {
    "0", "-0", "+0", "0.0", "-0.0", "0e0", "0e-999999", "-0e999999", "00000", ".0", "0.",
    "1", "-1", "+1", "1.", ".5", "-.5", "1e", "1e+", "1e-", "1E5", "1e+5", "1e-5", "1.5e",
    "", " ", "-", "+", ".", "-.", "e5", " 42", "\t\n\v\f\r 42", "42 ", "4 2", "- 4", "--4",
    "1e-45", "1.4e-45", "1.401298464324817e-45", "7e-46", "7.006492321624085e-46",
    "7.006492321624086e-46", "1.17549435e-38", "1.1754942e-38", "1.17549421e-38",
    "3.4028235e38", "3.40282347e+38", "3.4028236e38", "3.40282357e38", "3.4028235677973366e38",
    "3.4028235677973367e38", "3.5e38", "1e39", "-3.4028235e38", "3.4028234663852886e+38",
    "4.9e-324", "5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "2.5e-324",
    "2.2250738585072011e-308", "2.2250738585072014e-308", "2.2250738585072012e-308",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309",
    "1e308", "1e-308", "1e-320", "1e-400", "1e400", "-1e400", "1e99999", "1e100000",
    "1e-100000", "1e999999999999999999999", "0.000000000000000000000000000000000001e36",
    "16777216", "16777217", "16777218", "16777219", "33554434", "33554435", "9007199254740993",
    "9007199254740992", "9007199254740994", "9007199254740995", "18446744073709551615",
    "18446744073709551616", "1844674407370955161", "12345678901234567890",
    "1234567890123456789012345678901234567890", "0.1", "0.2", "0.3", "0.7", "3.14159265",
    "2.71828183", "1.00000006", "1.0000000596046447753906250", "1.00000005960464477539062500001",
    "1.00000005960464477539062499999", "1.000000059604644775390625", "100000000", "1e8",
    "123456789", "987654321", "4294967296", "0.000123", "1.5e-7", "-200", "-200.0",
    "inf", "-inf", "+inf", "INF", "Inf", "infinity", "-Infinity", "INFINITY", "infin", "in",
    "nan", "-nan", "NaN", "NAN", "nan(123)", "nan()", "nan(abc_1)", "nan(", "nana", "n",
    "0x1p3", "0X1P-2", "0x", "0x1.8p1", "-0x10", "0xg", "00x1", "1x", "1,5", "1_000",
    "000000000000000000000000000000000001", "0.0000000000000000000000000000000000000000001",
    "1.000000000000000000000000000000000000000000000000000000000000000000000000000001",
    "8.589973e9", "8.589974e9", "4.2949673e9", "2.1474836e9", "7.0e-10", "1e22", "1e23",
    "9007199254740993e-22", "9007199254740992e22", "4503599627370497.5",
    "2.2250738585072013e-308", "4.4501477170144023e-308", "4.9406564584124654e-324",
};

/* Every finite float32 tie is between two floats; for those whose midpoint has a short
 * decimal expansion (integers 2^24..2^31, where ulps are 2..256), the midpoint and its
 * neighbours one unit in the 9th/10th digit either way. */
static void check_ties(long count)
{
    char s[64];
    for (long i = 0; i < count; i++) {
        int e = 24 + (int)(rng() % 8); /* ulp 2^(e-23) */
        uint32_t m = (uint32_t)(rng() & 0x7FFFFF);
        double a = ldexp(1.0 + m / 8388608.0, e), ulp = ldexp(1.0, e - 23);
        double mid = a + ulp / 2;
        snprintf(s, sizeof s, "%.0f", mid);
        check_parse(s);
        snprintf(s, sizeof s, "%.0f", mid + 1);
        check_parse(s);
        snprintf(s, sizeof s, "%.0f", mid - 1);
        check_parse(s);
        snprintf(s, sizeof s, "%.0f.000000000000000000001", mid);
        check_parse(s);
        snprintf(s, sizeof s, "%.0f", mid - 1);
        size_t l = strlen(s);
        snprintf(s + l, sizeof s - l, ".99999999999999999999");
        check_parse(s);
        /* The same midpoints in scientific form with 9 digits (when exact) and as doubles. */
        snprintf(s, sizeof s, "%.8e", mid);
        check_parse(s);
        /* Float midpoints anywhere, to 17 and 9 significant digits: near-ties in every binade. */
        uint32_t fb = (uint32_t)rng() & 0x7F7FFFFF;
        float f;
        memcpy(&f, &fb, sizeof f);
        double fm = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
        snprintf(s, sizeof s, "%.17g", fm);
        check_parse(s);
        snprintf(s, sizeof s, "%.9g", fm);
        check_parse(s);
        snprintf(s, sizeof s, "%.40g", fm); /* exact midpoint up to 40 digits: slow path */
        check_parse(s);
    }
}

static void check_random_texts(long count)
{
    char s[128];
    for (long i = 0; i < count; i++) {
        uint64_t r = rng();
        double d;
        memcpy(&d, &r, sizeof d);
        int prec = 1 + (int)(rng() % 19);
        snprintf(s, sizeof s, (rng() & 1) ? "%.*g" : "%.*e", prec, d);
        check_parse(s);
        uint32_t fb = (uint32_t)rng();
        float f;
        memcpy(&f, &fb, sizeof f);
        snprintf(s, sizeof s, "%.*g", 1 + (int)(rng() % 10), (double)f);
        check_parse(s);
        kite_num_format_float(f, s);
        check_parse(s);
        /* A digit string: 1..24 digits, a point somewhere (or none), an exponent (or none). */
        int nd = 1 + (int)(rng() % 24), dot = (int)(rng() % (unsigned)(nd + 2)) - 1, k = 0;
        if (rng() % 4 == 0) s[k++] = '-';
        int lead = (int)(rng() % 3);
        for (int z = 0; z < lead; z++) s[k++] = '0';
        for (int j = 0; j < nd; j++) {
            if (j == dot) s[k++] = '.';
            s[k++] = (char)('0' + rng() % 10);
        }
        if (rng() % 3) {
            int ex = (int)(rng() % 721) - 360;
            if (rng() % 2) ex = (int)(rng() % 101) - 60; /* the float32 range, mostly */
            k += snprintf(s + k, sizeof s - (size_t)k, "%s%d", rng() & 1 ? "e" : "E", ex);
        }
        s[k] = 0;
        check_parse(s);
    }
}

static int fmt_failures;

static void fmt_fail(float v, const char *text, const char *why)
{
    kt_failures++;
    if (fmt_failures++ < 20)
        fprintf(stderr, "format %a (%.9g): \"%s\": %s\n", (double)v, (double)v, text, why);
}

/* Does the text with these significant digits (an integer) times 10^e10 read back as v? */
static int reads_back(int64_t digits, int e10, float v)
{
    char s[64];
    snprintf(s, sizeof s, "%" PRId64 "e%d", digits, e10);
    return fbits(strtof(s, NULL)) == fbits(fabsf(v));
}

static void check_format(float v)
{
    char text[KITE_NUM_FLOAT_CHARS], ref[64];
    size_t n = kite_num_format_float(v, text);
    snprintf(ref, sizeof ref, "%.9g", (double)v);
    kt_checks++;
    if (n != strlen(text)) return fmt_fail(v, text, "returned length is not the text's");
    if (isnan(v)) {
        if (strcmp(text, ref)) fmt_fail(v, text, "NaN not spelled as %.9g spells it");
        return;
    }
    if (fbits(strtof(text, NULL)) != fbits(v)) return fmt_fail(v, text, "strtof reads another float");
    if (fbits((float)strtod(text, NULL)) != fbits(v))
        return fmt_fail(v, text, "(float)strtod reads another float");
    if (fbits(kite_num_parse_float(text, NULL)) != fbits(v))
        return fmt_fail(v, text, "kite_num_parse_float reads another float");
    if (isinf(v) || v == 0) {
        if (strcmp(text, ref)) fmt_fail(v, text, "not %.9g's spelling");
        return;
    }
    if (n > strlen(ref)) return fmt_fail(v, text, "longer than %.9g");
    /* The significant digits and their exponent. */
    int64_t digits = 0;
    int nd = 0, e10 = 0, seen_dot = 0, started = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-') continue;
        if (*p == '.') {
            seen_dot = 1;
            continue;
        }
        if (*p == 'e') {
            e10 += atoi(p + 1);
            break;
        }
        if (*p != '0') started = 1;
        if (started) {
            digits = digits * 10 + (*p - '0');
            nd++;
            if (seen_dot) e10--;
        } else if (seen_dot) {
            e10--;
        }
    }
    /* Trailing integer zeros ("1000") are digits above; drop them into the exponent. */
    while (nd > 1 && digits % 10 == 0) {
        digits /= 10;
        nd--;
        e10++;
    }
    if (nd == 9) {
        char g[64];
        snprintf(g, sizeof g, "%.9g", (double)v);
        if (strcmp(text, g)) return fmt_fail(v, text, "9 digits but not %.9g's");
    }
    if (nd > 1) {
        /* The value's neighbours with nd - 1 digits: the correctly rounded one and one unit
         * either side (one of the three is the other neighbour). None may read back. */
        char e[64];
        snprintf(e, sizeof e, "%.*e", nd - 2, fabs((double)v));
        int64_t m = 0;
        const char *p = e;
        for (; *p && *p != 'e'; p++)
            if (*p != '.') m = m * 10 + (*p - '0');
        int ex = atoi(p + 1) - (nd - 2);
        for (int64_t c = m - 1; c <= m + 1; c++)
            if (c > 0 && reads_back(c, ex, v)) return fmt_fail(v, text, "a shorter text reads back");
    }
}

static const float edge_floats[] = {
    0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 0.2f, 0.3f, 1e-45f, -1e-45f, 2.8e-45f, 1.17549435e-38f,
    1.1754942e-38f, 3.4028235e38f, -3.4028235e38f, 16777216.0f, 16777218.0f, 1e8f, 1e9f,
    123456789.0f, 99999999.0f, 999999999.0f, 0.0001f, 0.00001f, 1.5e-5f, 9.9999997e-5f,
    1e10f, 1e-10f, 2.5f, 0.5f, 0.125f, 33554432.0f, 8388608.0f, 4194304.5f, 0.333333343f,
    2147483648.0f, 1.00000012f, 0.99999994f, 7.0e-10f, 9.9e-39f, 3.0e38f,
};

int main(void)
{
    long count = 400000;
    const char *env = getenv("KITE_NUM_TEST_COUNT");
    if (env && *env) count = strtol(env, NULL, 10);
    for (size_t i = 0; i < sizeof edge_texts / sizeof *edge_texts; i++) check_parse(edge_texts[i]);
    check_ties(count / 4);
    check_random_texts(count);
    printf("parse: %d texts checked, %d differ from glibc\n", kt_checks, parse_failures);

    int before = kt_checks;
    for (size_t i = 0; i < sizeof edge_floats / sizeof *edge_floats; i++) {
        check_format(edge_floats[i]);
        check_format(nextafterf(edge_floats[i], INFINITY));
        check_format(nextafterf(edge_floats[i], -INFINITY));
    }
    check_format(INFINITY);
    check_format(-INFINITY);
    check_format(NAN);
    check_format(-NAN);
    /* Every power of two and its neighbours (the asymmetric intervals), every subnormal
     * pattern with one bit set, then random bit patterns of every class. */
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1.0f, e);
        check_format(p);
        check_format(nextafterf(p, 0));
        check_format(nextafterf(p, INFINITY));
    }
    for (uint32_t b = 1; b < 0x800000; b <<= 1) {
        float f;
        memcpy(&f, &b, sizeof f);
        check_format(f);
    }
    for (long i = 0; i < 4 * count; i++) {
        uint32_t b = (uint32_t)rng();
        float f;
        memcpy(&f, &b, sizeof f);
        check_format(f);
    }
    /* Small integers and short decimals, the values data actually holds. */
    for (int i = 0; i < 100000; i++) {
        check_format((float)i);
        check_format((float)i / 100.0f);
        check_format((float)i / 1000.0f);
    }
    printf("format: %d floats checked, %d failed\n", kt_checks - before, fmt_failures);
    return kt_finish("test_num");
}
