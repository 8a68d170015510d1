#include "webhooks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/crypto.h"
#include "../http/client.h"
#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

const char *const webhook_events[] = {"booking.created",   "booking.cancelled", "booking.rescheduled",
                                      "booking.requested", "booking.confirmed", "booking.declined",
                                      "booking.no_show",   "booking.reassigned", "booking.paid",
                                      "booking.refunded",  "booking.expired",   "customer.created",
                                      "ping",              NULL};

void webhooks_check_url(api_v_t *v, const char *field, const char *url) {
  const config_t *cfg = api_app(v->req)->cfg;
  http_url_t u;
  if (http_url_parse(url, &u) != 0) {
    api_v_fail(v, field, "%s must be an absolute http(s) URL without user info or fragment", field);
    return;
  }
  if (!u.https && !cfg->webhook_allow_http) {
    api_v_fail(v, field, "%s must use https", field);
    return;
  }
  if (u.host_is_ip && !cfg->webhook_allow_private) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(u.host, ':')) {
      ss.ss_family = AF_INET6;
      inet_pton(AF_INET6, u.host, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    } else {
      ss.ss_family = AF_INET;
      inet_pton(AF_INET, u.host, &((struct sockaddr_in *)&ss)->sin_addr);
    }
    if (http_addr_forbidden((struct sockaddr *)&ss))
      api_v_fail(v, field, "%s must not point to a private, loopback or link-local address", field);
  }
  size_t hl = strlen(u.host);
  while (hl && u.host[hl - 1] == '.') hl--; /* "localhost." is localhost too */
  if (!u.host_is_ip && !cfg->webhook_allow_private && hl < 64) {
    /* Resolvers read IPv4 addresses in more spellings than dotted quads: "2852039166", "127.1",
     * "0x7f.1", "017700000001", "0", "127.0.0.1." -- inet_aton's forms. Judge them as addresses. */
    char h[64];
    memcpy(h, u.host, hl);
    h[hl] = 0;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    if (hl && inet_aton(h, &sin.sin_addr) && http_addr_forbidden((struct sockaddr *)&sin)) {
      api_v_fail(v, field, "%s must not point to a private, loopback or link-local address", field);
      return;
    }
  }
  int local = (hl == 9 && strncasecmp(u.host, "localhost", 9) == 0) ||
              (hl > 10 && strncasecmp(u.host + hl - 10, ".localhost", 10) == 0);
  if (!u.host_is_ip && local && !cfg->webhook_allow_private)
    api_v_fail(v, field, "%s must not point to a private, loopback or link-local address", field);
}

/* events: a non-empty array of known, distinct names -> a Postgres array literal. */
static char *check_events(api_v_t *v, json_t *arr, arena_t *arena) {
  if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 16) {
    api_v_fail(v, "events", "events must be a non-empty array of event names");
    return NULL;
  }
  buf_t lit = BUF_INIT;
  buf_putc(&lit, '{');
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *name = json_string_value(e);
    int known = 0;
    for (int k = 0; name && webhook_events[k]; k++) known |= strcmp(name, webhook_events[k]) == 0;
    for (size_t j = 0; known && j < i; j++) known &= !json_equal(json_array_get(arr, j), e);
    if (!known) {
      buf_t valid = BUF_INIT;
      for (int k = 0; webhook_events[k]; k++) buf_printf(&valid, "%s%s", k ? ", " : "", webhook_events[k]);
      api_v_fail(v, "events", "unknown or repeated event %s%.60s%s; valid events: %s", name ? "\"" : "",
                 name ? name : "(not a string)", name ? "\"" : "", valid.data);
      buf_free(&valid);
      buf_free(&lit);
      return NULL;
    }
    buf_printf(&lit, "%s%s", i ? "," : "", name); /* known names need no quoting */
  }
  buf_putc(&lit, '}');
  char *out = arena_strdup(arena, lit.data);
  buf_free(&lit);
  return out;
}

