/* payments.h — a booking's payment ledger (issue 13): POST/GET /api/bookings/:id/payments. An
 * external processor does the charging; slotd records what was received or returned, keeps the
 * booking's payment_status, and confirms a pending_payment booking once it is paid in full. The
 * rules are api.payment_record's (0015_payments.sql); C checks the shapes. */
#ifndef SLOTD_API_PAYMENTS_H
#define SLOTD_API_PAYMENTS_H

#include "../http/server.h"

int payments_create(http_req_t *req);
int payments_list(http_req_t *req);

#endif
