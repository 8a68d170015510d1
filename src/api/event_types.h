/* event_types.h — bookable meeting templates (owner-scoped CRUD; delete is soft). */
#ifndef SLOTD_API_EVENT_TYPES_H
#define SLOTD_API_EVENT_TYPES_H

#include <jansson.h>

#include "../http/server.h"
#include "validate.h"

int event_types_list(http_req_t *req);
int event_types_create(http_req_t *req);
int event_types_get(http_req_t *req);
int event_types_update(http_req_t *req);
int event_types_delete(http_req_t *req);

/* The native event-type fields of v's body into the patch p (only those given; create requires
 * name); failures are recorded in v. Shared with organisation event types. */
void event_type_fields(api_v_t *v, json_t *p, int create);

#endif
