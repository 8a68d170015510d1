#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define ARENA_BLOCK 4096u
#define ARENA_ALIGN 16u

typedef struct arena_block_s {
  struct arena_block_s *next; /* older block */
  size_t size;                /* usable bytes in data[] */
  size_t used;
  _Alignas(16) unsigned char data[];
} arena_block_t;

typedef struct arena_hook_s {
  struct arena_hook_s *next;
  arena_cleanup_fn fn;
  void *data;
} arena_hook_t;

struct arena_s {
  arena_block_t *head; /* current block; big allocations get their own block behind it */
  arena_hook_t *hooks; /* newest first: run in reverse order of registration */
  size_t total;
};

static arena_block_t *block_new(size_t size) {
  arena_block_t *b = xmalloc(sizeof *b + size);
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

/* Destroyed arenas keep their first block and wait here for reuse: a request costs no malloc
 * for its arena in the steady state. Loop thread only; bounded. */
#define ARENA_CACHE 256
static arena_t *g_cache[ARENA_CACHE];
static int g_ncache;

arena_t *arena_new(void) {
  if (g_ncache > 0) return g_cache[--g_ncache];
  arena_t *a = xmalloc(sizeof *a);
  a->head = block_new(ARENA_BLOCK - sizeof(arena_block_t));
  a->hooks = NULL;
  a->total = 0;
  return a;
}

void arena_destroy(arena_t *a) {
  if (!a) return;
  for (arena_hook_t *h = a->hooks; h; h = h->next) h->fn(h->data);
  /* Keep the oldest, standard-size block (the end of the chain); free the rest. */
  arena_block_t *b = a->head, *keep = NULL;
  while (b) {
    arena_block_t *next = b->next;
    if (!next && b->size == ARENA_BLOCK - sizeof(arena_block_t) && g_ncache < ARENA_CACHE) keep = b;
    else free(b);
    b = next;
  }
  if (!keep) {
    free(a);
    return;
  }
  keep->used = 0;
  keep->next = NULL;
  a->head = keep;
  a->hooks = NULL;
  a->total = 0;
  g_cache[g_ncache++] = a;
}

void arena_cache_free(void) {
  while (g_ncache > 0) {
    arena_t *a = g_cache[--g_ncache];
    free(a->head);
    free(a);
  }
}

void *arena_alloc(arena_t *a, size_t n) {
  size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (need == 0) need = ARENA_ALIGN;
  a->total += need;
  arena_block_t *b = a->head;
  if (b->size - b->used >= need) {
    void *p = b->data + b->used;
    b->used += need;
    return p;
  }
  if (need > (ARENA_BLOCK - sizeof(arena_block_t)) / 4) {
    /* Large: a block of its own, linked behind the current one so the current keeps serving. */
    arena_block_t *big = block_new(need);
    big->used = need;
    big->next = b->next;
    b->next = big;
    return big->data;
  }
  arena_block_t *nb = block_new(ARENA_BLOCK - sizeof(arena_block_t));
  nb->next = b;
  a->head = nb;
  nb->used = need;
  return nb->data;
}

void *arena_calloc(arena_t *a, size_t n) {
  void *p = arena_alloc(a, n);
  memset(p, 0, n);
  return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_vprintf(arena_t *a, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  char *p = arena_alloc(a, (size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

char *arena_printf(arena_t *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = arena_vprintf(a, fmt, ap);
  va_end(ap);
  return p;
}

void arena_on_destroy(arena_t *a, arena_cleanup_fn fn, void *data) {
  arena_hook_t *h = arena_alloc(a, sizeof *h);
  h->fn = fn;
  h->data = data;
  h->next = a->hooks;
  a->hooks = h;
}

size_t arena_used(const arena_t *a) { return a->total; }
