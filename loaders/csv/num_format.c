/* float32 -> shortest round-trip decimal text (see num.h).
 *
 * The digits are Ryu's (Ulf Adams, "Ryu: fast float-to-string conversion", PLDI 2018; its
 * f2s.c, Apache-2.0/Boost, restated here): the float's rounding interval [mm, mp] is scaled by
 * a power of ten with a 32x64-bit multiply against num_tables.h, then digits are dropped while
 * the interval's ends still differ in what is left; the last dropped digit rounds the result
 * (ties to even when the exact value ends in 5 followed by zeros). The layout is printf %g's
 * at precision 9. */
#include <kite/num.h>

#include <stdint.h>
#include <string.h>

#include "num_tables.h"

/* floor(log10(2^e)), floor(log10(5^e)), ceil(log2(5^e)) (1 for e = 0), exact in the ranges
 * used (e < 1650). */
static uint32_t fmt_log10_pow2(int32_t e) { return (uint32_t)(e * 78913) >> 18; }
static uint32_t fmt_log10_pow5(int32_t e) { return (uint32_t)(e * 732923) >> 20; }
static int32_t fmt_pow5_bits(int32_t e) { return (int32_t)(((uint32_t)e * 1217359) >> 19) + 1; }

static int fmt_multiple_of_pow5(uint32_t v, uint32_t p)
{
    uint32_t count = 0;
    while (v % 5 == 0) {
        v /= 5;
        count++;
    }
    return count >= p;
}

static int fmt_multiple_of_pow2(uint32_t v, uint32_t p) { return (v & ((1u << p) - 1)) == 0; }

/* (m * factor) >> shift, shift > 32: the 96-bit product's needed bits. */
static uint32_t fmt_mul_shift(uint32_t m, uint64_t factor, int32_t shift)
{
    uint64_t lo = (uint64_t)m * (uint32_t)factor;
    uint64_t hi = (uint64_t)m * (uint32_t)(factor >> 32);
    return (uint32_t)(((lo >> 32) + hi) >> (shift - 32));
}

/* Shortest digits of a finite, non-zero float with biased exponent ieee_e and mantissa
 * field ieee_m: *digits * 10^*exp10. */
static void fmt_shortest(uint32_t ieee_m, uint32_t ieee_e, uint32_t *digits, int32_t *exp10)
{
    int32_t e2;
    uint32_t m2;
    if (ieee_e == 0) {
        e2 = 1 - 127 - 23 - 2;
        m2 = ieee_m;
    } else {
        e2 = (int32_t)ieee_e - 127 - 23 - 2;
        m2 = (1u << 23) | ieee_m;
    }
    int accept_bounds = (m2 & 1) == 0; /* round-half-even reading takes the interval's ends */
    uint32_t mv = 4 * m2, mp = 4 * m2 + 2;
    uint32_t mm_shift = ieee_m != 0 || ieee_e <= 1; /* the gap below a power of 2 is half */
    uint32_t mm = 4 * m2 - 1 - mm_shift;

    uint32_t vr, vp, vm;
    int32_t e10;
    int vm_zeros = 0, vr_zeros = 0;
    uint8_t last = 0;
    if (e2 >= 0) {
        uint32_t q = fmt_log10_pow2(e2);
        e10 = (int32_t)q;
        int32_t k = NUM_F32_POW5_INV_BITCOUNT + fmt_pow5_bits((int32_t)q) - 1;
        int32_t i = -e2 + (int32_t)q + k;
        vr = fmt_mul_shift(mv, num_f32_pow5_inv[q], i);
        vp = fmt_mul_shift(mp, num_f32_pow5_inv[q], i);
        vm = fmt_mul_shift(mm, num_f32_pow5_inv[q], i);
        if (q != 0 && (vp - 1) / 10 <= vm / 10) {
            /* At most one digit is dropped below: it is needed for the rounding, so compute
             * it from one power less. */
            int32_t l = NUM_F32_POW5_INV_BITCOUNT + fmt_pow5_bits((int32_t)(q - 1)) - 1;
            last = (uint8_t)(fmt_mul_shift(mv, num_f32_pow5_inv[q - 1], -e2 + (int32_t)q - 1 + l) %
                             10);
        }
        if (q <= 9) {
            /* Only one of mp, mv, mm can be a multiple of 5, if any. */
            if (mv % 5 == 0) vr_zeros = fmt_multiple_of_pow5(mv, q);
            else if (accept_bounds) vm_zeros = fmt_multiple_of_pow5(mm, q);
            else vp -= (uint32_t)fmt_multiple_of_pow5(mp, q);
        }
    } else {
        uint32_t q = fmt_log10_pow5(-e2);
        e10 = (int32_t)q + e2;
        int32_t i = -e2 - (int32_t)q;
        int32_t k = fmt_pow5_bits(i) - NUM_F32_POW5_BITCOUNT;
        int32_t j = (int32_t)q - k;
        vr = fmt_mul_shift(mv, num_f32_pow5[i], j);
        vp = fmt_mul_shift(mp, num_f32_pow5[i], j);
        vm = fmt_mul_shift(mm, num_f32_pow5[i], j);
        if (q != 0 && (vp - 1) / 10 <= vm / 10) {
            j = (int32_t)q - 1 - (fmt_pow5_bits(i + 1) - NUM_F32_POW5_BITCOUNT);
            last = (uint8_t)(fmt_mul_shift(mv, num_f32_pow5[i + 1], j) % 10);
        }
        if (q <= 1) {
            /* mv = 4 * m2 has two trailing zero bits; mm has one iff mm_shift. */
            vr_zeros = 1;
            if (accept_bounds) vm_zeros = mm_shift == 1;
            else vp--;
        } else if (q < 31) {
            vr_zeros = fmt_multiple_of_pow2(mv, q - 1);
        }
    }

    int32_t removed = 0;
    uint32_t out;
    if (vm_zeros || vr_zeros) {
        while (vp / 10 > vm / 10) {
            vm_zeros &= vm % 10 == 0;
            vr_zeros &= last == 0;
            last = (uint8_t)(vr % 10);
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed++;
        }
        if (vm_zeros) {
            while (vm % 10 == 0) {
                vr_zeros &= last == 0;
                last = (uint8_t)(vr % 10);
                vr /= 10;
                vp /= 10;
                vm /= 10;
                removed++;
            }
        }
        if (vr_zeros && last == 5 && vr % 2 == 0) last = 4; /* exactly ...5000: to even */
        out = vr + ((vr == vm && (!accept_bounds || !vm_zeros)) || last >= 5);
    } else {
        while (vp / 10 > vm / 10) {
            last = (uint8_t)(vr % 10);
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed++;
        }
        out = vr + (vr == vm || last >= 5);
    }
    *digits = out;
    *exp10 = e10 + removed;
}

