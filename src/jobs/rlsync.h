/* rlsync.h — shares the rate limits' counts between instances (api/ratelimit.h): every
 * SLOTD_RATE_LIMIT_SYNC one statement pushes what this instance counted since the last sync and
 * reads the other instances' counts of the same keys and the number of live instances. A failed
 * or late sync leaves the instance counting alone (per-instance limits). */
#ifndef SLOTD_JOBS_RLSYNC_H
#define SLOTD_JOBS_RLSYNC_H

#include "../app.h"

void jobs_rlsync_prepare(db_pool_t *db);
void jobs_rlsync_start(app_t *app); /* nothing when SLOTD_RATE_LIMIT_SYNC is 0 */
void jobs_rlsync_stop(app_t *app);

#endif
