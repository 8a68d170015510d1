/* Multi-host combinators: round-robin union, collective intersection, the host and party-size
 * filters and the round-robin assignment rules. Hand-written cases first, then random cases
 * checked against a brute-force reference written here without the merge (every start of the
 * union, every host scanned from the start of its list), through the adaptive union, the scan
 * alone and the radix finish alone. Includes team.c to reach the latter two. */
#include <stdlib.h>

#include "check.h"
#include "core/timeutil.h"
#include "sched/team.c"

#define T0 1772600000 /* an arbitrary instant; only differences matter */
#define MIN 60

static sched_slots_t list(int count, const int64_t *starts, const int *seats, int64_t duration) {
  sched_slots_t l = {0};
  l.n = l.cap = (size_t)count;
  l.v = count ? calloc((size_t)count, sizeof *l.v) : NULL;
  for (int i = 0; i < count; i++)
    l.v[i] = (sched_slot_t){T0 + starts[i], T0 + starts[i] + duration, seats ? seats[i] : 1, SLOT_FREE, 0};
  return l;
}

/* "h0:s0,h1:s1" of a team slot, for readable checks. */
static const char *hosts_of(const sched_team_slots_t *t, size_t k) {
  static char buf[512];
  size_t len = 0;
  buf[0] = 0;
  const sched_team_slot_t *s = &t->v[k];
  for (uint32_t j = 0; j < s->nhosts && len < sizeof buf - 32; j++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d:%d", j ? "," : "", t->hosts[s->off + j].host,
                            t->hosts[s->off + j].seats_left);
  return buf;
}

static void free_lists(sched_slots_t *h, size_t n) {
  for (size_t i = 0; i < n; i++) free(h[i].v);
}

/* ---- brute-force reference ---- */

#define REF_MAX_HOSTS 64

typedef struct {
  int64_t start, end;
  int seats_left, best_seats, nhosts;
  int host[REF_MAX_HOSTS], seats[REF_MAX_HOSTS];
} ref_slot_t;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Host i's first usable entry starting at t, scanning its whole list, or NULL. */
static const sched_slot_t *ref_entry(const sched_slots_t *l, int64_t t) {
  for (size_t j = 0; j < l->n; j++)
    if (l->v[j].start == t && l->v[j].reason == SLOT_FREE && l->v[j].seats_left > 0) return &l->v[j];
  return NULL;
}

/* Both combinators: returns the number of reference slots in *out (caller frees). */
static size_t ref_combine(const sched_slots_t *h, size_t n, int collective, ref_slot_t **out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += h[i].n;
  int64_t *starts = malloc((m + 1) * sizeof *starts);
  size_t ns = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < h[i].n; j++)
      if (h[i].v[j].reason == SLOT_FREE && h[i].v[j].seats_left > 0) starts[ns++] = h[i].v[j].start;
  qsort(starts, ns, sizeof *starts, cmp_i64);
  ref_slot_t *r = calloc(ns + 1, sizeof *r);
  size_t nr = 0;
  for (size_t k = 0; k < ns; k++) {
    if (k && starts[k] == starts[k - 1]) continue;
    ref_slot_t s = {.start = starts[k]};
    int all = 1, have_end = 0;
    for (size_t i = 0; i < n; i++) {
      const sched_slot_t *e = ref_entry(&h[i], s.start);
      if (e && !have_end) {
        s.end = e->end;
        have_end = 1;
      }
      if (!e || e->end != s.end) {
        all = 0;
        continue;
      }
      s.host[s.nhosts] = (int)i;
      s.seats[s.nhosts++] = e->seats_left;
    }
    if (collective && !all) continue;
    for (int j = 0; j < s.nhosts; j++) {
      if (collective) s.seats_left = j == 0 || s.seats[j] < s.seats_left ? s.seats[j] : s.seats_left;
      else s.seats_left += s.seats[j];
      if (s.seats[j] > s.best_seats) s.best_seats = s.seats[j];
    }
    if (collective) s.best_seats = s.seats_left;
    r[nr++] = s;
  }
  free(starts);
  *out = r;
  return nr;
}