static size_t fmt_copy(char *buf, const char *s)
{
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

size_t kite_num_format_float(float v, char *buf)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    int neg = (int)(bits >> 31);
    uint32_t ieee_m = bits & 0x7FFFFF, ieee_e = (bits >> 23) & 0xFF;
    if (ieee_e == 0xFF) return fmt_copy(buf, ieee_m ? (neg ? "-nan" : "nan") : (neg ? "-inf" : "inf"));
    char *p = buf;
    if (neg) *p++ = '-';
    if (ieee_e == 0 && ieee_m == 0) {
        *p++ = '0';
        *p = 0;
        return (size_t)(p - buf);
    }
    uint32_t digits;
    int32_t e10;
    fmt_shortest(ieee_m, ieee_e, &digits, &e10);
    /* At most 9 digits, 10 when rounding up carried (999999999 + 1); two per division. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                "34353637383940414243444546474849505152535455565758596061626364656667"
                                "6869707172737475767778798081828384858687888990919293949596979899";
    char d[10];
    int nd = digits >= 1000000000u ? 10 : digits >= 100000000u ? 9 : digits >= 10000000u ? 8
           : digits >= 1000000u    ? 7  : digits >= 100000u    ? 6 : digits >= 10000u    ? 5
           : digits >= 1000u       ? 4  : digits >= 100u       ? 3 : digits >= 10u       ? 2 : 1;
    int i = nd;
    for (; digits >= 100; digits /= 100, i -= 2) memcpy(d + i - 2, pairs + 2 * (digits % 100), 2);
    if (digits >= 10) memcpy(d + i - 2, pairs + 2 * digits, 2);
    else d[i - 1] = (char)('0' + digits);
    /* Ryu's digits have no trailing zeros except where the interval forces them; %g drops
     * them anyway. */
    while (nd > 1 && d[nd - 1] == '0') {
        nd--;
        e10++;
    }
    int x = e10 + nd - 1; /* decimal exponent of the first digit */
    if (x < -4 || x >= 9) {
        *p++ = d[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)nd - 1);
            p += nd - 1;
        }
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 10) *p++ = (char)('0' + ax / 10);
        else *p++ = '0';
        *p++ = (char)('0' + ax % 10);
    } else if (x < 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > x; i--) *p++ = '0';
        memcpy(p, d, (size_t)nd);
        p += nd;
    } else {
        if (nd <= x + 1) { /* an integer: the digits, then zeros */
            memcpy(p, d, (size_t)nd);
            p += nd;
            for (int z = nd; z <= x; z++) *p++ = '0';
        } else {
            memcpy(p, d, (size_t)x + 1);
            p += x + 1;
            *p++ = '.';
            memcpy(p, d + x + 1, (size_t)(nd - x - 1));
            p += nd - x - 1;
        }
    }
    *p = 0;
    return (size_t)(p - buf);
}
