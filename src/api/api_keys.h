/* api_keys.h — API keys: shown once at creation, stored only as SHA-256, revocable. */
#ifndef SLOTD_API_API_KEYS_H
#define SLOTD_API_API_KEYS_H

#include "../http/server.h"

int api_keys_create(http_req_t *req);
int api_keys_list(http_req_t *req);
int api_keys_revoke(http_req_t *req);

#endif
