#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void oom(size_t n) {
  fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}

void *xcalloc(size_t count, size_t n) {
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (!p) oom(count * n);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}

char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

uint64_t now_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t now_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void random_bytes(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"getrandom failed\"}\n");
      abort();
    }
    p += r;
    n -= (size_t)r;
  }
}

uint32_t random_below(uint32_t bound) {
  /* Rejection sampling: no modulo bias. */
  uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  uint32_t v;
  do random_bytes(&v, sizeof v);
  while (v >= limit);
  return v % bound;
}

char *put_i64(char *p, int64_t v) {
  char t[20], *q = t + sizeof t;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do *--q = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0) *p++ = '-';
  size_t n = (size_t)(t + sizeof t - q);
  memcpy(p, q, n);
  return p + n;
}

void hex_encode(const void *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = in;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * n] = '\0';
}

char *url_encode(const char *s) {
  static const char digits[] = "0123456789ABCDEF";
  char *out = xmalloc(3 * strlen(s) + 1), *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
        *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = digits[*p >> 4];
      *o++ = digits[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

int ascii_casecmp_n(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen) return 1;
  for (size_t i = 0; i < alen; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 1;
  }
  return 0;
}
