/* booking_links.c — the invitee's and the host's e-mailed links, which work without a login:
 * SchedKit's confirm/decline links (a small HTML page for browsers, JSON for
 * Accept: application/json), the invitee's cancel and reschedule tokens, and Kordless's
 * self-service by confirmation number plus the booking's email or phone. A wrong token, an
 * unknown number and a wrong contact all look the same: 404. Tokens are looked up by their
 * SHA-256 (the database holds only hashes), so no comparison ever involves the token itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/timeutil.h"
#include "../sched/tzif.h"
#include "authn.h"
#include "bookings.h"
#include "util.h"

#define NUMBER_ATTEMPTS_PER_MINUTE 10

static const char INVALID_LINK[] = "{\"error\":\"This link is invalid or no longer valid.\",\"code\":\"NOT_FOUND\"}";

typedef struct {
  transition_t t;
  const char *title;
} link_t;

static int wants_json(http_req_t *req) {
  const char *a = http_req_header(req, "Accept");
  return a && strstr(a, "application/json") != NULL;
}

/* Token link answers: JSON as is, or a page for a browser. */
static void page_done(http_req_t *req, int status, const char *json, size_t len) {
  link_t *l = api_ctx(req)->flow;
  if (!l->t.html) {
    api_respond_text_json(req, status, json, len);
    return;
  }
  json_t *doc = json_loadb(json, len, 0, NULL);
  const char *err = json_string_value(json_object_get(doc, "error"));
  json_t *bk = json_object_get(doc, "booking");
  buf_t b = BUF_INIT;
  buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
               "content=\"width=device-width\"><title>slotd</title></head><body style=\"font-family:sans-serif;"
               "max-width:32em;margin:3em auto\"><h1>");
  /* Every dynamic string is escaped for HTML. */
  const char *heading = err ? "This link did not work" : l->title;
  buf_puts(&b, heading);
  buf_puts(&b, "</h1><p>");
  const char *text = err ? err : json_string_value(json_object_get(bk, "event_name"));
  for (const char *p = text ? text : ""; *p; p++) {
    switch (*p) {
      case '<': buf_puts(&b, "&lt;"); break;
      case '>': buf_puts(&b, "&gt;"); break;
      case '&': buf_puts(&b, "&amp;"); break;
      case '"': buf_puts(&b, "&quot;"); break;
      default: buf_putc(&b, *p);
    }
  }
  if (!err && bk) {
    buf_puts(&b, " &middot; ");
    buf_puts(&b, json_string_value(json_object_get(bk, "start")));
  }
  buf_puts(&b, "</p></body></html>\n");
  json_decref(doc);
  http_set_header(req, "Cache-Control", "no-store");
  http_set_header(req, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  http_respond(req, status, "text/html; charset=utf-8", b.data, b.len);
  buf_free(&b);
}

static void on_resolved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  link_t *l = api_ctx(req)->flow;
  if (!r->ok && !r->unavailable && l->t.done) { /* 404 for a page too */
    page_done(req, 404, INVALID_LINK, sizeof INVALID_LINK - 1);
    return;
  }
  if (api_db_failed(req, r)) return;
  snprintf(l->t.booking_id, sizeof l->t.booking_id, "%s", PQgetvalue(r->res, 0, 0));
  bookings_run_transition(req, &l->t);
}

static link_t *new_link(http_req_t *req, const char *action, const char *title) {
  link_t *l = arena_calloc(req->arena, sizeof *l);
  l->t.action = action;
  l->t.by = "invitee";
  l->title = title;
  api_ctx(req)->flow = l;
  return l;
}

/* Resolves a token of a kind, then runs l's transition. */
static int by_token(http_req_t *req, link_t *l, const char *kind) {
  const char *token = http_req_param(req, "token");
  if (!token || strlen(token) != 64) {
    if (l->t.done) page_done(req, 404, INVALID_LINK, sizeof INVALID_LINK - 1);
    else api_error(req, 404, E_NOT_FOUND, "link is invalid or no longer valid");
    return 0;
  }
  char *hash = arena_alloc(req->arena, 65);
  crypto_sha256_hex(token, 64, hash);
  const char *params[2] = {kind, hash};
  api_query(req, "booking_id_for_token", 2, params, on_resolved);
  return 0;
}

int links_confirm(http_req_t *req) {
  link_t *l = new_link(req, "confirm", "Booking confirmed");
  l->t.by = "host";
  l->t.html = !wants_json(req);
  l->t.done = page_done;
  return by_token(req, l, "confirm");
}

int links_decline(http_req_t *req) {
  link_t *l = new_link(req, "decline", "Booking declined");
  l->t.by = "host";
  l->t.html = !wants_json(req);
  l->t.done = page_done;
  return by_token(req, l, "confirm"); /* one token serves both of the host's links */
}

/* {reason} for cancel; {start_time, timezone} for reschedule. 0, or -1 after responding. */
static int read_body(http_req_t *req, link_t *l, int reschedule) {
  if (!req->body.len && !reschedule) return 0;
  if (api_body_object(req)) return -1;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  l->t.reason = api_v_str(&v, "reason", 0, 0, 2000);
  if (reschedule) {
    const char *st = api_v_str(&v, "start_time", 1, 1, 40);
    if (st && time_parse_rfc3339(st, &l->t.new_start) != 0)
      api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
    l->t.new_tz = api_v_str(&v, "timezone", 0, 1, 64);
    if (l->t.new_tz && !tz_get(l->t.new_tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  }
  if (v.failed) {
    api_v_respond(&v);
    return -1;
  }
  return 0;
}

int links_cancel(http_req_t *req) {
  link_t *l = new_link(req, "cancel", NULL);
  if (read_body(req, l, 0)) return 0;
  return by_token(req, l, "cancel");
}

int links_reschedule(http_req_t *req) {
  link_t *l = new_link(req, "reschedule", NULL);
  if (read_body(req, l, 1)) return 0;
  return by_token(req, l, "reschedule");
}

/* Confirmation number + contact, with its own small rate limit against guessing. */
static int by_number(http_req_t *req) {
  char key[96];
  snprintf(key, sizeof key, "conf:%s", api_ctx(req)->client_ip);
  if (!api_rate_limit(req, key, NUMBER_ATTEMPTS_PER_MINUTE, 0)) return 0;
  const char *number = http_req_param(req, "number");
  const char *contact = api_query_param(req, "contact");
  if (!contact || !*contact) {
    api_error_field(req, 400, E_VALIDATION, "contact (the booking's email or phone) is required", "contact");
    return 0;
  }
  if (!number || strlen(number) != 8 || strlen(contact) > 254) {
    api_error(req, 404, E_NOT_FOUND, "booking not found");
    return 0;
  }
  link_t *l = api_ctx(req)->flow;
  const char *params[3] = {number, contact, strcmp(l->t.action, "get") == 0 ? "f" : "t"};
  api_query(req, "booking_id_for_number", 3, params, on_resolved);
  return 0;
}

int links_number_get(http_req_t *req) {
  new_link(req, "get", NULL);
  return by_number(req);
}

int links_number_cancel(http_req_t *req) {
  link_t *l = new_link(req, "cancel", NULL);
  if (read_body(req, l, 0)) return 0;
  return by_number(req);
}

int links_number_reschedule(http_req_t *req) {
  link_t *l = new_link(req, "reschedule", NULL);
  if (read_body(req, l, 1)) return 0;
  return by_number(req);
}
