/* bookings.h — the native API's booking routes: public booking (by slugs or by event type id),
 * the host's bookings and every way to change one, the invitee's and host's e-mailed links,
 * and reservations. Each parses the native request and calls the booking core (book.h). */
#ifndef SLOTD_API_BOOKINGS_H
#define SLOTD_API_BOOKINGS_H

#include "../http/server.h"
#include "book.h"

int bookings_create(http_req_t *req);       /* POST /api/book/:slug/:event_slug */
int bookings_create_by_id(http_req_t *req); /* POST /api/event-types/:id/book */
int bookings_list(http_req_t *req);
/* GET /api/orgs/:id/bookings: the org's bookings for its owners, admins and keys (issue 12). */
int org_bookings_list(http_req_t *req);
/* POST /api/bookings/:id/reassign: a round-robin booking to another of its hosts. */
int bookings_reassign(http_req_t *req);
int bookings_get(http_req_t *req);
int bookings_cancel(http_req_t *req);
int bookings_decline(http_req_t *req);
int bookings_no_show(http_req_t *req);
int bookings_confirm(http_req_t *req);
int bookings_reschedule(http_req_t *req);

/* Invitee side (booking_links.c). */
int links_confirm(http_req_t *req);       /* GET /api/bookings/:token/confirm */
int links_decline(http_req_t *req);       /* GET /api/bookings/:token/decline */
int links_cancel(http_req_t *req);        /* POST /api/cancel/:token/confirm */
int links_cancel_page(http_req_t *req);   /* GET /api/cancel/:token: the e-mailed link's page */
int links_reschedule(http_req_t *req);    /* POST /api/reschedule/:token */
int links_reschedule_page(http_req_t *req); /* GET /api/reschedule/:token: the e-mailed link's page */
int links_number_get(http_req_t *req);    /* GET /api/bookings/confirmation/:number?contact= */
int links_number_cancel(http_req_t *req); /* POST .../cancel?contact= */
int links_number_reschedule(http_req_t *req);

/* Reservations (reservations.c). */
int reservations_create(http_req_t *req);
int reservations_list(http_req_t *req); /* the host's live holds */
int reservations_get(http_req_t *req);
int reservations_delete(http_req_t *req);

/* The booking a token of a kind ("cancel", "reschedule", "confirm") names, then c on it through p:
 * the token links' resolution for a dialect's own presenter (SchedKit's JSON). A token that names
 * nothing answers 404 with `invalid` (NULL: the native words) through the request's dialect. */
void links_change_by_token(http_req_t *req, const char *kind, const char *token, const book_change_t *c,
                           const book_presenter_t *p, const char *invalid);

/* Look-ups by confirmation number plus contact, whichever door they come through (the native
 * routes, MCP): per client IP and minute, one budget (key "conf:<ip>") against guessing. */
#define NUMBER_ATTEMPTS_PER_MINUTE 10

#endif
