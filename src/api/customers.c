/* customers.c — customers, their tags and groups (see customers.h). C checks each input's shape;
 * the statement decides who may do it, normalises the phone (api.e164) and answers 404/409. */
#include "customers.h"

#include <string.h>

#include "../sched/tzif.h"
#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define NAME_MAX_CHARS 200
#define NOTES_MAX_CHARS 5000
#define EMAIL_MAX_CHARS 254
#define LABELS_MAX 50       /* tags (or groups) given at once */
#define LABEL_MAX_CHARS 100 /* a tag's or group's name (the tables' CHECK) */
#define QUERY_MAX_CHARS 200 /* ?query= */

/* (p_org, p_user, p_key_org) of a customers route: under /api/orgs/:id/ the org's, else the
 * caller's own (org NULL; an org key never gets this far, dispatch refuses it on personal
 * routes, and the statement would too). 0, or -1 after a 404 for a malformed :id. */
static int scope_of(http_req_t *req, org_params_t *op) {
  if (http_req_param(req, "id")) return org_params(req, op);
  *op = (org_params_t){NULL, api_ctx(req)->user_id_str, api_key_org(req)};
  return 0;
}

/* The scope and :customer_id, or NULL after a 404. */
static const char *customer_of(http_req_t *req, org_params_t *op) {
  if (scope_of(req, op)) return NULL;
  return org_id_param(req, "customer_id", "customer not found");
}

static int is_status(const char *s) { return strcmp(s, "active") == 0 || strcmp(s, "blocked") == 0; }

