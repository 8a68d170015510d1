/* calendesk.c — the Calendesk dialect (issue 18): Calendesk's API on slotd's cores, so that a
 * Calendesk client works by changing its base URL. The contract is the seed's four calls;
 * the rest follows ../shared/vendors/README.md §2 (paths marked inferred there are used as
 * they are written).
 *
 *   GET    /api/available-slots             availability_slots() per employee (X-Tenant only)
 *   POST   /api/bookings                    book_create (preferred_host = employee_id)
 *   GET    /api/admin/bookings[/:id]        PUT moves (book_change reschedule) or changes the
 *   PUT    /api/admin/bookings/:id          status (confirm, decline, cancel); DELETE cancels
 *   DELETE /api/admin/bookings/:id
 *   GET    /api/admin/employees[/:id], /api/admin/services[/:id] (services: X-Tenant only)
 *   GET    /api/admin/users, POST /api/admin/users, GET/PUT/DELETE /api/admin/users/:id,
 *   GET    /api/admin/users/:id/bookings    the native customers (api.customer_*)
 *   GET/POST /api/admin/tags, /api/admin/groups
 *   POST   /api/admin/payments/bookings     the native payments ledger (api.payment_record)
 *   POST/GET /api/admin/webhooks, DELETE /api/admin/webhooks/:id   native webhooks, format 'calendesk'
 *
 * Selection: the routes are served only to requests carrying X-Tenant; any other request on
 * them is answered exactly as slotd answers a path it does not route (api_unrouted), before
 * anything else looks at it, so the native API does not change. The tenant is an org slug or a
 * booking-page slug; api.calendesk_scope (sql/migrations/0027_calendesk.sql) resolves it and,
 * for admin calls, checks that the API key is one of the tenant's (an org key of that org, or
 * the booking page's user's personal key): otherwise 403.
 *
 * Errors the Laravel way: 422 {"message": "The given data was invalid.", "errors": {field:
 * [message]}} for bad input (slotd's 400 naming a field), {"message": ...} for the rest. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../../core/arena.h"
#include "../../core/crypto.h"
#include "../../core/json.h"
#include "../../core/timeutil.h"
#include "../../core/util.h"
#include "../../sched/tzif.h"
#include "../availability.h"
#include "../book.h"
#include "../dispatch.h"
#include "../query.h"
#include "../respond.h"
#include "../schedules.h"
#include "../validate.h"
#include "../webhooks.h"

#define INVALID "The given data was invalid."
#define PAGE_DEFAULT 15 /* Laravel's paginator default */
#define PAGE_MAX 100    /* Calendesk caps limit at 100 (a larger one is served as 100) */

/* ------------------------------------------------------------------ the dialect */

static void cd_error(const api_failure_t *f, buf_t *out) {
  const char *message = f->message ? f->message : "Error";
  if (f->status == 429) message = "Too Many Attempts.";
  if ((f->status == 422 || f->status == 400) && f->field && *f->field) {
    buf_puts(out, "{\"message\":");
    buf_json_str(out, f->status == 422 ? INVALID : message);
    buf_puts(out, ",\"errors\":{");
    buf_json_str(out, f->field);
    buf_puts(out, ":[");
    buf_json_str(out, message);
    buf_puts(out, "]}}");
    return;
  }
  buf_puts(out, "{\"message\":");
  buf_json_str(out, message);
  buf_putc(out, '}');
}

static const api_dialect_t calendesk_dialect = {"calendesk", cd_error, NULL, NULL};

/* A failure: slotd's 400 naming a field is Laravel's 422. */
static void cd_failure(http_req_t *req, api_failure_t f) {
  if (f.status == 400 && f.field) f.status = 422;
  api_fail(req, &f);
}

static void cd_fail(http_req_t *req, int status, const char *field, const char *message) {
  cd_failure(
      req, (api_failure_t){.status = status, .code = api_code_for_status(status), .message = message, .field = field});
}

static int cd_db_failed(http_req_t *req, const db_result_t *r) {
  api_failure_t f;
  char msg[512];
  if (api_db_failure(r, &f, msg, sizeof msg) == 0) return 0;
  if (f.status >= 500) return api_db_failed(req, r); /* logged there */
  cd_failure(req, f);
  return 1;
}

static int cd_v_respond(api_v_t *v) {
  cd_fail(v->req, 400, v->field, v->message);
  return 0;
}

/* ------------------------------------------------------------------ selection */

/* A request without X-Tenant is not Calendesk's: answered as the server answers a path it does
 * not route. Only POST /api/bookings shares its path with a native route (GET /api/bookings),
 * so there the answer is the router's 405 with the native route's methods. */
static int cd_route(http_req_t *req) {
  if (http_req_header(req, "X-Tenant")) return api_dispatch(req);
  if (strcmp(req->match.route->pattern, "/api/bookings") == 0) {
    http_set_header(req, "Allow", "GET, HEAD, OPTIONS");
    api_unrouted(req, 405, "GET, HEAD, OPTIONS");
  } else {
    api_unrouted(req, 404, NULL);
  }
  return 0;
}

/* clang-format off */
#define PUB(fn) cd_route, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC, &calendesk_dialect}
#define ADMIN(fn) cd_route, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &calendesk_dialect}
/* clang-format on */

/* ------------------------------------------------------------------ request state */

