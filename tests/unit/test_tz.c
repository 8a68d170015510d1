/* TZif reader and wall-clock conversion: DST gaps and overlaps (RFC 5545 rule), half-hour and
 * 45-minute zones, the POSIX footer far in the future, southern hemisphere, and malformed input.
 * Expected values were cross-checked with Python's zoneinfo (fold=0). */
#include <stdlib.h>

#include "check.h"
#include "core/timeutil.h"
#include "sched/tzif.h"

static int64_t utc(const char *s) {
  int64_t t = 0;
  if (time_parse_rfc3339(s, &t) != 0) abort();
  return t;
}

/* Local wall clock "YYYY-MM-DDTHH:MM:SS" as local seconds. */
static int64_t local(const char *s) {
  char tmp[40];
  snprintf(tmp, sizeof tmp, "%sZ", s);
  return utc(tmp);
}

static int64_t l2u(const char *zone, const char *wall) { return tz_local_to_utc(tz_get(zone), local(wall)); }
static int off(const char *zone, const char *instant) { return tz_offset(tz_get(zone), utc(instant)); }

int main(void) {
  CHECK(tz_get("America/New_York") != NULL);
  CHECK(tz_get("UTC") != NULL && tz_get("Etc/GMT+5") != NULL);
  CHECK(tz_get("Mars/Base") == NULL);
  CHECK(tz_get("../etc/passwd") == NULL && tz_get("/etc/localtime") == NULL && tz_get("") == NULL);
  CHECK(tz_get("posix/America/New_York") == NULL);
  CHECK(tz_get("America/New_York") == tz_get("America/New_York")); /* cached */

  /* New York: EST -5, EDT -4; 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00 */
  CHECK_EQ(off("America/New_York", "2026-01-15T12:00:00Z"), -5 * 3600);
  CHECK_EQ(off("America/New_York", "2026-07-15T12:00:00Z"), -4 * 3600);
  CHECK_EQ(off("America/New_York", "2026-03-08T06:59:59Z"), -5 * 3600);
  CHECK_EQ(off("America/New_York", "2026-03-08T07:00:00Z"), -4 * 3600);
  CHECK_EQ(l2u("America/New_York", "2026-03-08T02:30:00"), utc("2026-03-08T07:30:00Z")); /* gap: forward */
  CHECK_EQ(l2u("America/New_York", "2026-03-08T03:00:00"), utc("2026-03-08T07:00:00Z"));
  CHECK_EQ(l2u("America/New_York", "2026-11-01T01:30:00"), utc("2026-11-01T05:30:00Z")); /* first occurrence */
  CHECK_EQ(l2u("America/New_York", "2026-11-01T02:00:00"), utc("2026-11-01T07:00:00Z"));
  CHECK_EQ(l2u("America/New_York", "2026-11-01T00:59:00"), utc("2026-11-01T04:59:00Z"));
  /* far future: footer rules (EST5EDT,M3.2.0,M11.1.0) */
  CHECK_EQ(off("America/New_York", "2100-07-01T00:00:00Z"), -4 * 3600);
  CHECK_EQ(off("America/New_York", "2100-12-01T00:00:00Z"), -5 * 3600);
  CHECK_EQ(l2u("America/New_York", "2100-03-14T02:30:00"), utc("2100-03-14T07:30:00Z"));

  /* Warsaw: CET +1 / CEST +2; 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00 */
  CHECK_EQ(l2u("Europe/Warsaw", "2026-03-29T02:30:00"), utc("2026-03-29T01:30:00Z"));
  CHECK_EQ(l2u("Europe/Warsaw", "2026-10-25T02:30:00"), utc("2026-10-25T00:30:00Z"));
  /* Lord Howe: +10:30 / +11, 30-minute shift; 2026-04-05 02:00 -> 01:30, 2026-10-04 02:00 -> 02:30 */
  CHECK_EQ(off("Australia/Lord_Howe", "2026-01-10T00:00:00Z"), 11 * 3600);
  CHECK_EQ(off("Australia/Lord_Howe", "2026-06-10T00:00:00Z"), 10 * 3600 + 1800);
  CHECK_EQ(l2u("Australia/Lord_Howe", "2026-04-05T01:45:00"), utc("2026-04-04T14:45:00Z"));
  CHECK_EQ(l2u("Australia/Lord_Howe", "2026-10-04T02:15:00"), utc("2026-10-03T15:45:00Z"));
  /* Kathmandu +05:45, Chatham +12:45 / +13:45 */
  CHECK_EQ(off("Asia/Kathmandu", "2026-05-01T00:00:00Z"), 5 * 3600 + 45 * 60);
  CHECK_EQ(off("Pacific/Chatham", "2026-01-01T00:00:00Z"), 13 * 3600 + 45 * 60);
  CHECK_EQ(off("Pacific/Chatham", "2026-07-01T00:00:00Z"), 12 * 3600 + 45 * 60);
  /* Date line: Kiribati +14, Pago Pago -11 */
  CHECK_EQ(off("Pacific/Kiritimati", "2026-01-01T00:00:00Z"), 14 * 3600);
  CHECK_EQ(off("Pacific/Pago_Pago", "2026-01-01T00:00:00Z"), -11 * 3600);
  /* Before the first transition: the first type (LMT) */
  CHECK_EQ(off("America/New_York", "1800-01-01T00:00:00Z"), -(4 * 3600 + 56 * 60 + 2));

  /* RFC 3339 instants must have a four-digit year in UTC (found by the fuzzer). */
  int64_t ts;
  CHECK(time_parse_rfc3339("9999-12-31T23:59:59-00:55", &ts) == -1);
  CHECK(time_parse_rfc3339("0001-01-01T00:30:00+01:00", &ts) == -1);
  CHECK(time_parse_rfc3339("9999-12-31T23:59:59Z", &ts) == 0 && ts == 253402300799LL);
  CHECK(time_parse_rfc3339("2026-02-29T00:00:00Z", &ts) == -1 && time_parse_rfc3339("2028-02-29T00:00:00Z", &ts) == 0);

  /* Malformed files never crash and are refused. */
  static const unsigned char junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
  CHECK(tzif_parse(junk, sizeof junk - 1) == NULL);
  CHECK(tzif_parse((const unsigned char *)"TZ", 2) == NULL);
  FILE *f = fopen("/usr/share/zoneinfo/Europe/Warsaw", "rb");
  unsigned char buf[8192];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int refused = 1;
  for (size_t cut = 0; cut < n; cut += 7) { /* every truncation either parses or is refused */
    tz_t *t = tzif_parse(buf, cut);
    if (t) tz_free(t);
    refused &= 1;
  }
  CHECK(refused);
  tz_t *whole = tzif_parse(buf, n);
  CHECK(whole != NULL);
  tz_free(whole);
  tz_cache_free();
  return check_done();
}
