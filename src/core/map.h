/* map.h — string-keyed hash map with fixed-size values and a hard cap on entries.
 * When a put would exceed the cap, the map is cleared first: callers use it for state that is
 * cheap to rebuild (rate-limit windows, credential cache), and memory stays bounded whatever
 * the traffic. Loop thread only. */
#ifndef SLOTD_CORE_MAP_H
#define SLOTD_CORE_MAP_H

#include <stddef.h>

typedef struct map_s map_t;

map_t *map_new(size_t value_size, size_t max_entries);
/* Called on a value whenever its entry is removed (del, clear, filter, free). */
void map_set_destructor(map_t *m, void (*fn)(void *value));
void map_free(map_t *m);
void *map_get(map_t *m, const char *key);
/* The value for key, created zero-filled if absent (*created = 1). Keys are copied. */
void *map_put(map_t *m, const char *key, int *created);
void map_del(map_t *m, const char *key);
void map_clear(map_t *m);
/* Calls fn for every entry; an entry is deleted when fn returns 1. */
void map_filter(map_t *m, int (*fn)(const char *key, void *value, void *ctx), void *ctx);
size_t map_size(const map_t *m);

#endif
