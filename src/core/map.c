#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* What malloc adds to each block (glibc: an 8-byte header, 16-byte granularity), so that
 * map_bytes() is close to what the process really holds. */
#define ALLOC_OVERHEAD 16

typedef struct node_s {
  struct node_s *next;          /* bucket chain */
  struct node_s *newer, *older; /* recency list: map->newest ... map->oldest */
  uint64_t hash;
  size_t bytes; /* this entry's own allocations plus its declared weight */
  char *key;
  _Alignas(16) unsigned char value[];
} node_t;

struct map_s {
  node_t **buckets;
  size_t nbuckets, size, max, value_size;
  size_t bytes; /* sum of the entries' bytes (the table is added by map_bytes) */
  node_t *newest, *oldest;
  void (*destroy)(void *value);
};

static node_t *node_of(const void *value) { return (node_t *)((const char *)value - offsetof(node_t, value)); }

void map_set_destructor(map_t *m, void (*fn)(void *value)) { m->destroy = fn; }

static void lru_unlink(map_t *m, node_t *n) {
  if (n->newer) n->newer->older = n->older;
  else m->newest = n->older;
  if (n->older) n->older->newer = n->newer;
  else m->oldest = n->newer;
  n->newer = n->older = NULL;
}

static void lru_push_newest(map_t *m, node_t *n) {
  n->newer = NULL;
  n->older = m->newest;
  if (m->newest) m->newest->newer = n;
  else m->oldest = n;
  m->newest = n;
}

/* Frees an entry already taken out of its bucket chain. */
static void node_free(map_t *m, node_t *n) {
  lru_unlink(m, n);
  m->bytes -= n->bytes;
  m->size--;
  if (m->destroy) m->destroy(n->value);
  free(n->key);
  free(n);
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

map_t *map_new(size_t value_size, size_t max_entries) {
  map_t *m = xcalloc(1, sizeof *m);
  m->value_size = value_size;
  m->max = max_entries;
  m->nbuckets = 64;
  while (m->nbuckets < max_entries / 2 && m->nbuckets < (1u << 20)) m->nbuckets *= 2;
  m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
  return m;
}

void map_clear(map_t *m) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t *n = m->buckets[i];
    while (n) {
      node_t *next = n->next;
      node_free(m, n);
      n = next;
    }
    m->buckets[i] = NULL;
  }
}

void map_free(map_t *m) {
  if (!m) return;
  map_clear(m);
  free(m->buckets);
  free(m);
}

void *map_get(map_t *m, const char *key) {
  uint64_t h = fnv1a(key);
  for (node_t *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
    if (n->hash == h && strcmp(n->key, key) == 0) return n->value;
  return NULL;
}

size_t map_entry_bytes(const map_t *m, const char *key) {
  return sizeof(node_t) + m->value_size + strlen(key) + 1 + 2 * ALLOC_OVERHEAD;
}

void *map_put(map_t *m, const char *key, int *created) {
  void *v = map_get(m, key);
  if (created) *created = v == NULL;
  if (v) return v;
  if (m->size >= m->max) map_clear(m);
  uint64_t h = fnv1a(key);
  node_t *n = xcalloc(1, sizeof *n + m->value_size);
  n->hash = h;
  n->key = xstrdup(key);
  n->bytes = map_entry_bytes(m, key);
  size_t b = h & (m->nbuckets - 1);
  n->next = m->buckets[b];
  m->buckets[b] = n;
  lru_push_newest(m, n);
  m->bytes += n->bytes;
  m->size++;
  return n->value;
}

/* Unlinks n from its bucket chain and frees it. */
static void unchain_free(map_t *m, node_t *n) {
  for (node_t **pp = &m->buckets[n->hash & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next)
    if (*pp == n) {
      *pp = n->next;
      node_free(m, n);
      return;
    }
  abort(); /* not an entry of this map */
}

void map_del(map_t *m, const char *key) {
  void *v = map_get(m, key);
  if (v) unchain_free(m, node_of(v));
}

void map_filter(map_t *m, int (*fn)(const char *key, void *value, void *ctx), void *ctx) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t **pp = &m->buckets[i];
    while (*pp) {
      node_t *n = *pp;
      if (fn(n->key, n->value, ctx)) {
        *pp = n->next;
        node_free(m, n);
      } else {
        pp = &n->next;
      }
    }
  }
}

size_t map_size(const map_t *m) { return m->size; }

void map_touch(map_t *m, void *value) {
  node_t *n = node_of(value);
  if (m->newest == n) return;
  lru_unlink(m, n);
  lru_push_newest(m, n);
}

void *map_oldest(map_t *m) { return m->oldest ? m->oldest->value : NULL; }

void map_remove(map_t *m, void *value) { unchain_free(m, node_of(value)); }

const char *map_key(const void *value) { return node_of(value)->key; }

void map_set_weight(map_t *m, void *value, size_t bytes) {
  node_t *n = node_of(value);
  m->bytes -= n->bytes;
  n->bytes = map_entry_bytes(m, n->key) + bytes;
  m->bytes += n->bytes;
}

size_t map_bytes(const map_t *m) { return m->bytes + m->nbuckets * sizeof(node_t *) + sizeof *m; }
