/* arena.h — one arena per request (STYLE.md habit 4).
 * Memory comes from chained blocks and is released all at once by arena_destroy(), which
 * first runs the cleanup hooks in reverse order of registration (for non-memory resources:
 * a malloc'd body buffer, a PGresult). Nothing allocated from an arena is freed on its own. */
#ifndef SLOTD_CORE_ARENA_H
#define SLOTD_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena_s arena_t;
typedef void (*arena_cleanup_fn)(void *data);

arena_t *arena_new(void);
void arena_destroy(arena_t *a);

/* 16-byte aligned; never NULL (aborts on OOM). */
void *arena_alloc(arena_t *a, size_t n);
void *arena_calloc(arena_t *a, size_t n);
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena_t *a, const char *fmt, va_list ap);

/* Runs fn(data) when the arena is destroyed (reverse order). */
void arena_on_destroy(arena_t *a, arena_cleanup_fn fn, void *data);

/* Frees the arenas kept for reuse (at exit, for leak checkers). */
void arena_cache_free(void);

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const arena_t *a);

#endif
