/* idempotency.h — Idempotency-Key on any POST: api.idem_begin inserts a placeholder, the
 * handler's response is stored (sealed with a key derived from the Idempotency-Key) before it is
 * sent, and replayed for the same caller, key and request; a different request under the key is
 * 422; requests with a key still running wait for it. */
#ifndef SLOTD_API_IDEMPOTENCY_H
#define SLOTD_API_IDEMPOTENCY_H

#include "../db/pool.h"
#include "../http/server.h"

/* Runs the route's handler (route->ctx, an api_handler_t), through the protocol for a POST that
 * has an Idempotency-Key. */
void api_run_handler(http_req_t *req);
/* For a request abandoned before it wrote anything: frees its placeholder (if it owns one) so a
 * retry runs at once, then calls cb (r may be NULL). Stops the response from being stored. */
void idem_release(http_req_t *req, db_cb cb);
void api_idempotency_register(void);

#endif
