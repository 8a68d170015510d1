/* libFuzzer target: the RFC 3339 parser and the UTC formatter round-trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char s[64];
  if (size >= sizeof s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  int64_t t;
  if (time_parse_rfc3339(s, &t) != 0) return 0;
  char out[40];
  time_format_utc(t, out, sizeof out);
  int64_t t2;
  if (time_parse_rfc3339(out, &t2) != 0 || t2 != t) abort(); /* what we print we can read back */
  return 0;
}
