#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../db/link.h"

/* ------------------------------------------------------------------ bodies */

static void free_json(void *p) { json_decref(p); }

int api_body_object(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  if (req->body.len == 0) {
    api_error(req, 400, E_BAD_REQUEST, "request body must be a JSON object");
    return -1;
  }
  json_error_t jerr;
  /* jansson rejects invalid UTF-8 and \u0000 (no JSON_ALLOW_NUL) by itself. */
  json_t *v = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
  if (!v) {
    char msg[200];
    snprintf(msg, sizeof msg, "malformed JSON body: %s", jerr.text);
    api_error(req, 400, E_BAD_REQUEST, msg);
    return -1;
  }
  arena_on_destroy(req->arena, free_json, v);
  if (!json_is_object(v)) {
    api_error(req, 400, E_BAD_REQUEST, "request body must be a JSON object");
    return -1;
  }
  ctx->body = v;
  return 0;
}

/* ------------------------------------------------------------------ validation */

void api_v_init(api_v_t *v, http_req_t *req, json_t *obj) {
  memset(v, 0, sizeof *v);
  v->req = req;
  v->obj = obj;
}

void api_v_fail(api_v_t *v, const char *field, const char *fmt, ...) {
  if (v->failed) return;
  v->failed = 1;
  v->field = field;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof v->message, fmt, ap);
  va_end(ap);
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

static int has_control(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r') return 1;
  return 0;
}

int api_v_present(api_v_t *v, const char *field) { return v->obj && json_object_get(v->obj, field) != NULL; }

const char *api_v_str(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (!j || json_is_null(j)) {
    if (required) api_v_fail(v, field, "%s is required", field);
    return NULL;
  }
  if (!json_is_string(j)) {
    api_v_fail(v, field, "%s must be a string", field);
    return NULL;
  }
  const char *s = json_string_value(j);
  size_t n = utf8_chars(s);
  if (n < minlen) {
    if (minlen <= 1) api_v_fail(v, field, "%s must not be empty", field);
    else api_v_fail(v, field, "%s must be at least %zu characters", field, minlen);
    return NULL;
  }
  if (n > maxlen) {
    api_v_fail(v, field, "%s must be at most %zu characters", field, maxlen);
    return NULL;
  }
  if (has_control(s)) {
    api_v_fail(v, field, "%s contains control characters", field);
    return NULL;
  }
  return s;
}

/* Only spaces, including Unicode's no-break, typographic and zero-width ones. */
static int blank(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    if (*p == ' ') p++;
    else if (p[0] == 0xC2 && p[1] == 0xA0) p += 2;                                          /* U+00A0 */
    else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] <= 0x8B || p[2] == 0xAF)) p += 3;        /* U+2000-200B, 202F */
    else if (p[0] == 0xE2 && p[1] == 0x81 && (p[2] == 0x9F || p[2] == 0xA0)) p += 3;        /* U+205F, 2060 */
    else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) p += 3;                          /* U+3000 */
    else if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;                          /* U+FEFF */
    else return 0;
  }
  return 1;
}

const char *api_v_line(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen) {
  const char *s = api_v_str(v, field, required, minlen, maxlen);
  if (!s) return NULL;
  if (strpbrk(s, "\n\r\t")) {
    api_v_fail(v, field, "%s must be a single line", field);
    return NULL;
  }
  if (minlen > 0 && blank(s)) {
    api_v_fail(v, field, "%s must not be blank", field);
    return NULL;
  }
  return s;
}

const char *api_v_str_or_null(api_v_t *v, const char *field, size_t maxlen, int *present) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  *present = j != NULL;
  if (!j || json_is_null(j)) return NULL;
  return api_v_str(v, field, 0, 0, maxlen);
}

int api_v_int(api_v_t *v, const char *field, long long min, long long max, int nullable, int *is_null,
              long long *out) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (is_null) *is_null = 0;
  if (!j) return 0;
  if (json_is_null(j)) {
    if (!nullable) api_v_fail(v, field, "%s must not be null", field);
    else if (is_null) *is_null = 1;
    return 0;
  }
  if (!json_is_integer(j)) {
    api_v_fail(v, field, "%s must be an integer", field);
    return 0;
  }
  long long x = json_integer_value(j);
  if (x < min || x > max) {
    api_v_fail(v, field, "%s must be between %lld and %lld", field, min, max);
    return 0;
  }
  *out = x;
  return 1;
}

void api_v_not_null(api_v_t *v, const char *field) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (j && json_is_null(j)) api_v_fail(v, field, "%s must not be null", field);
}

int api_v_bool(api_v_t *v, const char *field, int *out) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (!j) return 0;
  if (!json_is_boolean(j)) {
    api_v_fail(v, field, "%s must be true or false", field);
    return 0;
  }
  *out = json_is_true(j);
  return 1;
}

