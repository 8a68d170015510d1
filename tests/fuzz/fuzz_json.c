/* libFuzzer target: JSON request bodies.
 *  - api_json_object_parse (src/api/validate.c), what every handler parses a body with, either
 *    returns a JSON object or -1 with a message, and never both;
 *  - an accepted object printed as PostgreSQL-like indented text (JSON_INDENT(2)) and compacted by
 *    json_compact_append (src/core/json.c) is byte for byte what jansson prints as JSON_COMPACT:
 *    slotd relies on one byte format for ETags and stored idempotent responses;
 *  - any input jansson accepts as a JSON value, compacted by json_compact_append, still parses to
 *    an equal value (json_compact_append may only drop insignificant whitespace).
 * A failed check prints the texts involved and aborts, so libFuzzer keeps the input. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "core/buf.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mismatch(const char *what, const char *in, size_t inlen, const char *got, size_t gotlen, const char *want) {
  fprintf(stderr, "fuzz_json: %s\n  input:  %.*s\n  got:    %.*s\n  wanted: %s\n", what, (int)inlen, in, (int)gotlen,
          got, want ? want : "(a value equal to the input)");
  abort();
}

static void check_object(json_t *obj) {
  char *pretty = json_dumps(obj, JSON_INDENT(2));
  char *compact = json_dumps(obj, JSON_COMPACT);
  if (!pretty || !compact) abort(); /* jansson prints every object it parsed */
  buf_t b = BUF_INIT;
  json_compact_append(&b, pretty, strlen(pretty));
  if (b.len != strlen(compact) || memcmp(b.data, compact, b.len) != 0)
    mismatch("json_compact_append(JSON_INDENT(2) text) != JSON_COMPACT text", pretty, strlen(pretty),
             b.data ? b.data : "", b.len, compact);
  buf_free(&b);
  free(pretty);
  free(compact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  json_t *obj = (json_t *)1; /* must be overwritten either way */
  char err[256] = "";
  if (api_json_object_parse(text, size, &obj, err, sizeof err) == 0) {
    if (!obj || !json_is_object(obj)) abort();
    check_object(obj);
    json_decref(obj);
  } else if (obj != NULL || err[0] == '\0') {
    abort(); /* a failure leaves *out NULL and says why */
  }

  json_error_t jerr;
  json_t *any = json_loadb(text, size, JSON_DECODE_ANY, &jerr);
  if (!any) return 0;
  buf_t c = BUF_INIT;
  json_compact_append(&c, text, size);
  json_t *back = json_loadb(c.data ? c.data : "", c.len, JSON_DECODE_ANY, &jerr);
  if (!back || !json_equal(any, back))
    mismatch("compacted input is not the same value", text, size, c.data ? c.data : "", c.len, NULL);
  json_decref(back);
  json_decref(any);
  buf_free(&c);
  return 0;
}
