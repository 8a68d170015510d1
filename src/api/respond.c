#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "../core/log.h"
#include "../db/link.h"

/* ------------------------------------------------------------------ the native dialect */

static void native_error(const api_failure_t *f, buf_t *out) {
  if (f->status == 429) { /* the seed's shape */
    buf_printf(out,
               "{\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too many requests. Please retry after "
               "%d seconds.\"}}",
               f->retry_after);
    return;
  }
  buf_puts(out, "{\"error\":");
  buf_json_str(out, f->message);
  buf_puts(out, ",\"code\":");
  buf_json_str(out, f->code);
  if (f->field && *f->field) {
    buf_puts(out, ",\"field\":");
    buf_json_str(out, f->field);
  }
  if (f->current_status) {
    buf_puts(out, ",\"status\":");
    buf_json_str(out, f->current_status);
  }
  if (f->next_slots) {
    char *s = json_dumps(f->next_slots, JSON_COMPACT);
    buf_puts(out, ",\"next_slots\":");
    buf_puts(out, s ? s : "[]");
    free(s);
  }
  buf_putc(out, '}');
}

const api_dialect_t api_native_dialect = {"native", native_error, NULL};

api_ctx_t *api_ctx_ensure(http_req_t *req) {
  if (!req->ctx) {
    api_ctx_t *ctx = arena_calloc(req->arena, sizeof *ctx);
    ctx->dialect = &api_native_dialect;
    req->ctx = ctx;
  }
  return req->ctx;
}

static const api_dialect_t *dialect_of(http_req_t *req) {
  const api_ctx_t *ctx = req->ctx;
  return ctx && ctx->dialect ? ctx->dialect : &api_native_dialect;
}

/* ------------------------------------------------------------------ errors */

const char *api_code_for_status(int status) {
  switch (status) {
    case 400: return E_VALIDATION;
    case 401: return E_UNAUTHORIZED;
    case 403: return E_FORBIDDEN;
    case 404: return E_NOT_FOUND;
    case 409: return E_CONFLICT;
    case 410: return "GONE";
    case 422: return "UNPROCESSABLE";
    case 429: return E_RATE_LIMITED;
    case 503: return E_UNAVAILABLE;
    default: return status >= 500 ? E_INTERNAL : E_BAD_REQUEST;
  }
}

void api_render_error(const api_dialect_t *d, int status, const char *code, const char *message, buf_t *out) {
  api_failure_t f = {.status = status, .code = code, .message = message};
  (d ? d : &api_native_dialect)->error(&f, out);
}

void api_server_error_body(http_req_t *req, int status, const char *code, const char *message, buf_t *out) {
  api_failure_t f = {.status = status, .code = code, .message = message};
  if (req) f.path = req->path, f.path_len = req->path_len;
  (req ? dialect_of(req) : &api_native_dialect)->error(&f, out);
}

void api_fail(http_req_t *req, const api_failure_t *fail) {
  buf_t b = BUF_INIT;
  api_failure_t with_path = *fail, *f = &with_path;
  f->path = req->path;
  f->path_len = req->path_len;
  dialect_of(req)->error(f, &b);
  if (f->retry_after > 0) {
    char v[16];
    snprintf(v, sizeof v, "%d", f->retry_after);
    http_set_header(req, "Retry-After", v);
  }
  http_respond(req, f->status, "application/json", b.data, b.len);
  buf_free(&b);
}

void api_error_field(http_req_t *req, int status, const char *code, const char *message, const char *field) {
  api_failure_t f = {.status = status, .code = code, .message = message, .field = field};
  api_fail(req, &f);
}

void api_error(http_req_t *req, int status, const char *code, const char *message) {
  api_error_field(req, status, code, message, NULL);
}

void api_rate_limited(http_req_t *req, int retry_after) {
  api_failure_t f = {.status = 429, .code = E_RATE_LIMITED, .message = "too many requests", .retry_after = retry_after};
  api_fail(req, &f);
}

/* ------------------------------------------------------------------ success */

void api_respond_body(http_req_t *req, int status, const char *json, size_t len) {
  const api_dialect_t *d = dialect_of(req);
  if (!d->success) {
    http_respond(req, status, "application/json", json, len);
    return;
  }
  buf_t b = BUF_INIT;
  d->success(status, json, len, &b);
  http_respond(req, status, "application/json", b.data, b.len);
  buf_free(&b);
}