typedef struct {
  const char *tenant;
  int status; /* of the success answer */
  /* available slots */
  const tz_t *tz;
  int64_t day, ndays;        /* start_date (days since 1970) and number_of_days */
  int64_t from, to, service; /* the window of slot starts, [from, to) */
  int64_t *employees;
  size_t nemployees, next;
  json_t *out;
  /* bookings */
  book_request_t b;
  book_change_t c;
  const char *tenant_tz;
  const char *start_date, *start_time, *status_in, *description;
  json_t *customer;
  int64_t booking_id;
  int wants_pending;
  int about_customer; /* the answer describes a customer: its idempotency record names them */
} cd_t;

static void out_free(void *p) { json_decref(p); }

static cd_t *cd_new(http_req_t *req, int status) {
  cd_t *f = arena_calloc(req->arena, sizeof *f);
  f->tenant = http_req_header(req, "X-Tenant");
  f->status = status;
  api_ctx(req)->flow = f;
  return f;
}

static cd_t *cd(http_req_t *req) { return api_ctx(req)->flow; }

static const char *me(http_req_t *req) { return api_ctx(req)->user_id ? api_ctx(req)->user_id_str : NULL; }

/* The page's URL without its query (Laravel's path; page URLs add ?page=N). */
static const char *page_url(http_req_t *req) {
  return arena_printf(req->arena, "%s%.*s", api_app(req)->cfg->public_url, (int)req->path_len, req->path);
}

/* page, limit (capped at PAGE_MAX), order_by (one of orders, the first the default) and
 * ascending (0/1, true/false; default ascending). 0, or -1 after answering 422. */
typedef struct {
  char page[24], limit[24];
  const char *order, *asc;
} cd_page_t;

static int positive(const char *s, long long *out) {
  char *end;
  if (!s || !*s) return 0;
  long long n = strtoll(s, &end, 10);
  if (*end || n < 1 || n > API_PAGE_MAX) return 0;
  *out = n;
  return 1;
}

static int page_parse(http_req_t *req, const char *const *orders, cd_page_t *p) {
  const char *ps = api_query_param(req, "page"), *ls = api_query_param(req, "limit");
  const char *ob = api_query_param(req, "order_by"), *as = api_query_param(req, "ascending");
  long long page = 1, limit = PAGE_DEFAULT;
  if (ps && !positive(ps, &page)) return cd_fail(req, 400, "page", "The page must be a positive integer."), -1;
  if (ls && !positive(ls, &limit)) return cd_fail(req, 400, "limit", "The limit must be a positive integer."), -1;
  if (limit > PAGE_MAX) limit = PAGE_MAX;
  snprintf(p->page, sizeof p->page, "%lld", page);
  snprintf(p->limit, sizeof p->limit, "%lld", limit);
  p->order = orders[0];
  if (ob) {
    p->order = NULL;
    for (int i = 0; orders[i]; i++)
      if (strcmp(ob, orders[i]) == 0) p->order = orders[i];
    if (!p->order) return cd_fail(req, 400, "order_by", "The selected order by is invalid."), -1;
  }
  p->asc = "true";
  if (as) {
    if (strcmp(as, "1") == 0 || strcmp(as, "true") == 0) p->asc = "true";
    else if (strcmp(as, "0") == 0 || strcmp(as, "false") == 0) p->asc = "false";
    else return cd_fail(req, 400, "ascending", "The ascending field must be true or false."), -1;
  }
  return 0;
}

/* A path id, or NULL after 404. */
static const char *path_id(http_req_t *req, const char *what) {
  const char *id = http_req_param(req, "id");
  if (!id || !api_parse_id(id)) {
    cd_fail(req, 404, NULL, what);
    return NULL;
  }
  return id;
}

/* "1,2,3" (or one id) -> "{1,2,3}"; NULL after 422. */
static const char *id_array(http_req_t *req, const char *s, const char *field) {
  buf_t b = BUF_INIT;
  buf_putc(&b, '{');
  const char *p = s;
  int n = 0;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char one[24];
    if (len == 0 || len >= sizeof one) goto bad;
    memcpy(one, p, len);
    one[len] = '\0';
    if (!api_parse_id(one)) goto bad;
    buf_printf(&b, "%s%s", n++ ? "," : "", one);
    p += len;
    if (*p == ',') p++;
  }
  if (!n) goto bad;
  buf_putc(&b, '}');
  const char *out = arena_strndup(req->arena, b.data, b.len);
  buf_free(&b);
  return out;
bad:
  buf_free(&b);
  cd_fail(req, 400, field, arena_printf(req->arena, "The %s must be a comma-separated list of ids.", field));
  return NULL;
}

/* ------------------------------------------------------------------ plain statements */

