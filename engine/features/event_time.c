/* Event-time parsing (see event_time.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/event_time.h>

int64_t kite_time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void kite_time_fields(int64_t ms, int *hour, int *weekday, int *month)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t in_day = ms - days * 86400000;
    *hour = (int)(in_day / 3600000);
    *weekday = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday (3) */
    /* civil_from_days, month only */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *month = (int)m - 1;
}

void kite_time_format_iso(int64_t ms, char *buf, size_t size)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t in_day = ms - days * 86400000;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    int frac = (int)(in_day % 1000);
    if (frac)
        snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60), frac);
    else
        snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
                 (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60));
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads 1..maxd digits; fixed: exactly maxd. */
static int read_num(const char **p, const char *end, int maxd, int fixed, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (*p < end && n < maxd && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (!n || (fixed && n != maxd)) return -1;
    *out = v;
    return 0;
}

static int check_civil(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s,
                       const char **why)
{
    if (mo < 1 || mo > 12) return *why = "month out of range", -1;
    if (y < 1 || y > 9999) return *why = "year out of range", -1;
    if (d < 1 || d > days_in_month(y, (int)mo)) return *why = "day out of range", -1;
    if (h > 23) return *why = "hour out of range", -1;
    if (mi > 59) return *why = "minute out of range", -1;
    if (s > 60) return *why = "second out of range", -1;
    return 0;
}

/* Fast path: every field at its full width (%Y four digits, the others two), so each field is
 * two or four digit tests and no loop over a width. Returns -1 to fall back to the general
 * parser (which accepts one-digit fields and says what is wrong). */
static int parse_pattern_fixed(const char *pat, const char *p, const char *end, int64_t *ms,
                               const char **why)
{
    int64_t f[6] = {1970, 1, 1, 0, 0, 0}; /* Y m d H M S */
    for (; *pat; pat++) {
        if (*pat != '%' || pat[1] == '%') {
            if (*pat == '%') pat++;
            if (p >= end || *p != *pat) return -1;
            p++;
            continue;
        }
        char c = *++pat;
        int idx = c == 'Y' ? 0 : c == 'm' ? 1 : c == 'd' ? 2 : c == 'H' ? 3 : c == 'M' ? 4 : 5;
        int width = idx == 0 ? 4 : 2;
        if (end - p < width) return -1;
        int64_t v = 0;
        for (int i = 0; i < width; i++) {
            unsigned dg = (unsigned)(p[i] - '0');
            if (dg > 9) return -1;
            v = v * 10 + dg;
        }
        if (p + width < end && (unsigned)(p[width] - '0') <= 9) return -1; /* longer field */
        f[idx] = v;
        p += width;
    }
    if (p != end || check_civil(f[0], f[1], f[2], f[3], f[4], f[5], why)) return -1;
    *ms = ((kite_time_days_from_civil(f[0], (unsigned)f[1], (unsigned)f[2]) * 24 + f[3]) * 60 + f[4]) *
              60000 + f[5] * 1000;
    return 0;
}

static int parse_pattern(const char *pat, const char *p, const char *end, int64_t *ms,
                         const char **why)
{
    if (!parse_pattern_fixed(pat, p, end, ms, why)) return 0;
    int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0;
    for (; *pat; pat++) {
        if (*pat != '%' || pat[1] == '%') {
            if (*pat == '%') pat++;
            if (p >= end || *p != *pat) return *why = "does not match the time format", -1;
            p++;
            continue;
        }
        int64_t *dst;
        int maxd = 2;
        switch (*++pat) {
        case 'd': dst = &d; break;
        case 'm': dst = &mo; break;
        case 'Y': dst = &y; maxd = 4; break;
        case 'H': dst = &h; break;
        case 'M': dst = &mi; break;
        default: dst = &s; break;
        }
        if (read_num(&p, end, maxd, maxd == 4, dst)) return *why = "does not match the time format", -1;
    }
    if (p != end) return *why = "has text after the time", -1;
    if (check_civil(y, mo, d, h, mi, s, why)) return -1;
    *ms = ((kite_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
          s * 1000;
    return 0;
}

static int parse_iso(const char *p, const char *end, int64_t *ms, const char **why)
{
    int64_t y, mo, d, h = 0, mi = 0, s = 0, frac = 0, off = 0;
    *why = "is not ISO 8601 (YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm])";
    if (read_num(&p, end, 4, 1, &y) || p >= end || *p++ != '-' || read_num(&p, end, 2, 1, &mo) ||
        p >= end || *p++ != '-' || read_num(&p, end, 2, 1, &d))
        return -1;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        if (read_num(&p, end, 2, 1, &h) || p >= end || *p++ != ':' || read_num(&p, end, 2, 1, &mi))
            return -1;
        if (p < end && *p == ':') {
            p++;
            if (read_num(&p, end, 2, 1, &s)) return -1;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int n = 0;
                if (p >= end || *p < '0' || *p > '9') return -1;
                for (; p < end && *p >= '0' && *p <= '9'; p++, n++)
                    if (n < 3) frac = frac * 10 + (*p - '0');
                for (; n < 3; n++) frac *= 10;
            }
        }
        if (p < end && *p == 'Z') {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh, om = 0;
            if (read_num(&p, end, 2, 1, &oh)) return -1;
            if (p < end && *p == ':') p++;
            if (p < end && read_num(&p, end, 2, 1, &om)) return -1;
            if (oh > 23 || om > 59) return *why = "time zone offset out of range", -1;
            off = sign * (oh * 60 + om) * 60000;
        }
    }
    if (p != end) return -1;
    if (check_civil(y, mo, d, h, mi, s, why)) return -1;
    *ms = ((kite_time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
          s * 1000 + frac - off;
    return 0;
}

static int parse_epoch(const char *p, size_t len, double scale, int64_t *ms, const char **why)
{
    char buf[64];
    *why = "is not an epoch number";
    if (!len || len >= sizeof buf) return -1;
    memcpy(buf, p, len);
    buf[len] = 0;
    char *endp;
    double v = strtod(buf, &endp);
    if (*endp || !isfinite(v)) return -1;
    v *= scale;
    if (v < -1e17 || v > 1e17) return *why = "epoch out of range", -1;
    *ms = (int64_t)llround(v);
    return 0;
}

int kite_event_time_parse(kite_time_format format, const char *pattern, const char *text,
                          size_t len, int64_t *ms, const char **why)
{
    const char *end = text + len;
    switch (format) {
    case KITE_TIME_PATTERN: return parse_pattern(pattern, text, end, ms, why);
    case KITE_TIME_ISO8601: return parse_iso(text, end, ms, why);
    case KITE_TIME_EPOCH: return parse_epoch(text, len, 1000.0, ms, why);
    case KITE_TIME_EPOCH_MS: return parse_epoch(text, len, 1.0, ms, why);
    default: *ms = 0; return 0;
    }
}
