/* dispatch.c — the front door of every API route (DESIGN.md data flow: http -> router ->
 * api): the client address, the per-IP limit of public routes, authentication and the per-user
 * limit of the others, then the handler through the Idempotency-Key protocol. */
#include "dispatch.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authn.h"
#include "idempotency.h"
#include "ratelimit.h"
#include "respond.h"
#include "validate.h"

/* ------------------------------------------------------------------ client IP */

static int parse_ip(const char *s, size_t n, int *family, unsigned char *addr) {
  char tmp[64];
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n == 0 || n >= sizeof tmp) return -1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  if (inet_pton(AF_INET, tmp, addr) == 1) *family = AF_INET;
  else if (inet_pton(AF_INET6, tmp, addr) == 1) *family = AF_INET6;
  else return -1;
  return 0;
}

/* Every X-Forwarded-For header, in order, joined with commas (RFC 7230 3.2.2: the same list
 * as one header), or NULL if there is none. A proxy such as haproxy's `option forwardfor`
 * appends its own header line after the ones the client wrote, so the first header alone is
 * the client's to choose. In the request arena. */
static const char *forwarded_for(http_req_t *req) {
  buf_t b = BUF_INIT;
  int found = 0;
  for (int i = 0; i < req->nheaders; i++) {
    if (strcasecmp(req->headers[i].name, "X-Forwarded-For") != 0) continue;
    if (found++) buf_putc(&b, ',');
    buf_append(&b, req->headers[i].value, req->headers[i].value_len);
  }
  const char *joined = found ? arena_strndup(req->arena, b.data ? b.data : "", b.len) : NULL;
  buf_free(&b);
  return joined;
}

static void client_ip(http_req_t *req, char *out, size_t outlen) {
  const config_t *cfg = api_app(req)->cfg;
  int family = req->peer_addr.ss_family;
  unsigned char addr[16];
  if (family == AF_INET) memcpy(addr, &((struct sockaddr_in *)&req->peer_addr)->sin_addr, 4);
  else if (family == AF_INET6) memcpy(addr, &((struct sockaddr_in6 *)&req->peer_addr)->sin6_addr, 16);
  else {
    snprintf(out, outlen, "unknown");
    return;
  }
  if (!config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, family, addr)) {
    inet_ntop(family, addr, out, (socklen_t)outlen);
    return;
  }
  const char *xff = forwarded_for(req);
  if (xff) {
    /* Walk from the right: the first address that is not one of our proxies is the client. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
      const char *start = end;
      while (start > xff && start[-1] != ',') start--;
      int f;
      unsigned char a[16];
      if (parse_ip(start, (size_t)(end - start), &f, a) != 0) break; /* garbage: stop at the last good hop */
      family = f;
      memcpy(addr, a, sizeof a);
      if (!config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, f, a)) break;
      end = start > xff ? start - 1 : xff;
    }
  }
  inet_ntop(family, addr, out, (socklen_t)outlen);
}

/* ------------------------------------------------------------------ limits */

static char *put_lit(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

/* Drops the X-RateLimit-* lines set so far (API_RL_REPLACE). */
static void drop_rate_headers(http_req_t *req) {
  buf_t *h = &req->resp_headers;
  size_t r = 0, w = 0;
  while (r < h->len) {
    const char *line = h->data + r;
    const char *nl = memchr(line, '\n', h->len - r);
    size_t n = nl ? (size_t)(nl - line) + 1 : h->len - r;
    if (!(n >= 12 && strncasecmp(line, "X-RateLimit-", 12) == 0)) {
      memmove(h->data + w, line, n);
      w += n;
    }
    r += n;
  }
  h->len = w;
  if (h->data) h->data[w] = '\0';
}

int api_rate_limit(http_req_t *req, const char *key, int per_minute, int headers) {
  if (headers == API_RL_REPLACE) drop_rate_headers(req);
  rl_result_t r;
  rl_hit(api_app(req)->rl, key, per_minute, (int64_t)time(NULL), &r);
  if (!headers && r.allowed) return 1;
  char lines[160], *p = lines; /* three lines of at most 24 + 20 + 2 bytes */
  p = put_lit(p, "X-RateLimit-Limit: ");
  p = put_i64(p, r.limit);
  p = put_lit(p, "\r\nX-RateLimit-Remaining: ");
  p = put_i64(p, r.remaining);
  p = put_lit(p, "\r\nX-RateLimit-Reset: ");
  p = put_i64(p, r.reset);
  p = put_lit(p, "\r\n");
  http_add_header_lines(req, lines, (size_t)(p - lines));
  if (r.allowed) return 1;
  api_rate_limited(req, r.retry_after);
  return 0;
}

int api_limit_ip(http_req_t *req) {
  char key[80];
  size_t n = strnlen(api_ctx(req)->client_ip, sizeof api_ctx(req)->client_ip); /* < sizeof key - 3 */
  memcpy(key, "ip:", 3);
  memcpy(key + 3, api_ctx(req)->client_ip, n);
  key[3 + n] = '\0';
  return api_rate_limit(req, key, api_app(req)->cfg->rate_limit_public, 1);
}

/* ------------------------------------------------------------------ request shape */

#define E_MEDIA_TYPE "UNSUPPORTED_MEDIA_TYPE"

/* application/json, case-insensitive, with optional parameters; a charset, if given, must be
 * UTF-8 (RFC 8259: JSON exchanged between systems is UTF-8). */
static int is_json_media_type(const char *v) {
  static const char type[] = "application/json";
  while (*v == ' ' || *v == '\t') v++;
  if (strncasecmp(v, type, sizeof type - 1) != 0) return 0;
  v += sizeof type - 1;
  for (;;) {
    while (*v == ' ' || *v == '\t') v++;
    if (!*v) return 1;
    if (*v++ != ';') return 0; /* "application/jsonx", "application/json/x" */
    while (*v == ' ' || *v == '\t') v++;
    if (!*v || *v == ';') continue; /* an empty parameter */
    const char *name = v;
    while (*v && *v != '=' && *v != ';' && *v != ' ' && *v != '\t') v++;
    size_t nlen = (size_t)(v - name);
    if (*v++ != '=') return 0;
    const char *val = v;
    size_t vlen;
    if (*v == '"') {
      val = ++v;
      while (*v && *v != '"') v++;
      if (*v != '"') return 0;
      vlen = (size_t)(v++ - val);
    } else {
      while (*v && *v != ';' && *v != ' ' && *v != '\t') v++;
      vlen = (size_t)(v - val);
    }
    int utf8 = (vlen == 5 && strncasecmp(val, "utf-8", 5) == 0) || (vlen == 4 && strncasecmp(val, "utf8", 4) == 0);
    if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 && !utf8) return 0;
  }
}