static void on_json(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (cd_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    cd_fail(req, 404, NULL, "Not found.");
    return;
  }
  /* A stored replay of an answer about a person goes when they are erased (idempotency.h). */
  if (cd(req)->about_customer)
    api_ctx(req)->customer_id = api_jsonb_id(PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
  if (cd(req)->booking_id) api_ctx(req)->booking_id = cd(req)->booking_id;
  api_respond_pg(req, cd(req)->status, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

/* A write function's (body, host_ids, stale): the hosts' caches are told. */
static void on_write(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (cd_db_failed(req, r)) return;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  api_respond_pg(req, cd(req)->status, w.body, w.len);
}

static int run(http_req_t *req, int status, const char *stmt, int n, const char *const *params, db_cb cb) {
  cd_new(req, status);
  api_query(req, stmt, n, params, cb);
  return 0;
}

#define TENANT_ARGS(req) http_req_header(req, "X-Tenant"), me(req), api_key_org(req)

/* ------------------------------------------------------------------ services, employees */

static const char *const ID_ORDER[] = {"id", NULL};

static int services_list(http_req_t *req) {
  cd_page_t p;
  if (page_parse(req, ID_ORDER, &p)) return 0;
  const char *params[7] = {http_req_header(req, "X-Tenant"), NULL, NULL, NULL, p.page, p.limit, page_url(req)};
  return run(req, 200, "calendesk_services", 7, params, on_json);
}

static int services_get(http_req_t *req) {
  const char *id = path_id(req, "service not found");
  if (!id) return 0;
  const char *params[7] = {http_req_header(req, "X-Tenant"), NULL, NULL, id, "1", "1", ""};
  return run(req, 200, "calendesk_services", 7, params, on_json);
}

static int employees_list(http_req_t *req) {
  cd_page_t p;
  if (page_parse(req, ID_ORDER, &p)) return 0;
  const char *params[7] = {TENANT_ARGS(req), NULL, p.page, p.limit, page_url(req)};
  return run(req, 200, "calendesk_employees", 7, params, on_json);
}

static int employees_get(http_req_t *req) {
  const char *id = path_id(req, "employee not found");
  if (!id) return 0;
  const char *params[7] = {TENANT_ARGS(req), id, "1", "1", ""};
  return run(req, 200, "calendesk_employees", 7, params, on_json);
}

/* ------------------------------------------------------------------ customers ("users") */

static const char *const USER_ORDER[] = {"id", "name", "surname", "email", "created_at", NULL};

static int users_list(http_req_t *req) {
  cd_page_t p;
  if (page_parse(req, USER_ORDER, &p)) return 0;
  const char *q = api_query_param(req, "query");
  if (q && !*q) q = NULL;
  if (q && strlen(q) > 200) return cd_fail(req, 400, "query", "The query may not be greater than 200 characters."), 0;
  const char *order = strcmp(p.order, "created_at") == 0 ? "id" : p.order; /* ids grow with creation */
  const char *params[9] = {TENANT_ARGS(req), q, order, p.asc, p.page, p.limit, page_url(req)};
  return run(req, 200, "calendesk_users_list", 9, params, on_json);
}

/* The user fields Calendesk sends, checked here (the native customer rules run in SQL). */
static int user_body(http_req_t *req, int creating, const char **patch) {
  if (api_body_object(req)) return -1;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  api_v_line(&v, "name", 0, 1, 200);
  api_v_line(&v, "surname", 0, 1, 200);
  const char *email = api_v_str(&v, "email", creating, 3, 254);
  if (!v.failed && email && !api_valid_email(email))
    api_v_fail(&v, "email", "The email must be a valid email address.");
  const char *tz = api_v_str(&v, "time_zone", 0, 1, 64);
  if (!v.failed && tz && !tz_get(tz)) api_v_fail(&v, "time_zone", "The time zone must be a valid zone.");
  const char *status = api_v_str(&v, "status", 0, 1, 20);
  if (!v.failed && status && strcmp(status, "active") != 0 && strcmp(status, "blocked") != 0)
    api_v_fail(&v, "status", "The selected status is invalid.");
  json_t *phone = json_object_get(body, "default_phone");
  if (!v.failed && phone && !json_is_null(phone)) {
    json_t *e = json_is_object(phone) ? json_object_get(phone, "e164") : phone;
    if (!json_is_string(e) || !api_valid_phone(json_string_value(e)))
      api_v_fail(&v, "default_phone", "The default phone must be a phone number.");
  }
  const char *const lists[2] = {"tags", "groups"};
  for (int i = 0; i < 2 && !v.failed; i++) {
    json_t *a = json_object_get(body, lists[i]);
    if (!a) continue;
    if (!json_is_array(a) || json_array_size(a) > 100) {
      api_v_fail(&v, lists[i], "The %s must be a list of ids or names.", lists[i]);
      continue;
    }
    size_t k;
    json_t *x;
    json_array_foreach(a, k, x) {
      if (!(json_is_integer(x) && json_integer_value(x) > 0) &&
          !(json_is_string(x) && json_string_length(x) >= 1 && json_string_length(x) <= 100))
        api_v_fail(&v, lists[i], "The %s must be a list of ids or names.", lists[i]);
    }
  }
  if (v.failed) return cd_v_respond(&v), -1;
  char *text = json_dumps(body, JSON_COMPACT);
  *patch = arena_strdup(req->arena, text);
  free(text);
  return 0;
}

static int users_create(http_req_t *req) {
  const char *patch;
  if (user_body(req, 1, &patch)) return 0;
  cd_new(req, 201)->about_customer = 1;
  const char *params[5] = {TENANT_ARGS(req), NULL, patch};
  api_query(req, "calendesk_user_save", 5, params, on_json);
  return 0;
}

static int users_update(http_req_t *req) {
  const char *id = path_id(req, "customer not found");
  if (!id) return 0;
  const char *patch;
  if (user_body(req, 0, &patch)) return 0;
  cd_new(req, 200)->about_customer = 1;
  const char *params[5] = {TENANT_ARGS(req), id, patch};
  api_query(req, "calendesk_user_save", 5, params, on_json);
  return 0;
}

static int users_get(http_req_t *req) {
  const char *id = path_id(req, "customer not found");
  if (!id) return 0;
  const char *params[4] = {TENANT_ARGS(req), id};
  return run(req, 200, "calendesk_user_get", 4, params, on_json);
}

static int users_delete(http_req_t *req) {
  const char *id = path_id(req, "customer not found");
  if (!id) return 0;
  const char *params[4] = {TENANT_ARGS(req), id};
  return run(req, 200, "calendesk_user_delete", 4, params, on_write);
}

static int users_bookings(http_req_t *req) {
  const char *id = path_id(req, "customer not found");
  if (!id) return 0;
  cd_page_t p;
  if (page_parse(req, ID_ORDER, &p)) return 0;
  const char *params[7] = {TENANT_ARGS(req), id, p.page, p.limit, page_url(req)};
  return run(req, 200, "calendesk_user_bookings", 7, params, on_json);
}

static int labels_list(http_req_t *req, const char *stmt) {
  const char *params[3] = {TENANT_ARGS(req)};
  return run(req, 200, stmt, 3, params, on_json);
}

static int labels_create(http_req_t *req, const char *stmt) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *name = api_v_line(&v, "name", 1, 1, 100);
  if (v.failed) return cd_v_respond(&v);
  const char *params[4] = {TENANT_ARGS(req), name};
  return run(req, 201, stmt, 4, params, on_json);
}

static int tags_list(http_req_t *req) { return labels_list(req, "calendesk_tags"); }
static int tags_create(http_req_t *req) { return labels_create(req, "calendesk_tag_create"); }
static int groups_list(http_req_t *req) { return labels_list(req, "calendesk_groups"); }
static int groups_create(http_req_t *req) { return labels_create(req, "calendesk_group_create"); }

/* ------------------------------------------------------------------ payments */

static int payments_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  long long booking = 0, amount = 0;
  int is_paid = 1;
  if (!api_v_int(&v, "booking_id", 1, 999999999999999999LL, 0, NULL, &booking) && !v.failed)
    api_v_fail(&v, "booking_id", "The booking id field is required.");
  if (!api_v_int(&v, "amount", 1, 100000000000LL, 0, NULL, &amount) && !v.failed)
    api_v_fail(&v, "amount", "The amount field is required.");
  const char *method = api_v_line(&v, "payment_method", 0, 1, 50);
  const char *status = api_v_str(&v, "status", 0, 1, 20);
  const char *txn = api_v_line(&v, "transaction_id", 0, 1, 200);
  api_v_bool(&v, "is_paid", &is_paid);
  /* The ledger records money received: a payment reported as not (yet) taken is refused rather
   * than stored as if it had been. */
  if (!v.failed && status && strcmp(status, "approved") != 0 && strcmp(status, "paid") != 0)
    api_v_fail(&v, "status", "Only received payments (status approved) can be recorded.");
  if (!v.failed && !is_paid) api_v_fail(&v, "is_paid", "Only received payments (is_paid true) can be recorded.");
  if (v.failed) return cd_v_respond(&v);
  char b[24], a[24];
  snprintf(b, sizeof b, "%lld", booking);
  snprintf(a, sizeof a, "%lld", amount);
  const char *params[7] = {TENANT_ARGS(req), b, a, method ? method : "other", txn};
  return run(req, 200, "calendesk_payment", 7, params, on_write);
}

/* ------------------------------------------------------------------ webhooks */

/* Calendesk's event names (the seed's four and booking_deleted for the cancellation the page
 * mentions without naming). */
static const char *const CD_EVENTS[] = {"booking_created", "booking_updated", "booking_deleted",
                                        "booking_paid",    "user_created",    NULL};

static int cd_webhooks_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  const char *url = api_v_str(&v, "url", 1, 1, 2048);
  if (url && !v.failed) webhooks_check_url(&v, "url", url);
  json_t *events = json_object_get(body, "events");
  buf_t b = BUF_INIT;
  if (!v.failed && (!json_is_array(events) || json_array_size(events) == 0 || json_array_size(events) > 10))
    api_v_fail(&v, "events", "The events must be a non-empty list of event names.");
  size_t i;
  json_t *e;
  buf_putc(&b, '{');
  if (!v.failed) json_array_foreach(events, i, e) {
      int known = 0;
      for (int k = 0; CD_EVENTS[k] && json_is_string(e); k++) known |= strcmp(json_string_value(e), CD_EVENTS[k]) == 0;
      if (!known) {
        api_v_fail(&v, "events",
                   "The selected events are invalid (booking_created, booking_updated, booking_deleted, "
                   "booking_paid, user_created).");
        break;
      }
      buf_printf(&b, "%s%s", i ? "," : "", json_string_value(e));
    }
  buf_putc(&b, '}');
  const char *list = arena_strndup(req->arena, b.data, b.len);
  buf_free(&b);
  if (v.failed) return cd_v_respond(&v);
  /* A signing secret like the native webhooks' (Standard Webhooks form), shown this once. */
  unsigned char raw[24];
  char secret[64];
  random_bytes(raw, sizeof raw);
  memcpy(secret, "whsec_", 6);
  crypto_base64_encode(raw, sizeof raw, secret + 6, sizeof secret - 6);
  http_set_header(req, "Cache-Control", "no-store");
  const char *params[6] = {TENANT_ARGS(req), url, list, secret};
  return run(req, 201, "calendesk_webhook_create", 6, params, on_json);
}

