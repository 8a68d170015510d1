/* map.h — string-keyed hash map with fixed-size values and a hard cap on entries.
 * When a put would exceed the cap, the map is cleared first: callers use it for state that is
 * cheap to rebuild (rate-limit windows, credential cache), and memory stays bounded whatever
 * the traffic. Loop thread only.
 *
 * For caches that must stay within a byte budget, entries also keep a recency order (an
 * intrusive doubly linked list: every operation below is O(1), map_remove O(bucket chain)) and
 * the map counts the bytes it holds: each entry's own allocations plus a weight the caller
 * declares for what the value points to (a response body). The caller evicts from the oldest
 * end before a put, so the clear-at-cap rule above never fires for it. */
#ifndef SLOTD_CORE_MAP_H
#define SLOTD_CORE_MAP_H

#include <stddef.h>

typedef struct map_s map_t;

map_t *map_new(size_t value_size, size_t max_entries);
/* Called on a value whenever its entry is removed (del, remove, clear, filter, free). */
void map_set_destructor(map_t *m, void (*fn)(void *value));
void map_free(map_t *m);
/* Does not change the recency order (see map_touch). */
void *map_get(map_t *m, const char *key);
/* The value for key, created zero-filled if absent (*created = 1) as the most recently used
 * entry. Keys are copied. */
void *map_put(map_t *m, const char *key, int *created);
void map_del(map_t *m, const char *key);
void map_clear(map_t *m);
/* Calls fn for every entry; an entry is deleted when fn returns 1. */
void map_filter(map_t *m, int (*fn)(const char *key, void *value, void *ctx), void *ctx);
size_t map_size(const map_t *m);

/* ---- recency and size (value: a pointer map_get/map_put returned, still in the map) ---- */

/* Makes value's entry the most recently used. */
void map_touch(map_t *m, void *value);
/* The least recently used value, or NULL when the map is empty. */
void *map_oldest(map_t *m);
/* Removes value's entry (the destructor runs). */
void map_remove(map_t *m, void *value);
/* The key of value's entry (valid while the entry is). */
const char *map_key(const void *value);
/* Declares the bytes value owns outside the map (0 when created); map_bytes() counts them. */
void map_set_weight(map_t *m, void *value, size_t bytes);
/* Bytes held: the bucket table, every entry's node, value and key (with the allocator's
 * per-block overhead), and the declared weights. */
size_t map_bytes(const map_t *m);
/* What an entry with this key costs before its weight (for deciding before a put). */
size_t map_entry_bytes(const map_t *m, const char *key);

#endif
