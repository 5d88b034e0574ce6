/* Decimal text -> double / float32, correctly rounded, locale-free (see num.h).
 *
 * A number is scanned into w * 10^q (w: up to 19 significant digits in a uint64). Then:
 *   - w == 0: a signed zero;
 *   - Clinger: w and 10^|q| both exact in the target type, so one multiply or divide rounds
 *     once, which is the correctly rounded result (needs FLT_EVAL_METHOD 0: no x87 excess);
 *   - Eisel-Lemire (Lemire, "Number parsing at a gigabyte per second", 2021; the algorithm of
 *     fast_float and of Go's strconv): w normalised times a 128-bit truncation of 5^q, with
 *     the table in num_tables.h; the rare product whose dropped bits cannot decide the
 *     rounding goes to the slow path.
 * Anything else (more digits, hex, inf/nan, an exponent past +-99999) takes strtod_l/strtof_l
 * with one C locale object, so the result is glibc's in every case. */
#include <kite/num.h> /* strtod_l, newlocale: _GNU_SOURCE from CMake */

#include <float.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num_tables.h"

/* The binary formats: explicit mantissa bits, exponent bias, largest and smallest q that can
 * give a non-zero finite result, and the q range where an exact tie (round to even) can occur
 * (5^q small enough that w * 5^q is exact in 128 bits). */
typedef struct num_binary {
    int nb_mbits;
    int nb_min_exp;   /* -bias                                    */
    int nb_inf_power; /* biased exponent of infinity             */
    int nb_q_min, nb_q_max;
    int nb_rte_min, nb_rte_max;
} num_binary;

static const num_binary num_f64 = {52, -1023, 0x7FF, -342, 308, -4, 23};
static const num_binary num_f32 = {23, -127, 0xFF, -64, 38, -17, 10};

/* w * 10^q with the digits' sign; nd_slow: the fast path cannot take this text. */
typedef struct num_decimal {
    uint64_t nd_w;
    int64_t nd_q;
    int nd_neg;
    int nd_slow;
    size_t nd_used; /* characters of the number (0: none) */
} num_decimal;

static locale_t num_c_locale;
static pthread_once_t num_c_once = PTHREAD_ONCE_INIT;

static void num_c_init(void) { num_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static locale_t num_locale(void)
{
    pthread_once(&num_c_once, num_c_init);
    return num_c_locale;
}

static int num_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Inlined into each entry point: a call and its frame were a fifth of a short number's cost. */
#define NUM_INLINE static inline __attribute__((always_inline))

NUM_INLINE void num_scan(const char *s, size_t n, num_decimal *d)
{
    const unsigned char *b = (const unsigned char *)s, *p = b, *e = b + n;
    unsigned dg;
    *d = (num_decimal){0};
    while (p < e && num_space((char)*p)) p++;
    if (p < e && (*p == '-' || *p == '+')) {
        d->nd_neg = *p == '-';
        p++;
    }
    const unsigned char *digits = p;
    uint64_t w = 0;
    int64_t q = 0;
    int sig = 0; /* significant digits seen (the first 19 are in w) */
    while (p < e && *p == '0') p++;
    for (; p < e && (dg = (unsigned)*p - '0') < 10; p++)
        if (sig++ < 19) w = w * 10 + dg;
    int any = p > digits;
    /* "0x...": a hex float, strtod's business. */
    if (p == digits + 1 && *digits == '0' && p < e && (*p | 0x20) == 'x') {
        d->nd_slow = 1;
        return;
    }
    if (p < e && *p == '.') {
        const unsigned char *frac = ++p;
        if (!sig) { /* zeros after the point before any significant digit */
            while (p < e && *p == '0') p++;
            q -= p - frac;
        }
        for (; p < e && (dg = (unsigned)*p - '0') < 10; p++) {
            q--;
            if (sig++ < 19) w = w * 10 + dg;
        }
        if (p > frac) any = 1;
        else if (!any) p = frac - 1; /* "." or "-.": no number (unless inf/nan below) */
    }
    if (!any) {
        char c = (char)((digits < e ? *digits : 0) | 0x20);
        if (c == 'i' || c == 'n') d->nd_slow = 1; /* inf, infinity, nan, nan(...) */
        return;                                   /* nd_used 0: no conversion    */
    }
    if (sig > 19) d->nd_slow = 1;
    if (p < e && (*p | 0x20) == 'e') {
        const unsigned char *x = p + 1;
        int eneg = 0;
        if (x < e && (*x == '-' || *x == '+')) {
            eneg = *x == '-';
            x++;
        }
        if (x < e && (unsigned)*x - '0' < 10) {
            int64_t ex = 0;
            for (; x < e && (dg = (unsigned)*x - '0') < 10; x++)
                if (ex < 100000) ex = ex * 10 + dg;
            if (ex >= 100000) d->nd_slow = 1;
            q += eneg ? -ex : ex;
            p = x;
        } /* else "1e", "1e+": the 'e' is not part of the number */
    }
    d->nd_w = w;
    d->nd_q = q;
    d->nd_used = (size_t)(p - b);
}

static void num_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
}

