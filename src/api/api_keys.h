/* api_keys.h — API keys: shown once at creation, stored only as SHA-256, revocable. */
#ifndef SLOTD_API_API_KEYS_H
#define SLOTD_API_API_KEYS_H

#include "../http/server.h"

int api_keys_create(http_req_t *req);
int api_keys_list(http_req_t *req);
int api_keys_revoke(http_req_t *req);

/* The body of a key-creating POST ({label, expires_at}), validated (400 naming the field), a new
 * key made, and stmt run with the nlead (<= API_KEYS_MAX_LEAD) leading parameters followed by
 * (label, SHA-256 hex, prefix, last4, expires_at or NULL); its one jsonb column is answered
 * 201 with "key" added (the only time it is shown). Returns 0. */
#define API_KEYS_MAX_LEAD 4
int api_keys_create_with(http_req_t *req, const char *stmt, int nlead, const char *const *lead);

#endif
