/* time_off.h — a user's time off (issue 12): instants [start, end) that are busy time for every
 * event type the user hosts. Kept for oneself under /api/time-off, and by owners and admins for
 * an org's members under /api/orgs/:id/members/:user_id/time-off. Every write bumps the user's
 * version (trigger api.host_changed), so cached availability and pending bookings see it. */
#ifndef SLOTD_API_TIME_OFF_H
#define SLOTD_API_TIME_OFF_H

#include "../http/server.h"

int time_off_create(http_req_t *req);
int time_off_list(http_req_t *req);
int time_off_delete(http_req_t *req);

int time_off_org_create(http_req_t *req);
int time_off_org_list(http_req_t *req);
int time_off_org_delete(http_req_t *req);

#endif
