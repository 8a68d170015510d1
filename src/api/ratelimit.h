/* ratelimit.h — fixed one-minute windows per key ("ip:1.2.3.4", "u:42"), in memory.
 * Limits are per instance: behind a load balancer with N instances a client gets up to N times
 * the limit (documented in the README). State is bounded: a new window starts empty, and a
 * full table is cleared. */
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

#endif