/* 16-256 characters without control characters (any Unicode is fine: it is signed as its
 * UTF-8 bytes). */
static const char *check_secret(api_v_t *v) { return api_v_str(v, "secret", 0, 16, 256); }

/* "format" (optional): how deliveries are shaped and signed. "schedkit" and "kordless" are those
 * vendors' shapes (the events they carry are checked in SQL, api.vendor_webhooks_check);
 * "calcom" and "calendesk" belong to subscriptions made through their dialects' routes. NULL
 * when absent: the request is then the native one, unchanged. */
static const char *check_format(api_v_t *v) {
  const char *f = api_v_str(v, "format", 0, 1, 32);
  if (!f || strcmp(f, "native") == 0 || strcmp(f, "schedkit") == 0 || strcmp(f, "kordless") == 0) return f;
  if (strcmp(f, "calcom") == 0 || strcmp(f, "calendesk") == 0)
    api_v_fail(v, "format", "format %s is set by subscriptions made through that dialect's own routes", f);
  else
    api_v_fail(v, "format", "format must be native, schedkit or kordless");
  return NULL;
}

static void on_json(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }
static void on_created(void *data, const db_result_t *r) { api_respond_db(data, r, 201); }
static void on_accepted(void *data, const db_result_t *r) { api_respond_db(data, r, 202); }

/* Who owns the webhooks a route addresses: the caller (/api/webhooks...), or an org
 * (/api/orgs/:id/webhooks..., its owners, admins and keys; issue 12). Org statements are the
 * personal ones' names prefixed "org_", taking (org, user, key_org) first. */
typedef struct {
  int org;
  org_params_t op;
  const char *hook; /* the path parameter of the webhook's id */
} scope_t;

static int scope_of(http_req_t *req, int org, scope_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->org = org;
  sc->hook = org ? "webhook_id" : "id";
  return org ? org_params(req, &sc->op) : 0;
}

static void scoped_query(http_req_t *req, const scope_t *sc, const char *stmt, int n, const char *const *rest,
                         db_cb cb) {
  if (sc->org) {
    char name[64];
    snprintf(name, sizeof name, "org_%s", stmt);
    org_query(req, name, &sc->op, n, rest, cb);
    return;
  }
  const char *params[8] = {api_ctx(req)->user_id_str};
  for (int i = 0; i < n && i < 7; i++) params[i + 1] = rest[i];
  api_query(req, stmt, n + 1, params, cb);
}

static int list(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  scoped_query(req, &sc, "webhooks_list", 0, NULL, on_json);
  return 0;
}

static int create(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc) || api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  const char *url = api_v_str(&v, "url", 1, 1, 2048);
  if (url) webhooks_check_url(&v, "url", url);
  char *events = v.failed ? NULL : check_events(&v, json_object_get(body, "events"), req->arena);
  const char *secret = check_secret(&v);
  api_v_not_null(&v, "format");
  const char *format = check_format(&v);
  if (v.failed) return api_v_respond(&v);
  char gen[64];
  if (!secret) { /* Standard Webhooks form: whsec_ + base64 of 24 random bytes */
    unsigned char raw[24];
    random_bytes(raw, sizeof raw);
    memcpy(gen, "whsec_", 6);
    crypto_base64_encode(raw, sizeof raw, gen + 6, sizeof gen - 6);
    secret = gen;
  }
  http_set_header(req, "Cache-Control", "no-store");
  if (format) {
    const char *rest[4] = {url, events, secret, format};
    scoped_query(req, &sc, "vendor_webhook_create", 4, rest, on_created);
    return 0;
  }
  const char *rest[3] = {url, events, secret};
  scoped_query(req, &sc, "webhook_create", 3, rest, on_created);
  return 0;
}

