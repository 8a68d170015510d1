/* book.h — the one booking core. Every way to make or change a booking (native create,
 * reschedule, host and invitee transitions, confirmation links and numbers, reservations; the
 * vendor dialects later) fills a request struct and calls these functions with a presenter that
 * shapes the answer in its own envelope. The flow follows DESIGN.md "Never double-book": read
 * the host's data and version (api.engine_inputs / api.booking_inputs), let the slot engine
 * decide, then one SQL function takes the host's advisory lock, checks the version and writes
 * with its event row, or answers stale and the core reads and decides again (at most
 * BOOK_ATTEMPTS times). No rule lives anywhere else. */
#ifndef SLOTD_API_BOOK_H
#define SLOTD_API_BOOK_H

#include <jansson.h>
#include <stdint.h>

#include "../http/server.h"
#include "inputs.h"
#include "respond.h"

#define BOOK_ATTEMPTS 8
#define BOOK_NEXT_WINDOW (14 * 86400) /* how far ahead a refusal looks for the next free slots */
#define BOOK_HOLD_MINUTES 5           /* a reservation's default length */
#define BOOK_MAX_SERIES 24            /* occurrences of a recurring booking (event_types.recurrence) */

/* What a presenter is given on success. Text points into the database's result or the request
 * arena: valid during the call. */
typedef struct {
  const char *body;           /* the booking's (or reservation's) JSON as the database printed it */
  size_t len;
  const char *cancel_token;   /* book_create: the invitee's tokens, shown this once; else NULL */
  const char *reschedule_token;
  const char *action;         /* the change made: "create", "cancel", ..., "hold", "get" */
  int series;                 /* book_create of a recurring type: body is the JSON array of the
                                 series' bookings in order, each with its own cancel_token and
                                 reschedule_token (the two fields above are NULL) */
} book_result_t;

typedef struct {
  void (*done)(http_req_t *req, const book_result_t *res);
  /* Optional: a refusal or failure in the presenter's own shape; NULL: api_fail (the dialect). */
  void (*failed)(http_req_t *req, const api_failure_t *f);
} book_presenter_t;

/* The event type is addressed by id, or (id 0) by the page slug and the event slug. */
typedef struct {
  int64_t event_type_id;
  const char *slug, *event_slug;
} book_target_t;

/* A public booking. Strings are validated by the caller (their dialect's field names); the
 * core checks what needs the event type: answers against its questions, seats against its
 * capacity, and the time against the engine. */
typedef struct {
  book_target_t target;
  int64_t start;
  const char *name, *email, *timezone, *notes, *phone;
  const char *reservation_uid; /* consume this hold, or NULL */
  json_t *answers;             /* {question_id: answer}, or NULL; borrowed for the request */
  int seats;                   /* >= 1 */
  int64_t preferred_host;      /* 0: any (multi-host event types pick one; later) */
  int quiet;                   /* notify: false — the invitee is sent no mail about this booking
                                  (only the event type's host, an admin of its org or its org's key) */
  int duration;                /* minutes: one of the event type's lengths (durations); 0: its default.
                                  Another length: 400 naming duration_minutes */
  int recurrence_count;        /* a recurring event type: occurrences to book, 1..the type's (0: all of
                                  them); the series is booked whole or not at all (409 naming the
                                  dates that are not free). > 1 on a type that does not recur: 400 */
} book_request_t;
void book_create(http_req_t *req, const book_request_t *r, const book_presenter_t *p);

/* A change to an existing booking resolved to its id; it is judged at the booking's own length. action: cancel, decline, no_show,
 * confirm (re-checks busy time), reschedule (new_start, new_tz: the booking moves), rebook
 * (new_start, new_tz: a NEW booking at the new time with new tokens and confirmation number, the
 * old one cancelled, linked both ways — Cal.com's reschedule; reason and by are recorded on
 * both; the presenter gets the new booking with its tokens), cancel_following (this booking and the later
 * occurrences of its recurring series still pending or confirmed), or get (no change). user: the
 * host's id as text, or NULL when the caller proved access by token or contact. */
typedef struct {
  const char *action;
  char booking_id[24];
  const char *user;
  const char *reason;
  const char *by;         /* "host" or "invitee" */
  int64_t new_start;      /* reschedule */
  const char *new_tz;     /* reschedule; NULL keeps the booking's zone */
} book_change_t;
void book_change(http_req_t *req, const book_change_t *c, const book_presenter_t *p);

/* Moves a round-robin booking (of an organisation event type) to another of its hosts: `host`,
 * or (0) the one the assignment rules pick among the others, if free at the booking's time.
 * user / key_org: the caller (an admin of the org, one of its keys, or the booking's host). */
typedef struct {
  int64_t booking_id;
  int64_t host;
  const char *user, *key_org;
} book_reassign_t;
void book_reassign(http_req_t *req, const book_reassign_t *r, const book_presenter_t *p);

/* A hold on a slot. minutes 0: the default; another length only for the event type's host
 * (the caller must have authenticated: api_ctx(req)->user_id). A client (the signed-in user, else
 * the client IP) holds at most SLOTD_HOLDS_PER_HOST live slots of one host and
 * SLOTD_HOLDS_PER_CLIENT in all; the host holding its own calendar is not counted. */
typedef struct {
  book_target_t target;
  int64_t start;
  int minutes;
  int duration; /* the slot's length in minutes, one of the event type's lengths; 0: its default */
} book_hold_t;
void book_hold(http_req_t *req, const book_hold_t *h, const book_presenter_t *p);

/* The native presenters (also the fallback of dialects that answer as slotd does). */
extern const book_presenter_t book_native_created;   /* 201 {"booking": {..., tokens}}; a series also
                                                        "bookings": [each with its tokens] */
extern const book_presenter_t book_native_changed;   /* 200 {"booking": {...}}; cancel: {"ok": true} */
extern const book_presenter_t book_native_plain;     /* 200/201 the body as it is */

#endif
