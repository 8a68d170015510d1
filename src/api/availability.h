/* availability.h — public free slots of an event type, computed by the C slot engine from one
 * prepared query (api.engine_inputs) and cached per instance.
 *
 * Cache: the finished response per (slug, event slug, dates, zone, format), holding its ETag.
 * An entry dies at the next minute boundary (so minimum notice stays exact), when the earliest
 * live reservation in it expires, or when NOTIFY slotd_host names its host (any change to the
 * host's bookings, holds, schedules or event types, from any instance); all entries die when
 * the LISTEN connection reconnects. */
#ifndef SLOTD_API_AVAILABILITY_H
#define SLOTD_API_AVAILABILITY_H

#include <jansson.h>

#include "../http/server.h"
#include "../sched/slots.h"
#include "../app.h"

int availability_get(http_req_t *req);       /* GET /api/availability/:slug/:event_slug */
int availability_get_by_id(http_req_t *req); /* GET /api/event-types/:id/slots */

int availability_init(app_t *app) WARN_UNUSED;
void availability_free(app_t *app);

#endif
