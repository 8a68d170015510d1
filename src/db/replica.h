/* replica.h — a PostgreSQL streaming replica for reads that may be slightly stale (public
 * availability), SLOTD_DATABASE_REPLICA_URL. Its own pool of connections; every second a
 * heartbeat written on the primary (one UPDATE of replica_heartbeat) is read back on the
 * replica, and its age is the replica's lag. The replica is usable while the last check
 * succeeded within 3 s and measured a lag within SLOTD_REPLICA_MAX_LAG; a read that fails on it
 * makes it unusable until the next good check. The primary pool stays the only judge of
 * readiness: a replica down or behind only moves reads back to the primary. */
#ifndef SLOTD_DB_REPLICA_H
#define SLOTD_DB_REPLICA_H

#include <uv.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "pool.h"

typedef struct db_replica_s db_replica_t;

/* NULL with err when the URL is malformed. cfg->replica_url must be set. */
db_replica_t *db_replica_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen);
db_pool_t *db_replica_pool(db_replica_t *r);
/* The heartbeat's statement on the primary (before its pool starts). */
void db_replica_prepare_primary(db_pool_t *primary);
void db_replica_start(db_replica_t *r, db_pool_t *primary);
/* Stops the checks and closes the replica's pool (done may be NULL). */
void db_replica_close(db_replica_t *r, void (*done)(void *), void *data);

int db_replica_usable(const db_replica_t *r);
/* How long ago a change must have been heard of to be on the replica for sure (the lag bound,
 * the check interval and a margin). */
uint64_t db_replica_window_ms(const db_replica_t *r);
/* A read went to the replica (1) or to the primary although a replica is configured (0). */
void db_replica_count(db_replica_t *r, int on_replica);
/* A read on the replica failed: unusable until the next good check. */
void db_replica_failed(db_replica_t *r);
void db_replica_metrics(buf_t *out, void *r);

#endif