static size_t ref_keep_host(ref_slot_t *r, size_t nr, int collective, int host) {
  size_t w = 0;
  for (size_t k = 0; k < nr; k++) {
    int at = -1;
    for (int j = 0; j < r[k].nhosts; j++)
      if (r[k].host[j] == host) at = j;
    if (at < 0) continue;
    ref_slot_t s = r[k];
    if (!collective) {
      s.nhosts = 1;
      s.host[0] = r[k].host[at];
      s.seats[0] = s.seats_left = s.best_seats = r[k].seats[at];
    }
    r[w++] = s;
  }
  return w;
}

static size_t ref_keep_seats(ref_slot_t *r, size_t nr, int collective, int seats) {
  size_t w = 0;
  for (size_t k = 0; k < nr; k++) {
    ref_slot_t s = r[k];
    if (collective) {
      if (seats <= 1 || s.seats_left >= seats) r[w++] = s;
      continue;
    }
    ref_slot_t f = s;
    f.nhosts = f.seats_left = f.best_seats = 0;
    for (int j = 0; j < s.nhosts; j++) {
      if (s.seats[j] < seats) continue;
      f.host[f.nhosts] = s.host[j];
      f.seats[f.nhosts++] = s.seats[j];
      f.seats_left += s.seats[j];
      if (s.seats[j] > f.best_seats) f.best_seats = s.seats[j];
    }
    if (f.nhosts) r[w++] = f;
  }
  return w;
}

/* 0 when the team vector equals the reference; else prints the first difference. */
static int same(const sched_team_slots_t *t, const ref_slot_t *r, size_t nr, const char *what) {
  if (t->n != nr) {
    printf("# %s: %zu slots, reference %zu\n", what, t->n, nr);
    return 1;
  }
  for (size_t k = 0; k < nr; k++) {
    const sched_team_slot_t *s = &t->v[k];
    int bad = s->start != r[k].start || s->end != r[k].end || s->seats_left != r[k].seats_left ||
              s->best_seats != r[k].best_seats || s->nhosts != (uint32_t)r[k].nhosts;
    for (int j = 0; !bad && j < r[k].nhosts; j++)
      bad = t->hosts[s->off + j].host != r[k].host[j] || t->hosts[s->off + j].seats_left != r[k].seats[j];
    if (bad) {
      printf("# %s: slot %zu start %lld differs (got %s seats %d best %d; want %d hosts seats %d best %d)\n", what, k,
             (long long)(r[k].start - T0), hosts_of(t, k), s->seats_left, s->best_seats, r[k].nhosts, r[k].seats_left,
             r[k].best_seats);
      return 1;
    }
  }
  return 0;
}

/* ---- random cases ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t bound) { /* xorshift64*, fixed seed: the same cases every run */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32) % bound;
}

/* One host's list: a grid of `step` from `phase`, each start kept with some probability, a few
 * entries not free (an explain list), repeated, or with another end. */
static sched_slots_t random_list(int64_t phase, int64_t step, int64_t duration, int span, int keep_pct, int odd) {
  sched_slots_t l = {0};
  l.cap = (size_t)span * 2 + 2;
  l.v = calloc(l.cap, sizeof *l.v);
  for (int k = 0; k < span; k++) {
    if ((int)rnd(100) >= keep_pct) continue;
    int64_t t = T0 + phase + k * step;
    sched_slot_t s = {t, t + duration, 1 + (int)rnd(4), SLOT_FREE, 0};
    if (odd && rnd(20) == 0) s.reason = SLOT_BOOKED, s.seats_left = 0;
    if (odd && rnd(50) == 0) s.end += MIN;
    l.v[l.n++] = s;
    if (odd && rnd(40) == 0) l.v[l.n++] = (sched_slot_t){t, t + duration, 1 + (int)rnd(4), SLOT_FREE, 0};
  }
  return l;
}

