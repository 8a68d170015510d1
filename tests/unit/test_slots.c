/* Slot engine: grid, notice, horizon, buffers of both types, seats, limits, explain reasons,
 * and the RFC 5545 wall-clock rule on DST nights (a 01:00-04:00 window holds four real hours
 * on a fall-back night and two on a spring-forward night). */
#include <stdlib.h>

#include "check.h"
#include "core/timeutil.h"
#include "sched/slots.h"

static int64_t utc(const char *s) {
  int64_t t = 0;
  if (time_parse_rfc3339(s, &t) != 0) abort();
  return t;
}

static sched_schedule_t sched(const char *zone) {
  sched_schedule_t s;
  memset(&s, 0, sizeof s);
  s.tz = tz_get(zone);
  return s;
}

static sched_event_t event(int minutes) {
  sched_event_t e = {.id = 1, .duration = minutes * 60, .interval = minutes * 60, .max_future = 3650 * 86400LL,
                     .seats = 1};
  return e;
}

static size_t count_free(const sched_slots_t *o) {
  size_t n = 0;
  for (size_t i = 0; i < o->n; i++) n += o->v[i].reason == SLOT_FREE;
  return n;
}

int main(void) {
  sched_slots_t o;
  /* Mon-Fri 09:00-17:00 in New York, 30-minute slots, one Monday. */
  sched_schedule_t s = sched("America/New_York");
  for (int d = 1; d <= 5; d++) sched_add_span(s.week[d], &s.nweek[d], 9 * 60, 17 * 60);
  sched_event_t e = event(30);
  int64_t now = utc("2026-01-01T00:00:00Z");
  int64_t mon = utc("2026-03-02T05:00:00Z"), tue = utc("2026-03-03T05:00:00Z"); /* local midnights */
  sched_compute(&s, &e, NULL, 0, now, mon, tue, 0, &o);
  CHECK_EQ(o.n, 16);
  CHECK(o.v[0].start == utc("2026-03-02T14:00:00Z") && o.v[15].start == utc("2026-03-02T21:30:00Z"));
  sched_slots_free(&o);

  /* Overlapping and touching spans merge. */
  sched_span_t sp[SCHED_MAX_SPANS];
  int n = 0;
  sched_add_span(sp, &n, 600, 700);
  sched_add_span(sp, &n, 540, 600);
  sched_add_span(sp, &n, 650, 800);
  sched_add_span(sp, &n, 900, 1440);
  CHECK(n == 2 && sp[0].start == 540 && sp[0].end == 800 && sp[1].start == 900 && sp[1].end == 1440);

  /* A booking 10:00-10:30 whose type has a 15-minute buffer after; this type 10 minutes before. */
  sched_busy_t b[1] = {{.start = utc("2026-03-02T15:00:00Z"), .end = utc("2026-03-02T15:30:00Z"),
                        .buffer_after = 15 * 60, .event_type_id = 2, .ref = 7, .seats = 1, .kind = BUSY_BOOKING}};
  e.buffer_before = 10 * 60;
  sched_compute(&s, &e, b, 1, now, mon, tue, 1, &o);
  int booked = 0, buffer = 0, outside = 0;
  for (size_t i = 0; i < o.n; i++) {
    if (o.v[i].reason == SLOT_BOOKED && o.v[i].ref == 7 && o.v[i].start == b[0].start) booked++;
    if (o.v[i].reason == SLOT_BUFFER && o.v[i].start == utc("2026-03-02T15:30:00Z")) buffer++;
    outside += o.v[i].reason == SLOT_OUTSIDE_HOURS;
  }
  CHECK(booked == 1 && buffer == 1 && count_free(&o) == 14);
  CHECK_EQ(outside, 48 - 16); /* the rest of the day's 30-minute grid */
  sched_slots_free(&o);
  e.buffer_before = 0;

  /* Notice and horizon. */
  e.min_notice = 4 * 3600;
  e.max_future = 6 * 3600;
  sched_compute(&s, &e, NULL, 0, utc("2026-03-02T12:00:00Z"), mon, tue, 1, &o);
  int notice = 0, horizon = 0;
  for (size_t i = 0; i < o.n; i++) notice += o.v[i].reason == SLOT_NOTICE, horizon += o.v[i].reason == SLOT_HORIZON;
  CHECK(notice == 4 && horizon == 8 && count_free(&o) == 4); /* free 16:00Z..17:30Z */
  sched_slots_free(&o);
  e.min_notice = 0;
  e.max_future = 3650 * 86400LL;

  /* Seats: a 3-seat type with 2 seats taken at 14:00Z; another type's booking blocks 15:00Z. */
  e.seats = 3;
  sched_busy_t sb[3] = {
      {.start = utc("2026-03-02T14:00:00Z"), .end = utc("2026-03-02T14:30:00Z"), .event_type_id = 1, .ref = 1, .seats = 2, .kind = BUSY_BOOKING},
      {.start = utc("2026-03-02T14:30:00Z"), .end = utc("2026-03-02T15:00:00Z"), .event_type_id = 1, .ref = 2, .seats = 3, .kind = BUSY_BOOKING},
      {.start = utc("2026-03-02T15:00:00Z"), .end = utc("2026-03-02T15:30:00Z"), .event_type_id = 9, .ref = 3, .seats = 1, .kind = BUSY_RESERVATION},
  };
  sched_compute(&s, &e, sb, 3, now, mon, tue, 1, &o);
  CHECK(o.v[18].start == utc("2026-03-02T14:00:00Z") && o.v[18].reason == SLOT_FREE && o.v[18].seats_left == 1);
  CHECK(o.v[19].reason == SLOT_NO_SEATS && o.v[20].reason == SLOT_RESERVED && o.v[20].ref == 3);
  sched_slots_free(&o);
  e.seats = 1;

  /* Limits: two bookings of this type on Monday, limit 2 per day -> Monday closed, Tuesday open;
   * limit 3 per week -> after one more on Tuesday the week is closed. */
  e.limit_day = 2;
  sched_busy_t lb[3] = {
      {.start = utc("2026-03-02T14:00:00Z"), .end = utc("2026-03-02T14:30:00Z"), .event_type_id = 1, .ref = 1, .seats = 1, .kind = BUSY_BOOKING},
      {.start = utc("2026-03-02T16:00:00Z"), .end = utc("2026-03-02T16:30:00Z"), .event_type_id = 1, .ref = 2, .seats = 1, .kind = BUSY_BOOKING},
      {.start = utc("2026-03-03T16:00:00Z"), .end = utc("2026-03-03T16:30:00Z"), .event_type_id = 1, .ref = 3, .seats = 1, .kind = BUSY_BOOKING},
  };
  sched_compute(&s, &e, lb, 2, now, mon, tue + 86400, 0, &o);
  CHECK(o.n == 16 && o.v[0].start >= tue);
  sched_slots_free(&o);
  e.limit_day = 0;
  e.limit_week = 3;
  sched_compute(&s, &e, lb, 3, now, mon, tue + 2 * 86400, 1, &o);
  int week = 0;
  for (size_t i = 0; i < o.n; i++) week += o.v[i].reason == SLOT_LIMIT_WEEK;
  CHECK(count_free(&o) == 0 && week > 0);
  sched_slots_free(&o);
  e.limit_week = 0;

  /* DST: 01:00-04:00 every day, hourly slots. Fall back (2026-11-01): 4 real hours; spring forward
   * (2026-03-08): 2 real hours. */
  sched_schedule_t d = sched("America/New_York");
  for (int k = 0; k < 7; k++) sched_add_span(d.week[k], &d.nweek[k], 60, 240);
  sched_event_t h = event(60);
  sched_compute(&d, &h, NULL, 0, now, utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z"), 0, &o);
  CHECK_EQ(o.n, 4);
  CHECK(o.v[0].start == utc("2026-11-01T05:00:00Z") && o.v[3].start == utc("2026-11-01T08:00:00Z"));
  sched_slots_free(&o);
  sched_compute(&d, &h, NULL, 0, now, utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z"), 0, &o);
  CHECK_EQ(o.n, 2);
  CHECK(o.v[0].start == utc("2026-03-08T06:00:00Z") && o.v[1].start == utc("2026-03-08T07:00:00Z"));
  sched_slots_free(&o);
  /* A rule starting inside the skipped hour (02:30) starts at 03:30 EDT = 07:30Z. */
  sched_schedule_t g = sched("America/New_York");
  sched_add_span(g.week[0], &g.nweek[0], 150, 300);
  sched_compute(&g, &h, NULL, 0, now, utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z"), 0, &o);
  CHECK(o.n == 1 && o.v[0].start == utc("2026-03-08T07:30:00Z"));
  sched_slots_free(&o);

  /* Overrides replace the weekday's rules; an unavailable date has none. */
  sched_override_t ov[2];
  memset(ov, 0, sizeof ov);
  ov[0].day = time_days_from_civil(2026, 3, 2);
  sched_add_span(ov[0].spans, &ov[0].nspans, 12 * 60, 13 * 60);
  ov[1].day = time_days_from_civil(2026, 3, 3);
  s.overrides = ov;
  s.noverrides = 2;
  sched_compute(&s, &e, NULL, 0, now, mon, tue + 86400, 0, &o);
  CHECK(o.n == 2 && o.v[0].start == utc("2026-03-02T17:00:00Z"));
  sched_slots_free(&o);
  tz_cache_free();
  return check_done();
}
