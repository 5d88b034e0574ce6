/* Event-time parsing for feature specs: a strftime-like pattern (AirQualityUCI.csv's
 * "10/03/2004" + "18.00.00" is "%d/%m/%Y %H.%M.%S"), ISO 8601 and epoch seconds/milliseconds,
 * all to milliseconds since 1970-01-01 UTC. No allocation, no locale, no time zone database:
 * pattern times are taken as UTC (the series' own clock), ISO 8601 offsets are applied. */
#ifndef KITE_EVENT_TIME_H
#define KITE_EVENT_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef enum kite_time_format {
    KITE_TIME_NONE,        /* no event time: events are taken in arrival order          */
    KITE_TIME_PATTERN,     /* strftime-like pattern: %d %m %Y %H %M %S and literals     */
    KITE_TIME_ISO8601,     /* 2004-03-10T18:00:00[.fff][Z|+hh:mm] (' ' for 'T' too)      */
    KITE_TIME_EPOCH,       /* seconds since 1970-01-01 UTC (fraction allowed)          */
    KITE_TIME_EPOCH_MS     /* milliseconds since 1970-01-01 UTC                         */
} kite_time_format;

/* Parses text[0..len) in the given format. Returns 0, or -1 with *why set to a short static
 * reason ("day out of range", ...). */
int kite_event_time_parse(kite_time_format format, const char *pattern, const char *text,
                          size_t len, int64_t *ms, const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
int64_t kite_time_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Hour of day (0-23), weekday (0 = Monday .. 6) and month (0 = January .. 11) of a time. */
void kite_time_fields(int64_t ms, int *hour, int *weekday, int *month);

/* Writes ms as "2004-03-10T18:00:00Z" (".250" before the Z when it has milliseconds). */
void kite_time_format_iso(int64_t ms, char *buf, size_t size);

#endif
