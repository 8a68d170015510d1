#include "team.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

/* A union round that looks at this many cursors per host it finds means the grids are out of
 * phase; past this ratio the radix finish is cheaper than more rounds (measured: the scan costs
 * about one cursor visit per nanosecond, the radix sort a few nanoseconds per entry). */
#define TEAM_SCAN_RATIO 8

enum { UNION_ADAPTIVE, UNION_SCAN, UNION_RADIX }; /* the last two for the unit test */

/* Whether an input entry counts: free and with a seat (an explain = 1 list has others). */
static int usable(const sched_slot_t *s) { return s->reason == SLOT_FREE && s->seats_left > 0; }

/* First usable entry at or after j starting at or after `from`. Cursors only move forward. */
static size_t seek(const sched_slots_t *l, size_t j, int64_t from) {
  while (j < l->n && !(usable(&l->v[j]) && l->v[j].start >= from)) j++;
  return j;
}

/* The usable entry after entry j with a later start: a repeated start counts once. */
static size_t seek_past(const sched_slots_t *l, size_t j) {
  return l->v[j].start == INT64_MAX ? l->n : seek(l, j + 1, l->v[j].start + 1);
}

/* The vector starts with room for every input entry in `hosts` (no slot can hold more host
 * entries than there are inputs) and with `slots` slots, grown by doubling if the union needs
 * more. */
static void out_init(sched_team_slots_t *out, const sched_slots_t *h, size_t n, size_t slots) {
  memset(out, 0, sizeof *out);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += h[i].n;
  if (m > UINT32_MAX) abort(); /* offsets are 32-bit; a window this large is rejected long before */
  if (m) out->hosts = xmalloc(m * sizeof *out->hosts);
  out->hosts_cap = m;
  if (slots) out->v = xmalloc(slots * sizeof *out->v);
  out->cap = slots;
}

static sched_team_slot_t *slot_open(sched_team_slots_t *out, int64_t start) {
  if (out->n == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 64;
    out->v = xrealloc(out->v, out->cap * sizeof *out->v);
  }
  sched_team_slot_t *t = &out->v[out->n++];
  *t = (sched_team_slot_t){.start = start, .off = (uint32_t)out->nhosts};
  return t;
}

/* Adds a free host to the slot opened last (hosts come in ascending index). The first host
 * sets the end; one with another end is not free for this slot. */
static void slot_add(sched_team_slots_t *out, sched_team_slot_t *t, int host, const sched_slot_t *s) {
  if (t->nhosts == 0) t->end = s->end;
  else if (s->end != t->end) return;
  out->hosts[out->nhosts++] = (sched_team_host_t){host, s->seats_left};
  t->nhosts++;
  t->seats_left += s->seats_left;
  if (s->seats_left > t->best_seats) t->best_seats = s->seats_left;
}

/* The rest of a union by a stable LSD radix sort on start: entries are laid out host by host,
 * so equal starts stay in ascending host order. cur[live[k]] is each live host's next usable
 * entry, all starting at or after base. */
typedef struct {
  uint64_t key; /* start - base */
  uint32_t host, idx;
} rkey_t;

#define RADIX_BITS 11

static void union_radix(const sched_slots_t *h, const size_t *cur, const int *live, size_t nlive, int64_t base,
                        sched_team_slots_t *out) {
  size_t m = 0;
  for (size_t k = 0; k < nlive; k++) m += h[live[k]].n - cur[live[k]];
  rkey_t *a = xmalloc(m * sizeof *a), *b = xmalloc(m * sizeof *b);
  size_t na = 0;
  uint64_t range = 0;
  for (size_t k = 0; k < nlive; k++) {
    const sched_slots_t *l = &h[live[k]];
    for (size_t j = cur[live[k]]; j < l->n; j = seek_past(l, j)) {
      uint64_t key = (uint64_t)l->v[j].start - (uint64_t)base;
      a[na++] = (rkey_t){key, (uint32_t)live[k], (uint32_t)j};
      if (key > range) range = key;
    }
  }
  size_t count[1 << RADIX_BITS];
  for (unsigned shift = 0; shift < 64 && (range >> shift); shift += RADIX_BITS) {
    memset(count, 0, sizeof count);
    for (size_t q = 0; q < na; q++) count[(a[q].key >> shift) & ((1u << RADIX_BITS) - 1)]++;
    size_t sum = 0;
    for (size_t d = 0; d < (1u << RADIX_BITS); d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t q = 0; q < na; q++) b[count[(a[q].key >> shift) & ((1u << RADIX_BITS) - 1)]++] = a[q];
    rkey_t *x = a;
    a = b;
    b = x;
  }
  for (size_t q = 0; q < na;) {
    const sched_slot_t *s = &h[a[q].host].v[a[q].idx];
    sched_team_slot_t *t = slot_open(out, s->start);
    for (uint64_t key = a[q].key; q < na && a[q].key == key; q++)
      slot_add(out, t, (int)a[q].host, &h[a[q].host].v[a[q].idx]);
  }
  free(a);
  free(b);
}

