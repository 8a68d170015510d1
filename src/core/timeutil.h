/* timeutil.h — RFC 3339 timestamps. */
#ifndef SLOTD_CORE_TIMEUTIL_H
#define SLOTD_CORE_TIMEUTIL_H

#include <stdint.h>

/* Strict RFC 3339: "2026-03-10T19:00:00Z", "...T19:00:00.5+01:00" ('t'/'z' accepted, a space
 * for 'T' too). Fractions are truncated to seconds. 0, or -1 if malformed, impossible, or an
 * instant outside years 0001-9999 in UTC. */
int time_parse_rfc3339(const char *s, int64_t *unix_seconds);
/* "2026-03-10T19:00:00Z" into out (at least 21 bytes). */
void time_format_utc(int64_t unix_seconds, char *out, int outlen);
/* Days since 1970-01-01 of a proleptic Gregorian date (any int year). */
int64_t time_days_from_civil(int64_t y, int m, int d);
int time_days_in_month(int64_t y, int m);

#endif
