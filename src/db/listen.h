/* listen.h — one dedicated connection that LISTENs on the channels modules subscribe to
 * (cache invalidation, webhook wake-ups). After every (re)connect each subscriber is called
 * once with payload NULL: notifications may have been missed while the connection was down,
 * so a cache must drop everything and a job queue must look for due work. */
#ifndef SLOTD_DB_LISTEN_H
#define SLOTD_DB_LISTEN_H

#include <uv.h>

#include "../core/config.h"

typedef struct db_listen_s db_listen_t;
/* payload is NULL after a (re)connect; otherwise the NOTIFY payload (valid during the call). */
typedef void (*db_notify_cb)(void *data, const char *channel, const char *payload);

db_listen_t *db_listen_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen);
/* channel must be a plain identifier ([a-z0-9_]); it is copied. Any time. */
int db_listen_subscribe(db_listen_t *l, const char *channel, db_notify_cb cb, void *data) WARN_UNUSED;
void db_listen_start(db_listen_t *l);
int db_listen_ready(const db_listen_t *l);
/* Closes and frees in a later close callback. */
void db_listen_close(db_listen_t *l);

#endif