/* Eisel-Lemire for w != 0, q in [nb_q_min, nb_q_max]: *bits = the IEEE encoding without its
 * sign. Returns -1 when the truncated product cannot decide the rounding (slow path). */
static int num_eisel_lemire(uint64_t w, int64_t q, const num_binary *b, uint64_t *bits)
{
    int lz = __builtin_clzll(w);
    w <<= lz;
    const uint64_t *p5 = num_pow5_128[q - NUM_POW10_MIN];
    uint64_t hi, lo;
    num_mul64(w, p5[0], &hi, &lo);
    uint64_t precision_mask = UINT64_MAX >> (b->nb_mbits + 3);
    if ((hi & precision_mask) == precision_mask) {
        /* The bits below the ones kept are all ones: a carry from the next 64 bits of 5^q
         * could change them, so add that product's high half. */
        uint64_t hi2, lo2;
        num_mul64(w, p5[1], &hi2, &lo2);
        lo += hi2;
        if (hi2 > lo) hi++;
        /* Still all ones: the exact product may be just above or below; outside the range
         * where 5^q is exact in 128 bits, let strtod decide. */
        if (lo == UINT64_MAX && (q < -27 || q > 55)) return -1;
    }
    int upper = (int)(hi >> 63);
    int shift = upper + 64 - b->nb_mbits - 3;
    uint64_t m = hi >> shift;
    /* floor(log2(10^q)) + 63 as fixed point: 217706 / 2^16 ~ log2(10). The shift of a negative
     * value is arithmetic on every compiler kite builds with. */
    int32_t power2 = (int32_t)((((152170 + 65536) * (int64_t)q) >> 16) + 63) + upper - lz -
                     b->nb_min_exp;
    if (power2 <= 0) { /* subnormal or zero */
        if (-power2 + 1 >= 64) {
            *bits = 0;
            return 0;
        }
        m >>= -power2 + 1;
        m += m & 1;
        m >>= 1;
        /* Rounding up may carry into the smallest normal. */
        power2 = m < ((uint64_t)1 << b->nb_mbits) ? 0 : 1;
        *bits = (m & (((uint64_t)1 << b->nb_mbits) - 1)) | ((uint64_t)power2 << b->nb_mbits);
        return 0;
    }
    /* An exact tie between two floats: round to even instead of up. Only possible where 5^q
     * fits the product exactly, and only when nothing but zeros was shifted out. */
    if (lo <= 1 && q >= b->nb_rte_min && q <= b->nb_rte_max && (m & 3) == 1 &&
        (m << shift) == hi)
        m &= ~(uint64_t)1;
    m += m & 1;
    m >>= 1;
    if (m >= ((uint64_t)2 << b->nb_mbits)) {
        m = (uint64_t)1 << b->nb_mbits;
        power2++;
    }
    m &= ~((uint64_t)1 << b->nb_mbits);
    if (power2 >= b->nb_inf_power) {
        power2 = b->nb_inf_power;
        m = 0;
    }
    *bits = m | ((uint64_t)power2 << b->nb_mbits);
    return 0;
}