/* The union: one round per distinct start, visiting the live hosts' cursors in index order,
 * taking those at the round's start and finding the next round's start on the way. */
static void union_run(const sched_slots_t *h, size_t n, sched_team_slots_t *out, int mode) {
  size_t longest = 0;
  for (size_t i = 0; i < n; i++)
    if (h[i].n > longest) longest = h[i].n;
  out_init(out, h, n, longest); /* the union has at least as many starts as its longest list */
  if (!n) return;
  size_t *cur = xmalloc(n * sizeof *cur);
  int *live = xmalloc(n * sizeof *live); /* hosts with usable entries left, ascending */
  size_t nlive = 0;
  int64_t t = INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    cur[i] = seek(&h[i], 0, INT64_MIN);
    if (cur[i] == h[i].n) continue;
    live[nlive++] = (int)i;
    if (h[i].v[cur[i]].start < t) t = h[i].v[cur[i]].start;
  }
  size_t visits = 0, found = 0;
  while (nlive) {
    if (mode == UNION_RADIX || (mode == UNION_ADAPTIVE && visits >= TEAM_SCAN_RATIO * (found + n))) {
      union_radix(h, cur, live, nlive, t, out);
      break;
    }
    sched_team_slot_t *ts = slot_open(out, t);
    int64_t next = INT64_MAX;
    size_t w = 0;
    visits += nlive;
    for (size_t k = 0; k < nlive; k++) {
      int i = live[k];
      const sched_slot_t *s = &h[i].v[cur[i]];
      if (s->start == t) {
        slot_add(out, ts, i, s);
        found++;
        cur[i] = seek_past(&h[i], cur[i]);
        if (cur[i] == h[i].n) continue;
        s = &h[i].v[cur[i]];
      }
      if (s->start < next) next = s->start;
      live[w++] = i;
    }
    nlive = w;
    t = next;
  }
  free(cur);
  free(live);
}

void sched_team_union(const sched_slots_t *per_host, size_t n, sched_team_slots_t *out) {
  union_run(per_host, n, out, UNION_ADAPTIVE);
}

/* Leapfrog join: visit the hosts in turn, each seeking the current candidate start; a host
 * past it makes its own start the candidate; n agreeing visits in a row make a slot. */
void sched_team_intersect(const sched_slots_t *h, size_t n, sched_team_slots_t *out) {
  size_t shortest = n ? SIZE_MAX : 0;
  for (size_t i = 0; i < n; i++)
    if (h[i].n < shortest) shortest = h[i].n;
  out_init(out, h, n, shortest);
  out->collective = 1;
  if (!n) return;
  size_t *cur = xcalloc(n, sizeof *cur);
  int64_t t = INT64_MIN;
  size_t agree = 0;
  for (size_t i = 0;; i = i + 1 == n ? 0 : i + 1) {
    cur[i] = seek(&h[i], cur[i], t);
    if (cur[i] == h[i].n) break;
    int64_t s = h[i].v[cur[i]].start;
    if (s == t) agree++;
    else {
      t = s;
      agree = 1;
    }
    if (agree < n) continue;
    const sched_slot_t *first = &h[0].v[cur[0]];
    int same = 1;
    for (size_t k = 1; k < n && same; k++) same = h[k].v[cur[k]].end == first->end;
    if (same) { /* one end for all, else nobody's slot: one booking occupies every host */
      sched_team_slot_t *ts = slot_open(out, t);
      ts->end = first->end;
      ts->seats_left = first->seats_left;
      for (size_t k = 0; k < n; k++) {
        int seats = h[k].v[cur[k]].seats_left;
        out->hosts[out->nhosts++] = (sched_team_host_t){(int)k, seats};
        if (seats < ts->seats_left) ts->seats_left = seats;
      }
      ts->nhosts = (uint32_t)n;
      ts->best_seats = ts->seats_left;
    }
    if (t == INT64_MAX) break;
    t++; /* a repeated start counts once */
    agree = 0;
  }
  free(cur);
}

