/* inputs.h — the slot engine's inputs, decoded once and by column name from a row of
 * api.engine_inputs (or api.booking_inputs, which adds the booking's own columns). Schedules
 * arrive compiled on write (week_spans, override_spans), so nothing is validated again here:
 * only bounds are checked, for memory safety. */
#ifndef SLOTD_API_INPUTS_H
#define SLOTD_API_INPUTS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "../sched/slots.h"

typedef struct {
  int64_t host_id, version;
  sched_schedule_t schedule; /* schedule.overrides malloc'd */
  sched_event_t event;
  sched_busy_t *busy;        /* malloc'd */
  size_t nbusy;
  int64_t next_expiry;       /* the earliest live hold's expiry (Unix s), or 0 */
  int requires_confirmation;
  /* Text columns point into the PGresult: valid while it is (the query's callback). */
  const char *event_name;
  const char *questions;     /* JSON array text */
  /* api.booking_inputs only (NULL / 0 otherwise) */
  const char *booking_status, *booking_timezone, *refusal;
  int64_t booking_start;
  int booking_seats;
} inputs_t;

/* Row 0 of res. 0, or -1 when a column is missing or a value out of bounds (in is then freed). */
int inputs_decode(const PGresult *res, inputs_t *in);
void inputs_free(inputs_t *in);

/* The parameters of api.engine_inputs / api.booking_inputs that carry the engine's reach
 * (sched_reach()), as text: [0] without day/week limits, [1] with them. */
void inputs_reach_params(char reach[2][24]);

#endif