void api_respond_pg(http_req_t *req, int status, const char *text, size_t len) {
  buf_t b = BUF_INIT;
  json_compact_append(&b, text, len);
  api_respond_body(req, status, b.data ? b.data : "", b.len);
  buf_free(&b);
}

void api_respond_pg_extended(http_req_t *req, int status, const char *text, size_t len, const char *extra) {
  buf_t b = BUF_INIT;
  json_compact_append(&b, text, len);
  if (b.len < 2 || b.data[b.len - 1] != '}') {
    buf_free(&b);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  b.len--; /* reopen the object */
  if (b.len > 1) buf_puts(&b, extra);
  else buf_puts(&b, extra + 1); /* an empty object: no leading comma */
  buf_putc(&b, '}');
  api_respond_body(req, status, b.data, b.len);
  buf_free(&b);
}

void api_respond_json(http_req_t *req, int status, json_t *value) {
  char *s = json_dumps(value, JSON_COMPACT);
  json_decref(value);
  if (!s) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  api_respond_body(req, status, s, strlen(s));
  free(s);
}

/* ------------------------------------------------------------------ database outcomes */

/* The column a constraint guards, from PostgreSQL's default names: <table>_<column>_check. */
static void constraint_column(const char *table, const char *constraint, char *out, size_t outlen) {
  out[0] = 0;
  if (!constraint) return;
  size_t tl = table ? strlen(table) : 0;
  const char *c = constraint;
  if (tl && strncmp(c, table, tl) == 0 && c[tl] == '_') c += tl + 1;
  size_t n = strlen(c);
  if (n > 6 && strcmp(c + n - 6, "_check") == 0) n -= 6;
  snprintf(out, outlen, "%.*s", (int)n, c);
}

int api_db_failure(const db_result_t *r, api_failure_t *f, char *msg, size_t msglen) {
  memset(f, 0, sizeof *f);
  if (r->ok) return 0;
  if (r->unavailable) {
    *f = (api_failure_t){.status = 503, .code = E_UNAVAILABLE, .message = "database unavailable", .retry_after = 1};
    return -1;
  }
  const char *st = r->sqlstate ? r->sqlstate : "";
  const char *primary = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  const char *hint = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_HINT) : NULL;
  const char *table = r->res ? PQresultErrorField(r->res, PG_DIAG_TABLE_NAME) : NULL;
  if (st[0] == 'S' && st[1] == 'L') {
    int status = atoi(st + 2);
    if (status >= 400 && status < 600) {
      f->status = status;
      f->code = api_code_for_status(status);
      f->message = primary ? primary : r->message ? r->message : "request failed";
      if (hint && strncmp(hint, "status:", 7) == 0) f->current_status = hint + 7;
      else if (hint && *hint) f->field = hint;
      return -1;
    }
  }
  if (strcmp(st, "23514") == 0 || strcmp(st, "23502") == 0) { /* a CHECK or NOT NULL the request broke */
    const char *col = r->res ? PQresultErrorField(r->res, PG_DIAG_COLUMN_NAME) : NULL;
    size_t half = msglen / 2;
    if (col) snprintf(msg + half, msglen - half, "%s", col);
    else constraint_column(table, r->res ? PQresultErrorField(r->res, PG_DIAG_CONSTRAINT_NAME) : NULL, msg + half,
                           msglen - half);
    snprintf(msg, half, "%s has a value that is not allowed", msg[half] ? msg + half : "a field");
    *f = (api_failure_t){.status = 400, .code = E_VALIDATION, .message = msg, .field = msg[half] ? msg + half : NULL};
    return -1;
  }
  if (strncmp(st, "22", 2) == 0) { /* data exception: a value the database cannot take */
    *f = (api_failure_t){.status = 400, .code = E_VALIDATION, .message = "a value is out of range or malformed"};
    return -1;
  }
  if (strcmp(st, "23505") == 0) { /* a uniqueness race the function did not anticipate */
    *f = (api_failure_t){.status = 409, .code = E_CONFLICT, .message = "conflicts with an existing resource"};
    return -1;
  }
  if (strcmp(st, "23P01") == 0) { /* the exclusion constraint: never a double booking */
    *f = (api_failure_t){.status = 409, .code = E_CONFLICT, .message = "time slot taken"};
    return -1;
  }
  if (strcmp(st, "40P01") == 0 || strcmp(st, "40001") == 0) { /* a deadlock or serialization failure */
    *f = (api_failure_t){.status = 409, .code = E_CONFLICT, .message = "a concurrent change conflicted; try again",
                         .retry_after = 1};
    return -1;
  }
  if (strcmp(st, "23503") == 0) {
    *f = (api_failure_t){.status = 409, .code = E_CONFLICT, .message = "refers to something that no longer exists"};
    return -1;
  }
  *f = (api_failure_t){.status = 500, .code = E_INTERNAL, .message = "internal error"};
  return -1;
}