static int random_case(int c) {
  size_t n = rnd(10) < 7 ? 1 + rnd(6) : rnd(10) < 7 ? 7 + rnd(14) : 21 + rnd(40);
  if (c % 97 == 0) n = 0;
  int style = (int)rnd(3); /* 0: one grid, 1: two phases, 2: any minute */
  int64_t step = rnd(4) ? 30 * MIN : 15 * MIN, duration = 30 * MIN;
  int span = 1 + (int)rnd(60), keep = 20 + (int)rnd(81), odd = rnd(3) == 0;
  sched_slots_t h[REF_MAX_HOSTS];
  for (size_t i = 0; i < n; i++) {
    int64_t phase = style == 0 ? 0 : style == 1 ? (int64_t)rnd(2) * 15 * MIN : (int64_t)rnd(30) * MIN;
    h[i] = rnd(15) == 0 ? (sched_slots_t){0} : random_list(phase, step, duration, span, keep, odd);
  }
  int bad = 0;
  char what[64];
  for (int collective = 0; collective <= 1; collective++) {
    ref_slot_t *r;
    size_t nr = ref_combine(h, n, collective, &r);
    for (int mode = UNION_ADAPTIVE; mode <= (collective ? UNION_ADAPTIVE : UNION_RADIX); mode++) {
      sched_team_slots_t t;
      if (collective) sched_team_intersect(h, n, &t);
      else union_run(h, n, &t, mode);
      snprintf(what, sizeof what, "case %d %s mode %d", c, collective ? "intersect" : "union", mode);
      bad |= same(&t, r, nr, what);
      sched_team_slots_free(&t);
    }
    /* Filters, one after the other, as the availability handler applies them. */
    sched_team_slots_t t;
    if (collective) sched_team_intersect(h, n, &t);
    else sched_team_union(h, n, &t);
    int seats = 1 + (int)rnd(4);
    sched_team_keep_seats(&t, seats);
    size_t nf = ref_keep_seats(r, nr, collective, seats);
    snprintf(what, sizeof what, "case %d %s seats>=%d", c, collective ? "intersect" : "union", seats);
    bad |= same(&t, r, nf, what);
    int host = n ? (int)rnd((uint32_t)n) : 0;
    sched_team_keep_host(&t, host);
    nf = ref_keep_host(r, nf, collective, host);
    snprintf(what, sizeof what, "case %d %s host %d", c, collective ? "intersect" : "union", host);
    bad |= same(&t, r, nf, what);
    for (size_t k = 0; k < nf && !bad; k++) bad = sched_team_find(&t, r[k].start) != &t.v[k];
    sched_team_slots_free(&t);
    free(r);
  }
  free_lists(h, n);
  return bad;
}

/* ---- round-robin assignment ---- */

/* Picks `rounds` times among `n` hosts, each pick counting as a recent booking and as the
 * latest assignment (time = round number); counts[] gets each host's picks. */
static void simulate(sched_rr_candidate_t *c, size_t n, int rounds, int *counts) {
  for (int k = 0; k < rounds; k++) {
    int i = sched_rr_pick(c, n);
    counts[i]++;
    c[i].recent_count++;
    c[i].last_assigned = 1000 + k;
  }
}

