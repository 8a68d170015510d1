/* sweep.h — periodic housekeeping statements (expired sessions now; expired holds and
 * idempotency keys later). Every instance runs them; each statement is idempotent, so N
 * instances sweeping at once only repeat cheap deletes. */
#ifndef SLOTD_JOBS_SWEEP_H
#define SLOTD_JOBS_SWEEP_H

#include "../app.h"

/* Registers the sweeps' statements (before the pool starts). */
void jobs_sweep_prepare(db_pool_t *db);
void jobs_sweep_start(app_t *app);
void jobs_sweep_stop(app_t *app);

#endif
