/* util.h — allocation that aborts on failure, container_of, clocks, random bytes.
 * Allocation failure is not an error path in slotd (STYLE.md habit 8): it aborts. */
#ifndef SLOTD_CORE_UTIL_H
#define SLOTD_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define UNUSED(x) ((void)(x))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t now_mono_ns(void);
/* Wall clock in milliseconds since the epoch. */
int64_t now_wall_ms(void);

/* Fills buf with n bytes from the kernel CSPRNG (getrandom). Aborts if it cannot. */
void random_bytes(void *buf, size_t n);
/* Uniform integer in [0, bound) from the CSPRNG; bound > 0. */
uint32_t random_below(uint32_t bound);

/* Lower-case hex of n bytes into out (2n+1 bytes incl. NUL). */
void hex_encode(const void *in, size_t n, char *out);
/* s percent-encoded for a URI component (RFC 3986 2.1): the unreserved ALPHA DIGIT - . _ ~
 * kept, every other byte (UTF-8 ones too) as %XX in upper case. Malloc'd; the caller frees. */
char *url_encode(const char *s);
/* v in decimal at p, as printf's PRId64 (at most 20 bytes, no terminator); returns the end.
 * Without printf: response heads and cache keys are written per request. */
char *put_i64(char *p, int64_t v);

/* Case-insensitive ASCII compare of a span with a NUL-terminated string. */
int ascii_casecmp_n(const char *a, size_t alen, const char *b);

#endif
