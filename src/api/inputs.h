/* inputs.h — the slot engine's inputs, decoded once and by column name. Two ways in:
 *   - inputs_fetch (availability, booking, holds): the event type's configuration from this
 *     instance's cache (api.engine_config, kept while the host's config_version is unchanged)
 *     and the window's busy time from one plain statement (engine_busy), which also returns the
 *     host's versions from the same snapshot; a miss on a new window reads only busy time;
 *   - inputs_decode of a row of api.engine_inputs / api.booking_inputs (a booking's own changes).
 * Schedules arrive compiled on write (week_spans, override_spans), so nothing is validated again
 * here: only bounds are checked, for memory safety. */
#ifndef SLOTD_API_INPUTS_H
#define SLOTD_API_INPUTS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "../db/pool.h"
#include "../http/server.h"
#include "../sched/slots.h"
#include "../sched/team.h"

enum { TEAM_NONE = 0, TEAM_ROUND_ROBIN = 1, TEAM_COLLECTIVE = 2 };

#define INPUTS_MAX_DURATIONS 12 /* event_types.durations' own bound */
enum { INPUTS_WEEKLY = 1, INPUTS_MONTHLY = 2 };

/* One host of an organisation event type (issue 12): its own schedule and busy time. */
typedef struct {
  int64_t host_id, version;
  sched_schedule_t schedule; /* schedule.overrides malloc'd */
  sched_busy_t *busy;        /* malloc'd; buffers filled */
  size_t nbusy;
  int priority, weight;
  int64_t recent;            /* its active bookings of this type created in the trailing 30 days */
  int64_t last_assigned;     /* Unix seconds of its latest one, 0 = none */
  const char *name;          /* request arena */
} inputs_host_t;

typedef struct {
  int64_t host_id, version;  /* personal types; 0 for organisation types (see hosts) */
  sched_schedule_t schedule; /* schedule.overrides malloc'd */
  sched_event_t event;
  sched_busy_t *busy;        /* malloc'd */
  size_t nbusy;
  int64_t next_expiry;       /* the earliest live hold's expiry (Unix s), or 0 */
  int requires_confirmation;
  int durations[INPUTS_MAX_DURATIONS]; /* the lengths an invitee may pick (minutes, ascending; inputs_fetch
                                          only); ndurations 0: only event.duration */
  int ndurations;
  int rec_freq, rec_interval, rec_count; /* a recurring type (inputs_fetch only): INPUTS_WEEKLY or
                                            INPUTS_MONTHLY every rec_interval, rec_count occurrences; 0 */
  /* Text columns point into the PGresult: valid while it is (the query's callback). */
  const char *event_name;
  const char *questions;     /* JSON array text */
  /* api.booking_inputs only (NULL / 0 otherwise) */
  const char *booking_status, *booking_timezone, *refusal;
  int64_t booking_start, booking_end;
  int booking_seats;
  /* organisation event types (inputs_fetch only): TEAM_*, and the hosts in ascending id order */
  int team;
  int64_t org_id;
  size_t nhosts;
  inputs_host_t *hosts; /* malloc'd */
} inputs_t;

/* An organisation type's team slots of [from, to) judged at `now` (union for round robin,
 * intersection for collective: team.h), narrowed to a host index (or -1: any) and to a party
 * size: what availability offers and what a refused booking suggests instead. */
void inputs_team_slots(const inputs_t *in, int64_t now, int64_t from, int64_t to, int host, int seats,
                       sched_team_slots_t *out);

/* Row 0 of res. 0, or -1 when a column is missing or a value out of bounds (in is then freed). */
int inputs_decode(const PGresult *res, inputs_t *in);
void inputs_free(inputs_t *in);

/* What to read: the event type by id (public: listed types only, unless include_secret) or by
 * slug pair, and busy time for slots starting in [from, to) (widened by the engine's reach),
 * without one reservation or one booking. */
typedef struct {
  int64_t event_type_id;
  const char *slug, *event_slug;
  int include_secret;
  int64_t from, to;
  const char *exclude_reservation; /* uuid text, or NULL */
  int64_t exclude_booking;         /* 0: none */
  int fresh;                       /* 1: do not trust the cached configuration (after a stale write) */
  int assign;                      /* org types: also read what round robin weighs (a booking) */
  /* Reads that may be slightly stale (public availability): whether these hosts' busy time may
   * come from the streaming replica (NULL: never; the booking core always reads the primary). */
  int (*replica_ok)(http_req_t *req, const int64_t *hosts, size_t n);
} inputs_query_t;

/* in is filled (the caller frees it with inputs_free; its text fields live as long as the
 * request), or NULL with fail: a failed query for the caller to answer (api_db_failed or its
 * presenter), or NULL for data that cannot be decoded (answer 500). */
typedef void (*inputs_cb)(http_req_t *req, inputs_t *in, const db_result_t *fail);
/* q is copied. Runs through api_query (the orphan policy applies). */
void inputs_fetch(http_req_t *req, const inputs_query_t *q, inputs_cb cb);
void inputs_register(void);
void inputs_cache_free(void);
/* Metrics: configuration cache hits and misses. */
void inputs_collect(buf_t *out, void *data);

/* Picks one of the event type's lengths for a request: minutes 0 keeps the default; a length the
 * type offers sets in->event.duration; any other answers -1 (the caller refuses it, 400). */
int inputs_pick_duration(inputs_t *in, int minutes);

/* The parameters of api.engine_inputs / api.booking_inputs that carry the engine's reach
 * (sched_reach()), as text: [0] without day/week limits, [1] with them. */
void inputs_reach_params(char reach[2][24]);

#endif
