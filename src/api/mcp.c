/* mcp.c — POST /mcp: the Model Context Protocol's Streamable HTTP transport, so AI agents can find
 * slots and book (issue 15). One JSON-RPC 2.0 message per POST, answered with plain JSON (no SSE
 * stream, no server sessions: every request stands alone). Protocol 2025-06-18, also 2025-03-26.
 *
 * The tools are thin layers over the cores every other dialect uses: availability_slots() for
 * free slots, book_create()/book_change() with this file's presenter for bookings, the native
 * statements for pages, self-service lookups and host lists. Nothing here decides a rule.
 *
 * Who answers what:
 *   - the transport and the envelope: HTTP 400 with -32700 (not JSON) or -32600 (not a request
 *     object, a batch, an unsupported MCP-Protocol-Version); a notification or a client's
 *     response gets 202 and no body;
 *   - the method: -32601 unknown method, -32602 params that are not what the method takes
 *     (no tool name, an unknown tool, arguments that are not an object), in an HTTP 200;
 *   - the tool: argument values that fail validation, and refusals that are the caller's
 *     business (not found, slot taken, wrong status, an API key needed), are results with
 *     isError: true whose text is the native API's error object, so a model can read and retry;
 *   - server trouble: a database outage is HTTP 503 with a JSON-RPC error (Retry-After), any
 *     other internal failure -32603 in an HTTP 200. Never a 500 from here.
 * Errors answered outside this file's envelope (the dispatcher's 429 and 415, api_authenticate's
 * 401 and 403, the self-service limit's 429) come through mcp_dialect: a JSON-RPC error with id
 * null, and data {status, code[, retry_after]}. */
#include "mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/json.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../db/link.h"
#include "../sched/tzif.h"
#include "authn.h"
#include "availability.h"
#include "book.h"
#include "bookings.h"
#include "dispatch.h"
#include "query.h"
#include "schedules.h"
#include "validate.h"

#define MCP_VERSION "2025-06-18"      /* structured tool output (outputSchema, structuredContent) */
#define MCP_VERSION_OLD "2025-03-26"  /* the version a client without the header is assumed to speak */
#define MCP_MAX_SLOTS 200             /* find_slots answers at most this many (then more: true) */

enum {
  RPC_PARSE = -32700,
  RPC_INVALID = -32600,
  RPC_METHOD = -32601,
  RPC_PARAMS = -32602,
  RPC_INTERNAL = -32603,
  RPC_SERVER = -32000
};

/* One request's state (api_ctx(req)->flow, in the arena). */
typedef struct {
  const char *id; /* the request's id as JSON text, or NULL for a notification */
  const char *method;
  json_t *params; /* an object, borrowed from ctx->body; NULL if absent */
  int structured; /* the client speaks 2025-06-18: structuredContent with each result */
  const tz_t *tz; /* find_slots: the zone its answer is written in */
  book_request_t book;
  book_change_t change;
} mcp_t;

static mcp_t *flow(http_req_t *req) { return api_ctx(req)->flow; }

static void free_json(void *p) { json_decref(p); }

/* ------------------------------------------------------------------ JSON-RPC envelopes */

static int rpc_code_for_status(int status) {
  switch (status) {
    case 400:
    case 405:
    case 413:
    case 414:
    case 415:
    case 431: return RPC_INVALID;
    default: return RPC_SERVER;
  }
}

/* {"code":N,"message":m[,"data":{"status","code"[,"retry_after"]}]} (data when f is given). */
static void error_object(buf_t *b, int code, const char *message, const api_failure_t *f) {
  buf_printf(b, "{\"code\":%d,\"message\":", code);
  buf_json_str(b, message ? message : "error");
  if (f) {
    buf_printf(b, ",\"data\":{\"status\":%d,\"code\":", f->status);
    buf_json_str(b, f->code ? f->code : api_code_for_status(f->status));
    if (f->retry_after > 0) buf_printf(b, ",\"retry_after\":%d", f->retry_after);
    buf_putc(b, '}');
  }
  buf_putc(b, '}');
}

static void mcp_error(const api_failure_t *f, buf_t *out) {
  buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":");
  error_object(out, rpc_code_for_status(f->status), f->message, f);
  buf_putc(out, '}');
}

const api_dialect_t mcp_dialect = {"mcp", mcp_error, NULL};

/* {"jsonrpc":"2.0","id":<the request's>,"<member>":<json>}. Never stored by caches: a booking's
 * answer carries the invitee's tokens. */
