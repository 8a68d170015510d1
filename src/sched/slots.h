/* slots.h — the slot engine: pure functions from a schedule, an event type and busy time to
 * bookable slots. No I/O, no allocation the caller does not free, no clock: `now` is an input.
 * The same function answers "which slots are free" (availability) and "is this start free"
 * (booking), so the rules exist exactly once.
 *
 * Time: instants are Unix seconds. A working interval [a, b) of a local date becomes the
 * instants tz_local_to_utc(date + a) .. tz_local_to_utc(date + b) (RFC 5545: first occurrence
 * of an ambiguous time, a nonexistent one shifted forward by the gap); slots step in real time
 * from the first instant by the slot interval and must end by the second. */
#ifndef SLOTD_SCHED_SLOTS_H
#define SLOTD_SCHED_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "tzif.h"

#define SCHED_MAX_SPANS 48 /* working intervals per weekday or override date */
#define SCHED_MAX_DURATION_MIN 720 /* an event's duration and slot interval, minutes (validated on write) */
#define SCHED_MAX_BUFFER_MIN 720   /* each side's buffer, minutes */
#define SCHED_LIMITS_REACH_DAYS 9  /* an ISO week around a day, plus a day either side for zone offsets */

typedef struct {
  int16_t start, end; /* minutes after local midnight, 0 <= start < end <= 1440 */
} sched_span_t;

typedef struct {
  int64_t day; /* local date as days since 1970-01-01 */
  int nspans;  /* 0: unavailable all day */
  sched_span_t spans[SCHED_MAX_SPANS];
} sched_override_t;

typedef struct {
  const tz_t *tz;
  int nweek[7]; /* 0 = Sunday */
  sched_span_t week[7][SCHED_MAX_SPANS];
  sched_override_t *overrides; /* sorted by day, one per day */
  int noverrides;
} sched_schedule_t;

typedef struct {
  int64_t id;
  int64_t duration, interval;             /* seconds, > 0 */
  int64_t buffer_before, buffer_after;    /* seconds */
  int64_t min_notice, max_future;         /* seconds */
  int seats;                              /* capacity per slot, >= 1 */
  int limit_day, limit_week;              /* bookings of this type per schedule-local day / ISO week; 0 = none */
} sched_event_t;

enum { BUSY_BOOKING = 1, BUSY_RESERVATION = 2 };

typedef struct {
  int64_t start, end;         /* as booked */
  int64_t buffer_before, buffer_after; /* of its own event type */
  int64_t event_type_id;
  int64_t ref;                /* booking or reservation id, for explanations */
  int seats;                  /* seats it takes */
  int kind;                   /* BUSY_* */
  int pending;                /* a booking still awaiting the host's confirmation */
} sched_busy_t;

enum {
  SLOT_FREE = 0,
  SLOT_OUTSIDE_HOURS,
  SLOT_NOTICE,
  SLOT_HORIZON,
  SLOT_BOOKED,      /* overlaps booking `ref` */
  SLOT_BUFFER,      /* overlaps only the buffers around booking `ref` */
  SLOT_RESERVED,    /* held by reservation `ref` */
  SLOT_LIMIT_DAY,
  SLOT_LIMIT_WEEK,
  SLOT_NO_SEATS,
};

typedef struct {
  int64_t start, end;
  int seats_left;
  int reason; /* SLOT_* */
  int64_t ref;
} sched_slot_t;

typedef struct {
  sched_slot_t *v;
  size_t n, cap;
} sched_slots_t;

/* Slots starting in [from, to). With explain = 0 only free slots are returned; with explain = 1
 * every candidate on the grid is returned with the reason it is (not) offered, including grid
 * times outside working hours. busy need not be sorted (it is sorted in place). */
void sched_compute(const sched_schedule_t *s, const sched_event_t *e, sched_busy_t *busy, size_t nbusy,
                   int64_t now, int64_t from, int64_t to, int explain, sched_slots_t *out);
void sched_slots_free(sched_slots_t *out);
/* Only the busy-time rules for one start (confirmed bookings and their buffers, holds, seats):
 * what a host's confirmation of a pending request re-checks. Other pending requests do not
 * count there: they compete, and the first one confirmed wins. Returns SLOT_FREE or the reason, with
 * *seats_left and *ref. busy need not be sorted. */
int sched_conflict(const sched_event_t *e, const tz_t *tz, sched_busy_t *busy, size_t nbusy, int64_t start,
                   int *seats_left, int64_t *ref);
const char *sched_reason_name(int reason);

/* Adds a span to a day's list keeping it sorted and merged (overlapping or touching). */
void sched_add_span(sched_span_t *spans, int *n, int16_t start, int16_t end);
/* Weekday (0 = Sunday) of a day number. */
int sched_weekday(int64_t day);
/* The engine's reach: busy time further than this (seconds) from a window of slot starts cannot
 * change the window's slots. Without limits: the longest slot plus both buffers, plus an hour
 * for a DST shift; with day/week limits: whole weeks around the window, to count bookings. SQL
 * fetches busy time this far either way (api.engine_inputs' p_reach parameters). */
int64_t sched_reach(int with_limits);
/* Floor division for days. */
int64_t sched_day_of(int64_t local_seconds);

#endif
