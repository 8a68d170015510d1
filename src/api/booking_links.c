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
#include "book.h"
#include "bookings.h"
#include "dispatch.h"
#include "query.h"
#include "respond.h"
#include "validate.h"


typedef struct {
  book_change_t c;
  const book_presenter_t *p;
  const char *invalid; /* a dialect's words for a token that names nothing (links_change_by_token) */
  const char *title; /* a page's heading on success */
  int html;          /* answer a browser with a small page */
  char *form_action; /* the page's button (the invitee's cancel page) */
  int reschedule_page; /* GET /api/reschedule/:token: pick a time, then a button that moves it */
  const char *local;   /* its ?start= (a wall-clock time in the booking's zone) */
  const char *token;
} link_t;

static int wants_json(http_req_t *req) {
  const char *a = http_req_header(req, "Accept");
  return a && strstr(a, "application/json") != NULL;
}

/* The start of a small page for a browser, through its heading (escaped). */
static void page_open(buf_t *b, const char *heading) {
  buf_puts(b, "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
              "content=\"width=device-width\"><title>slotd</title></head><body style=\"font-family:sans-serif;"
              "max-width:32em;margin:3em auto\"><h1>");
  buf_html(b, heading);
  buf_puts(b, "</h1>");
}

/* Closes the page and sends it: no caching, no scripts, forms only to slotd itself. */
static void page_send(http_req_t *req, int status, buf_t *b) {
  buf_puts(b, "</body></html>\n");
  http_set_header(req, "Cache-Control", "no-store");
  http_set_header(req, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  http_respond(req, status, "text/html; charset=utf-8", b->data, b->len);
  buf_free(b);
}

/* A small page for a browser: a heading, one line and, when form_action is given, a button that
 * POSTs (an empty body) there. Every dynamic string is escaped. */
static void page_with(http_req_t *req, int status, const char *heading, const char *text, const char *when,
                      const char *form_action, const char *button) {
  buf_t b = BUF_INIT;
  page_open(&b, heading);
  buf_puts(&b, "<p>");
  buf_html(&b, text);
  if (when) {
    buf_puts(&b, " &middot; ");
    buf_html(&b, when);
  }
  buf_puts(&b, "</p>");
  if (form_action) {
    buf_puts(&b, "<form method=\"post\" action=\"");
    buf_html(&b, form_action);
    buf_puts(&b, "\"><button type=\"submit\" style=\"font-size:1.1em;padding:.5em 1.2em\">");
    buf_html(&b, button);
    buf_puts(&b, "</button></form>");
  }
  page_send(req, status, &b);
}

static void page(http_req_t *req, int status, const char *heading, const char *text, const char *when) {
  page_with(req, status, heading, text, when, NULL, NULL);
}

/* The invitee's reschedule page. Without ?start=: the booking and a form asking for a new time
 * (a wall-clock time in the booking's zone, sent back here with GET). With it: that time, and a
 * button posting an empty form to POST /api/reschedule/:token?start_time=<the instant>, which
 * moves the booking if the time is free (a GET never moves anything). */
static void reschedule_page(http_req_t *req, link_t *l, json_t *bk) {
  const char *zone = json_string_value(json_object_get(bk, "timezone"));
  const tz_t *tz = tz_get(zone ? zone : "UTC");
  if (!tz) tz = tz_get("UTC");
  buf_t b = BUF_INIT;
  page_open(&b, "Move this booking");
  buf_puts(&b, "<p>");
  buf_html(&b, json_string_value(json_object_get(bk, "event_name")));
  buf_puts(&b, " &middot; now ");
  buf_html(&b, json_string_value(json_object_get(bk, "start_time")));
  buf_puts(&b, " (");
  buf_html(&b, tz_name(tz));
  buf_puts(&b, ")</p>");
  int y, mo, d, h, mi;
  char tail;
  if (l->local && sscanf(l->local, "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) == 5 && mo >= 1 &&
      mo <= 12 && d >= 1 && d <= time_days_in_month(y, mo) && h >= 0 && h < 24 && mi >= 0 && mi < 60) {
    int64_t local = time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
    int64_t t = tz_local_to_utc(tz, local);
    char utc[32], action[200];
    time_format_utc(t, utc, sizeof utc);
    snprintf(action, sizeof action, "/api/reschedule/%s?start_time=%s", l->token, utc);
    buf_puts(&b, "<p>New time: ");
    buf_html(&b, l->local);
    buf_puts(&b, "</p><form method=\"post\" action=\"");
    buf_html(&b, action);
    buf_puts(&b, "\"><button type=\"submit\">Move the booking</button></form>");
  } else {
    if (l->local) buf_puts(&b, "<p>That is not a date and time.</p>");
    buf_puts(&b, "<form method=\"get\"><label>New time <input type=\"datetime-local\" name=\"start\" "
                 "required></label> <button type=\"submit\">Check</button></form>");
  }
  page_send(req, 200, &b);
}

/* The host's confirm/decline links: JSON as the native API answers, or a page for a browser. */
static void link_done(http_req_t *req, const book_result_t *res) {
  link_t *l = api_ctx(req)->flow;
  if (!l->html) {
    book_native_changed.done(req, res);
    return;
  }
  json_t *bk = json_loadb(res->body, res->len, 0, NULL);
  if (l->reschedule_page) reschedule_page(req, l, bk);
  else page_with(req, 200, l->title, json_string_value(json_object_get(bk, "event_name")),
                 json_string_value(json_object_get(bk, "start")), l->form_action, "Cancel this booking");
  json_decref(bk);
}

static void link_failed(http_req_t *req, const api_failure_t *f) {
  link_t *l = api_ctx(req)->flow;
  if (!l->html || f->status == 503) { /* the links' JSON: error, code and the booking's status */
    api_failure_t g = *f;
    g.next_slots = NULL;
    g.field = NULL;
    api_fail(req, &g);
    return;
  }
  else page(req, f->status, "This link did not work", f->message, NULL);
}

static const book_presenter_t link_presenter = {link_done, link_failed};

static void invalid_link(http_req_t *req) {
  link_t *l = api_ctx(req)->flow;
  api_failure_t f = {.status = 404, .code = E_NOT_FOUND, .message = "This link is invalid or no longer valid."};
  if (l->p == &link_presenter) link_failed(req, &f);
  else api_error(req, 404, E_NOT_FOUND, l->invalid ? l->invalid : "link is invalid or no longer valid");
}

static void on_resolved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  link_t *l = api_ctx(req)->flow;
  if (!r->ok && !r->unavailable && (l->p == &link_presenter || l->invalid)) { /* one 404 for every bad token */
    invalid_link(req);
    return;
  }
  if (api_db_failed(req, r)) return;
  snprintf(l->c.booking_id, sizeof l->c.booking_id, "%s", PQgetvalue(r->res, 0, 0));
  book_change(req, &l->c, l->p);
}

static link_t *new_link(http_req_t *req, const char *action, const char *title) {
  link_t *l = arena_calloc(req->arena, sizeof *l);
  l->c.action = action;
  l->c.by = "invitee";
  l->p = &book_native_changed;
  l->title = title;
  api_ctx(req)->flow = l;
  return l;
}

/* Resolves a token of a kind, then runs l's change. */
static int resolve_token(http_req_t *req, const char *kind, const char *token) {
  if (!token || strlen(token) != 64) {
    invalid_link(req);
    return 0;
  }
  char *hash = arena_alloc(req->arena, 65);
  crypto_sha256_hex(token, 64, hash);
  const char *params[2] = {kind, hash};
  api_query(req, "booking_id_for_token", 2, params, on_resolved);
  return 0;
}

static int by_token(http_req_t *req, const char *kind) { return resolve_token(req, kind, http_req_param(req, "token")); }

void links_change_by_token(http_req_t *req, const char *kind, const char *token, const book_change_t *c,
                           const book_presenter_t *p, const char *invalid) {
  link_t *l = arena_calloc(req->arena, sizeof *l);
  l->c = *c;
  l->p = p;
  l->invalid = invalid;
  api_ctx(req)->flow = l;
  resolve_token(req, kind, token);
}

static int host_link(http_req_t *req, const char *action, const char *title) {
  link_t *l = new_link(req, action, title);
  l->c.by = "host";
  l->html = !wants_json(req);
  l->p = &link_presenter;
  return by_token(req, "confirm"); /* one token serves both of the host's links */
}

int links_confirm(http_req_t *req) { return host_link(req, "confirm", "Booking confirmed"); }
int links_decline(http_req_t *req) { return host_link(req, "decline", "Booking declined"); }

/* {reason} for cancel; {start_time, timezone} for reschedule. 0, or -1 after responding. */
static int read_body(http_req_t *req, link_t *l, int reschedule) {
  if (!req->body.len && !reschedule) return 0;
  if (api_body_object(req)) return -1;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  l->c.reason = api_v_str(&v, "reason", 0, 0, 2000);
  if (reschedule) {
    const char *st = api_v_str(&v, "start_time", 1, 1, 40);
    if (st && time_parse_rfc3339(st, &l->c.new_start) != 0)
      api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
    l->c.new_tz = api_v_str(&v, "timezone", 0, 1, 64);
    if (l->c.new_tz && !tz_get(l->c.new_tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  }
  if (v.failed) {
    api_v_respond(&v);
    return -1;
  }
  return 0;
}

/* A browser's form post (Accept names text/html, not JSON) gets a page; API clients get JSON. */
static int browser_form(http_req_t *req) {
  const char *a = http_req_header(req, "Accept");
  return a && strstr(a, "text/html") && !strstr(a, "application/json");
}

int links_cancel(http_req_t *req) {
  link_t *l = new_link(req, "cancel", "Booking cancelled");
  if (read_body(req, l, 0)) return 0;
  if (browser_form(req)) {
    l->html = 1;
    l->p = &link_presenter;
  }
  return by_token(req, "cancel");
}

/* GET /api/cancel/:token: the invitee's e-mailed cancel link. A browser gets the booking and a
 * button (a GET never cancels: mail scanners follow links); Accept: application/json the
 * booking. */
int links_cancel_page(http_req_t *req) {
  link_t *l = new_link(req, "get", "Cancel this booking?");
  l->html = !wants_json(req);
  if (l->html) {
    l->p = &link_presenter;
    const char *token = http_req_param(req, "token");
    size_t n = strlen(token ? token : "") + 32;
    l->form_action = arena_alloc(req->arena, n);
    snprintf(l->form_action, n, "/api/cancel/%s/confirm", token ? token : "");
  }
  return by_token(req, "cancel");
}

int links_reschedule(http_req_t *req) {
  link_t *l = new_link(req, "reschedule", "Booking moved");
  const char *st = api_query_param(req, "start_time");
  if (!req->body.len && st && browser_form(req)) { /* the reschedule page's button */
    if (time_parse_rfc3339(st, &l->c.new_start) != 0) {
      page(req, 400, "This link did not work", "start_time must be an RFC 3339 date-time", NULL);
      return 0;
    }
    l->html = 1;
    l->p = &link_presenter;
    return by_token(req, "reschedule");
  }
  if (read_body(req, l, 1)) return 0;
  return by_token(req, "reschedule");
}

/* GET /api/reschedule/:token: the invitee's e-mailed reschedule link (see reschedule_page). */
int links_reschedule_page(http_req_t *req) {
  link_t *l = new_link(req, "get", "Move this booking");
  l->html = !wants_json(req);
  if (l->html) {
    l->p = &link_presenter;
    l->reschedule_page = 1;
    l->local = api_query_param(req, "start");
    l->token = http_req_param(req, "token");
  }
  return by_token(req, "reschedule");
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
  const char *params[3] = {number, contact, strcmp(l->c.action, "get") == 0 ? "f" : "t"};
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
