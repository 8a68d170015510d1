/* availability.h — public free slots of an event type, computed by the C slot engine from one
 * prepared query (api.availability_data) and cached per instance.
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
#include "app.h"

int availability_get(http_req_t *req);

int availability_init(app_t *app) WARN_UNUSED;
void availability_free(app_t *app);

/* Engine inputs from api.availability_data's JSON (shared with booking). Returns 0 or -1.
 * busy is malloc'd (free it) and s->overrides too (sched_schedule_free). host_id/version out. */
int availability_inputs(json_t *data, sched_schedule_t *s, sched_event_t *e, sched_busy_t **busy, size_t *nbusy,
                        int64_t *host_id, int64_t *version);

#endif
