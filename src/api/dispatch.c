/* dispatch.c — the front door of every API route (DESIGN.md data flow: http -> router ->
 * api): the client address, the per-IP limit of public routes, authentication and the per-user
 * limit of the others, then the handler through the Idempotency-Key protocol. */
#include "dispatch.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authn.h"
#include "idempotency.h"
#include "ratelimit.h"
#include "respond.h"

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
  const char *xff = http_req_header(req, "X-Forwarded-For");
  if (xff && config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, family, addr)) {
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

int api_rate_limit(http_req_t *req, const char *key, int per_minute, int headers) {
  rl_result_t r;
  rl_hit(api_app(req)->rl, key, per_minute, (int64_t)time(NULL), &r);
  char v[32];
  if (!headers && r.allowed) return 1;
  snprintf(v, sizeof v, "%d", r.limit);
  http_set_header(req, "X-RateLimit-Limit", v);
  snprintf(v, sizeof v, "%d", r.remaining);
  http_set_header(req, "X-RateLimit-Remaining", v);
  snprintf(v, sizeof v, "%" PRId64, r.reset);
  http_set_header(req, "X-RateLimit-Reset", v);
  if (r.allowed) return 1;
  api_rate_limited(req, r.retry_after);
  return 0;
}

int api_limit_ip(http_req_t *req) {
  char key[80];
  snprintf(key, sizeof key, "ip:%s", api_ctx(req)->client_ip);
  return api_rate_limit(req, key, api_app(req)->cfg->rate_limit_public, 1);
}

int api_dispatch(http_req_t *req) {
  api_ctx_t *ctx = api_ctx_ensure(req);
  client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
  const api_handler_t *h = req->match.route->ctx;
  if (!(h->flags & API_AUTH)) {
    if (!api_limit_ip(req)) return 0;
    api_run_handler(req);
    return 0;
  }
  api_auth_start(req);
  return 0;
}

void api_unrouted(http_req_t *req, int status, const char *allow) {
  (void)allow; /* the server already set the Allow header */
  if (strncmp(req->path, "/api/", 5) == 0) {
    api_ctx_t *ctx = api_ctx_ensure(req);
    client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
    if (!api_limit_ip(req)) return;
  }
  if (status == 405) api_error(req, 405, "METHOD_NOT_ALLOWED", "method not allowed for this resource");
  else api_error(req, 404, E_NOT_FOUND, "no such resource");
}