int main(void) {
  sched_team_slots_t t;

  /* Disjoint grids: host 0 on the hour, host 1 on the half hour. */
  int64_t a0[] = {9 * 3600, 10 * 3600}, a1[] = {9 * 3600 + 1800, 10 * 3600 + 1800};
  sched_slots_t d[2] = {list(2, a0, NULL, 1800), list(2, a1, NULL, 1800)};
  sched_team_union(d, 2, &t);
  CHECK_EQ(t.n, 4);
  CHECK(t.v[0].start == T0 + 9 * 3600 && t.v[1].start == T0 + 9 * 3600 + 1800);
  CHECK_STR(hosts_of(&t, 0), "0:1");
  CHECK_STR(hosts_of(&t, 1), "1:1");
  CHECK_STR(hosts_of(&t, 3), "1:1");
  CHECK(t.v[3].end == T0 + 11 * 3600);
  sched_team_slots_free(&t);
  sched_team_intersect(d, 2, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  free_lists(d, 2);

  /* Overlap with seats: sums for round robin, minimum for collective. */
  int64_t o0[] = {0, 1800, 3600}, o1[] = {1800, 3600, 5400};
  int s0[] = {3, 2, 1}, s1[] = {4, 1, 5};
  sched_slots_t o[2] = {list(3, o0, s0, 1800), list(3, o1, s1, 1800)};
  sched_team_union(o, 2, &t);
  CHECK_EQ(t.n, 4);
  CHECK_STR(hosts_of(&t, 0), "0:3");
  CHECK_STR(hosts_of(&t, 1), "0:2,1:4");
  CHECK(t.v[1].seats_left == 6 && t.v[1].best_seats == 4);
  CHECK_STR(hosts_of(&t, 2), "0:1,1:1");
  CHECK(t.v[2].seats_left == 2 && t.v[2].best_seats == 1);
  CHECK(t.v[3].seats_left == 5 && t.v[3].nhosts == 1);
  CHECK(sched_team_find(&t, T0 + 1800) == &t.v[1] && sched_team_find(&t, T0 + 900) == NULL);
  /* Party of 3: at 00:30 only host 1 can take it (host 0 has 2 left); 01:00 goes. */
  sched_team_keep_seats(&t, 3);
  CHECK_EQ(t.n, 3);
  CHECK_STR(hosts_of(&t, 0), "0:3");
  CHECK_STR(hosts_of(&t, 1), "1:4");
  CHECK(t.v[1].seats_left == 4 && t.v[1].best_seats == 4);
  CHECK(t.v[2].start == T0 + 5400);
  /* host_id=1: its slots only, each narrowed to it. */
  sched_team_keep_host(&t, 1);
  CHECK(t.n == 2 && t.v[0].start == T0 + 1800 && t.v[1].start == T0 + 5400);
  CHECK_STR(hosts_of(&t, 1), "1:5");
  sched_team_slots_free(&t);
  sched_team_intersect(o, 2, &t);
  CHECK_EQ(t.n, 2);
  CHECK(t.v[0].start == T0 + 1800 && t.v[0].seats_left == 2 && t.v[0].best_seats == 2);
  CHECK_STR(hosts_of(&t, 0), "0:2,1:4");
  CHECK(t.v[1].seats_left == 1);
  sched_team_keep_host(&t, 0); /* every collective slot holds every host: unchanged */
  CHECK(t.n == 2 && t.v[0].nhosts == 2 && t.v[0].seats_left == 2);
  sched_team_keep_seats(&t, 2);
  CHECK(t.n == 1 && t.v[0].start == T0 + 1800);
  sched_team_slots_free(&t);

  /* One host empty: the union is the other host's list, the intersection is empty. */
  sched_slots_t e[3] = {o[0], {0}, o[1]};
  sched_team_union(e, 3, &t);
  CHECK(t.n == 4 && t.v[1].nhosts == 2);
  CHECK_STR(hosts_of(&t, 1), "0:2,2:4");
  sched_team_slots_free(&t);
  sched_team_intersect(e, 3, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  /* All empty, and no hosts at all. */
  sched_slots_t z[2] = {{0}, {0}};
  sched_team_union(z, 2, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  sched_team_intersect(z, 2, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  sched_team_union(NULL, 0, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  sched_team_intersect(NULL, 0, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);

  /* One host: both combinators give its list back. */
  for (int collective = 0; collective <= 1; collective++) {
    if (collective) sched_team_intersect(o, 1, &t);
    else sched_team_union(o, 1, &t);
    int eq = t.n == o[0].n;
    for (size_t k = 0; eq && k < t.n; k++)
      eq = t.v[k].start == o[0].v[k].start && t.v[k].end == o[0].v[k].end &&
           t.v[k].seats_left == o[0].v[k].seats_left && t.v[k].nhosts == 1 && t.hosts[t.v[k].off].host == 0;
    CHECK(eq);
    sched_team_slots_free(&t);
  }
  free_lists(o, 2);

  /* Defensive inputs: another end at the same start leaves that host out; a repeated start
   * counts once; an explain list's busy entries do not count. */
  int64_t x0[] = {0, 0, 1800}, x1[] = {0, 1800};
  sched_slots_t x[2] = {list(3, x0, NULL, 1800), list(2, x1, NULL, 1800)};
  x[1].v[0].end += 900;
  x[1].v[1].reason = SLOT_BOOKED;
  sched_team_union(x, 2, &t);
  CHECK(t.n == 2 && t.v[0].nhosts == 1 && t.v[0].end == T0 + 1800 && t.v[1].nhosts == 1);
  sched_team_slots_free(&t);
  sched_team_intersect(x, 2, &t);
  CHECK_EQ(t.n, 0);
  sched_team_slots_free(&t);
  free_lists(x, 2);

  /* Real engine output, Monday 2026-03-02, 09:00-17:00 with hourly slots: New York (14-22Z) and
   * Kolkata (03:30-11:30Z, on the half hour) never meet, so the union is both lists and the
   * intersection empty; London (09-17Z, GMT until the end of March) shares 14, 15 and 16Z with
   * New York. */
  {
    const char *zones[3] = {"America/New_York", "Asia/Kolkata", "Europe/London"};
    sched_slots_t eng[3];
    sched_event_t ev = {.id = 1, .duration = 3600, .interval = 3600, .max_future = 3650 * 86400LL, .seats = 1};
    int64_t from = 0, to = 0;
    CHECK(time_parse_rfc3339("2026-03-02T00:00:00Z", &from) == 0 &&
          time_parse_rfc3339("2026-03-03T00:00:00Z", &to) == 0);
    for (int i = 0; i < 3; i++) {
      sched_schedule_t s;
      memset(&s, 0, sizeof s);
      s.tz = tz_get(zones[i]);
      for (int w = 1; w <= 5; w++) sched_add_span(s.week[w], &s.nweek[w], 9 * 60, 17 * 60);
      sched_compute(&s, &ev, NULL, 0, from - 86400, from, to, 0, &eng[i]);
    }
    sched_team_union(eng, 2, &t);
    CHECK(t.n == eng[0].n + eng[1].n && t.n == 16);
    sched_team_slots_free(&t);
    sched_team_intersect(eng, 2, &t);
    CHECK_EQ(t.n, 0);
    sched_team_slots_free(&t);
    sched_slots_t ny_lon[2] = {eng[0], eng[2]};
    sched_team_intersect(ny_lon, 2, &t);
    CHECK(t.n == 3 && t.v[0].start == from + 14 * 3600 && t.v[2].start == from + 16 * 3600);
    sched_team_slots_free(&t);
    sched_team_union(ny_lon, 2, &t);
    CHECK_EQ(t.n, 13);
    CHECK_STR(hosts_of(&t, 5), "0:1,1:1");
    sched_team_slots_free(&t);
    for (int i = 0; i < 3; i++) sched_slots_free(&eng[i]);
  }

  /* Round robin: each rule decides only when the ones before tie. */
  CHECK_EQ(sched_rr_pick(NULL, 0), -1);
  sched_rr_candidate_t r[2];
  sched_rr_candidate_t base = {.user_id = 10, .recent_count = 5, .last_assigned = 500, .priority = 2, .weight = 100};
  r[0] = r[1] = base;
  r[1].user_id = 11;
  CHECK_EQ(sched_rr_pick(r, 2), 0); /* all else equal: lowest user id */
  r[0].last_assigned = 600;
  CHECK_EQ(sched_rr_pick(r, 2), 1); /* least recently assigned */
  r[1].last_assigned = 0;
  r[0].last_assigned = 1;
  CHECK_EQ(sched_rr_pick(r, 2), 1); /* never assigned beats any time */
  r[0].recent_count = 4;
  CHECK_EQ(sched_rr_pick(r, 2), 0); /* fewer recent bookings beats recency */
  r[1].weight = 200;
  r[1].recent_count = 7; /* 7/200 < 4/100 */
  CHECK_EQ(sched_rr_pick(r, 2), 1);
  r[1].recent_count = 8; /* 8/200 == 4/100: an exact tie goes on to recency (host 1 never assigned) */
  r[0].last_assigned = 0;
  r[1].last_assigned = 7;
  CHECK_EQ(sched_rr_pick(r, 2), 0);
  r[0].priority = 1;
  CHECK_EQ(sched_rr_pick(r, 2), 1); /* priority beats load */
  r[0].partly_filled = 1;
  CHECK_EQ(sched_rr_pick(r, 2), 0); /* a partly filled host beats priority */
  r[1].partly_filled = 1;
  CHECK_EQ(sched_rr_pick(r, 2), 1);
  r[0].weight = 0; /* out of range: read as 1, never a division by zero */
  r[1].recent_count = INT64_MAX;
  CHECK_EQ(sched_rr_pick(r, 2), 1); /* priority still decides; huge counts do not overflow */
  r[0].priority = r[1].priority;
  CHECK_EQ(sched_rr_pick(r, 2), 0);

  /* 30 picks over three equal hosts: 10 each; weights 100 / 200 over 300 picks: about 1:2. */
  sched_rr_candidate_t eq[3] = {{.user_id = 3, .weight = 100, .priority = 2},
                                {.user_id = 1, .weight = 100, .priority = 2},
                                {.user_id = 2, .weight = 100, .priority = 2}};
  int cnt[3] = {0};
  simulate(eq, 3, 30, cnt);
  CHECK(cnt[0] == 10 && cnt[1] == 10 && cnt[2] == 10);
  sched_rr_candidate_t wt[2] = {{.user_id = 1, .weight = 100, .priority = 2},
                                {.user_id = 2, .weight = 200, .priority = 2}};
  int wc[2] = {0};
  simulate(wt, 2, 300, wc);
  CHECK(wc[0] >= 95 && wc[0] <= 105 && wc[0] + wc[1] == 300);
  /* A higher priority host takes every booking while free. */
  sched_rr_candidate_t pr[2] = {{.user_id = 1, .weight = 100, .priority = 2},
                                {.user_id = 2, .weight = 100, .priority = 3}};
  int pc[2] = {0};
  simulate(pr, 2, 20, pc);
  CHECK(pc[1] == 20);

  /* Random cases against the reference. */
  int failed = 0;
  for (int c = 0; c < 3000; c++) failed += random_case(c);
  CHECK_EQ(failed, 0);
  /* 50 hosts each on its own half-minute phase: the adaptive union sees one host per round and
   * switches to the radix finish after ten rounds, midway through. */
  sched_slots_t many[50];
  for (int i = 0; i < 50; i++) many[i] = random_list(i * MIN / 2, 30 * MIN, 30 * MIN, 200, 100, 0);
  ref_slot_t *ref;
  size_t nref = ref_combine(many, 50, 0, &ref);
  sched_team_union(many, 50, &t);
  CHECK(nref == 50 * 200 && same(&t, ref, nref, "50 out-of-phase hosts") == 0);
  sched_team_slots_free(&t);
  free(ref);
  free_lists(many, 50);

  tz_cache_free();
  return check_done();
}