static int cd_webhooks_list(http_req_t *req) {
  cd_page_t p;
  if (page_parse(req, ID_ORDER, &p)) return 0;
  const char *params[6] = {TENANT_ARGS(req), p.page, p.limit, page_url(req)};
  return run(req, 200, "calendesk_webhooks", 6, params, on_json);
}

static int cd_webhooks_delete(http_req_t *req) {
  const char *id = path_id(req, "webhook not found");
  if (!id) return 0;
  const char *params[4] = {TENANT_ARGS(req), id};
  return run(req, 200, "calendesk_webhook_delete", 4, params, on_json);
}

/* ------------------------------------------------------------------ available slots */

static void slots_next(http_req_t *req);

static void on_employee_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                              const db_result_t *fail) {
  (void)data;
  cd_t *f = cd(req);
  if (!in) {
    if (!fail || !cd_db_failed(req, fail)) cd_fail(req, 500, NULL, "Server Error");
    return;
  }
  json_t *days = json_object();
  for (size_t i = 0; i < n; i++) {
    if (v[i].start < f->from || v[i].start >= f->to) continue;
    int64_t local = v[i].start + tz_offset(f->tz, v[i].start);
    char s[48];
    time_format_utc(local, s, sizeof s); /* "2026-04-01T09:00:00Z" on the customer's wall clock */
    char day[11], hm[6];
    memcpy(day, s, 10);
    day[10] = '\0';
    memcpy(hm, s + 11, 5);
    hm[5] = '\0';
    json_t *list = json_object_get(days, day);
    if (!list) json_object_set_new(days, day, list = json_array());
    json_array_append_new(list, json_string(hm));
  }
  char key[24];
  snprintf(key, sizeof key, "%" PRId64, f->employees[f->next]);
  json_object_set_new(f->out, key, days);
  f->next++;
  slots_next(req);
}

