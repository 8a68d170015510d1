/* orgs.c — organisations, members, members' schedules and org API keys (see orgs.h). C checks
 * the request's shape; who may do what is decided by the api.org_* function of each route, in
 * the statement that does it. */
#include "orgs.h"

#include <stdlib.h>
#include <string.h>

#include "../sched/tzif.h"
#include "api_keys.h"
#include "authn.h"
#include "query.h"
#include "respond.h"
#include "schedules.h"
#include "validate.h"

#define ORG_NAME_MAX 200
#define MEMBER_NAME_MAX 100
#define EMAIL_MAX 254

/* ------------------------------------------------------------------ shared by org routes */

int org_params(http_req_t *req, org_params_t *out) {
  out->org = org_id_param(req, "id", "organisation not found");
  out->user = api_ctx(req)->user_id_str;
  out->key_org = api_key_org(req);
  return out->org ? 0 : -1;
}

const char *org_id_param(http_req_t *req, const char *name, const char *what) { return api_id_param(req, name, what); }

void org_query(http_req_t *req, const char *stmt, const org_params_t *op, int n, const char *const *rest, db_cb cb) {
  const char *params[3 + ORG_MAX_REST];
  if (n > ORG_MAX_REST) abort();
  params[0] = op->org;
  params[1] = op->user;
  params[2] = op->key_org;
  for (int i = 0; i < n; i++) params[3 + i] = rest[i];
  api_query(req, stmt, 3 + n, params, cb);
}

int org_save_patch(http_req_t *req, api_v_t *v, json_t *patch, const char *stmt, const org_params_t *op, int n,
                   const char *const *rest, db_cb cb) {
  if (v->failed) {
    json_decref(patch);
    return api_v_respond(v);
  }
  if (n >= ORG_MAX_REST) abort();
  char *text = json_dumps(patch, JSON_COMPACT);
  json_decref(patch);
  const char *all[ORG_MAX_REST];
  for (int i = 0; i < n; i++) all[i] = rest[i];
  all[n] = text;
  org_query(req, stmt, op, n + 1, all, cb);
  free(text);
  return 0;
}

void org_on_ok(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }
void org_on_created(void *data, const db_result_t *r) { api_respond_db(data, r, 201); }

void org_on_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_respond_list(req, r, api_ctx(req)->flow);
}

/* The page of a list route into api_ctx(req)->flow: 0, or -1 after a 400. */
static int page_of(http_req_t *req, long long def, long long max) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  api_page_t *page = arena_calloc(req->arena, sizeof *page);
  if (api_page_parse(&v, def, max, page) != 0) {
    api_v_respond(&v);
    return -1;
  }
  api_ctx(req)->flow = page;
  return 0;
}

/* timezone: an IANA name, into p. */
static void check_tz(api_v_t *v, json_t *p) {
  api_v_not_null(v, "timezone");
  const char *tz = api_v_str(v, "timezone", 0, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(v, "timezone", "timezone must be an IANA time zone name");
  else if (tz) json_object_set_new(p, "timezone", json_string(tz));
}

/* ------------------------------------------------------------------ orgs */

/* name, slug, timezone; name and slug required on create. */
static json_t *org_patch(http_req_t *req, api_v_t *v, int create) {
  api_v_init(v, req, api_ctx(req)->body);
  json_t *p = json_object();
  api_v_not_null(v, "name");
  api_v_not_null(v, "slug");
  const char *name = api_v_line(v, "name", create, 1, ORG_NAME_MAX);
  if (name) json_object_set_new(p, "name", json_string(name));
  const char *slug = api_v_str(v, "slug", create, 1, 60);
  if (slug && !api_valid_slug(slug))
    api_v_fail(v, "slug", "slug must be 1-60 lower-case letters, digits and inner hyphens");
  else if (slug && api_reserved_slug(slug))
    api_v_fail(v, "slug", "slug \"%s\" is reserved: it would shadow one of slotd's own paths", slug);
  else if (slug) json_object_set_new(p, "slug", json_string(slug));
  check_tz(v, p);
  return p;
}

int orgs_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = org_patch(req, &v, 1);
  return api_save_patch(req, &v, p, "org_create", 0, NULL, org_on_created);
}

int orgs_list(http_req_t *req) {
  const char *params[2] = {api_ctx(req)->user_id_str, api_key_org(req)};
  api_query(req, "orgs_list", 2, params, org_on_ok);
  return 0;
}

int orgs_get(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  org_query(req, "org_get", &op, 0, NULL, org_on_ok);
  return 0;
}

int orgs_update(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = org_patch(req, &v, 0);
  return org_save_patch(req, &v, p, "org_update", &op, 0, NULL, org_on_ok);
}

/* An org gone: its keys stop working on this instance before the answer leaves (NOTIFY tells
 * the others). */
static void on_org_deleted(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  api_authn_forget_org(api_app(req), strtoll(api_ctx(req)->flow, NULL, 10));
  api_respond_pg(req, 200, w.body, w.len);
}