static void rpc_send(http_req_t *req, int status, const char *member, const char *json, size_t len) {
  mcp_t *m = flow(req);
  buf_t b = BUF_INIT;
  buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"%s\":", m && m->id ? m->id : "null", member);
  buf_append(&b, json, len);
  buf_putc(&b, '}');
  http_set_header(req, "Cache-Control", "no-store");
  api_respond_body(req, status, b.data, b.len);
  buf_free(&b);
}

static void rpc_error(http_req_t *req, int status, int code, const char *message) {
  buf_t b = BUF_INIT;
  error_object(&b, code, message, NULL);
  rpc_send(req, status, "error", b.data, b.len);
  buf_free(&b);
}

/* Server trouble while a request was served: 503 (Retry-After) for an outage, else -32603. */
static void rpc_server_failure(http_req_t *req, const api_failure_t *f) {
  int outage = f->status == 503;
  if (outage && f->retry_after > 0) {
    char v[16];
    snprintf(v, sizeof v, "%d", f->retry_after);
    http_set_header(req, "Retry-After", v);
  }
  buf_t b = BUF_INIT;
  error_object(&b, outage ? RPC_SERVER : RPC_INTERNAL, outage ? f->message : "internal error", f);
  rpc_send(req, outage ? 503 : 200, "error", b.data, b.len);
  buf_free(&b);
}

/* ------------------------------------------------------------------ tool results */

/* A tool's answer: content [{type: text, text: <json as text>}] and, for 2025-06-18 clients, the
 * same object as structuredContent. json is compact JSON (an object). */
static void tool_ok(http_req_t *req, const char *json, size_t len) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"content\":[{\"type\":\"text\",\"text\":");
  buf_json_strn(&b, json, len);
  buf_puts(&b, "}]");
  if (flow(req)->structured) {
    buf_puts(&b, ",\"structuredContent\":");
    buf_append(&b, json, len);
  }
  buf_puts(&b, ",\"isError\":false}");
  rpc_send(req, 200, "result", b.data, b.len);
  buf_free(&b);
}

/* A refusal the caller can act on: isError with the native error object as text (message, code,
 * field, a booking's status, the next free slots). No structuredContent: an error result does
 * not follow the tool's output schema. Server trouble leaves as a JSON-RPC error instead. */
static void tool_failed(http_req_t *req, const api_failure_t *f) {
  if (f->status >= 500) {
    rpc_server_failure(req, f);
    return;
  }
  api_failure_t g = *f;
  if (g.field && strcmp(g.field, "start_time") == 0) g.field = "start"; /* the tools' name for it */
  g.retry_after = 0;
  buf_t text = BUF_INIT, b = BUF_INIT;
  api_native_dialect.error(&g, &text);
  buf_puts(&b, "{\"content\":[{\"type\":\"text\",\"text\":");
  buf_json_strn(&b, text.data, text.len);
  buf_puts(&b, "}],\"isError\":true}");
  rpc_send(req, 200, "result", b.data, b.len);
  buf_free(&b);
  buf_free(&text);
}

static void tool_refuse(http_req_t *req, int status, const char *message, const char *field) {
  api_failure_t f = {.status = status, .code = api_code_for_status(status), .message = message, .field = field};
  tool_failed(req, &f);
}

/* 1 when the arguments passed validation; else answers with the first failure. */
static int args_ok(http_req_t *req, api_v_t *v) {
  if (!v->failed) return 1;
  tool_refuse(req, 400, v->message, v->field);
  return 0;
}

/* A database answer that failed: 1 after answering (404 and such as a tool refusal). */
static int db_failed(http_req_t *req, const db_result_t *r) {
  if (r->ok) return 0;
  api_failure_t f;
  char msg[400];
  api_db_failure(r, &f, msg, sizeof msg);
  if (f.status == 500) {
    char line[512];
    db_one_line(r->message, line, sizeof line);
    log_req(req, LOG_ERROR, "database error", "sqlstate", r->sqlstate ? r->sqlstate : "", "error", line, NULL);
  }
  tool_failed(req, &f);
  return 1;
}

/* jsonb text from PostgreSQL, compacted (slotd's byte format: prices stay as written), as the
 * value of key in a new object, with extra (`,"k":v...`) added inside the value's object. */
static void tool_ok_pg(http_req_t *req, const char *key, const char *text, size_t len, const char *extra) {
  buf_t value = BUF_INIT, b = BUF_INIT;
  json_compact_append(&value, text, len);
  if (!value.len) buf_puts(&value, "null");
  if (extra && value.len > 2 && value.data[value.len - 1] == '}') {
    value.len--; /* reopen the object */
    buf_puts(&value, extra);
    buf_putc(&value, '}');
  }
  if (key) {
    buf_printf(&b, "{\"%s\":", key);
    buf_append(&b, value.data, value.len);
    buf_putc(&b, '}');
    tool_ok(req, b.data, b.len);
  } else {
    tool_ok(req, value.data, value.len);
  }
  buf_free(&b);
  buf_free(&value);
}