static int update(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  const char *id = api_id_param(req, sc.hook, "webhook not found");
  if (!id || api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  json_t *p = json_object();
  api_v_not_null(&v, "url");
  api_v_not_null(&v, "events");
  api_v_not_null(&v, "secret");
  const char *url = api_v_str(&v, "url", 0, 1, 2048);
  if (url) {
    webhooks_check_url(&v, "url", url);
    json_object_set_new(p, "url", json_string(url));
  }
  json_t *events = json_object_get(body, "events");
  if (events && !v.failed && check_events(&v, events, req->arena)) json_object_set(p, "events", events);
  const char *secret = check_secret(&v);
  if (secret) json_object_set_new(p, "secret", json_string(secret));
  int active;
  if (api_v_bool(&v, "is_active", &active)) json_object_set_new(p, "is_active", json_boolean(active));
  api_v_not_null(&v, "format");
  const char *format = check_format(&v);
  if (format) json_object_set_new(p, "format", json_string(format));
  /* A format, or events (which a vendor format must carry), goes through the statement that
   * knows formats; anything else is the native update as it always was. */
  int formatted = format || events;
  if (org) {
    const char *rest[1] = {id};
    return org_save_patch(req, &v, p, formatted ? "org_vendor_webhook_update" : "org_webhook_update", &sc.op, 1,
                          rest, on_json);
  }
  return api_save_patch(req, &v, p, formatted ? "vendor_webhook_update" : "webhook_update", 1, id, on_json);
}

static int delete(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  const char *id = api_id_param(req, sc.hook, "webhook not found");
  if (!id) return 0;
  const char *rest[1] = {id};
  scoped_query(req, &sc, "webhook_delete", 1, rest, on_json);
  return 0;
}

static int ping(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  const char *id = api_id_param(req, sc.hook, "webhook not found");
  if (!id) return 0;
  const char *rest[1] = {id};
  scoped_query(req, &sc, "webhook_ping", 1, rest, on_accepted);
  return 0;
}

static void on_deliveries(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_respond_list(req, r, api_ctx(req)->flow);
}

static int deliveries(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  const char *id = api_id_param(req, sc.hook, "webhook not found");
  if (!id) return 0;
  api_v_t v;
  api_v_init(&v, req, NULL);
  api_page_t *page = arena_calloc(req->arena, sizeof *page);
  if (api_page_parse(&v, 50, 200, page) != 0) return api_v_respond(&v);
  api_ctx(req)->flow = page;
  const char *rest[3] = {id, page->limit_s, page->offset_s};
  scoped_query(req, &sc, "deliveries_list", 3, rest, on_deliveries);
  return 0;
}

static int redeliver(http_req_t *req, int org) {
  scope_t sc;
  if (scope_of(req, org, &sc)) return 0;
  const char *id = api_id_param(req, sc.hook, "webhook not found");
  if (!id) return 0;
  const char *did = api_id_param(req, "delivery_id", "delivery not found");
  if (!did) return 0;
  const char *rest[2] = {id, did};
  scoped_query(req, &sc, "delivery_redeliver", 2, rest, on_accepted);
  return 0;
}

int webhooks_list(http_req_t *req) { return list(req, 0); }
int webhooks_create(http_req_t *req) { return create(req, 0); }
int webhooks_update(http_req_t *req) { return update(req, 0); }
int webhooks_delete(http_req_t *req) { return delete(req, 0); }
int webhooks_ping(http_req_t *req) { return ping(req, 0); }
int webhooks_deliveries(http_req_t *req) { return deliveries(req, 0); }
int webhooks_redeliver(http_req_t *req) { return redeliver(req, 0); }

int org_webhooks_list(http_req_t *req) { return list(req, 1); }
int org_webhooks_create(http_req_t *req) { return create(req, 1); }
int org_webhooks_update(http_req_t *req) { return update(req, 1); }
int org_webhooks_delete(http_req_t *req) { return delete(req, 1); }
int org_webhooks_ping(http_req_t *req) { return ping(req, 1); }
int org_webhooks_deliveries(http_req_t *req) { return deliveries(req, 1); }
int org_webhooks_redeliver(http_req_t *req) { return redeliver(req, 1); }
