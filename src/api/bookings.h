/* bookings.h — public booking, the host's bookings, and every way to change one.
 *
 * Every write follows DESIGN.md "Never double-book": read the host's data and version
 * (api.availability_data / api.booking_data), let the slot engine decide, then one SQL function
 * takes the host's advisory lock, checks the version and writes with its event row, or answers
 * stale and we read and decide again (at most BOOK_ATTEMPTS times). */
#ifndef SLOTD_API_BOOKINGS_H
#define SLOTD_API_BOOKINGS_H

#include <jansson.h>

#include "../http/server.h"

#define BOOK_ATTEMPTS 8

int bookings_create(http_req_t *req);
int bookings_list(http_req_t *req);
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
int links_reschedule(http_req_t *req);    /* POST /api/reschedule/:token */
int links_number_get(http_req_t *req);    /* GET /api/bookings/confirmation/:number?contact= */
int links_number_cancel(http_req_t *req); /* POST .../cancel?contact= */
int links_number_reschedule(http_req_t *req);

/* Reservations (reservations.c). */
int reservations_create(http_req_t *req);
int reservations_get(http_req_t *req);
int reservations_delete(http_req_t *req);

/* ---- shared by the three files ---- */

enum { DECIDE_OK = 0, DECIDE_INVALID = 400, DECIDE_TAKEN = 409 };

typedef struct {
  int verdict;       /* DECIDE_* */
  const char *why;   /* message for 400/409 */
  int64_t end;       /* for DECIDE_OK */
  int seats_left;
  json_t *next;      /* for DECIDE_TAKEN: up to 3 next free slots [{start, end}] (new reference) */
} decision_t;

/* Is `start` (with `seats`) bookable per the engine, given api.availability_data's document?
 * busy_only: only conflicts with busy time count (a host confirming a request). invitee_tz
 * formats the next free slots. Fills host_id/version/event fields as availability_inputs does. */
int bookings_decide(json_t *data, int64_t start, int seats, int busy_only, const char *invitee_tz, decision_t *d);
/* After a versioned write: 0 if result is not {"stale": true}; 1 if it is and the caller
 * should read and decide again; -1 once BOOK_ATTEMPTS are used up (409 sent). */
int bookings_stale(http_req_t *req, const char *result, int *attempts);
/* Responds to a non-OK decision (400 or 409 with next_slots); frees d->next. */
void bookings_respond_decision(http_req_t *req, decision_t *d);

/* A transition on a booking id resolved elsewhere: action "cancel", "decline", "no_show",
 * "confirm" (re-checks busy time), "reschedule" (needs start/timezone), or "get". user: the
 * host's id as text, or NULL when the caller proved access by token or contact. */
typedef struct {
  const char *action;
  char booking_id[24];
  const char *user;
  const char *reason;
  const char *by;         /* "host" or "invitee" */
  int64_t new_start;      /* reschedule */
  const char *new_tz;     /* reschedule; NULL keeps the booking's zone */
  int attempts;
  int html;               /* answer the token links with a small page for browsers */
  json_t *data;           /* last booking_data document */
  void (*done)(http_req_t *req, int status, const char *json, size_t len); /* NULL: plain JSON */
} transition_t;

void bookings_run_transition(http_req_t *req, transition_t *t);

#endif
