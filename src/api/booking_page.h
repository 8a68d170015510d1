/* booking_page.h — the host's booking page settings, and its public view by slug. */
#ifndef SLOTD_API_BOOKING_PAGE_H
#define SLOTD_API_BOOKING_PAGE_H

#include "../http/server.h"

int booking_page_get(http_req_t *req);
int booking_page_update(http_req_t *req);
int booking_page_public(http_req_t *req);
/* GET /api/public/:slug/:event_slug: {page, event_type} for an event type's page (also a secret
 * one: its link is the key), with what a booking form needs (questions, lengths, hosts). */
int booking_page_public_event(http_req_t *req);

#endif
