/* payments.c — see payments.h. Routes are flagged API_AUTH | API_ORG: a booking's host, or an
 * admin (or API key) of the org of its event type; anyone else gets 404. */
#include "payments.h"

#include <string.h>

#include "ctx.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define METHOD_MAX 50
#define EXTERNAL_ID_MAX 200

static void on_recorded(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  int created = PQfnumber(r->res, "created");
  int fresh = created < 0 || strcmp(PQgetvalue(r->res, 0, created), "t") == 0;
  api_respond_pg(req, fresh ? 201 : 200, w.body, w.len); /* 200: the same external_id again */
}

int payments_create(http_req_t *req) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  char amount[32], currency[4];
  static const char *const required[] = {"amount", "currency", NULL};
  for (const char *const *f = required; *f; f++)
    if (!v.failed && !api_v_present(&v, *f)) api_v_fail(&v, *f, "%s is required", *f);
  api_v_money(&v, "amount", 1, 0, NULL, amount);
  api_v_currency(&v, "currency", 0, NULL, currency);
  const char *kind = api_v_str(&v, "kind", 0, 1, 16);
  if (kind && strcmp(kind, "payment") != 0 && strcmp(kind, "refund") != 0)
    api_v_fail(&v, "kind", "kind must be payment or refund");
  const char *method = api_v_line(&v, "method", 0, 1, METHOD_MAX);
  const char *external = api_v_line(&v, "external_id", 0, 1, EXTERNAL_ID_MAX);
  if (v.failed) return api_v_respond(&v);
  api_ctx_t *c = api_ctx(req);
  c->booking_id = api_parse_id(id);
  const char *params[8] = {id, c->user_id_str, api_key_org(req), kind ? kind : "payment", amount, currency, method,
                           external};
  api_query(req, "payment_record", 8, params, on_recorded);
  return 0;
}

static void on_list(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int payments_list(http_req_t *req) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id) return 0;
  const char *params[3] = {id, api_ctx(req)->user_id_str, api_key_org(req)};
  api_query(req, "payments_list", 3, params, on_list);
  return 0;
}