static size_t utf8_len(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* ------------------------------------------------------------------ the patch */

/* A text field of the patch: absent, null (clears it) or a string (line: one line, not blank).
 * Returns the string when one was given and valid. */
static const char *text_field(api_v_t *v, json_t *p, const char *field, int line, size_t minlen, size_t maxlen) {
  json_t *j = json_object_get(v->obj, field);
  if (!j) return NULL;
  if (json_is_null(j)) {
    json_object_set_new(p, field, json_null());
    return NULL;
  }
  const char *s = line ? api_v_line(v, field, 0, minlen, maxlen) : api_v_str(v, field, 0, minlen, maxlen);
  if (s) json_object_set(p, field, j);
  return s;
}

/* tags or groups: an array of at most LABELS_MAX ids (positive integers) and names (one line of
 * 1-LABEL_MAX_CHARS characters). Whether an id is the owner's is the statement's to say. */
static void labels_field(api_v_t *v, json_t *p, const char *field) {
  json_t *a = json_object_get(v->obj, field);
  if (!a) return;
  if (!json_is_array(a) || json_array_size(a) > LABELS_MAX) {
    api_v_fail(v, field, "%s must be an array of at most %d names or ids", field, LABELS_MAX);
    return;
  }
  size_t i;
  json_t *x;
  json_array_foreach(a, i, x) {
    int ok = json_is_integer(x) && json_integer_value(x) >= 1 && json_integer_value(x) <= 999999999999999999LL;
    if (json_is_string(x)) { /* the one-line rule of every name, on this element */
      json_t *one = json_pack("{sO}", field, x);
      api_v_t w;
      api_v_init(&w, v->req, one);
      ok = api_v_line(&w, field, 1, 1, LABEL_MAX_CHARS) != NULL;
      json_decref(one);
    }
    if (!ok) {
      api_v_fail(v, field, "%s[%zu] must be a name of 1-%d characters on one line, or an id", field, i,
                 LABEL_MAX_CHARS);
      return;
    }
  }
  json_object_set(p, field, a);
}

/* The customer fields of the body into a new patch (v says whether they were valid). */
static json_t *customer_patch(http_req_t *req, api_v_t *v) {
  api_v_init(v, req, api_ctx(req)->body);
  json_t *p = json_object();
  text_field(v, p, "name", 1, 1, NAME_MAX_CHARS);
  text_field(v, p, "surname", 1, 1, NAME_MAX_CHARS);
  const char *email = text_field(v, p, "email", 1, 3, EMAIL_MAX_CHARS);
  if (email && !api_valid_email(email)) api_v_fail(v, "email", "email must be a valid email address");
  const char *phone = text_field(v, p, "phone", 1, 1, 32);
  if (phone && !api_valid_phone(phone))
    api_v_fail(v, "phone", "phone must be an international number (E.164) such as +44 20 7946 0958");
  const char *tz = text_field(v, p, "time_zone", 1, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(v, "time_zone", "time_zone must be an IANA time zone name");
  text_field(v, p, "notes", 0, 0, NOTES_MAX_CHARS);
  api_v_not_null(v, "status");
  const char *status = api_v_str(v, "status", 0, 1, 16);
  if (status && !is_status(status)) api_v_fail(v, "status", "status must be active or blocked");
  else if (status) json_object_set_new(p, "status", json_string(status));
  api_v_not_null(v, "tags");
  api_v_not_null(v, "groups");
  labels_field(v, p, "tags");
  labels_field(v, p, "groups");
  return p;
}

/* A created customer: noted for the request's idempotency record (erasure deletes it). */
static void on_customer_created(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (r->ok && PQntuples(r->res) == 1)
    api_ctx(req)->customer_id = api_jsonb_id(PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
  org_on_created(data, r);
}

/* create (no :customer_id) or update: api.customer_save(org, user, key_org, id, patch). */
static int customer_save(http_req_t *req, int create) {
  org_params_t op;
  const char *id = NULL;
  if (create ? scope_of(req, &op) != 0 : !(id = customer_of(req, &op))) return 0;
  if (api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = customer_patch(req, &v);
  const char *rest[1] = {id};
  return org_save_patch(req, &v, p, "customer_save", &op, 1, rest, create ? on_customer_created : org_on_ok);
}

int customers_create(http_req_t *req) { return customer_save(req, 1); }
int customers_update(http_req_t *req) { return customer_save(req, 0); }

/* ------------------------------------------------------------------ reads, erasure */

/* The page (and for the customers list its filters, into f) of a list route, the page into
 * api_ctx(req)->flow: 0, or -1 after a 400 naming the parameter. */
static int list_params(http_req_t *req, const char *f[4]) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  api_page_t *page = arena_calloc(req->arena, sizeof *page);
  api_page_parse(&v, 50, 200, page);
  static const char *const names[4] = {"query", "tag", "group", "status"};
  static const size_t caps[4] = {QUERY_MAX_CHARS, LABEL_MAX_CHARS, LABEL_MAX_CHARS, 16};
  for (int i = 0; f && i < 4; i++) {
    f[i] = api_query_param(req, names[i]);
    if (f[i] && !*f[i]) f[i] = NULL; /* ?query= is no filter */
    if (f[i] && utf8_len(f[i]) > caps[i])
      api_v_fail(&v, names[i], "%s must be at most %zu characters", names[i], caps[i]);
  }
  if (f && f[3] && !is_status(f[3])) api_v_fail(&v, "status", "status must be active or blocked");
  if (v.failed) {
    api_v_respond(&v);
    return -1;
  }
  api_ctx(req)->flow = page;
  return 0;
}

int customers_list(http_req_t *req) {
  org_params_t op;
  const char *f[4];
  if (scope_of(req, &op) || list_params(req, f)) return 0;
  const api_page_t *page = api_ctx(req)->flow;
  const char *rest[6] = {f[0], f[1], f[2], f[3], page->limit_s, page->offset_s};
  org_query(req, "customers_list", &op, 6, rest, org_on_list);
  return 0;
}

int customers_bookings(http_req_t *req) {
  org_params_t op;
  const char *id = customer_of(req, &op);
  if (!id || list_params(req, NULL)) return 0;
  const api_page_t *page = api_ctx(req)->flow;
  const char *rest[3] = {id, page->limit_s, page->offset_s};
  org_query(req, "customer_bookings", &op, 3, rest, org_on_list);
  return 0;
}

/* A statement about one record of the scope: (org, user, key_org, :param), 404 `what` when
 * :param is not an id. */
static int by_id(http_req_t *req, const char *param, const char *what, const char *stmt) {
  org_params_t op;
  if (scope_of(req, &op)) return 0;
  const char *id = org_id_param(req, param, what);
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, stmt, &op, 1, rest, org_on_ok);
  return 0;
}

#define CUSTOMER "customer_id", "customer not found"
int customers_get(http_req_t *req) { return by_id(req, CUSTOMER, "customer_get"); }
int customers_delete(http_req_t *req) { return by_id(req, CUSTOMER, "customer_delete"); }
int customers_export(http_req_t *req) { return by_id(req, CUSTOMER, "customer_export"); }

/* ------------------------------------------------------------------ tags and groups */

static int labels_list(http_req_t *req, const char *stmt) {
  org_params_t op;
  if (scope_of(req, &op)) return 0;
  org_query(req, stmt, &op, 0, NULL, org_on_ok);
  return 0;
}

static int label_create(http_req_t *req, const char *stmt) {
  org_params_t op;
  if (scope_of(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *name = api_v_line(&v, "name", 1, 1, LABEL_MAX_CHARS);
  if (v.failed) return api_v_respond(&v);
  const char *rest[1] = {name};
  org_query(req, stmt, &op, 1, rest, org_on_created);
  return 0;
}

int customer_tags_list(http_req_t *req) { return labels_list(req, "customer_tags_list"); }
int customer_tags_create(http_req_t *req) { return label_create(req, "customer_tag_create"); }
int customer_tags_delete(http_req_t *req) { return by_id(req, "label_id", "tag not found", "customer_tag_delete"); }
int customer_groups_list(http_req_t *req) { return labels_list(req, "customer_groups_list"); }
int customer_groups_create(http_req_t *req) { return label_create(req, "customer_group_create"); }
int customer_groups_delete(http_req_t *req) {
  return by_id(req, "label_id", "group not found", "customer_group_delete");
}
