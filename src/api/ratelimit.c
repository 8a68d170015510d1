#include "ratelimit.h"

#include <stdlib.h>

#include "../core/map.h"
#include "../core/util.h"

#define WINDOW 60

struct rl_s {
  map_t *counts; /* key -> int count within the current window */
  int64_t window;
};

rl_t *rl_new(size_t max_keys) {
  rl_t *rl = xcalloc(1, sizeof *rl);
  rl->counts = map_new(sizeof(int), max_keys);
  return rl;
}

void rl_free(rl_t *rl) {
  if (!rl) return;
  map_free(rl->counts);
  free(rl);
}

static void fill(int count, int limit, int64_t window, int64_t now, rl_result_t *out) {
  out->limit = limit;
  out->reset = (window + 1) * WINDOW;
  out->allowed = count <= limit;
  out->remaining = out->allowed ? limit - count : 0;
  out->retry_after = (int)(out->reset - now);
  if (out->retry_after < 1) out->retry_after = 1;
}

void rl_peek(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out) {
  int64_t window = now / WINDOW;
  int *count = window == rl->window ? map_get(rl->counts, key) : NULL;
  /* allowed while fewer than limit were counted: the next one would still be within it */
  fill(count ? *count + 1 : 1, limit, window, now, out);
}

void rl_hit(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out) {
  int64_t window = now / WINDOW;
  if (window != rl->window) { /* old windows are evicted as a whole */
    map_clear(rl->counts);
    rl->window = window;
  }
  int *count = map_put(rl->counts, key, NULL);
  if (*count <= limit) (*count)++; /* stop counting past the limit: no overflow */
  fill(*count, limit, window, now, out);
}