int api_db_failed(http_req_t *req, const db_result_t *r) {
  if (r->ok) return 0;
  api_failure_t f;
  char msg[400];
  api_db_failure(r, &f, msg, sizeof msg);
  const char *st = r->sqlstate ? r->sqlstate : "";
  if (f.status == 500 || (f.status < 500 && !(st[0] == 'S' && st[1] == 'L'))) {
    /* A 500, or a constraint/data error C let through: a rule C should have checked first. */
    char line[512];
    db_one_line(r->message, line, sizeof line);
    log_req(req, f.status == 500 ? LOG_ERROR : LOG_WARN, "database error", "sqlstate", st, "error", line, NULL);
  }
  api_fail(req, &f);
  return 1;
}

/* Host ids from a bigint[] text "{1,2}". */
static void hosts_changed(http_req_t *req, const char *arr) {
  app_t *app = api_app(req);
  if (!app->host_changed || !arr) return;
  for (const char *p = arr; *p;) {
    if (*p >= '0' && *p <= '9') {
      char *end;
      long long h = strtoll(p, &end, 10);
      app->host_changed(app, h);
      p = end;
    } else {
      p++;
    }
  }
}

int api_db_write(http_req_t *req, const db_result_t *r, api_write_t *w) {
  memset(w, 0, sizeof *w);
  if (api_db_failed(req, r)) return -1;
  if (PQntuples(r->res) < 1) {
    api_error(req, 404, E_NOT_FOUND, "not found");
    return -1;
  }
  int body = PQnfields(r->res) == 1 ? 0 : PQfnumber(r->res, "body");
  int hosts = PQfnumber(r->res, "host_ids"), stale = PQfnumber(r->res, "stale");
  if (stale >= 0 && !PQgetisnull(r->res, 0, stale) && PQgetvalue(r->res, 0, stale)[0] == 't') {
    w->stale = 1;
    return 0;
  }
  if (hosts >= 0 && !PQgetisnull(r->res, 0, hosts)) hosts_changed(req, PQgetvalue(r->res, 0, hosts));
  if (body < 0 || PQgetisnull(r->res, 0, body)) {
    api_error(req, 404, E_NOT_FOUND, "not found");
    return -1;
  }
  w->body = PQgetvalue(r->res, 0, body);
  w->len = (size_t)PQgetlength(r->res, 0, body);
  return 0;
}

int64_t api_jsonb_id(const char *body, size_t len) {
  static const char lead[] = "{\"id\": ";
  if (!body || len <= sizeof lead - 1 || memcmp(body, lead, sizeof lead - 1) != 0) return 0;
  int64_t id = 0;
  for (size_t i = sizeof lead - 1; i < len && body[i] >= '0' && body[i] <= '9' && id < INT64_MAX / 10 - 9; i++)
    id = id * 10 + (body[i] - '0');
  return id;
}

void api_respond_db(http_req_t *req, const db_result_t *r, int status) {
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  api_respond_pg(req, status, w.body, w.len);
}

void api_respond_list(http_req_t *req, const db_result_t *r, const api_page_t *page) {
  if (api_db_failed(req, r)) return;
  int body = PQfnumber(r->res, "body"), total = PQfnumber(r->res, "total");
  if (PQntuples(r->res) < 1 || body < 0 || total < 0) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  api_page_headers(req, page, strtoll(PQgetvalue(r->res, 0, total), NULL, 10));
  api_respond_pg(req, 200, PQgetvalue(r->res, 0, body), (size_t)PQgetlength(r->res, 0, body));
}