void sched_team_slots_free(sched_team_slots_t *t) {
  free(t->v);
  free(t->hosts);
  memset(t, 0, sizeof *t);
}

/* Position of `host` in a slot's run, or -1. */
static long slot_host(const sched_team_slots_t *t, const sched_team_slot_t *s, int host) {
  size_t lo = s->off, hi = (size_t)s->off + s->nhosts;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->hosts[mid].host < host) lo = mid + 1;
    else hi = mid;
  }
  return lo < (size_t)s->off + s->nhosts && t->hosts[lo].host == host ? (long)lo : -1;
}

void sched_team_keep_host(sched_team_slots_t *t, int host) {
  size_t w = 0;
  for (size_t r = 0; r < t->n; r++) {
    sched_team_slot_t s = t->v[r];
    long at = slot_host(t, &s, host);
    if (at < 0) continue;
    if (!t->collective) { /* the run shrinks to one entry; the others stay as an unused gap */
      s.off = (uint32_t)at;
      s.nhosts = 1;
      s.seats_left = s.best_seats = t->hosts[at].seats_left;
    }
    t->v[w++] = s;
  }
  t->n = w;
}

void sched_team_keep_seats(sched_team_slots_t *t, int seats) {
  if (seats <= 1) return; /* every slot has a host with a seat */
  size_t w = 0;
  for (size_t r = 0; r < t->n; r++) {
    sched_team_slot_t s = t->v[r];
    if (t->collective) {
      if (s.seats_left >= seats) t->v[w++] = s;
      continue;
    }
    uint32_t kept = 0;
    s.seats_left = s.best_seats = 0;
    for (uint32_t k = 0; k < s.nhosts; k++) {
      sched_team_host_t e = t->hosts[s.off + k];
      if (e.seats_left < seats) continue;
      t->hosts[s.off + kept++] = e;
      s.seats_left += e.seats_left;
      if (e.seats_left > s.best_seats) s.best_seats = e.seats_left;
    }
    s.nhosts = kept;
    if (kept) t->v[w++] = s;
  }
  t->n = w;
}

const sched_team_slot_t *sched_team_find(const sched_team_slots_t *t, int64_t start) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->v[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < t->n && t->v[lo].start == start ? &t->v[lo] : NULL;
}

/* Keeps the cross products below INT64_MAX: count < 2^63 / 1000, weight <= 1000. */
static int64_t rr_weight(int w) { return w < 1 ? 1 : w > 1000 ? 1000 : w; }
static int64_t rr_count(int64_t c) { return c < 0 ? 0 : c > INT64_MAX / 1000 ? INT64_MAX / 1000 : c; }

/* Whether a goes before b; the rules in team.h, in order. */
static int rr_before(const sched_rr_candidate_t *a, const sched_rr_candidate_t *b) {
  int af = a->partly_filled != 0, bf = b->partly_filled != 0;
  if (af != bf) return af;
  if (a->priority != b->priority) return a->priority > b->priority;
  /* a.count / a.weight < b.count / b.weight, without division (weights are positive) */
  int64_t l = rr_count(a->recent_count) * rr_weight(b->weight), r = rr_count(b->recent_count) * rr_weight(a->weight);
  if (l != r) return l < r;
  if (a->last_assigned != b->last_assigned) {
    if (a->last_assigned == 0 || b->last_assigned == 0) return a->last_assigned == 0;
    return a->last_assigned < b->last_assigned;
  }
  return a->user_id < b->user_id;
}

int sched_rr_pick(const sched_rr_candidate_t *c, size_t n) {
  if (!n) return -1;
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (rr_before(&c[i], &c[best])) best = i;
  return (int)best;
}