static void slots_next(http_req_t *req) {
  cd_t *f = cd(req);
  if (f->next >= f->nemployees) {
    api_respond_json(req, 200, json_incref(f->out));
    return;
  }
  avail_query_t q = {.event_type_id = f->service, .from = f->from, .to = f->to, .host_filter = f->employees[f->next]};
  availability_slots(req, &q, on_employee_slots, NULL);
}

static void on_slots_info(void *data, const db_result_t *r) {
  http_req_t *req = data;
  cd_t *f = cd(req);
  if (cd_db_failed(req, r)) return;
  json_t *info = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (!info) {
    cd_fail(req, 500, NULL, "Server Error");
    return;
  }
  if (!f->tz) f->tz = tz_get(json_string_value(json_object_get(info, "tz")));
  if (!f->tz) f->tz = tz_get("UTC");
  json_t *emps = json_object_get(info, "employees");
  f->nemployees = json_array_size(emps);
  f->employees = arena_calloc(req->arena, (f->nemployees ? f->nemployees : 1) * sizeof *f->employees);
  for (size_t i = 0; i < f->nemployees; i++) f->employees[i] = json_integer_value(json_array_get(emps, i));
  json_decref(info);
  /* The window: the days from start_date on the customer's wall clock. */
  f->from = tz_local_to_utc(f->tz, f->day * 86400);
  f->to = tz_local_to_utc(f->tz, (f->day + f->ndays) * 86400);
  slots_next(req);
}

static int available_slots(http_req_t *req) {
  cd_t *f = cd_new(req, 200);
  f->out = json_object();
  arena_on_destroy(req->arena, out_free, f->out);
  const char *sid = api_query_param(req, "service_id"), *sd = api_query_param(req, "start_date");
  const char *nd = api_query_param(req, "number_of_days"), *zone = api_query_param(req, "customer_time_zone");
  const char *emps = api_query_param(req, "employee_ids");
  if (!sid) return cd_fail(req, 400, "service_id", "The service id field is required."), 0;
  if (!api_parse_id(sid)) return cd_fail(req, 400, "service_id", "The service id must be an integer."), 0;
  f->service = api_parse_id(sid);
  int64_t day;
  if (!sd) return cd_fail(req, 400, "start_date", "The start date field is required."), 0;
  if (parse_date(sd, &day) != 0)
    return cd_fail(req, 400, "start_date", "The start date does not match the format Y-m-d."), 0;
  long long n = 7;
  if (nd && (!positive(nd, &n) || n > AVAIL_MAX_DAYS))
    return cd_fail(req, 400, "number_of_days", "The number of days must be between 1 and 62."), 0;
  if (zone && *zone && !(f->tz = tz_get(zone)))
    return cd_fail(req, 400, "customer_time_zone", "The customer time zone must be a valid zone."), 0;
  const char *ids = NULL;
  if (emps && *emps && !(ids = id_array(req, emps, "employee_ids"))) return 0;
  f->day = day;
  f->ndays = n;
  const char *params[3] = {http_req_header(req, "X-Tenant"), sid, ids};
  api_query(req, "calendesk_slots_info", 3, params, on_slots_info);
  return 0;
}

/* ------------------------------------------------------------------ bookings */

