/* tzdump — reads "ZONE UNIX_SECONDS" lines and prints "ZONE UNIX_SECONDS OFFSET" (the UTC
 * offset slotd's TZif reader gives), or "ZONE UNIX_SECONDS ?" for an unknown zone. Used by the
 * API test that compares every zone with PostgreSQL. With -l the second column is a local
 * wall-clock time (seconds) and the output is the instant tz_local_to_utc gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/tzif.h"

int main(int argc, char **argv) {
  int l2u = argc > 1 && strcmp(argv[1], "-l") == 0;
  char zone[128];
  long long t;
  while (scanf("%127s %lld", zone, &t) == 2) {
    const tz_t *tz = tz_get(zone);
    if (!tz) printf("%s %lld ?\n", zone, t);
    else if (l2u) printf("%s %lld %lld\n", zone, t, (long long)tz_local_to_utc(tz, t));
    else printf("%s %lld %d\n", zone, t, (int)tz_offset(tz, t));
  }
  tz_cache_free();
  return 0;
}
