/* ratelimit.h — fixed one-minute windows per key ("ip:1.2.3.4", "u:42"), counted in memory and
 * shared between instances (jobs/rlsync.c): each instance counts locally and, every
 * SLOTD_RATE_LIMIT_SYNC pushes what it counted to PostgreSQL and learns the other instances'
 * counts of the same window — no round trip per request. Between two syncs an instance admits at
 * most its share of what was left of a key's limit at the last sync (the remainder divided by the
 * square of the number of live instances, at least one), so a burst spread over N instances stays
 * within the limit (plus a few), while a key's traffic on one instance gets the whole limit
 * within a few syncs (a refusal for the share alone says Retry-After: 1).
 * When syncing fails (the database down) the instance counts alone with what it last knew:
 * per-instance limits, never no limit. State is bounded: a new window starts empty, and a full
 * table is cleared. Pure (no I/O): unit-tested through rl_hit, rl_collect and rl_synced. */
#ifndef SLOTD_API_RATELIMIT_H
#define SLOTD_API_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct rl_s rl_t;

typedef struct {
  int allowed;
  int limit;
  int remaining;
  int64_t reset;     /* Unix time the window ends */
  int retry_after;   /* seconds, when !allowed */
} rl_result_t;

rl_t *rl_new(size_t max_keys);
void rl_free(rl_t *rl);
/* Counts one request for key at Unix time now. */
void rl_hit(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out);
/* What the next rl_hit would answer, without counting. */
void rl_peek(rl_t *rl, const char *key, int limit, int64_t now, rl_result_t *out);

/* ---- sharing (jobs/rlsync.c) ---- */

/* Starts a sync of the current window at now: calls fn for every key counted since the last
 * sync with how many (those are then in flight), and returns the window (Unix time / 60). */
int64_t rl_collect(rl_t *rl, int64_t now, void (*fn)(const char *key, int count, void *ctx), void *ctx);
/* One key's count on the other instances in window, as the database answered. */
void rl_others(rl_t *rl, int64_t window, const char *key, int count);
/* Ends the sync of window begun by rl_collect: ok, the deltas in flight are known to the others
 * and live instances share the limits; failed, they are counted as not sent and the instance
 * counts alone (live = 1) until a sync succeeds. */
void rl_synced(rl_t *rl, int64_t window, int ok, int live);

#endif
