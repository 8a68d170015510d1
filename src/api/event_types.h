/* event_types.h — bookable meeting templates (owner-scoped CRUD; delete is soft). */
#ifndef SLOTD_API_EVENT_TYPES_H
#define SLOTD_API_EVENT_TYPES_H

#include "../http/server.h"

int event_types_list(http_req_t *req);
int event_types_create(http_req_t *req);
int event_types_get(http_req_t *req);
int event_types_update(http_req_t *req);
int event_types_delete(http_req_t *req);

#endif
