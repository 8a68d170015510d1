/* ctx.h — the API's per-request context (req->ctx, in the request arena), made by dispatch.c
 * before a handler runs. */
#ifndef SLOTD_API_CTX_H
#define SLOTD_API_CTX_H

#include <jansson.h>
#include <stdint.h>

#include "../app.h"
#include "../http/server.h"

enum { AUTH_NONE = 0, AUTH_SESSION = 1, AUTH_API_KEY = 2 };

typedef struct api_dialect_s api_dialect_t;

typedef struct {
  const api_dialect_t *dialect; /* renders error and success envelopes (respond.h); native by default */
  int64_t user_id;      /* 0 unless authenticated */
  int auth_kind;        /* AUTH_* */
  int64_t api_key_id;
  int64_t key_org_id;   /* an org API key: the org it acts for (as an admin, and nothing else); else 0 */
  char key_org_str[24]; /* key_org_id as text for query parameters, "" when 0 (api_key_org()) */
  char cred_hash[65];   /* hex SHA-256 of the presented credential */
  char cache_key[68];   /* "s:" or "k:" (cookie or header) + cred_hash */
  char client_ip[64];   /* for public rate limits and logs */
  json_t *body;         /* parsed JSON body (freed with the request), or NULL */
  char user_id_str[24]; /* user_id as text, for query parameters */
  void *flow;           /* a handler's (or its presenter's) own state across callbacks (arena) */
  void *core;           /* the booking core's state (book.c) */
  void *inputs;         /* an inputs_fetch in progress (inputs.c) */
  void *avail;          /* an availability_slots read in progress (availability.c) */
  void (*auth_next)(http_req_t *req); /* api_authenticate's continuation */
  struct idem_s *idem;  /* Idempotency-Key state (idempotency.c) */
  int wrote;            /* a statement that may change data was sent (query.c) */
  int orphan_counted;   /* counted once in slotd_orphaned_requests_total (query.c) */
  int64_t booking_id;   /* the booking a response describes (book.c), kept with its idempotency record */
  int64_t customer_id;  /* likewise the customer one describes (customers.c) */
} api_ctx_t;

static inline api_ctx_t *api_ctx(http_req_t *req) { return req->ctx; }
static inline app_t *api_app(http_req_t *req) { return req->app; }
/* The org of the request's org API key as a query parameter: NULL (SQL NULL) for any other
 * credential. */
static inline const char *api_key_org(http_req_t *req) {
  api_ctx_t *c = req->ctx;
  return c && c->key_org_id ? c->key_org_str : NULL;
}

/* The context of a request: made (native dialect, client unknown) if it has none yet. */
api_ctx_t *api_ctx_ensure(http_req_t *req);

#endif
