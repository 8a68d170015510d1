/* TZif reader and wall-clock conversion: DST gaps and overlaps (RFC 5545 rule), half-hour and
 * 45-minute zones, the POSIX footer far in the future, southern hemisphere, and malformed input.
 * Expected values were cross-checked with Python's zoneinfo (fold=0).
 * The zone-name set: made-up names cost no file-system call, and every name that loads by
 * opening its file (tz_get before the set) still loads, and no other; tzif.c is included to
 * reach name_ok and load_file, the reference. */
#include <ftw.h>
#include <stdlib.h>

#include "check.h"
#include "core/timeutil.h"
#include "sched/tzif.c"

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

/* ------------------------------------------------------------------ the zone-name set */

/* What tz_get did before the name set: validate the name, then open the file. */
static int loads_by_path(const char *name) {
  if (!name_ok(name)) return 0;
  tz_t *t = load_file(name);
  tz_free(t);
  return t != NULL;
}

static int n_loadable, n_mismatched;

/* Every path under the zoneinfo tree, symbolic links included (FTW_PHYS: glibc's nftw would
 * otherwise report a file reached by several names once; no folder there is a link): tz_get
 * must agree with loads_by_path. */
static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)type;
  if (ftw->level == 0) return 0;
  const char *rel = path + strlen(TZ_DIR) + 1;
  int before = loads_by_path(rel), now = tz_get(rel) != NULL;
  n_loadable += before;
  if (before != now && n_mismatched++ < 10) printf("# %s: loads by path %d, tz_get %d\n", rel, before, now);
  return 0;
}

static void check_name_set(void) {
  size_t nzones = tz_preload();
  printf("# %zu zone names\n", nzones);
  CHECK(nzones > 550 && nzones < TZ_MAX_NAMES);
  CHECK(tz_preload() == nzones); /* once */

  /* 1000 distinct names that are not zones: not one file-system call */
  size_t base = tz_fs_lookups();
  int misses = 0;
  for (int i = 0; i < 1000; i++) {
    char name[80];
    switch (i % 5) {
      case 0: snprintf(name, sizeof name, "Mars/Crater_%d", i); break;
      case 1: snprintf(name, sizeof name, "America/New_York%d", i); break;
      case 2: snprintf(name, sizeof name, "Etc/GMT+%d", 15 + i); break;
      case 3: snprintf(name, sizeof name, "Zone%d/Sub/Deeper", i); break;
      default: snprintf(name, sizeof name, "%s%d", i % 2 ? "../etc/passwd" : "/etc/localtime", i); break;
    }
    misses += tz_get(name) == NULL;
  }
  CHECK(misses == 1000);
  /* tzdata's files and folders that are not zones, and names only a file system would know */
  static const char *const not_zones[] = {
      "leapseconds", "zone.tab", "zone1970.tab", "tzdata.zi",  "iso3166.tab", "America", "Etc",
      "US",          "posix",    "right",        "posixrules", "localtime",   "Factory", "posix/UTC",
      "right/UTC",   "utc",      "Etc/",         "Etc//UTC",   "./UTC",       "UTC/",    "America/../UTC",
  };
  int refused = 0;
  for (size_t i = 0; i < ARRAY_SIZE(not_zones); i++) refused += tz_get(not_zones[i]) == NULL;
  CHECK(refused == (int)ARRAY_SIZE(not_zones));
  CHECK(tz_fs_lookups() == base);

  /* a zone: one file-system call on its first use, none after */
  CHECK(tz_get("Europe/Paris") != NULL && tz_fs_lookups() == base + 1);
  CHECK(tz_get("Europe/Paris") == tz_get("Europe/Paris") && tz_fs_lookups() == base + 1);

  /* UTC, GMT, Etc/..., backward links and three-level names load as before */
  static const char *const zones[] = {
      "UTC",
      "GMT",
      "Etc/UTC",
      "Etc/GMT+5",
      "Etc/GMT-14",
      "US/Eastern",
      "Zulu",
      "EST5EDT",
      "CET",
      "GB-Eire",
      "NZ-CHAT",
      "Etc/GMT0",
      "GMT+0",
      "America/Argentina/Buenos_Aires",
      "America/Indiana/Knox",
      "America/North_Dakota/New_Salem",
  };
  int loaded = 0;
  for (size_t i = 0; i < ARRAY_SIZE(zones); i++) loaded += tz_get(zones[i]) != NULL;
  CHECK(loaded == (int)ARRAY_SIZE(zones));
  CHECK(strcmp(tz_name(tz_get("US/Eastern")), "US/Eastern") == 0);

  /* every path in the tree: tz_get agrees with opening the file, and the set holds exactly the
   * names that load that way */
  CHECK(nftw(TZ_DIR, visit, 32, FTW_PHYS) == 0);
  CHECK(n_mismatched == 0);
  CHECK(n_loadable == (int)nzones);
  printf("# %d names load by path\n", n_loadable);

  /* a listed name whose file then fails to load costs one call, then none */
  map_put(g_zones, "Gone/Zone", NULL);
  base = tz_fs_lookups();
  CHECK(tz_get("Gone/Zone") == NULL && tz_fs_lookups() == base + 1);
  CHECK(tz_get("Gone/Zone") == NULL && tz_fs_lookups() == base + 1);
  CHECK(tz_preload() == nzones);
}

int main(void) {
  check_name_set();
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
  /* after tz_cache_free the set is built again on the next use */
  CHECK(tz_get("UTC") != NULL && tz_get("Mars/Base") == NULL);
  tz_cache_free();
  return check_done();
}
