/* calendar.h — a booking's invitation as a file and as "Add to Calendar" links (issue 14):
 * GET /api/bookings/:ref/ics and GET /api/bookings/:ref/calendar-links, for the invitee with
 * ?token= (their cancel or reschedule token; :ref the booking's uid) or for one of its hosts
 * (a session or key; :ref its id or uid). The file is the one the mails attach (the same UID
 * and SEQUENCE), with METHOD:PUBLISH. */
#ifndef SLOTD_API_CALENDAR_H
#define SLOTD_API_CALENDAR_H

#include "../http/server.h"

int calendar_ics(http_req_t *req);
int calendar_links_get(http_req_t *req);

#endif
