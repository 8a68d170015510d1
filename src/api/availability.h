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

int availability_get(http_req_t *req);       /* GET /api/availability/:slug/:event_slug */
int availability_get_by_id(http_req_t *req); /* GET /api/event-types/:id/slots */

/* Reads SLOTD_CACHE_MAX_BYTES and SLOTD_ENGINE_THREADS from app->cfg. */
int availability_init(app_t *app) WARN_UNUSED;
/* After the loop has run out of work: no engine job is left by then (each holds a libuv
 * request, which keeps the loop running). */
void availability_free(app_t *app);

#endif