/* ------------------------------------------------------------------ the booking core's presenter */

static void present_done(http_req_t *req, const book_result_t *res) {
  if (res->series) { /* a recurring type's series: every booking with its own tokens */
    tool_ok_pg(req, "bookings", res->body, res->len, NULL);
    return;
  }
  char extra[200] = "";
  if (res->cancel_token) /* a new booking: the invitee's tokens, shown this once (as the native API) */
    snprintf(extra, sizeof extra, ",\"cancel_token\":\"%s\",\"reschedule_token\":\"%s\"", res->cancel_token,
             res->reschedule_token);
  tool_ok_pg(req, "booking", res->body, res->len, extra);
}

static const book_presenter_t presenter = {present_done, tool_failed};

/* ------------------------------------------------------------------ argument rules */

/* A window bound: a date YYYY-MM-DD on tz's wall clock (its midnight; an `end` date is inclusive,
 * so its next midnight) or an RFC 3339 instant. 0, or -1 if it is neither. */
static int window_bound(const char *s, const tz_t *tz, int end, int64_t *out) {
  int64_t day;
  if (parse_date(s, &day) == 0) {
    *out = tz_local_to_utc(tz, (day + end) * 86400);
    return 0;
  }
  return time_parse_rfc3339(s, out);
}

/* An optional IANA zone argument (default UTC). */
static const tz_t *zone_arg(api_v_t *v, const char **name) {
  *name = api_v_str(v, "timezone", 0, 1, 64);
  const tz_t *tz = tz_get(*name ? *name : "UTC");
  if (!tz) api_v_fail(v, "timezone", "timezone must be an IANA time zone name, e.g. Europe/Berlin");
  return tz;
}

static const char *slug_arg(api_v_t *v, const char *field) { return api_v_str(v, field, 1, 1, 60); }

static int64_t instant_arg(api_v_t *v, const char *field) {
  int64_t t = 0;
  const char *s = api_v_str(v, field, 1, 1, 40);
  if (s && time_parse_rfc3339(s, &t) != 0)
    api_v_fail(v, field, "%s must be an RFC 3339 date-time, e.g. 2026-03-10T09:00:00Z", field);
  return t;
}

/* ------------------------------------------------------------------ public tools */

static void on_page(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    tool_refuse(req, 404, "booking page not found", "slug");
    return;
  }
  tool_ok_pg(req, NULL, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0), NULL);
}

static void list_event_types(http_req_t *req, api_v_t *v) {
  const char *slug = slug_arg(v, "slug");
  if (!args_ok(req, v)) return;
  api_query(req, "public_page", 1, &slug, on_page);
}

static void on_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *s, size_t n,
                     const db_result_t *fail) {
  (void)data;
  const tz_t *tz = flow(req)->tz;
  if (!in) {
    if (fail) db_failed(req, fail);
    else tool_refuse(req, 500, "internal error", NULL);
    return;
  }
  json_t *slots = json_array();
  for (size_t i = 0; i < n && i < MCP_MAX_SLOTS; i++) {
    char a[40], b[40];
    tz_format_rfc3339(tz, s[i].start, a, sizeof a);
    tz_format_rfc3339(tz, s[i].end, b, sizeof b);
    json_array_append_new(slots,
                          json_pack("{s:s, s:s, s:i}", "start", a, "end", b, "seats_remaining", s[i].seats_left));
  }
  json_t *out =
      json_pack("{s:{s:s?, s:I, s:b}, s:s, s:o, s:b}", "event_type", "name", in->event_name, "duration_minutes",
                (json_int_t)(in->event.duration / 60), "requires_confirmation", in->requires_confirmation, "timezone",
                tz_name(tz), "slots", slots, "more", n > MCP_MAX_SLOTS);
  char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
  json_decref(out);
  if (text) tool_ok(req, text, strlen(text));
  else tool_refuse(req, 500, "internal error", NULL);
  free(text);
}

static void find_slots(http_req_t *req, api_v_t *v) {
  avail_query_t q = {.slug = slug_arg(v, "slug"), .event_slug = slug_arg(v, "event_slug"), .seats = 1};
  const char *zone, *start = api_v_str(v, "start", 1, 1, 40), *end = api_v_str(v, "end", 1, 1, 40);
  const tz_t *tz = zone_arg(v, &zone);
  if (start && tz && window_bound(start, tz, 0, &q.from) != 0)
    api_v_fail(v, "start", "start must be a date YYYY-MM-DD or an RFC 3339 date-time");
  if (end && tz && window_bound(end, tz, 1, &q.to) != 0)
    api_v_fail(v, "end", "end must be a date YYYY-MM-DD (inclusive) or an RFC 3339 date-time");
  if (!v->failed && q.to <= q.from) api_v_fail(v, "end", "end must be after start");
  if (!v->failed && q.to - q.from > (int64_t)AVAIL_MAX_DAYS * 86400)
    api_v_fail(v, "end", "the window may span at most %d days", AVAIL_MAX_DAYS);
  if (!args_ok(req, v)) return;
  flow(req)->tz = tz;
  availability_slots(req, &q, on_slots, NULL);
}

