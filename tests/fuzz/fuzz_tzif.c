/* libFuzzer target: the TZif reader (RFC 8536 file + POSIX TZ footer) must refuse or accept any
 * bytes without reading out of bounds, and an accepted zone must answer conversions for any
 * instant without crashing or looping. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/timeutil.h"
#include "sched/tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tz_t *tz = tzif_parse(data, size);
  if (!tz) return 0;
  static const int64_t probes[] = {INT32_MIN, -2208988800LL, 0, 1700000000, 2147483647LL, 4102444800LL,
                                   253402300799LL};
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    int32_t off = tz_offset(tz, probes[i]);
    (void)off;
    int64_t back = tz_local_to_utc(tz, probes[i]);
    (void)back;
  }
  tz_free(tz);
  return 0;
}
