/* buf.h — growable byte buffer on the heap. The owner calls buf_free(). */
#ifndef SLOTD_CORE_BUF_H
#define SLOTD_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
  char *data; /* NUL-terminated when len > 0 or after any append */
  size_t len;
  size_t cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (with quotes), escaping as RFC 8259 requires. */
void buf_json_str(buf_t *b, const char *s);
void buf_json_strn(buf_t *b, const char *s, size_t n);
/* s (NULL: nothing) escaped for HTML text and double- or single-quoted attribute values. */
void buf_html(buf_t *b, const char *s);
void buf_reset(buf_t *b); /* len = 0, keeps capacity */
void buf_free(buf_t *b);

#endif