static void book(http_req_t *req, api_v_t *v) {
  book_request_t *b = &flow(req)->book;
  b->target.slug = slug_arg(v, "slug");
  b->target.event_slug = slug_arg(v, "event_slug");
  b->start = instant_arg(v, "start");
  b->name = api_v_line(v, "name", 1, 1, 200);
  b->email = api_v_str(v, "email", 1, 3, 254);
  if (b->email && !api_valid_email(b->email)) api_v_fail(v, "email", "email must be a valid email address");
  zone_arg(v, &b->timezone);
  b->notes = api_v_str(v, "notes", 0, 0, 5000);
  b->phone = api_v_str(v, "phone", 0, 1, 32);
  if (b->phone && !api_valid_phone(b->phone)) api_v_fail(v, "phone", "phone must be a phone number");
  json_t *answers = json_object_get(v->obj, "answers");
  if (answers && !json_is_null(answers) && !json_is_object(answers))
    api_v_fail(v, "answers", "answers must be an object {question_id: answer}");
  b->answers = json_is_object(answers) ? answers : NULL; /* owned by the request body */
  b->seats = 1;
  if (!args_ok(req, v)) return;
  book_create(req, b, &presenter);
}

/* ------------------------------------------------------------------ self-service by number */

static void on_number(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    tool_refuse(req, 404, "booking not found", NULL);
    return;
  }
  mcp_t *m = flow(req);
  snprintf(m->change.booking_id, sizeof m->change.booking_id, "%s", PQgetvalue(r->res, 0, 0));
  book_change(req, &m->change, &presenter);
}

/* Kordless's self-service: the confirmation number and the booking's email or phone, under the
 * native routes' per-IP budget against guessing (the same key: one budget for both doors). A
 * wrong contact reads exactly like an unknown number. */
static void by_number(http_req_t *req, api_v_t *v, const char *action) {
  char key[96];
  snprintf(key, sizeof key, "conf:%s", api_ctx(req)->client_ip);
  if (!api_rate_limit(req, key, NUMBER_ATTEMPTS_PER_MINUTE, 0)) return;
  book_change_t *c = &flow(req)->change;
  c->action = action;
  c->by = "invitee";
  const char *number = api_v_str(v, "confirmation_number", 1, 1, 40);
  const char *contact = api_v_str(v, "contact", 1, 1, 254);
  if (strcmp(action, "cancel") == 0) c->reason = api_v_str(v, "reason", 0, 0, 2000);
  if (strcmp(action, "reschedule") == 0) {
    c->new_start = instant_arg(v, "start");
    const char *zone = NULL;
    if (api_v_present(v, "timezone")) zone_arg(v, &zone);
    c->new_tz = zone;
  }
  if (!args_ok(req, v)) return;
  if (strlen(number) != 8) {
    tool_refuse(req, 404, "booking not found", NULL);
    return;
  }
  const char *params[3] = {number, contact, strcmp(action, "get") == 0 ? "f" : "t"};
  api_query(req, "booking_id_for_number", 3, params, on_number);
}

static void get_booking(http_req_t *req, api_v_t *v) { by_number(req, v, "get"); }
static void cancel_booking(http_req_t *req, api_v_t *v) { by_number(req, v, "cancel"); }
static void reschedule_booking(http_req_t *req, api_v_t *v) { by_number(req, v, "reschedule"); }

/* ------------------------------------------------------------------ the host's tools */

static void on_bookings(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (db_failed(req, r)) return;
  int body = PQfnumber(r->res, "body"), total = PQfnumber(r->res, "total");
  if (PQntuples(r->res) < 1 || body < 0 || total < 0) {
    tool_refuse(req, 500, "internal error", NULL);
    return;
  }
  char extra[48];
  snprintf(extra, sizeof extra, ",\"total\":%lld", strtoll(PQgetvalue(r->res, 0, total), NULL, 10));
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"bookings\":");
  json_compact_append(&b, PQgetvalue(r->res, 0, body), (size_t)PQgetlength(r->res, 0, body));
  buf_puts(&b, extra);
  buf_putc(&b, '}');
  tool_ok(req, b.data, b.len);
  buf_free(&b);
}