/* "HH:MM" -> minutes, or -1. */
static int parse_hm(const char *s) {
  if (!s || strlen(s) != 5 || s[2] != ':') return -1;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* start_date + start_time on the tenant's wall clock -> Unix seconds; -1 after 422. A wall time
 * skipped by a DST change does not exist there: refused rather than moved. */
static int wall_time(http_req_t *req, const char *zone, const char *date, const char *time, int64_t *out) {
  const tz_t *tz = tz_get(zone);
  if (!tz) tz = tz_get("UTC");
  int64_t day;
  int hm = parse_hm(time);
  if (parse_date(date, &day) != 0)
    return cd_fail(req, 400, "start_date", "The start date does not match the format Y-m-d."), -1;
  if (hm < 0) return cd_fail(req, 400, "start_time", "The start time does not match the format H:i."), -1;
  int64_t local = day * 86400 + hm * 60;
  int64_t t = tz_local_to_utc(tz, local);
  if (t + tz_offset(tz, t) != local)
    return cd_fail(req, 400, "start_time", "The start time does not exist on this day (a clock change)."), -1;
  *out = t;
  return 0;
}

static void answer_booking(http_req_t *req, int64_t id) {
  cd(req)->booking_id = id;
  char b[24];
  snprintf(b, sizeof b, "%" PRId64, id);
  const char *params[2] = {b, cd(req)->tenant_tz};
  api_query(req, "calendesk_booking_by_id", 2, params, on_json);
}

static void book_failed(http_req_t *req, const api_failure_t *fl) {
  api_failure_t f = *fl;
  f.next_slots = NULL;
  if (f.status == 409 && !f.current_status) f.message = "The selected time slot is no longer available.";
  cd_failure(req, f);
}

static void booked(http_req_t *req, const book_result_t *res) {
  int64_t id = api_jsonb_id(res->body, res->len);
  if (!id) { /* the native body is {"booking": {...}}: read the id from its row */
    json_t *j = json_loadb(res->body, res->len, 0, NULL);
    json_t *b = json_object_get(j, "booking");
    id = json_integer_value(json_object_get(b ? b : j, "id"));
    json_decref(j);
  }
  answer_booking(req, id);
}

static const book_presenter_t created_presenter = {booked, book_failed};
static const book_presenter_t changed_presenter = {booked, book_failed};

static void on_book_info(void *data, const db_result_t *r) {
  http_req_t *req = data;
  cd_t *f = cd(req);
  if (cd_db_failed(req, r)) return;
  json_t *info = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (!info) {
    cd_fail(req, 500, NULL, "Server Error");
    return;
  }
  arena_on_destroy(req->arena, out_free, info);
  f->tenant_tz = arena_strdup(req->arena, json_string_value(json_object_get(info, "tz")));
  /* The confirmation rule is the service's: a status it would not give is refused, not ignored. */
  int confirm = json_is_true(json_object_get(info, "requires_confirmation"));
  if (confirm != f->wants_pending) {
    cd_fail(req, 400, "status",
            confirm ? "This service requires confirmation: the booking can only be created as pending."
                    : "This service does not require confirmation: the booking can only be created as approved.");
    return;
  }
  if (!f->customer) {
    const char *name = json_string_value(json_object_get(info, "name"));
    f->b.email = arena_strdup(req->arena, json_string_value(json_object_get(info, "email")));
    f->b.name = arena_strdup(req->arena, name ? name : f->b.email);
    const char *phone = json_string_value(json_object_get(info, "phone"));
    f->b.phone = phone ? arena_strdup(req->arena, phone) : NULL;
    const char *ctz = json_string_value(json_object_get(info, "time_zone"));
    if (ctz && tz_get(ctz)) f->b.timezone = arena_strdup(req->arena, ctz);
  }
  if (!f->b.timezone) f->b.timezone = f->tenant_tz;
  if (wall_time(req, f->tenant_tz, f->start_date, f->start_time, &f->b.start)) return;
  book_create(req, &f->b, &created_presenter);
}

static int bookings_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  cd_t *f = cd_new(req, 201);
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  long long employee = 0, service = 0, customer = 0;
  if (!api_v_int(&v, "employee_id", 1, 999999999999999999LL, 0, NULL, &employee) && !v.failed)
    api_v_fail(&v, "employee_id", "The employee id field is required.");
  if (!api_v_int(&v, "service_id", 1, 999999999999999999LL, 0, NULL, &service) && !v.failed)
    api_v_fail(&v, "service_id", "The service id field is required.");
  api_v_int(&v, "user_id", 1, 999999999999999999LL, 0, NULL, &customer);
  f->start_date = api_v_str(&v, "start_date", 1, 10, 10);
  f->start_time = api_v_str(&v, "start_time", 1, 5, 5);
  const char *status = api_v_str(&v, "status", 0, 1, 20);
  if (!v.failed && status && strcmp(status, "approved") != 0 && strcmp(status, "pending") != 0)
    api_v_fail(&v, "status", "The selected status is invalid.");
  f->wants_pending = status && strcmp(status, "pending") == 0;
  f->b.notes = api_v_str(&v, "description", 0, 0, 5000);
  int notify = 1;
  api_v_bool(&v, "send_notifications", &notify);
  json_t *c = json_object_get(body, "customer");
  if (!v.failed && c && !customer) {
    if (!json_is_object(c)) {
      api_v_fail(&v, "customer", "The customer must be an object.");
    } else {
      api_v_t cv;
      api_v_init(&cv, req, c);
      const char *name = api_v_line(&cv, "name", 0, 1, 100);
      const char *surname = api_v_line(&cv, "surname", 0, 1, 100);
      const char *email = api_v_str(&cv, "email", 1, 3, 254);
      const char *phone = api_v_str(&cv, "phone", 0, 1, 32);
      if (!cv.failed && !api_valid_email(email))
        api_v_fail(&cv, "email", "The customer email must be a valid email address.");
      if (!cv.failed && phone && !api_valid_phone(phone))
        api_v_fail(&cv, "phone", "The customer phone must be a phone number.");
      if (cv.failed) api_v_fail(&v, arena_printf(req->arena, "customer.%s", cv.field), "%s", cv.message);
      f->customer = c;
      f->b.email = email;
      f->b.phone = phone;
      f->b.name = name && surname ? arena_printf(req->arena, "%s %s", name, surname)
                  : name          ? name
                  : surname       ? surname
                                  : email;
    }
  } else if (!v.failed && !customer) {
    api_v_fail(&v, "user_id", "The user id field is required when customer is not present.");
  }
  if (v.failed) return cd_v_respond(&v);
  f->b.target.event_type_id = service;
  f->b.preferred_host = employee;
  f->b.seats = 1;
  f->b.quiet = !notify; /* the core allows it to the tenant's key (the org's, or the host's own) */
  char e[24], s[24], u[24];
  snprintf(e, sizeof e, "%lld", employee);
  snprintf(s, sizeof s, "%lld", service);
  snprintf(u, sizeof u, "%lld", customer);
  const char *params[6] = {TENANT_ARGS(req), s, e, customer ? u : NULL};
  api_query(req, "calendesk_book_info", 6, params, on_book_info);
  return 0;
}

