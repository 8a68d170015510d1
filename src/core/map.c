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
  char *key; /* in the same block, after the value: one allocation and one cache miss less */
  _Alignas(16) unsigned char value[];
} node_t;

struct map_s {
  node_t **buckets;
  size_t nbuckets, size, max, value_size;
  size_t bytes; /* sum of the entries' bytes (the table is added by map_bytes) */
  uint64_t seed; /* key_hash's */
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
  free(n);
}

/* A key's hash, eight bytes per step (a multiply and a shift each), then splitmix64's finalizer:
 * byte-at-a-time FNV-1a cost a multiply per byte, and the lookup of a 60-byte availability cache
 * key was a tenth of a cache hit's time. Seeded per map at random, so that a client cannot choose
 * keys (slugs, addresses) that fall into one bucket. */
static uint64_t key_hash(const map_t *m, const char *s) {
  size_t n = strlen(s);
  uint64_t h = m->seed ^ n, w;
  for (; n >= 8; s += 8, n -= 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
  }
  w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

map_t *map_new(size_t value_size, size_t max_entries) {
  map_t *m = xcalloc(1, sizeof *m);
  m->value_size = value_size;
  random_bytes(&m->seed, sizeof m->seed);
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

static void *find(const map_t *m, const char *key, uint64_t h) {
  for (node_t *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
    if (n->hash == h && strcmp(n->key, key) == 0) return n->value;
  return NULL;
}

void *map_get(map_t *m, const char *key) { return find(m, key, key_hash(m, key)); }

size_t map_entry_bytes(const map_t *m, const char *key) {
  return sizeof(node_t) + m->value_size + strlen(key) + 1 + ALLOC_OVERHEAD;
}

void *map_put(map_t *m, const char *key, int *created) {
  uint64_t h = key_hash(m, key);
  void *v = find(m, key, h);
  if (created) *created = v == NULL;
  if (v) return v;
  if (m->size >= m->max) map_clear(m);
  size_t klen = strlen(key) + 1;
  node_t *n = xcalloc(1, sizeof *n + m->value_size + klen);
  n->hash = h;
  n->key = memcpy((char *)n->value + m->value_size, key, klen);
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
