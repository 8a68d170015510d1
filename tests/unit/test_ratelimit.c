/* The rate limiter's counting and its sharing between instances (api/ratelimit.h): alone it
 * admits exactly the limit per window; sharing, it admits what the others left and only its share
 * between syncs; a failed sync leaves it counting alone and sends its counts again. */
#include <string.h>

#include "api/ratelimit.h"
#include "check.h"

static int admitted(rl_t *rl, const char *key, int limit, int64_t now, int n) {
  int ok = 0;
  rl_result_t r;
  for (int i = 0; i < n; i++) {
    rl_hit(rl, key, limit, now, &r);
    ok += r.allowed;
  }
  return ok;
}

typedef struct {
  char key[32];
  int count, calls;
} seen_t;

static void take(const char *key, int count, void *ctx) {
  seen_t *s = ctx;
  snprintf(s->key, sizeof s->key, "%s", key);
  s->count = count;
  s->calls++;
}

int main(void) {
  const int64_t t0 = 1800000000 - 1800000000 % 60; /* a window's first second */
  rl_t *rl = rl_new(1000);
  rl_result_t r;

  /* alone: the limit, the headers' numbers, a new window starts empty */
  rl_hit(rl, "ip:a", 3, t0, &r);
  CHECK(r.allowed && r.limit == 3 && r.remaining == 2 && r.reset == t0 + 60);
  CHECK_EQ(admitted(rl, "ip:a", 3, t0 + 1, 5), 2);
  rl_hit(rl, "ip:a", 3, t0 + 10, &r);
  CHECK(!r.allowed && r.remaining == 0 && r.retry_after == 50);
  rl_peek(rl, "ip:a", 3, t0 + 10, &r);
  CHECK(!r.allowed);
  CHECK_EQ(admitted(rl, "ip:a", 3, t0 + 60, 5), 3);
  CHECK_EQ(admitted(rl, "ip:b", 3, t0 + 60, 1), 1); /* keys are apart */

  /* a sync pushes what was counted since the last one, once */
  seen_t s = {0};
  int64_t w = rl_collect(rl, t0 + 61, take, &s);
  CHECK_EQ(w, t0 / 60 + 1);
  CHECK_EQ(s.calls, 2);
  rl_synced(rl, w, 1, 1);
  memset(&s, 0, sizeof s);
  rl_collect(rl, t0 + 61, take, &s);
  CHECK_EQ(s.calls, 0);
  rl_synced(rl, w, 1, 1);

  /* the others' count is part of the limit */
  rl_t *a = rl_new(1000);
  int64_t wa = rl_collect(a, t0, take, &s);
  rl_others(a, wa, "u:1", 55);
  rl_synced(a, wa, 1, 1);
  CHECK_EQ(admitted(a, "u:1", 60, t0 + 5, 10), 5);
  rl_hit(a, "u:1", 60, t0 + 5, &r);
  CHECK(!r.allowed && r.retry_after == 55 && r.remaining == 0);
  rl_free(a);

  /* three live instances: between syncs only a ninth of what is left, then more after a sync */
  rl_t *b = rl_new(1000);
  int64_t wb = rl_collect(b, t0, take, &s);
  rl_synced(b, wb, 1, 3);
  CHECK_EQ(admitted(b, "u:2", 60, t0, 60), 6); /* 60 / 9 */
  rl_hit(b, "u:2", 60, t0, &r);
  CHECK(!r.allowed && r.retry_after == 1); /* refused for the share: soon again */
  memset(&s, 0, sizeof s);
  wb = rl_collect(b, t0 + 1, take, &s);
  CHECK(s.calls == 1 && strcmp(s.key, "u:2") == 0 && s.count == 6);
  CHECK_EQ(admitted(b, "u:2", 60, t0 + 1, 10), 0); /* still in flight: nothing more */
  rl_others(b, wb, "u:2", 30);
  rl_synced(b, wb, 1, 3);
  CHECK_EQ(admitted(b, "u:2", 60, t0 + 1, 60), 2); /* (60 - 6 - 30) / 9 */
  /* the whole limit is reached over syncs, never passed */
  int total = 6 + 2;
  for (int i = 0; i < 40; i++) {
    wb = rl_collect(b, t0 + 2, take, &s);
    rl_others(b, wb, "u:2", 30);
    rl_synced(b, wb, 1, 3);
    total += admitted(b, "u:2", 60, t0 + 2, 60);
  }
  CHECK_EQ(total, 30);

  /* a failed sync: alone (the whole limit less what is known), and the counts go again */
  rl_t *c = rl_new(1000);
  int64_t wc = rl_collect(c, t0, take, &s);
  rl_synced(c, wc, 1, 3);
  CHECK_EQ(admitted(c, "ip:c", 60, t0, 60), 6);
  memset(&s, 0, sizeof s);
  wc = rl_collect(c, t0, take, &s);
  CHECK_EQ(s.count, 6);
  rl_synced(c, wc, 0, 0);
  CHECK_EQ(admitted(c, "ip:c", 60, t0, 100), 54); /* per instance now: never unlimited */
  memset(&s, 0, sizeof s);
  rl_collect(c, t0, take, &s);
  CHECK_EQ(s.count, 60); /* the 6 not sent, and the 54 */
  /* an answer for a window that has passed changes nothing */
  rl_others(c, wc - 1, "ip:c", 1000);
  rl_synced(c, wc, 1, 1);
  rl_hit(c, "ip:c", 100, t0, &r);
  CHECK(r.allowed && r.remaining == 39);

  rl_free(b);
  rl_free(c);
  rl_free(rl);
  return check_done();
}