static const char *const BOOKING_ORDER[] = {"start_date", "id", NULL};

static int bookings_list(http_req_t *req) {
  cd_page_t p;
  if (page_parse(req, BOOKING_ORDER, &p)) return 0;
  const char *e = api_query_param(req, "employee_ids"), *s = api_query_param(req, "service_ids");
  const char *u = api_query_param(req, "user_id"), *st = api_query_param(req, "status");
  const char *from = api_query_param(req, "from"), *to = api_query_param(req, "to");
  if (e && *e && !(e = id_array(req, e, "employee_ids"))) return 0;
  if (s && *s && !(s = id_array(req, s, "service_ids"))) return 0;
  if (u && !api_parse_id(u)) return cd_fail(req, 400, "user_id", "The user id must be an integer."), 0;
  static const char *const statuses[] = {"approved", "pending", "waiting_for_payment", "rejected", "cancelled", NULL};
  if (st) {
    int ok = 0;
    for (int i = 0; statuses[i]; i++) ok |= strcmp(st, statuses[i]) == 0;
    if (!ok) return cd_fail(req, 400, "status", "The selected status is invalid."), 0;
  }
  int64_t day;
  if (from && parse_date(from, &day) != 0)
    return cd_fail(req, 400, "from", "The from does not match the format Y-m-d."), 0;
  if (to && parse_date(to, &day) != 0) return cd_fail(req, 400, "to", "The to does not match the format Y-m-d."), 0;
  const char *params[14] = {TENANT_ARGS(req),
                            e && *e ? e : NULL,
                            s && *s ? s : NULL,
                            u,
                            st,
                            from,
                            to,
                            strcmp(p.order, "id") == 0 ? "id" : "start",
                            p.asc,
                            p.page,
                            p.limit,
                            page_url(req)};
  return run(req, 200, "calendesk_bookings_list", 14, params, on_json);
}

static int bookings_get(http_req_t *req) {
  const char *id = path_id(req, "booking not found");
  if (!id) return 0;
  const char *params[4] = {TENANT_ARGS(req), id};
  return run(req, 200, "calendesk_booking_get", 4, params, on_json);
}

/* A change through the core, acting as the booking's host once the tenant's key was checked. */
static void on_actor(void *data, const db_result_t *r) {
  http_req_t *req = data;
  cd_t *f = cd(req);
  if (cd_db_failed(req, r)) return;
  json_t *a = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (!a) {
    cd_fail(req, 500, NULL, "Server Error");
    return;
  }
  f->tenant_tz = arena_strdup(req->arena, json_string_value(json_object_get(a, "tz")));
  f->c.user = arena_printf(req->arena, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(a, "host")));
  json_decref(a);
  f->c.by = "host";
  if (strcmp(f->c.action, "reschedule") == 0 &&
      wall_time(req, f->tenant_tz, f->start_date, f->start_time, &f->c.new_start))
    return;
  if (strcmp(f->c.action, "get") == 0) {
    answer_booking(req, f->booking_id);
    return;
  }
  book_change(req, &f->c, &changed_presenter);
}

static int change(http_req_t *req, const char *id, const char *action) {
  cd_t *f = cd(req);
  f->c.action = action;
  snprintf(f->c.booking_id, sizeof f->c.booking_id, "%s", id);
  f->booking_id = api_parse_id(id);
  const char *params[4] = {TENANT_ARGS(req), id};
  api_query(req, "calendesk_booking_actor", 4, params, on_actor);
  return 0;
}

static int bookings_update(http_req_t *req) {
  const char *id = path_id(req, "booking not found");
  if (!id) return 0;
  if (api_body_object(req)) return 0;
  cd_t *f = cd_new(req, 200);
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  f->start_date = api_v_str(&v, "start_date", 0, 10, 10);
  f->start_time = api_v_str(&v, "start_time", 0, 5, 5);
  const char *status = api_v_str(&v, "status", 0, 1, 20);
  f->c.reason = api_v_str(&v, "reason", 0, 0, 500);
  if (!v.failed && (f->start_date || f->start_time) && (!f->start_date || !f->start_time))
    api_v_fail(&v, f->start_date ? "start_time" : "start_date",
               "Both start_date and start_time are needed to move a booking.");
  if (!v.failed && f->start_date && status)
    api_v_fail(&v, "status", "A booking is moved or its status changed, one at a time.");
  const char *action = f->start_date ? "reschedule" : NULL;
  if (!v.failed && status) {
    if (strcmp(status, "approved") == 0) action = "confirm";
    else if (strcmp(status, "rejected") == 0) action = "decline";
    else if (strcmp(status, "cancelled") == 0) action = "cancel";
    else api_v_fail(&v, "status", "The selected status is invalid.");
  }
  if (!v.failed && !action)
    api_v_fail(&v, "start_date", "Nothing to change: give start_date and start_time, or status.");
  if (v.failed) return cd_v_respond(&v);
  return change(req, id, action);
}