int api_v_respond(api_v_t *v) {
  api_error_field(v->req, 400, E_VALIDATION, v->message, v->field);
  return 0;
}

int api_valid_email(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n > 254) return 0;
  const char *at = strchr(s, '@');
  if (!at || at == s || strchr(at + 1, '@') || (size_t)(at - s) > 64) return 0;
  const char *dom = at + 1;
  if (!*dom || dom[0] == '.' || !strchr(dom, '.') || s[n - 1] == '.' || strstr(dom, "..")) return 0;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == '\\' || c == ']')
      return 0;
  }
  return 1;
}

int api_valid_color(const char *s) {
  if (strlen(s) != 7 || s[0] != '#') return 0;
  for (int i = 1; i < 7; i++)
    if (!isxdigit((unsigned char)s[i])) return 0;
  return 1;
}

int api_valid_slug(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 60 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
  return 1;
}

int api_valid_http_url(const char *s) {
  const char *rest;
  if (strncmp(s, "https://", 8) == 0) rest = s + 8;
  else if (strncmp(s, "http://", 7) == 0) rest = s + 7;
  else return 0;
  if (!*rest || *rest == '/' || strlen(s) > 2048) return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f) return 0;
  return 1;
}

int api_valid_uuid(const char *s) {
  if (!s || strlen(s) != 36) return 0;
  for (int i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return 0;
    } else if (!isxdigit((unsigned char)c)) {
      return 0;
    }
  }
  return 1;
}

void api_slugify(const char *name, char *out, size_t outlen) {
  size_t o = 0;
  int dash = 0;
  for (const char *p = name; *p && o + 1 < outlen && o < 50; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (dash && o > 0) out[o++] = '-';
      dash = 0;
      if (o + 1 < outlen) out[o++] = c;
    } else if (!((unsigned char)c & 0x80) || ((unsigned char)c & 0xC0) == 0xC0) {
      dash = 1; /* ASCII separator, or the first byte of a non-ASCII character */
    }
  }
  out[o] = '\0';
  if (o == 0) snprintf(out, outlen, "user");
}

const char *api_query_param(http_req_t *req, const char *name) {
  const char *q = req->query;
  size_t nlen = strlen(name);
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    if (len > nlen && q[nlen] == '=' && strncmp(q, name, nlen) == 0) {
      char *tmp = arena_strndup(req->arena, q + nlen + 1, len - nlen - 1);
      for (char *p = tmp; *p; p++)
        if (*p == '+') *p = ' ';
      return router_decode(req->arena, tmp, strlen(tmp));
    }
    if (len == nlen && strncmp(q, name, nlen) == 0) return "";
    q = amp ? amp + 1 : NULL;
  }
  return NULL;
}

/* ------------------------------------------------------------------ responses */

const char *api_code_for_status(int status) {
  switch (status) {
    case 400: return E_VALIDATION;
    case 401: return E_UNAUTHORIZED;
    case 403: return E_FORBIDDEN;
    case 404: return E_NOT_FOUND;
    case 409: return E_CONFLICT;
    case 410: return "GONE";
    case 422: return "UNPROCESSABLE";
    case 429: return "RATE_LIMIT_EXCEEDED";
    case 503: return E_UNAVAILABLE;
    default: return status >= 500 ? E_INTERNAL : E_BAD_REQUEST;
  }
}

void api_respond_text_json(http_req_t *req, int status, const char *json, size_t len) {
  http_respond(req, status, "application/json", json, len);
}

void api_respond_json(http_req_t *req, int status, json_t *value) {
  char *s = json_dumps(value, JSON_COMPACT);
  json_decref(value);
  if (!s) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  http_respond(req, status, "application/json", s, strlen(s));
  free(s);
}

void api_error_field(http_req_t *req, int status, const char *code, const char *message, const char *field) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"error\":");
  buf_json_str(&b, message);
  buf_puts(&b, ",\"code\":");
  buf_json_str(&b, code);
  if (field && *field) {
    buf_puts(&b, ",\"field\":");
    buf_json_str(&b, field);
  }
  buf_putc(&b, '}');
  http_respond(req, status, "application/json", b.data, b.len);
  buf_free(&b);
}

void api_error(http_req_t *req, int status, const char *code, const char *message) {
  api_error_field(req, status, code, message, NULL);
}

