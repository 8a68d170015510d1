#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct node_s {
  struct node_s *next;
  uint64_t hash;
  char *key;
  _Alignas(16) unsigned char value[];
} node_t;

struct map_s {
  node_t **buckets;
  size_t nbuckets, size, max, value_size;
  void (*destroy)(void *value);
};

void map_set_destructor(map_t *m, void (*fn)(void *value)) { m->destroy = fn; }

static void node_free(map_t *m, node_t *n) {
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
  m->size = 0;
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

void *map_put(map_t *m, const char *key, int *created) {
  void *v = map_get(m, key);
  if (created) *created = v == NULL;
  if (v) return v;
  if (m->size >= m->max) map_clear(m);
  uint64_t h = fnv1a(key);
  node_t *n = xcalloc(1, sizeof *n + m->value_size);
  n->hash = h;
  n->key = xstrdup(key);
  size_t b = h & (m->nbuckets - 1);
  n->next = m->buckets[b];
  m->buckets[b] = n;
  m->size++;
  return n->value;
}

void map_del(map_t *m, const char *key) {
  uint64_t h = fnv1a(key);
  for (node_t **pp = &m->buckets[h & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
    node_t *n = *pp;
    if (n->hash == h && strcmp(n->key, key) == 0) {
      *pp = n->next;
      node_free(m, n);
      m->size--;
      return;
    }
  }
}

void map_filter(map_t *m, int (*fn)(const char *key, void *value, void *ctx), void *ctx) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t **pp = &m->buckets[i];
    while (*pp) {
      node_t *n = *pp;
      if (fn(n->key, n->value, ctx)) {
        *pp = n->next;
        node_free(m, n);
        m->size--;
      } else {
        pp = &n->next;
      }
    }
  }
}

size_t map_size(const map_t *m) { return m->size; }
