/* booking_page.h — the host's booking page settings, and its public view by slug. */
#ifndef SLOTD_API_BOOKING_PAGE_H
#define SLOTD_API_BOOKING_PAGE_H

#include "../http/server.h"

int booking_page_get(http_req_t *req);
int booking_page_update(http_req_t *req);
int booking_page_public(http_req_t *req);

#endif
