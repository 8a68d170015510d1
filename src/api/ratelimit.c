#include "ratelimit.h"

#include <stdlib.h>

#include "../core/map.h"
#include "../core/util.h"

#define WINDOW 60

typedef struct {
  int local;    /* admitted here in this window */
  int unsynced; /* of which not yet pushed */
  int inflight; /* of which being pushed */
  int others;   /* the other instances' count, as of the last sync */
} entry_t;

struct rl_s {
  map_t *counts; /* key -> entry_t within the current window */
  int64_t window;
  int live; /* instances sharing the limits (1: alone) */
};

rl_t *rl_new(size_t max_keys) {
  rl_t *rl = xcalloc(1, sizeof *rl);
  rl->counts = map_new(sizeof(entry_t), max_keys);
  rl->live = 1;
  return rl;
}

void rl_free(rl_t *rl) {
  if (!rl) return;
  map_free(rl->counts);
  free(rl);
}

static void roll(rl_t *rl, int64_t window) {
  if (window != rl->window) { /* old windows are evicted as a whole */
    map_clear(rl->counts);
    rl->window = window;
  }
}

/* Whether one more fits: within the limit, and between syncs within this instance's share of
 * what was left at the last sync (*share_bound: refused for the share only, worth a retry soon). */
static int fits(const rl_t *rl, const entry_t *e, int limit, int *share_bound) {
  *share_bound = 0;
  if (e->local + e->others >= limit) return 0;
  if (rl->live > 1) {
    int pending = e->unsynced + e->inflight;
    int left = limit - (e->local - pending) - e->others; /* as of the last sync */
    /* Every live instance may be admitting its share right now, unseen until the next sync:
     * each takes a live-th of a live-th of what was left, so one interval's unseen admissions
     * stay within a live-th of it and the rest is handed out again after the sync. */
    int share = left / (rl->live * rl->live);
    if (share < 1) share = 1;
    if (pending >= share) {
      *share_bound = 1;
      return 0;
    }
  }
  return 1;
}

static void fill(const entry_t *e, int allowed, int share_bound, int limit, int64_t window, int64_t now,
                 rl_result_t *out) {
  int used = e ? e->local + e->others : 0;
  out->limit = limit;
  out->reset = (window + 1) * WINDOW;
  out->allowed = allowed;
  out->remaining = used >= limit ? 0 : limit - used;
  out->retry_after = share_bound ? 1 : (int)(out->reset - now);
  if (out->retry_after < 1) out->retry_after = 1;
}

void rl_peek(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out) {
  int64_t window = now / WINDOW;
  const entry_t *e = window == rl->window ? map_get(rl->counts, key) : NULL;
  static const entry_t none;
  int share_bound;
  int ok = fits(rl, e ? e : &none, limit, &share_bound);
  fill(e, ok, share_bound, limit, window, now, out);
  if (ok) out->remaining = out->remaining > 0 ? out->remaining - 1 : 0; /* after the next one */
}

void rl_hit(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out) {
  int64_t window = now / WINDOW;
  roll(rl, window);
  entry_t *e = map_put(rl->counts, key, NULL);
  int share_bound;
  int ok = fits(rl, e, limit, &share_bound);
  if (ok) {
    e->local++;
    e->unsynced++;
  }
  fill(e, ok, share_bound, limit, window, now, out);
}

typedef struct {
  void (*fn)(const char *key, int count, void *ctx);
  void *ctx;
} collect_t;

static int collect_one(const char *key, void *value, void *ctx) {
  entry_t *e = value;
  collect_t *c = ctx;
  if (e->unsynced > 0) {
    c->fn(key, e->unsynced, c->ctx);
    e->inflight += e->unsynced;
    e->unsynced = 0;
  }
  return 0;
}

int64_t rl_collect(rl_t *rl, int64_t now, void (*fn)(const char *key, int count, void *ctx), void *ctx) {
  roll(rl, now / WINDOW);
  collect_t c = {fn, ctx};
  map_filter(rl->counts, collect_one, &c);
  return rl->window;
}

void rl_others(rl_t *rl, int64_t window, const char *key, int count) {
  if (window != rl->window || count < 0) return;
  entry_t *e = map_put(rl->counts, key, NULL);
  e->others = count;
}

static int settle(const char *key, void *value, void *ctx) {
  (void)key;
  entry_t *e = value;
  if (!*(int *)ctx) e->unsynced += e->inflight; /* not sent: pushed again next time */
  e->inflight = 0;
  return 0;
}

void rl_synced(rl_t *rl, int64_t window, int ok, int live) {
  rl->live = ok && live > 1 ? live : 1;
  if (window != rl->window) return; /* the window rolled meanwhile: its entries are gone */
  map_filter(rl->counts, settle, &ok);
}
