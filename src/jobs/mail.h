/* mail.h — the e-mail channel of the outbox (issue 14): rows of mail_outbox (queued by the
 * bookings_mail trigger, 0016_mail.sql) composed when they are sent (src/mail/compose.h, the
 * invitation from src/mail/ics.h) and handed to the SMTP client (src/mail/smtp.h). 4xx, timeouts
 * and connection failures are retried on SLOTD_MAIL_RETRY_SCHEDULE; a 5xx fails the row with the
 * server's reply kept; a row whose invitee was erased is dropped. The sealed tokens a row carries
 * are opened with SLOTD_SECRET_KEY and deleted once it is sent or failed. With SLOTD_SMTP_URL
 * unset nothing runs (and nothing is queued: the trigger needs slotd.mail = on). */
#ifndef SLOTD_JOBS_MAIL_H
#define SLOTD_JOBS_MAIL_H

#include "../app.h"

void jobs_mail_prepare(db_pool_t *db, const config_t *cfg);
int jobs_mail_start(app_t *app, char *err, size_t errlen) WARN_UNUSED;
void jobs_mail_stop(app_t *app);
void jobs_mail_free(app_t *app);

#endif
