#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int g_level = LOG_INFO;
static char g_instance[128] = "";
static buf_t g_out = BUF_INIT;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(int level, const char *instance) {
  g_level = level;
  snprintf(g_instance, sizeof g_instance, "%s", instance ? instance : "");
}

int log_enabled(int level) { return level >= g_level; }

int log_parse_level(const char *s) {
  for (int i = 0; i < 4; i++)
    if (strcasecmp(s, level_names[i]) == 0) return i;
  return -1;
}

void log_format_time(long long wall_ms, char out[32]) {
  time_t secs = (time_t)(wall_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(wall_ms % 1000) % 1000);
}

void log_flush(void) {
  size_t off = 0;
  while (off < g_out.len) {
    ssize_t n = write(STDERR_FILENO, g_out.data + off, g_out.len - off);
    if (n <= 0) break; /* stderr gone: drop the rest rather than spin */
    off += (size_t)n;
  }
  buf_reset(&g_out);
  if (g_out.cap > (1u << 20)) buf_free(&g_out);
}

void log_raw(int level, const char *msg, const char *fields, size_t len) {
  if (level < g_level) return;
  char ts[32];
  log_format_time(now_wall_ms(), ts);
  buf_printf(&g_out, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
  buf_json_str(&g_out, msg);
  if (g_instance[0]) {
    buf_puts(&g_out, ",\"instance\":");
    buf_json_str(&g_out, g_instance);
  }
  buf_append(&g_out, fields, len);
  buf_puts(&g_out, "}\n");
  if (level >= LOG_WARN || g_out.len > 32768) log_flush();
}

void log_kv(int level, const char *msg, ...) {
  if (level < g_level) return;
  buf_t f = BUF_INIT;
  va_list ap;
  va_start(ap, msg);
  const char *k;
  while ((k = va_arg(ap, const char *)) != NULL) {
    const char *v = va_arg(ap, const char *);
    buf_putc(&f, ',');
    buf_json_str(&f, k);
    buf_putc(&f, ':');
    buf_json_str(&f, v);
  }
  va_end(ap);
  log_raw(level, msg, f.data ? f.data : "", f.len);
  buf_free(&f);
}