int api_db_failed(http_req_t *req, const db_result_t *r) {
  if (r->ok) return 0;
  if (r->unavailable) {
    http_set_header(req, "Retry-After", "1");
    api_error(req, 503, E_UNAVAILABLE, "database unavailable");
    return 1;
  }
  const char *st = r->sqlstate;
  if (st && st[0] == 'S' && st[1] == 'L') {
    int status = atoi(st + 2);
    if (status >= 400 && status < 600) {
      const char *msg = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
      const char *hint = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_HINT) : NULL;
      if (hint && strncmp(hint, "status:", 7) == 0) { /* an illegal transition: name the current status */
        json_t *e = json_pack("{s:s, s:s, s:s}", "error", msg ? msg : "conflict", "code",
                              api_code_for_status(status), "status", hint + 7);
        api_respond_json(req, status, e);
        return 1;
      }
      api_error_field(req, status, api_code_for_status(status), msg ? msg : "request failed", hint);
      return 1;
    }
  }
  if (st && strcmp(st, "23505") == 0) { /* a uniqueness race the function did not anticipate */
    api_error(req, 409, E_CONFLICT, "conflicts with an existing resource");
    return 1;
  }
  char msg[512];
  db_one_line(r->message, msg, sizeof msg);
  log_kv(LOG_ERROR, "database error", "request_id", req->request_id, "sqlstate", st ? st : "", "error", msg, NULL);
  api_error(req, 500, E_INTERNAL, "internal error");
  return 1;
}

const char *api_take_host_hint(http_req_t *req, const char *text, size_t *len, char **owned) {
  *owned = NULL;
  if (!strstr(text, "\"_host\"")) return text;
  json_t *doc = json_loadb(text, *len, 0, NULL);
  json_t *h = doc ? json_object_get(doc, "_host") : NULL;
  if (!json_is_integer(h)) {
    json_decref(doc);
    return text;
  }
  app_t *app = api_app(req);
  if (app->host_changed) app->host_changed(app, json_integer_value(h));
  json_object_del(doc, "_host");
  *owned = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  *len = strlen(*owned);
  return *owned;
}

void api_respond_db(http_req_t *req, const db_result_t *r, int status) {
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    api_error(req, 404, E_NOT_FOUND, "not found");
    return;
  }
  size_t len = (size_t)PQgetlength(r->res, 0, 0);
  char *owned;
  const char *v = api_take_host_hint(req, PQgetvalue(r->res, 0, 0), &len, &owned);
  api_respond_text_json(req, status, v, len);
  free(owned);
}

long long api_parse_id(const char *s) {
  if (!s || !*s || strlen(s) > 18) return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  long long v = strtoll(s, NULL, 10);
  return v > 0 ? v : 0;
}

const char *api_id_param(http_req_t *req, const char *name, const char *what) {
  const char *id = http_req_param(req, name);
  if (!api_parse_id(id)) {
    api_error(req, 404, E_NOT_FOUND, what);
    return NULL;
  }
  return id;
}

int api_save_patch(http_req_t *req, api_v_t *v, json_t *patch, const char *stmt, int with_id, const char *id,
                   db_cb cb) {
  if (v->failed) {
    json_decref(patch);
    return api_v_respond(v);
  }
  char *text = json_dumps(patch, JSON_COMPACT);
  json_decref(patch);
  const char *params[3] = {api_ctx(req)->user_id_str, with_id ? id : text, text};
  api_query(req, stmt, with_id ? 3 : 2, params, cb);
  free(text);
  return 0;
}

json_t *api_paged_items(http_req_t *req, const db_result_t *r, long long *total) {
  if (api_db_failed(req, r)) return NULL;
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  json_t *items = doc ? json_object_get(doc, "items") : NULL;
  if (!items) {
    json_decref(doc);
    api_error(req, 500, E_INTERNAL, "internal error");
    return NULL;
  }
  *total = json_integer_value(json_object_get(doc, "total"));
  char v[32];
  snprintf(v, sizeof v, "%lld", *total);
  http_set_header(req, "X-Total-Count", v);
  json_incref(items);
  json_decref(doc);
  return items;
}

/* Statements that only read. Anything else may write: after it was sent, a failure leaves the
 * outcome unknown (an idempotent request must then never run again). */
static int read_only(const char *stmt) {
  static const char *const reads[] = {
      "ping", "auth", "login_lookup", "me", "password_get", "api_keys_list", "booking_page_get", "public_page",
      "event_types_list", "event_type_get", "schedules_list", "schedule_get", "availability_data",
      "availability_data_excl", "bookings_list", "booking_get_for_host", "booking_get", "booking_data",
      "booking_id_for_token", "booking_id_for_number", "reservation_get", "webhooks_list", "deliveries_list", NULL};
  if (strncmp(stmt, "idem_", 5) == 0) return 1; /* the idempotency bookkeeping itself */
  for (const char *const *r = reads; *r; r++)
    if (strcmp(*r, stmt) == 0) return 1;
  return 0;
}

void api_query(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb) {
  if (req->ctx && !read_only(stmt)) api_ctx(req)->wrote = 1;
  db_query(api_app(req)->db, stmt, n, params, cb, req);
}
