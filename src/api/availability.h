/* availability.h — public free slots of an event type, computed by the C slot engine from one
 * prepared query (api.engine_inputs) and cached per instance.
 *
 * Cache: the finished response per (slug, event slug, dates, zone, format), holding its ETag,
 * within a byte budget (SLOTD_CACHE_MAX_BYTES; 0 turns the cache off). Every entry counts its
 * key, body and bookkeeping; a body larger than 1/64 of the budget is not kept (one answer can
 * never push out a large part of the others); over the budget the least recently used entries
 * go (an intrusive recency list in core/map.h: O(1) per request). An entry dies at the next
 * minute boundary (so minimum notice stays exact), when the earliest live reservation in it
 * expires, or when NOTIFY slotd_host names its host (any change to the host's bookings, holds,
 * schedules or event types, from any instance); all entries die when the LISTEN connection
 * reconnects. Dead entries are freed when met: the recency list's old end is swept on every
 * lookup, insert and /metrics scrape, and every entry not used in the current minute is dead.
 *
 * Engine: a request whose window is large (its candidate slots estimated from the schedule
 * before computing) runs the engine and the formatting on libuv's threadpool, at most
 * SLOTD_ENGINE_THREADS at once (default: CPUs - 1, at least 1), the rest waiting in order; the
 * loop thread only decodes the query's row, then answers from the work's callback. Small ones
 * run inline, where a handoff would cost more than the work. Zones are resolved (tz_get) on the
 * loop thread before the work is queued; the work reads only what it was handed. */
#ifndef SLOTD_API_AVAILABILITY_H
#define SLOTD_API_AVAILABILITY_H

#include <jansson.h>

#include "../http/server.h"
#include "../sched/slots.h"
#include "../app.h"
#include "inputs.h"

int availability_get(http_req_t *req);       /* GET /api/availability/:slug/:event_slug */
int availability_get_by_id(http_req_t *req); /* GET /api/event-types/:id/slots */

/* The free slots of an event type for slotd's own callers (the assistant, MCP): the same engine
 * and filters as the endpoints, read fresh (no response cache), computed on the loop thread, so
 * keep windows to a few weeks (AVAIL_MAX_DAYS). Listed event types only. */
#define AVAIL_MAX_DAYS 62
typedef struct {
  int64_t start, end; /* Unix seconds */
  int seats_left;
} avail_slot_t;
typedef struct {
  int64_t event_type_id; /* or 0 and the slug pair */
  const char *slug, *event_slug;
  int64_t from, to;    /* window of slot starts, Unix seconds (at most AVAIL_MAX_DAYS long) */
  int seats;           /* party size (<= 1: any) */
  int64_t host_filter; /* only slots this host is free for (0: any) */
  int64_t exclude_booking; /* a booking whose own time stays offered (rescheduling it), 0: none */
  int include_secret;      /* 1: hidden (secret) event types too: for their owner's own reads */
  int duration;            /* minutes: one of the type's lengths (0: its default); another fails 400 */
} avail_query_t;
/* On success in is the event type's inputs (its name, duration, hosts...) and v its n free
 * slots, ascending; both are freed after cb returns. On failure in is NULL and fail the
 * database's answer (404 for an unknown type, 503...), or NULL for undecodable data. The
 * orphan policy of api_query applies (cb is not called for a client that has gone). */
typedef void (*avail_slots_cb)(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                               const db_result_t *fail);
void availability_slots(http_req_t *req, const avail_query_t *q, avail_slots_cb cb, void *data);

/* Reads SLOTD_CACHE_MAX_BYTES and SLOTD_ENGINE_THREADS from app->cfg. */
int availability_init(app_t *app) WARN_UNUSED;
/* After the loop has run out of work: no engine job is left by then (each holds a libuv
 * request, which keeps the loop running). */
void availability_free(app_t *app);

#endif