/* The host's bookings, newest first: the native list's statement and filters (dates in UTC). */
static void list_bookings(http_req_t *req, api_v_t *v) {
  static const char *const statuses[] = {"pending",         "confirmed", "cancelled", "declined",
                                         "pending_payment", "expired",   NULL};
  const char *status = api_v_str(v, "status", 0, 1, 20);
  int known = !status;
  for (const char *const *s = statuses; status && *s; s++) known |= strcmp(status, *s) == 0;
  if (!known)
    api_v_fail(v, "status", "status must be pending, confirmed, cancelled, declined, pending_payment or expired");
  char *bound[2] = {NULL, NULL};
  static const char *const names[2] = {"from", "to"};
  for (int i = 0; i < 2; i++) {
    const char *s = api_v_str(v, names[i], 0, 1, 40);
    int64_t t;
    if (s && window_bound(s, tz_get("UTC"), i, &t) != 0)
      api_v_fail(v, names[i], "%s must be a date YYYY-MM-DD (UTC) or an RFC 3339 date-time", names[i]);
    else if (s) {
      bound[i] = arena_alloc(req->arena, 32);
      time_format_utc(t, bound[i], 32);
    }
  }
  long long limit = 50;
  api_v_int(v, "limit", 1, 200, 0, NULL, &limit);
  if (!args_ok(req, v)) return;
  char *lim = arena_alloc(req->arena, 24);
  snprintf(lim, 24, "%lld", limit);
  const char *params[7] = {api_ctx(req)->user_id_str, status, bound[0], bound[1], NULL, lim, "0"};
  api_query(req, "bookings_list", 7, params, on_bookings);
}

/* The host's transitions, as POST /api/bookings/:id/<action> makes them. */
static void host_change(http_req_t *req, api_v_t *v, const char *action) {
  book_change_t *c = &flow(req)->change;
  long long id = 0;
  if (!api_v_present(v, "booking_id")) api_v_fail(v, "booking_id", "booking_id is required");
  api_v_int(v, "booking_id", 1, 999999999999999999LL, 0, NULL, &id);
  c->reason = api_v_str(v, "reason", 0, 0, 2000);
  if (!args_ok(req, v)) return;
  c->action = action;
  c->user = api_ctx(req)->user_id_str;
  c->by = "host";
  snprintf(c->booking_id, sizeof c->booking_id, "%lld", id);
  book_change(req, c, &presenter);
}

static void confirm_booking(http_req_t *req, api_v_t *v) { host_change(req, v, "confirm"); }
static void decline_booking(http_req_t *req, api_v_t *v) { host_change(req, v, "decline"); }

/* ------------------------------------------------------------------ the tool list */

/* The schemas are laid out by hand: they read better as JSON. */
/* clang-format off */
#define S(x) "{\"type\":\"string\",\"description\":\"" x "\"}"
#define P_SLUG "\"slug\":" S("The booking page's (or organisation's) slug, as in its booking link")
#define P_EVENT "\"event_slug\":" S("The event type's slug (list_event_types gives them)")
#define P_ZONE "\"timezone\":" S("IANA time zone (e.g. Europe/Berlin) for dates and answers; default UTC")
#define P_NUMBER                                                              \
  "\"confirmation_number\":" S("The booking's 8-character confirmation number") \
  ",\"contact\":" S("The email address or phone number the booking was made with")
#define P_BOOKING_ID "\"booking_id\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"The booking's id\"}"
#define P_REASON "\"reason\":" S("Why (optional; shown to the other side)")
#define INPUT(props, required) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"
#define OUT_BOOKING "{\"type\":\"object\",\"properties\":{\"booking\":{\"type\":\"object\"}},\"required\":[\"booking\"]}"

typedef struct {
  const char *name, *title, *description;
  const char *input, *output; /* JSON Schemas */
  int host;                   /* needs the host's API key (Authorization: Bearer) */
  int read_only, destructive, idempotent;
  void (*run)(http_req_t *req, api_v_t *args);
} mcp_tool_t;