int orgs_delete(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  api_ctx(req)->flow = (void *)op.org;
  org_query(req, "org_delete", &op, 0, NULL, on_org_deleted);
  return 0;
}

/* ------------------------------------------------------------------ members */

static void check_role(api_v_t *v, json_t *p) {
  api_v_not_null(v, "role");
  const char *role = api_v_str(v, "role", 0, 1, 16);
  if (role && strcmp(role, "owner") != 0 && strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
    api_v_fail(v, "role", "role must be owner, admin or member");
  else if (role) json_object_set_new(p, "role", json_string(role));
}

static void check_member_name(api_v_t *v, json_t *p) {
  api_v_not_null(v, "name");
  const char *name = api_v_line(v, "name", 0, 1, MEMBER_NAME_MAX);
  if (name) json_object_set_new(p, "name", json_string(name));
}

int orgs_members_add(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  const char *email = api_v_str(&v, "email", 1, 1, EMAIL_MAX);
  if (email && !api_valid_email(email)) api_v_fail(&v, "email", "email must be a valid email address");
  else if (email) {
    char *folded = arena_strdup(req->arena, email);
    api_email_fold(folded);
    json_object_set_new(p, "email", json_string(folded));
  }
  check_member_name(&v, p);
  check_role(&v, p);
  check_tz(&v, p);
  return org_save_patch(req, &v, p, "org_member_add", &op, 0, NULL, org_on_created);
}

int orgs_members_list(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op) || page_of(req, 100, 1000)) return 0;
  const api_page_t *page = api_ctx(req)->flow;
  const char *rest[2] = {page->limit_s, page->offset_s};
  org_query(req, "org_members_list", &op, 2, rest, org_on_list);
  return 0;
}

int orgs_members_update(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *member = org_id_param(req, "user_id", "member not found");
  if (!member || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  check_role(&v, p);
  check_member_name(&v, p);
  check_tz(&v, p);
  const char *rest[1] = {member};
  return org_save_patch(req, &v, p, "org_member_update", &op, 1, rest, org_on_ok);
}

int orgs_members_remove(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *member = org_id_param(req, "user_id", "member not found");
  if (!member) return 0;
  const char *rest[1] = {member};
  org_query(req, "org_member_remove", &op, 1, rest, org_on_ok);
  return 0;
}

/* ------------------------------------------------------------------ members' schedules */

/* org params and :user_id; NULL member after a 404. */
static const char *member_of(http_req_t *req, org_params_t *op) {
  if (org_params(req, op)) return NULL;
  return org_id_param(req, "user_id", "member not found");
}

int orgs_schedules_list(http_req_t *req) {
  org_params_t op;
  const char *member = member_of(req, &op);
  if (!member) return 0;
  const char *rest[1] = {member};
  org_query(req, "org_schedules_list", &op, 1, rest, org_on_ok);
  return 0;
}

static int schedule_save(http_req_t *req, int create) {
  org_params_t op;
  const char *member = member_of(req, &op);
  if (!member) return 0;
  const char *id = NULL;
  if (!create && !(id = org_id_param(req, "schedule_id", "schedule not found"))) return 0;
  if (api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = schedules_patch(req, &v, create);
  const char *rest[2] = {member, id};
  return org_save_patch(req, &v, p, "org_schedule_save", &op, 2, rest, create ? org_on_created : org_on_ok);
}

int orgs_schedules_create(http_req_t *req) { return schedule_save(req, 1); }
int orgs_schedules_update(http_req_t *req) { return schedule_save(req, 0); }

static int schedule_by_id(http_req_t *req, const char *stmt) {
  org_params_t op;
  const char *member = member_of(req, &op);
  if (!member) return 0;
  const char *id = org_id_param(req, "schedule_id", "schedule not found");
  if (!id) return 0;
  const char *rest[2] = {member, id};
  org_query(req, stmt, &op, 2, rest, org_on_ok);
  return 0;
}

int orgs_schedules_get(http_req_t *req) { return schedule_by_id(req, "org_schedule_get"); }
int orgs_schedules_delete(http_req_t *req) { return schedule_by_id(req, "org_schedule_delete"); }

/* ------------------------------------------------------------------ org API keys */

int orgs_keys_create(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *lead[3] = {op.org, op.user, op.key_org};
  return api_keys_create_with(req, "org_api_key_create", 3, lead);
}

int orgs_keys_list(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  org_query(req, "org_api_keys_list", &op, 0, NULL, org_on_ok);
  return 0;
}

static void on_key_revoked(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  api_authn_forget_org(api_app(req), strtoll(api_ctx(req)->flow, NULL, 10));
  api_respond_body(req, 200, "{\"ok\":true}", 11);
}

int orgs_keys_revoke(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *id = org_id_param(req, "key_id", "API key not found");
  if (!id) return 0;
  api_ctx(req)->flow = (void *)op.org;
  const char *rest[1] = {id};
  org_query(req, "org_api_key_revoke", &op, 1, rest, on_key_revoked);
  return 0;
}
