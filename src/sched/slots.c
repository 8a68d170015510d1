#include "slots.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

int64_t sched_reach(int with_limits) {
  if (with_limits) return (int64_t)SCHED_LIMITS_REACH_DAYS * 86400;
  return (int64_t)(SCHED_MAX_DURATION_MIN + 2 * SCHED_MAX_BUFFER_MIN) * 60 + 3600;
}

int64_t sched_day_of(int64_t local) { return local >= 0 ? local / 86400 : -((-local + 86399) / 86400); }

int sched_weekday(int64_t day) { return (int)(((day + 4) % 7 + 7) % 7); } /* 1970-01-01: Thursday */

void sched_add_span(sched_span_t *spans, int *n, int16_t start, int16_t end) {
  if (start >= end) return;
  /* Insert, then merge neighbours that overlap or touch. */
  int i = *n;
  if (i == SCHED_MAX_SPANS) return; /* callers validate counts; never overflow */
  while (i > 0 && spans[i - 1].start > start) {
    spans[i] = spans[i - 1];
    i--;
  }
  spans[i].start = start;
  spans[i].end = end;
  (*n)++;
  int w = 0;
  for (int r = 1; r < *n; r++) {
    if (spans[r].start <= spans[w].end) {
      if (spans[r].end > spans[w].end) spans[w].end = spans[r].end;
    } else {
      spans[++w] = spans[r];
    }
  }
  *n = w + 1;
}

const char *sched_reason_name(int r) {
  switch (r) {
    case SLOT_FREE: return "free";
    case SLOT_OUTSIDE_HOURS: return "outside_hours";
    case SLOT_NOTICE: return "notice";
    case SLOT_HORIZON: return "horizon";
    case SLOT_BOOKED: return "booking";
    case SLOT_BUFFER: return "buffer";
    case SLOT_RESERVED: return "reservation";
    case SLOT_LIMIT_DAY: return "limit_day";
    case SLOT_LIMIT_WEEK: return "limit_week";
    case SLOT_NO_SEATS: return "no_seats";
    default: return "unknown";
  }
}

static void push(sched_slots_t *out, int64_t start, int64_t end, int seats, int reason, int64_t ref) {
  if (out->n == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 64;
    out->v = xrealloc(out->v, out->cap * sizeof *out->v);
  }
  out->v[out->n++] = (sched_slot_t){start, end, seats, reason, ref};
}

void sched_slots_free(sched_slots_t *out) {
  free(out->v);
  memset(out, 0, sizeof *out);
}

static int cmp_busy(const void *a, const void *b) {
  const sched_busy_t *x = a, *y = b;
  int64_t xs = x->start - x->buffer_before, ys = y->start - y->buffer_before;
  return xs < ys ? -1 : xs > ys;
}

static const sched_override_t *find_override(const sched_schedule_t *s, int64_t day) {
  int lo = 0, hi = s->noverrides;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (s->overrides[mid].day < day) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->noverrides && s->overrides[lo].day == day ? &s->overrides[lo] : NULL;
}

/* Per-day and per-week counts of this event type's bookings, in the schedule's zone. */
typedef struct {
  int64_t key;
  int count;
} count_t;

static int count_get(const count_t *c, int n, int64_t key) {
  for (int i = 0; i < n; i++)
    if (c[i].key == key) return c[i].count;
  return 0;
}

static void count_add(count_t **c, int *n, int *cap, int64_t key) {
  for (int i = 0; i < *n; i++)
    if ((*c)[i].key == key) {
      (*c)[i].count++;
      return;
    }
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    *c = xrealloc(*c, (size_t)*cap * sizeof **c);
  }
  (*c)[(*n)++] = (count_t){key, 1};
}

static int64_t iso_week(int64_t day) { return (day + 3) >= 0 ? (day + 3) / 7 : -((-(day + 3) + 6) / 7); } /* Monday-based */

typedef struct {
  const sched_event_t *e;
  sched_busy_t *busy;
  size_t nbusy;
  int64_t maxlen; /* longest widened busy interval */
  size_t lo;      /* first busy that may still overlap a candidate (candidates ascend) */
  count_t *days, *weeks;
  int ndays, nweeks;
  const tz_t *tz;
  int64_t now;
  int busy_only; /* sched_conflict: skip notice, horizon and limits */
} ctx_t;