static const mcp_tool_t tools[] = {
    {"list_event_types", "List event types",
     "The event types a booking page (or an organisation) offers: names, slugs, durations, prices.",
     INPUT(P_SLUG, "\"slug\""),
     "{\"type\":\"object\",\"properties\":{\"slug\":{\"type\":\"string\"},\"event_types\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\"}}},\"required\":[\"slug\",\"event_types\"]}",
     0, 1, 0, 1, list_event_types},
    {"find_slots", "Find free slots",
     "Free start times of an event type between start and end (at most 62 days; at most 200 slots, then more is "
     "true), on the wall clock of timezone.",
     INPUT(P_SLUG "," P_EVENT
           ",\"start\":" S("First day YYYY-MM-DD (midnight in timezone) or an RFC 3339 instant")
           ",\"end\":" S("Last day YYYY-MM-DD (inclusive) or an RFC 3339 instant (exclusive)") "," P_ZONE,
           "\"slug\",\"event_slug\",\"start\",\"end\""),
     "{\"type\":\"object\",\"properties\":{\"event_type\":{\"type\":\"object\"},\"timezone\":{\"type\":\"string\"},"
     "\"slots\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"start\":{\"type\":\"string\"},"
     "\"end\":{\"type\":\"string\"},\"seats_remaining\":{\"type\":\"integer\"}},\"required\":[\"start\",\"end\"]}},"
     "\"more\":{\"type\":\"boolean\"}},\"required\":[\"timezone\",\"slots\",\"more\"]}",
     0, 1, 0, 1, find_slots},
    {"book", "Book a slot",
     "Books a free slot (a start find_slots gave). The answer holds the booking with its confirmation_number and the "
     "invitee's cancel_token and reschedule_token, shown only this once. A taken slot is an error that names the "
     "next free slots.",
     INPUT(P_SLUG "," P_EVENT ",\"start\":" S("The slot's start, RFC 3339 (e.g. 2026-03-10T09:00:00+01:00)")
           ",\"name\":" S("The invitee's name") ",\"email\":" S("The invitee's email address") "," P_ZONE
           ",\"notes\":" S("Anything the host should know (optional)")
           ",\"phone\":" S("The invitee's phone number (optional)")
           ",\"answers\":{\"type\":\"object\",\"description\":\"Answers to the event type's questions, "
           "{question_id: answer} (optional)\"}",
           "\"slug\",\"event_slug\",\"start\",\"name\",\"email\""),
     OUT_BOOKING, 0, 0, 0, 0, book},
    {"get_booking", "Look up a booking", "A booking found by its confirmation number and the booking's email or phone.",
     INPUT(P_NUMBER, "\"confirmation_number\",\"contact\""), OUT_BOOKING, 0, 1, 0, 1, get_booking},
    {"cancel_booking", "Cancel a booking", "Cancels a booking found by its confirmation number and email or phone.",
     INPUT(P_NUMBER "," P_REASON, "\"confirmation_number\",\"contact\""), OUT_BOOKING, 0, 0, 1, 0, cancel_booking},
    {"reschedule_booking", "Move a booking",
     "Moves a booking found by its confirmation number and email or phone to a new free start (see find_slots).",
     INPUT(P_NUMBER ",\"start\":" S("The new start, RFC 3339") "," P_ZONE,
           "\"confirmation_number\",\"contact\",\"start\""),
     OUT_BOOKING, 0, 0, 1, 0, reschedule_booking},
    {"list_bookings", "List my bookings", "The host's bookings, newest first (needs the host's API key).",
     INPUT("\"status\":{\"type\":\"string\",\"enum\":[\"pending\",\"confirmed\",\"cancelled\",\"declined\","
           "\"pending_payment\",\"expired\"]},\"from\":" S("Earliest start: YYYY-MM-DD (UTC) or RFC 3339")
           ",\"to\":" S("Latest start: YYYY-MM-DD (UTC, inclusive) or RFC 3339 (exclusive)")
           ",\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"At most this many (default 50)\"}",
           ""),
     "{\"type\":\"object\",\"properties\":{\"bookings\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
     "\"total\":{\"type\":\"integer\"}},\"required\":[\"bookings\",\"total\"]}",
     1, 1, 0, 1, list_bookings},
    {"confirm_booking", "Confirm a booking", "Confirms a pending booking of the host's (needs the host's API key).",
     INPUT(P_BOOKING_ID, "\"booking_id\""), OUT_BOOKING, 1, 0, 0, 0, confirm_booking},
    {"decline_booking", "Decline a booking", "Declines a pending booking of the host's (needs the host's API key).",
     INPUT(P_BOOKING_ID "," P_REASON, "\"booking_id\""), OUT_BOOKING, 1, 0, 1, 0, decline_booking},
};
/* clang-format on */
#define NTOOLS (sizeof tools / sizeof tools[0])

