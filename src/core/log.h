/* log.h — one JSON object per line on stderr.
 * Lines are buffered and flushed by log_flush() (called from a loop timer and at exit) or at
 * once for warn and above, so a request log line costs no syscall on the hot path. */
#ifndef SLOTD_CORE_LOG_H
#define SLOTD_CORE_LOG_H

#include "buf.h"

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

void log_init(int level, const char *instance);
int log_enabled(int level);
/* msg plus string key/value pairs, NULL-terminated: log_kv(LOG_INFO, "listening", "addr", a, NULL). */
void log_kv(int level, const char *msg, ...) __attribute__((sentinel));
/* For callers that format their own fields: line_fields is a run of ,"k":v pairs (may be empty). */
void log_raw(int level, const char *msg, const char *line_fields, size_t len);
void log_flush(void);
/* "2026-11-23T06:00:00.123Z" for the given wall-clock ms; out must hold 32 bytes. */
void log_format_time(long long wall_ms, char out[32]);
int log_parse_level(const char *s); /* -1 if unknown */

#endif