/* Decides one candidate [t, t + duration). */
static void judge(ctx_t *c, int64_t t, int *reason, int64_t *ref, int *seats_left) {
  const sched_event_t *e = c->e;
  int64_t end = t + e->duration;
  *ref = 0;
  *seats_left = e->seats;
  if (c->busy_only) goto busy;
  if (t < c->now + e->min_notice) {
    *reason = SLOT_NOTICE;
    return;
  }
  if (t >= c->now + e->max_future) {
    *reason = SLOT_HORIZON;
    return;
  }
busy:;
  int64_t ws = t - e->buffer_before, we = end + e->buffer_after; /* this slot widened by its buffers */
  while (c->lo < c->nbusy && c->busy[c->lo].start - c->busy[c->lo].buffer_before + c->maxlen <= ws) c->lo++;
  int used = 0, buffer_hit = 0;
  int64_t buffer_ref = 0;
  for (size_t i = c->lo; i < c->nbusy; i++) {
    const sched_busy_t *b = &c->busy[i];
    int64_t bs = b->start - b->buffer_before, be = b->end + b->buffer_after;
    if (bs >= we) break;
    if (be <= ws) continue;
    if (c->busy_only && b->pending) continue; /* a competing request, not a commitment */
    if (e->seats > 1 && b->event_type_id == e->id && b->start == t) { /* a seat of this very slot */
      used += b->seats;
      continue;
    }
    if (b->start < end && b->end > t) { /* the times themselves overlap */
      *reason = b->kind == BUSY_RESERVATION ? SLOT_RESERVED : SLOT_BOOKED;
      *ref = b->ref;
      return;
    }
    if (!buffer_hit) {
      buffer_hit = 1;
      buffer_ref = b->ref;
    }
  }
  if (buffer_hit) {
    *reason = SLOT_BUFFER;
    *ref = buffer_ref;
    return;
  }
  if (used >= e->seats) {
    *reason = SLOT_NO_SEATS;
    *seats_left = 0;
    return;
  }
  *seats_left = e->seats - used;
  if (!c->busy_only && (e->limit_day || e->limit_week)) {
    int64_t day = sched_day_of(t + tz_offset(c->tz, t));
    if (e->limit_day && count_get(c->days, c->ndays, day) >= e->limit_day) {
      *reason = SLOT_LIMIT_DAY;
      return;
    }
    if (e->limit_week && count_get(c->weeks, c->nweeks, iso_week(day)) >= e->limit_week) {
      *reason = SLOT_LIMIT_WEEK;
      return;
    }
  }
  *reason = SLOT_FREE;
}

/* Readies busy time for judge(): sorted by widened start, and its longest widened interval. */
static void ctx_busy(ctx_t *c, sched_busy_t *busy, size_t nbusy) {
  if (nbusy) qsort(busy, nbusy, sizeof *busy, cmp_busy);
  c->busy = busy;
  c->nbusy = nbusy;
  for (size_t i = 0; i < nbusy; i++) {
    int64_t len = (busy[i].end + busy[i].buffer_after) - (busy[i].start - busy[i].buffer_before);
    if (len > c->maxlen) c->maxlen = len;
  }
}

int sched_conflict(const sched_event_t *e, const tz_t *tz, sched_busy_t *busy, size_t nbusy, int64_t start,
                   int *seats_left, int64_t *ref) {
  ctx_t c = {.e = e, .tz = tz, .busy_only = 1};
  ctx_busy(&c, busy, nbusy);
  int reason;
  judge(&c, start, &reason, ref, seats_left);
  return reason;
}

typedef struct {
  int64_t start;
  int outside; /* an explain-only grid time outside working hours */
} cand_t;

static void add_cand(cand_t **v, size_t *n, size_t *cap, int64_t start, int outside) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *v = xrealloc(*v, *cap * sizeof **v);
  }
  (*v)[(*n)++] = (cand_t){start, outside};
}