static void tools_list(http_req_t *req) {
  int host = api_ctx(req)->user_id != 0;
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"tools\":[");
  int first = 1;
  for (size_t i = 0; i < NTOOLS; i++) {
    const mcp_tool_t *t = &tools[i];
    if (t->host && !host) continue;
    if (!first) buf_putc(&b, ',');
    first = 0;
    buf_puts(&b, "{\"name\":");
    buf_json_str(&b, t->name);
    buf_puts(&b, ",\"title\":");
    buf_json_str(&b, t->title);
    buf_puts(&b, ",\"description\":");
    buf_json_str(&b, t->description);
    buf_puts(&b, ",\"inputSchema\":");
    buf_puts(&b, t->input);
    if (flow(req)->structured) {
      buf_puts(&b, ",\"outputSchema\":");
      buf_puts(&b, t->output);
    }
    buf_puts(&b, ",\"annotations\":{\"title\":");
    buf_json_str(&b, t->title);
    buf_printf(&b, ",\"readOnlyHint\":%s,\"destructiveHint\":%s,\"idempotentHint\":%s,\"openWorldHint\":false}}",
               t->read_only ? "true" : "false", t->destructive ? "true" : "false", t->idempotent ? "true" : "false");
  }
  buf_puts(&b, "]}");
  rpc_send(req, 200, "result", b.data, b.len);
  buf_free(&b);
}

static void tools_call(http_req_t *req) {
  json_t *params = flow(req)->params;
  json_t *name = json_object_get(params, "name");
  json_t *args = json_object_get(params, "arguments");
  if (!json_is_string(name)) {
    rpc_error(req, 200, RPC_PARAMS, "params.name must be the tool's name");
    return;
  }
  if (args && !json_is_null(args) && !json_is_object(args)) {
    rpc_error(req, 200, RPC_PARAMS, "params.arguments must be an object");
    return;
  }
  const mcp_tool_t *t = NULL;
  for (size_t i = 0; i < NTOOLS && !t; i++)
    if (strcmp(tools[i].name, json_string_value(name)) == 0) t = &tools[i];
  if (!t) {
    rpc_error(req, 200, RPC_PARAMS, "unknown tool (tools/list names them)");
    return;
  }
  if (t->host && !api_ctx(req)->user_id) {
    tool_refuse(req, 401, "this tool is the host's: send the host's slotd API key as Authorization: Bearer <key>",
                NULL);
    return;
  }
  if (!json_is_object(args)) {
    args = json_object();
    arena_on_destroy(req->arena, free_json, args);
  }
  api_v_t v;
  api_v_init(&v, req, args);
  t->run(req, &v);
}

/* ------------------------------------------------------------------ methods */

static int supported_version(const char *v) {
  return v && (strcmp(v, MCP_VERSION) == 0 || strcmp(v, MCP_VERSION_OLD) == 0);
}

/* The client's version when it is one of ours, else the latest (the client then decides). */
static void initialize(http_req_t *req) {
  json_t *pv = json_object_get(flow(req)->params, "protocolVersion");
  if (!json_is_string(pv)) {
    rpc_error(req, 200, RPC_PARAMS, "params.protocolVersion must be a string");
    return;
  }
  const char *version = supported_version(json_string_value(pv)) ? json_string_value(pv) : MCP_VERSION;
  buf_t b = BUF_INIT;
  buf_printf(&b,
             "{\"protocolVersion\":\"%s\",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
             "\"serverInfo\":{\"name\":\"slotd\",\"title\":\"slotd scheduling\",\"version\":",
             version);
  buf_json_str(&b, SLOTD_VERSION);
  buf_puts(&b, "},\"instructions\":");
  buf_json_str(&b,
               "Find free times with find_slots (list_event_types names a page's event types) and book one "
               "with book; keep the confirmation number to look the booking up, cancel or move it later. "
               "Times are RFC 3339. With the host's API key as a Bearer token, the host's tools appear too.");
  buf_putc(&b, '}');
  rpc_send(req, 200, "result", b.data, b.len);
  buf_free(&b);
}

static void run_method(http_req_t *req) {
  mcp_t *m = flow(req);
  if (!m->id) { /* a notification (or a client's response): nothing to answer */
    http_respond(req, 202, NULL, "", 0);
    return;
  }
  if (strcmp(m->method, "initialize") == 0) initialize(req);
  else if (strcmp(m->method, "ping") == 0) rpc_send(req, 200, "result", "{}", 2);
  else if (strcmp(m->method, "tools/list") == 0) tools_list(req);
  else if (strcmp(m->method, "tools/call") == 0) tools_call(req);
  else rpc_error(req, 200, RPC_METHOD, "method not found");
}

/* ------------------------------------------------------------------ the transport */

