/* outbox.h — the delivery loop every outbox channel shares (webhooks; e-mail next).
 *
 * A channel's rows are written in the transaction of the change they announce. Every instance
 * runs each channel's loop: due rows are claimed in the database (FOR UPDATE SKIP LOCKED, with
 * a lease, the attempt counted at claim), so with N instances each attempt is made once and a
 * crashed instance's claims expire and are retried; the loop wakes on the channel's NOTIFY, on
 * a uv timer armed from the earliest persisted due time (so retries and scheduled rows survive
 * restarts), and every 30 s regardless. At most `concurrency` deliveries are in flight.
 *
 * The channel gives three statements and a deliver function:
 *   claim    ($1 limit, $2 lease seconds) -> one row per claimed delivery; column 0 is its id
 *            and column `attempt_col` the attempt number the claim counted;
 *   result   the channel's own parameters (it calls outbox_record with them) -> seconds until
 *            this row's next attempt, or NULL (done, failed, or a stale claim);
 *   next_due () -> seconds until the earliest row is due (0: now), or NULL when none waits.
 * deliver() starts one delivery and must end it exactly once with outbox_record() (the result
 * statement's parameters) or, when the loop is stopping, outbox_abandon() (not recorded: the
 * lease runs out and the attempt is made again). */
#ifndef SLOTD_JOBS_OUTBOX_H
#define SLOTD_JOBS_OUTBOX_H

#include <libpq-fe.h>

#include "../app.h"

typedef struct outbox_s outbox_t;

typedef struct {
  outbox_t *o;
  char id[24];
  char attempt[16]; /* which claim this is: a late result of an expired claim is ignored */
  void *data;       /* the channel's own state for this delivery */
} outbox_job_t;

typedef struct {
  const char *name;     /* metrics: slotd_<name>_inflight, ..._delivered_total, ..._failed_attempts_total */
  const char *notify;   /* the NOTIFY channel announcing new rows */
  const char *claim, *result, *next_due;               /* statement names (kept, not copied, by the pool) */
  const char *claim_sql, *result_sql, *next_due_sql;
  int attempt_col;
  int concurrency;
  int lease_seconds;    /* how long a claim lives: longer than any attempt can take */
  void (*deliver)(outbox_job_t *job, const PGresult *res, int row, void *ctx);
  void *ctx;
} outbox_channel_t;

/* Registers the channel's statements (before the pool starts). ch must outlive the loop. */
void outbox_prepare(db_pool_t *db, const outbox_channel_t *ch);
/* Starts the loop (after the pool and the listener exist). NULL on failure. */
outbox_t *outbox_start(app_t *app, const outbox_channel_t *ch);
/* Stops claiming; deliveries in flight end through outbox_abandon (the channel aborts them). */
void outbox_stop(outbox_t *o);
int outbox_stopping(const outbox_t *o);
/* After the loop has ended. */
void outbox_free(outbox_t *o);

/* A channel's retry delays (seconds after attempt 1, 2, ...) as the Postgres array literal its
 * result statement takes ("{60,300,1800}"). */
void outbox_schedule(const int *delays, int n, char *out, size_t len);

outbox_job_t *outbox_job_new(outbox_t *o, const PGresult *res, int row);
/* Ends a delivery: ok counts it as delivered (else a failed attempt); params go to the result
 * statement; a returned retry delay arms the timer. Frees job (not job->data). */
void outbox_record(outbox_job_t *job, int ok, int n, const char *const *params);
void outbox_abandon(outbox_job_t *job);

#endif