static int cmp_cand(const void *a, const void *b) {
  const cand_t *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->outside - y->outside;
}

void sched_compute(const sched_schedule_t *s, const sched_event_t *e, sched_busy_t *busy, size_t nbusy,
                   int64_t now, int64_t from, int64_t to, int explain, sched_slots_t *out) {
  memset(out, 0, sizeof *out);
  if (from >= to || e->duration <= 0 || e->interval <= 0) return;
  ctx_t c = {.e = e, .tz = s->tz, .now = now};
  ctx_busy(&c, busy, nbusy);
  int dcap = 0, wcap = 0;
  if (e->limit_day || e->limit_week)
    for (size_t i = 0; i < nbusy; i++) {
      if (busy[i].kind != BUSY_BOOKING || busy[i].event_type_id != e->id) continue;
      int64_t day = sched_day_of(busy[i].start + tz_offset(s->tz, busy[i].start));
      count_add(&c.days, &c.ndays, &dcap, day);
      count_add(&c.weeks, &c.nweeks, &wcap, iso_week(day));
    }

  /* Candidates first: each working interval's own grid in real time. Two intervals can
   * overlap in real time (a rule ending inside a spring-forward gap is read past it), so the
   * candidates are sorted and de-duplicated before judging, which also keeps judge()'s
   * forward-only scan of busy time valid. */
  cand_t *cand = NULL;
  size_t ncand = 0, cap = 0;
  int64_t first = sched_day_of(from + tz_offset(s->tz, from)) - 1; /* offsets are within +-26 h */
  int64_t last = sched_day_of(to + tz_offset(s->tz, to)) + 1;
  for (int64_t day = first; day <= last; day++) {
    const sched_override_t *ov = find_override(s, day);
    const sched_span_t *spans = ov ? ov->spans : s->week[sched_weekday(day)];
    int nspans = ov ? ov->nspans : s->nweek[sched_weekday(day)];
    int64_t midnight = day * 86400;
    int64_t grid_t = tz_local_to_utc(s->tz, midnight); /* explain: the day's own grid from 00:00 */
    for (int k = 0; k <= nspans; k++) {
      int64_t span_start = k < nspans ? tz_local_to_utc(s->tz, midnight + spans[k].start * 60) : INT64_MAX;
      int64_t span_end = k < nspans ? tz_local_to_utc(s->tz, midnight + spans[k].end * 60) : 0;
      if (explain) { /* grid times before this span (and after the previous one) are outside hours */
        int64_t stop = k < nspans ? span_start : tz_local_to_utc(s->tz, midnight + 86400);
        for (; grid_t < stop; grid_t += e->interval)
          if (grid_t >= from && grid_t < to) add_cand(&cand, &ncand, &cap, grid_t, 1);
      }
      if (k == nspans) break;
      for (int64_t t = span_start; t + e->duration <= span_end && t < to; t += e->interval)
        if (t >= from) add_cand(&cand, &ncand, &cap, t, 0);
      if (explain)
        while (grid_t < span_end) grid_t += e->interval; /* the grid resumes after the span */
    }
  }
  /* Spans come out day by day in ascending order almost always: sort only when they do not
   * (a span reaching into the next day's, a DST night). Equal elements are identical, so
   * skipping the sort of an ordered array changes nothing. */
  size_t unsorted = 1;
  while (unsorted < ncand && cmp_cand(&cand[unsorted - 1], &cand[unsorted]) <= 0) unsorted++;
  if (unsorted < ncand) qsort(cand, ncand, sizeof *cand, cmp_cand);
  for (size_t i = 0; i < ncand; i++) {
    if (i && cand[i].start == cand[i - 1].start) continue; /* a working-hours twin sorts first */
    int64_t t = cand[i].start;
    if (cand[i].outside) {
      push(out, t, t + e->duration, 0, SLOT_OUTSIDE_HOURS, 0);
      continue;
    }
    int reason, seats;
    int64_t ref;
    judge(&c, t, &reason, &ref, &seats);
    if (reason == SLOT_FREE || explain) push(out, t, t + e->duration, seats, reason, ref);
  }
  free(cand);
  free(c.days);
  free(c.weeks);
}
