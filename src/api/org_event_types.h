/* org_event_types.h — an organisation's event types (issue 12); routes in team_routes.c. */
#ifndef SLOTD_API_ORG_EVENT_TYPES_H
#define SLOTD_API_ORG_EVENT_TYPES_H

#include "../http/server.h"

int org_event_types_list(http_req_t *req);
int org_event_types_create(http_req_t *req);
int org_event_types_get(http_req_t *req);
int org_event_types_update(http_req_t *req);
int org_event_types_delete(http_req_t *req);

#endif
