/* json.h — JSON text helpers that need no DOM. */
#ifndef SLOTD_CORE_JSON_H
#define SLOTD_CORE_JSON_H

#include <stddef.h>

#include "buf.h"

/* Appends the JSON text src (valid JSON, e.g. as PostgreSQL prints jsonb: `{"a": 1, "b": [1, 2]}`)
 * to out without insignificant whitespace: slotd's one byte format, the same as jansson's
 * JSON_COMPACT. Strings and numbers are copied byte for byte, so 19.99 stays 19.99, except that
 * the four hex digits of a \u escape are written in upper case (PostgreSQL writes \u001b,
 * jansson \u001B). */
void json_compact_append(buf_t *out, const char *src, size_t len);

#endif