/* The body as one JSON-RPC message into m: 0, or -1 after answering 400. */
static int read_message(http_req_t *req, mcp_t *m) {
  char err[200];
  json_t *msg;
  if (api_json_object_parse(req->body.data, req->body.len, &msg, err, sizeof err) != 0) {
    json_t *any = req->body.len ? json_loadb(req->body.data, req->body.len, JSON_DECODE_ANY, NULL) : NULL;
    int code = any ? RPC_INVALID : RPC_PARSE;
    const char *why = !any                 ? err
                      : json_is_array(any) ? "batches are not supported: send one message per request"
                                           : "the body must be a JSON-RPC request object";
    if (any && json_is_object(any)) why = err; /* too deep, or duplicate keys */
    rpc_error(req, 400, code, why);
    json_decref(any);
    return -1;
  }
  arena_on_destroy(req->arena, free_json, msg);
  api_ctx(req)->body = msg;
  json_t *jsonrpc = json_object_get(msg, "jsonrpc"), *method = json_object_get(msg, "method");
  json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
  if (!json_is_string(jsonrpc) || strcmp(json_string_value(jsonrpc), "2.0") != 0) {
    rpc_error(req, 400, RPC_INVALID, "jsonrpc must be \"2.0\"");
    return -1;
  }
  int response = !method && id && (json_object_get(msg, "result") || json_object_get(msg, "error"));
  if (!response && (!json_is_string(method) || (id && !json_is_string(id) && !json_is_integer(id)))) {
    rpc_error(req, 400, RPC_INVALID, "not a JSON-RPC request: method must be a string, id a string or an integer");
    return -1;
  }
  if (response) return 0; /* m->id stays NULL: accepted, nothing to answer */
  m->method = json_string_value(method);
  if (id) {
    char *text = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
    m->id = arena_strdup(req->arena, text ? text : "null");
    free(text);
  }
  if (m->id && params && !json_is_null(params) && !json_is_object(params)) {
    rpc_error(req, 200, RPC_PARAMS, "params must be an object");
    return -1;
  }
  m->params = json_is_object(params) ? params : NULL;
  return 0;
}

/* The transport asks servers to check Origin against DNS rebinding. Here no ambient credential
 * counts (keys come in headers only), so a page can do nothing it could not do from anywhere; the
 * check still keeps /mcp to the origins the operator allows for public routes
 * (SLOTD_CORS_PUBLIC_ORIGINS, `*` by default). A request without Origin is not from a browser. */
static int origin_allowed(http_req_t *req) {
  const char *origin = http_req_header(req, "Origin");
  const config_t *cfg = api_app(req)->cfg;
  for (int i = 0; origin && i < cfg->n_cors_public_origins; i++)
    if (strcmp(cfg->cors_public_origins[i], "*") == 0 || strcmp(cfg->cors_public_origins[i], origin) == 0) return 1;
  return !origin;
}

int mcp_post(http_req_t *req) {
  mcp_t *m = arena_calloc(req->arena, sizeof *m);
  api_ctx(req)->flow = m;
  if (!origin_allowed(req)) {
    api_error(req, 403, E_FORBIDDEN, "this Origin may not use /mcp (SLOTD_CORS_PUBLIC_ORIGINS)");
    return 0;
  }
  /* After initialization clients name their version in a header; without it 2025-03-26 is meant. */
  const char *version = http_req_header(req, "MCP-Protocol-Version");
  if (version && !supported_version(version)) {
    rpc_error(req, 400, RPC_INVALID,
              "unsupported MCP-Protocol-Version: this server speaks " MCP_VERSION " and " MCP_VERSION_OLD);
    return 0;
  }
  m->structured = version && strcmp(version, MCP_VERSION) == 0;
  if (read_message(req, m) != 0) return 0;
  /* A key shows and opens the host's tools. Only a header counts, never the session cookie (which
   * a browser attaches by itself), so an empty key must not fall through to it (authn.c would try
   * the cookie next); a bad key is 401 whatever the method. */
  const char *authz = http_req_header(req, "Authorization"), *xkey = http_req_header(req, "X-API-Key");
  const char *token = authz && strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7 + strspn(authz + 7, " ") : "";
  if ((authz && !*token) || (xkey && !*xkey)) {
    http_set_header(req, "WWW-Authenticate", "Bearer");
    api_error(req, 401, E_UNAUTHORIZED, "Authorization must be Bearer <slotd API key>");
    return 0;
  }
  if (authz || xkey) api_authenticate(req, run_method);
  else run_method(req);
  return 0;
}

/* No server-to-client stream and no sessions: GET and DELETE are refused as the spec allows. */
static int not_allowed(http_req_t *req) {
  http_set_header(req, "Allow", "POST");
  api_error(req, 405, "METHOD_NOT_ALLOWED", "only POST: this server offers no SSE stream and keeps no sessions");
  return 0;
}

int mcp_get(http_req_t *req) { return not_allowed(req); }
int mcp_delete(http_req_t *req) { return not_allowed(req); }

/* Every statement used here is the native routes' (routes.c registers them). */
void mcp_register_statements(void) {}