/* A request that carries a body must say it is JSON: every API body is, and a form post or a
 * text/plain "simple request" (which a browser sends cross-site with the session cookie and
 * no preflight) is then refused before any handler acts on it. An empty body needs no type. */
static int body_type_ok(const http_req_t *req) {
  if (req->body.len == 0) return 1;
  const char *type = NULL;
  for (int i = 0; i < req->nheaders; i++) {
    if (strcasecmp(req->headers[i].name, "Content-Type") != 0) continue;
    if (type) return 0; /* two Content-Types: which one would the handler believe? */
    type = req->headers[i].value;
  }
  return type && is_json_media_type(type);
}

/* What every API route refuses before it authenticates or runs a handler: a malformed query
 * parameter (400 naming it) and a body that is not declared JSON (415). Returns 1 after
 * responding. Authenticated routes count the refusal against the client IP's public budget,
 * as they do a failed authentication (public routes were counted already). */
static int refuse_malformed(http_req_t *req, int counted) {
  const char *bad;
  char msg[160];
  if (api_query_check(req, &bad) != 0) {
    if (!counted && !api_limit_ip(req)) return 1;
    snprintf(msg, sizeof msg, "%s%s is malformed (bad percent-encoding, a control character or invalid UTF-8)",
             bad ? "query parameter " : "the query string", bad ? bad : "");
    api_error_field(req, 400, E_VALIDATION, msg, bad);
    return 1;
  }
  if (!body_type_ok(req)) {
    if (!counted && !api_limit_ip(req)) return 1;
    api_error(req, 415, E_MEDIA_TYPE, "Content-Type must be application/json");
    return 1;
  }
  return 0;
}

int api_dispatch(http_req_t *req) {
  api_ctx_t *ctx = api_ctx_ensure(req);
  const api_handler_t *h = req->match.route->ctx;
  if (h->dialect) ctx->dialect = h->dialect; /* before anything can answer (401, 429) */
  client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
  if (!(h->flags & API_AUTH)) {
    if (!api_limit_ip(req)) return 0;
    if (refuse_malformed(req, 1)) return 0;
    api_run_handler(req);
    return 0;
  }
  if (refuse_malformed(req, 0)) return 0;
  api_auth_start(req);
  return 0;
}

/* The dialect whose module owns the longest prefix of the path, or NULL. */
static const api_dialect_t *dialect_for_path(const http_req_t *req) {
  const api_dialect_t *d = NULL;
  size_t best = 0;
  for (const app_module_t *const *m = app_modules; *m; m++) {
    size_t n = (*m)->prefix ? strlen((*m)->prefix) : 0;
    if (n > best && req->path_len >= n && strncmp(req->path, (*m)->prefix, n) == 0) {
      best = n;
      d = (*m)->dialect;
    }
  }
  return d;
}

void api_unrouted(http_req_t *req, int status, const char *allow) {
  (void)allow; /* the server already set the Allow header */
  const api_dialect_t *d = dialect_for_path(req);
  if (d) api_ctx_ensure(req)->dialect = d; /* a vendor's path: the vendor's words */
  if (d || strncmp(req->path, "/api/", 5) == 0) {
    api_ctx_t *ctx = api_ctx_ensure(req);
    client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
    if (!api_limit_ip(req)) return;
  }
  if (status == 405) api_error(req, 405, "METHOD_NOT_ALLOWED", "method not allowed for this resource");
  else api_error(req, 404, E_NOT_FOUND, "no such resource");
}
