/* Map: the clear-at-cap rule its first users rely on, the recency order and the byte count a
 * budgeted cache (api/availability.c) relies on, and that every removal path runs the
 * destructor and gives its bytes back. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "core/map.h"

typedef struct {
  int id;
  size_t weight;
} val_t;

static int destroyed;
static void on_destroy(void *v) {
  (void)v;
  destroyed++;
}

static int drop_odd(const char *key, void *value, void *ctx) {
  (void)key;
  (*(int *)ctx)++;
  return ((val_t *)value)->id % 2;
}

static val_t *put(map_t *m, const char *key, int id) {
  int created;
  val_t *v = map_put(m, key, &created);
  if (created) v->id = id;
  return v;
}

int main(void) {
  /* ---- the basics, and the clear-at-cap rule (rate limits, credentials, zone names) ---- */
  map_t *m = map_new(sizeof(val_t), 4);
  map_set_destructor(m, on_destroy);
  size_t empty = map_bytes(m);
  CHECK(empty > 0); /* the table */
  int created = -1;
  val_t *a = map_put(m, "a", &created);
  CHECK_EQ(created, 1);
  CHECK_EQ(a->id, 0); /* zero-filled */
  a->id = 1;
  CHECK(map_put(m, "a", &created) == a && created == 0);
  CHECK(map_get(m, "a") == a);
  CHECK(map_get(m, "b") == NULL);
  CHECK_STR(map_key(a), "a");
  put(m, "b", 2);
  put(m, "c", 3);
  put(m, "d", 4);
  CHECK_EQ(map_size(m), 4);
  put(m, "e", 5); /* over the cap: cleared first */
  CHECK_EQ(map_size(m), 1);
  CHECK_EQ(destroyed, 4);
  CHECK(map_get(m, "a") == NULL && map_get(m, "e") != NULL);
  map_del(m, "e");
  map_del(m, "e"); /* absent: nothing happens */
  CHECK_EQ(destroyed, 5);
  CHECK_EQ(map_size(m), 0);
  CHECK_EQ(map_bytes(m), empty);
  CHECK(map_oldest(m) == NULL);
  map_free(m);

  /* ---- filter ---- */
  destroyed = 0;
  m = map_new(sizeof(val_t), 1000);
  map_set_destructor(m, on_destroy);
  char key[16];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    put(m, key, i);
  }
  int visited = 0;
  map_filter(m, drop_odd, &visited);
  CHECK_EQ(visited, 100);
  CHECK_EQ(map_size(m), 50);
  CHECK_EQ(destroyed, 50);
  CHECK(map_get(m, "k3") == NULL && map_get(m, "k4") != NULL);
  /* the recency list survived removals from the middle: oldest first is k0, k2, k4, ... */
  int in_order = 1;
  for (int i = 0; i < 50; i++) {
    val_t *v = map_oldest(m);
    in_order &= v && v->id == 2 * i;
    if (v) map_remove(m, v);
  }
  CHECK(in_order);
  CHECK_EQ(map_size(m), 0);
  CHECK_EQ(destroyed, 100);
  map_free(m);

  /* ---- recency order ---- */
  m = map_new(sizeof(val_t), 1000);
  val_t *x = put(m, "x", 1), *y = put(m, "y", 2), *z = put(m, "z", 3);
  CHECK(map_oldest(m) == x);
  map_touch(m, x); /* y, z, x */
  CHECK(map_oldest(m) == y);
  map_touch(m, x); /* already the newest */
  map_get(m, "y"); /* a lookup does not count as a use */
  CHECK(map_oldest(m) == y);
  map_remove(m, y); /* z, x */
  CHECK(map_oldest(m) == z);
  map_touch(m, z); /* x, z */
  CHECK(map_oldest(m) == x);
  map_remove(m, z); /* the newest */
  CHECK(map_oldest(m) == x);
  val_t *w = put(m, "w", 4); /* x, w */
  map_remove(m, x);
  CHECK(map_oldest(m) == w);
  map_remove(m, w);
  CHECK(map_oldest(m) == NULL && map_size(m) == 0);

  /* ---- bytes: entries, keys and weights, given back on every removal path ---- */
  empty = map_bytes(m);
  size_t cost = map_entry_bytes(m, "key-1");
  CHECK(cost > sizeof(val_t) + 6);
  val_t *k = put(m, "key-1", 1);
  CHECK_EQ(map_bytes(m), empty + cost);
  map_set_weight(m, k, 1000);
  CHECK_EQ(map_bytes(m), empty + cost + 1000);
  map_set_weight(m, k, 10); /* replaces, does not add */
  CHECK_EQ(map_bytes(m), empty + cost + 10);
  val_t *k2 = put(m, "key-22", 2);
  map_set_weight(m, k2, 500);
  CHECK_EQ(map_bytes(m), empty + cost + 10 + map_entry_bytes(m, "key-22") + 500);
  map_del(m, "key-1");
  CHECK_EQ(map_bytes(m), empty + map_entry_bytes(m, "key-22") + 500);
  map_clear(m);
  CHECK_EQ(map_bytes(m), empty);
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "w%d", i);
    map_set_weight(m, put(m, key, i), 100);
  }
  visited = 0;
  map_filter(m, drop_odd, &visited);
  CHECK_EQ(map_bytes(m), empty + 5 * (map_entry_bytes(m, "w0") + 100));
  /* a budget kept by evicting the oldest, as the availability cache does */
  while (map_bytes(m) > empty + 2 * (map_entry_bytes(m, "w0") + 100)) map_remove(m, map_oldest(m));
  CHECK_EQ(map_size(m), 2);
  CHECK(map_get(m, "w6") != NULL && map_get(m, "w8") != NULL);
  map_free(m);
  return check_done();
}