static int bookings_delete(http_req_t *req) {
  const char *id = path_id(req, "booking not found");
  if (!id) return 0;
  cd_new(req, 200);
  return change(req, id, "cancel");
}

/* ------------------------------------------------------------------ module */

static const http_route_t routes[] = {
    {M(HTTP_GET), "/api/available-slots", PUB(available_slots)},
    {M(HTTP_POST), "/api/bookings", ADMIN(bookings_create)},
    {M(HTTP_GET), "/api/admin/bookings", ADMIN(bookings_list)},
    {M(HTTP_GET), "/api/admin/bookings/:id", ADMIN(bookings_get)},
    {M(HTTP_PUT), "/api/admin/bookings/:id", ADMIN(bookings_update)},
    {M(HTTP_DELETE), "/api/admin/bookings/:id", ADMIN(bookings_delete)},
    {M(HTTP_GET), "/api/admin/employees", ADMIN(employees_list)},
    {M(HTTP_GET), "/api/admin/employees/:id", ADMIN(employees_get)},
    {M(HTTP_GET), "/api/admin/services", PUB(services_list)},
    {M(HTTP_GET), "/api/admin/services/:id", PUB(services_get)},
    {M(HTTP_GET), "/api/admin/users", ADMIN(users_list)},
    {M(HTTP_POST), "/api/admin/users", ADMIN(users_create)},
    {M(HTTP_GET), "/api/admin/users/:id", ADMIN(users_get)},
    {M(HTTP_PUT), "/api/admin/users/:id", ADMIN(users_update)},
    {M(HTTP_DELETE), "/api/admin/users/:id", ADMIN(users_delete)},
    {M(HTTP_GET), "/api/admin/users/:id/bookings", ADMIN(users_bookings)},
    {M(HTTP_GET), "/api/admin/tags", ADMIN(tags_list)},
    {M(HTTP_POST), "/api/admin/tags", ADMIN(tags_create)},
    {M(HTTP_GET), "/api/admin/groups", ADMIN(groups_list)},
    {M(HTTP_POST), "/api/admin/groups", ADMIN(groups_create)},
    {M(HTTP_POST), "/api/admin/payments/bookings", ADMIN(payments_create)},
    {M(HTTP_POST), "/api/admin/webhooks", ADMIN(cd_webhooks_create)},
    {M(HTTP_GET), "/api/admin/webhooks", ADMIN(cd_webhooks_list)},
    {M(HTTP_DELETE), "/api/admin/webhooks/:id", ADMIN(cd_webhooks_delete)},
};

/* Every statement starts with (tenant, user, key org): api.calendesk_scope resolves them. */
static const api_stmt_t statements[] = {
    {"calendesk_services", "SELECT api.calendesk_services($1, $2, $3, $4, $5, $6, $7)", 0},
    {"calendesk_employees", "SELECT api.calendesk_employees($1, $2, $3, $4, $5, $6, $7)", 0},
    {"calendesk_users_list", "SELECT api.calendesk_users_list($1, $2, $3, $4, $5, $6, $7, $8, $9)", 0},
    {"calendesk_user_save", "SELECT api.calendesk_user_save($1, $2, $3, $4, $5)", 1},
    {"calendesk_user_get", "SELECT api.calendesk_user_get($1, $2, $3, $4)", 0},
    {"calendesk_user_delete", "SELECT body, host_ids, stale FROM api.calendesk_user_delete($1, $2, $3, $4)", 1},
    {"calendesk_user_bookings", "SELECT api.calendesk_user_bookings($1, $2, $3, $4, $5, $6, $7)", 0},
    {"calendesk_tags", "SELECT api.calendesk_labels('tag', $1, $2, $3)", 0},
    {"calendesk_tag_create", "SELECT api.calendesk_label_create('tag', $1, $2, $3, $4)", 1},
    {"calendesk_groups", "SELECT api.calendesk_labels('group', $1, $2, $3)", 0},
    {"calendesk_group_create", "SELECT api.calendesk_label_create('group', $1, $2, $3, $4)", 1},
    {"calendesk_payment", "SELECT body, host_ids, stale FROM api.calendesk_payment($1, $2, $3, $4, $5, $6, $7)", 1},
    {"calendesk_slots_info", "SELECT api.calendesk_slots_info($1, $2, $3)", 0},
    {"calendesk_book_info", "SELECT api.calendesk_book_info($1, $2, $3, $4, $5, $6)", 0},
    {"calendesk_booking_by_id", "SELECT api.calendesk_booking_by_id($1, $2)", 0},
    {"calendesk_booking_get", "SELECT api.calendesk_booking_get($1, $2, $3, $4)", 0},
    {"calendesk_booking_actor", "SELECT api.calendesk_booking_actor($1, $2, $3, $4)", 0},
    {"calendesk_bookings_list",
     "SELECT api.calendesk_bookings_list($1, $2, $3, $4, $5, $6, $7, $8::date, $9::date, $10, $11, $12, $13, $14)", 0},
    {"calendesk_webhook_create", "SELECT api.calendesk_webhook_create($1, $2, $3, $4, $5, $6)", 1},
    {"calendesk_webhooks", "SELECT api.calendesk_webhooks($1, $2, $3, $4, $5, $6)", 0},
    {"calendesk_webhook_delete", "SELECT api.calendesk_webhook_delete($1, $2, $3, $4)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calendesk_module = {"calendesk", routes, (int)(sizeof routes / sizeof routes[0]),
                                           register_statements};
