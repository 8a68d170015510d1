/* payments.h — the payment-window timer every instance runs (issue 13).
 *
 * A booking of an event type that requires payment waits as pending_payment until paid in full
 * or until its window ends; this job expires it then (status expired, its slot freed, event
 * booking.expired). The deadline is persisted (bookings.payment_expires_at), so the timer is
 * armed from the database: at start, after every pass, on NOTIFY slotd_payments (a new
 * pending_payment booking, possibly on another instance) and every 30 s regardless. Each expiry
 * is its own transaction under the hosts' locks (api.booking_expire), so instances racing each
 * other, or a payment racing the timer, settle on exactly one outcome. Never part of a read. */
#ifndef SLOTD_JOBS_PAYMENTS_H
#define SLOTD_JOBS_PAYMENTS_H

#include "../app.h"

/* Registers the job's statements (before the pool starts). */
void jobs_payments_prepare(db_pool_t *db);
int jobs_payments_start(app_t *app) WARN_UNUSED;
void jobs_payments_stop(app_t *app);
/* After the loop has ended. */
void jobs_payments_free(app_t *app);

#endif