static const double num_pow10_f64[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float num_pow10_f32[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                        1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* The fast path for double; returns -1 for the slow path. */
NUM_INLINE int num_fast_double(const num_decimal *d, double *out)
{
    uint64_t bits;
    if (d->nd_w == 0) bits = 0;
#if FLT_EVAL_METHOD == 0
    else if (d->nd_q >= -22 && d->nd_q <= 22 && d->nd_w <= ((uint64_t)1 << 53)) {
        double v = (double)d->nd_w;
        v = d->nd_q < 0 ? v / num_pow10_f64[-d->nd_q] : v * num_pow10_f64[d->nd_q];
        *out = d->nd_neg ? -v : v;
        return 0;
    }
#endif
    else if (d->nd_q < num_f64.nb_q_min) bits = 0;
    else if (d->nd_q > num_f64.nb_q_max) bits = (uint64_t)0x7FF << 52;
    else if (num_eisel_lemire(d->nd_w, d->nd_q, &num_f64, &bits)) return -1;
    bits |= (uint64_t)d->nd_neg << 63;
    memcpy(out, &bits, sizeof *out);
    return 0;
}

NUM_INLINE int num_fast_float(const num_decimal *d, float *out)
{
    uint64_t bits;
    if (d->nd_w == 0) bits = 0;
#if FLT_EVAL_METHOD == 0
    else if (d->nd_q >= -10 && d->nd_q <= 10 && d->nd_w <= ((uint64_t)1 << 24)) {
        float v = (float)d->nd_w;
        v = d->nd_q < 0 ? v / num_pow10_f32[-d->nd_q] : v * num_pow10_f32[d->nd_q];
        *out = d->nd_neg ? -v : v;
        return 0;
    }
#endif
    else if (d->nd_q < num_f32.nb_q_min) bits = 0;
    else if (d->nd_q > num_f32.nb_q_max) bits = (uint64_t)0xFF << 23;
    else if (num_eisel_lemire(d->nd_w, d->nd_q, &num_f32, &bits)) return -1;
    uint32_t b32 = (uint32_t)bits | (uint32_t)d->nd_neg << 31;
    memcpy(out, &b32, sizeof *out);
    return 0;
}

static double num_slow_double(const char *s, char **end)
{
    locale_t c = num_locale();
    return c ? strtod_l(s, end, c) : strtod(s, end);
}

static float num_slow_float(const char *s, char **end)
{
    locale_t c = num_locale();
    return c ? strtof_l(s, end, c) : strtof(s, end);
}

double kite_num_parse_double(const char *s, char **end)
{
    num_decimal d;
    double v = 0;
    num_scan(s, strlen(s), &d);
    if (d.nd_slow || (d.nd_used && num_fast_double(&d, &v))) return num_slow_double(s, end);
    if (end) *end = (char *)(d.nd_used ? s + d.nd_used : s);
    return v;
}

float kite_num_parse_float(const char *s, char **end)
{
    num_decimal d;
    float v = 0;
    num_scan(s, strlen(s), &d);
    if (d.nd_slow || (d.nd_used && num_fast_float(&d, &v))) return num_slow_float(s, end);
    if (end) *end = (char *)(d.nd_used ? s + d.nd_used : s);
    return v;
}

double kite_num_parse_double_n(const char *s, size_t n, size_t *used)
{
    num_decimal d;
    double v = 0;
    num_scan(s, n, &d);
    if (!d.nd_slow && (!d.nd_used || !num_fast_double(&d, &v))) {
        *used = d.nd_used;
        return v;
    }
    /* The slow path needs a NUL-terminated copy. */
    char stack[256], *copy = n < sizeof stack ? stack : malloc(n + 1);
    if (!copy) {
        *used = 0;
        return 0;
    }
    memcpy(copy, s, n);
    copy[n] = 0;
    char *end;
    v = num_slow_double(copy, &end);
    *used = (size_t)(end - copy);
    if (copy != stack) free(copy);
    return v;
}
