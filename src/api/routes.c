/* routes.c — the API's route table and prepared statements, in one place. */
#include <llhttp.h>

#include "api_keys.h"
#include "app.h"
#include "auth.h"
#include "availability.h"
#include "bookings.h"
#include "event_types.h"
#include "schedules.h"
#include "webhooks.h"
#include "authn.h"
#include "booking_page.h"
#include "ops.h"

#define PUB(fn) api_dispatch, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC}
#define AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH}

const http_route_t api_routes[] = {
    {M(HTTP_GET), "/healthz", ops_healthz, ROUTE_PUBLIC, NULL},
    {M(HTTP_GET), "/readyz", ops_readyz, ROUTE_PUBLIC, NULL},
    {M(HTTP_GET), "/metrics", ops_metrics, 0, NULL},

    {M(HTTP_POST), "/api/auth/register", PUB(auth_register)},
    {M(HTTP_POST), "/api/auth/login", PUB(auth_login)},
    {M(HTTP_POST), "/api/auth/logout", AUTH(auth_logout)},
    {M(HTTP_GET), "/api/auth/me", AUTH(auth_me)},
    {M(HTTP_PUT), "/api/auth/me", AUTH(auth_update_me)},
    {M(HTTP_PUT), "/api/auth/password", AUTH(auth_change_password)},

    {M(HTTP_GET), "/api/api-keys", AUTH(api_keys_list)},
    {M(HTTP_POST), "/api/api-keys", AUTH(api_keys_create)},
    {M(HTTP_DELETE), "/api/api-keys/:id", AUTH(api_keys_revoke)},

    {M(HTTP_GET), "/api/booking-page", AUTH(booking_page_get)},
    {M(HTTP_PUT), "/api/booking-page", AUTH(booking_page_update)},
    {M(HTTP_GET), "/api/public/:slug", PUB(booking_page_public)},

    {M(HTTP_GET), "/api/event-types", AUTH(event_types_list)},
    {M(HTTP_POST), "/api/event-types", AUTH(event_types_create)},
    {M(HTTP_GET), "/api/event-types/:id", AUTH(event_types_get)},
    {M(HTTP_PUT), "/api/event-types/:id", AUTH(event_types_update)},
    {M(HTTP_DELETE), "/api/event-types/:id", AUTH(event_types_delete)},

    {M(HTTP_GET), "/api/availability-schedules", AUTH(schedules_list)},
    {M(HTTP_POST), "/api/availability-schedules", AUTH(schedules_create)},
    {M(HTTP_GET), "/api/availability-schedules/:id", AUTH(schedules_get)},
    {M(HTTP_PUT), "/api/availability-schedules/:id", AUTH(schedules_update)},
    {M(HTTP_DELETE), "/api/availability-schedules/:id", AUTH(schedules_delete)},

    {M(HTTP_GET), "/api/availability/:slug/:event_slug", PUB(availability_get)},

    {M(HTTP_POST), "/api/book/:slug/:event_slug", PUB(bookings_create)},
    {M(HTTP_GET), "/api/bookings", AUTH(bookings_list)},
    {M(HTTP_GET), "/api/bookings/confirmation/:number", PUB(links_number_get)},
    {M(HTTP_POST), "/api/bookings/confirmation/:number/cancel", PUB(links_number_cancel)},
    {M(HTTP_POST), "/api/bookings/confirmation/:number/reschedule", PUB(links_number_reschedule)},
    {M(HTTP_GET), "/api/bookings/:id", AUTH(bookings_get)},
    {M(HTTP_POST), "/api/bookings/:id/cancel", AUTH(bookings_cancel)},
    {M(HTTP_POST), "/api/bookings/:id/reschedule", AUTH(bookings_reschedule)},
    {M(HTTP_POST), "/api/bookings/:id/confirm", AUTH(bookings_confirm)},
    {M(HTTP_POST), "/api/bookings/:id/decline", AUTH(bookings_decline)},
    {M(HTTP_POST), "/api/bookings/:id/no-show", AUTH(bookings_no_show)},
    {M(HTTP_GET), "/api/bookings/:token/confirm", PUB(links_confirm)},
    {M(HTTP_GET), "/api/bookings/:token/decline", PUB(links_decline)},
    {M(HTTP_POST), "/api/cancel/:token/confirm", PUB(links_cancel)},
    {M(HTTP_POST), "/api/reschedule/:token", PUB(links_reschedule)},

    {M(HTTP_GET), "/api/webhooks", AUTH(webhooks_list)},
    {M(HTTP_POST), "/api/webhooks", AUTH(webhooks_create)},
    {M(HTTP_PUT), "/api/webhooks/:id", AUTH(webhooks_update)},
    {M(HTTP_DELETE), "/api/webhooks/:id", AUTH(webhooks_delete)},
    {M(HTTP_POST), "/api/webhooks/:id/ping", AUTH(webhooks_ping)},
    {M(HTTP_GET), "/api/webhooks/:id/deliveries", AUTH(webhooks_deliveries)},
    {M(HTTP_POST), "/api/webhooks/:id/deliveries/:delivery_id/redeliver", AUTH(webhooks_redeliver)},

    {M(HTTP_POST), "/api/reservations", PUB(reservations_create)},
    {M(HTTP_GET), "/api/reservations/:uid", PUB(reservations_get)},
    {M(HTTP_DELETE), "/api/reservations/:uid", PUB(reservations_delete)},
};
const int api_nroutes = (int)(sizeof api_routes / sizeof api_routes[0]);

void api_prepare_statements(db_pool_t *db) {
  db_pool_prepare(db, "ping", "SELECT api.ping()");
  db_pool_prepare(db, "auth", "SELECT user_id, kind, key_id, expires_in FROM api.auth($1, $2)");
  db_pool_prepare(db, "register", "SELECT api.register($1, $2, $3, $4, $5)");
  db_pool_prepare(db, "login_lookup", "SELECT id, password_hash FROM api.login_lookup($1)");
  db_pool_prepare(db, "session_create", "SELECT api.session_create($1, $2, $3)");
  db_pool_prepare(db, "logout", "SELECT api.logout($1)");
  db_pool_prepare(db, "me", "SELECT api.me($1)");
  db_pool_prepare(db, "update_me", "SELECT api.update_me($1, $2)");
  db_pool_prepare(db, "password_get", "SELECT api.password_get($1)");
  db_pool_prepare(db, "password_set", "SELECT api.password_set($1, $2, $3, $4)");
  db_pool_prepare(db, "api_key_create", "SELECT api.api_key_create($1, $2, $3, $4, $5, $6)");
  db_pool_prepare(db, "api_keys_list", "SELECT api.api_keys_list($1)");
  db_pool_prepare(db, "api_key_revoke", "SELECT api.api_key_revoke($1, $2)");
  db_pool_prepare(db, "booking_page_get", "SELECT api.booking_page_get($1)");
  db_pool_prepare(db, "booking_page_update", "SELECT api.booking_page_update($1, $2)");
  db_pool_prepare(db, "public_page", "SELECT api.public_page($1)");
  db_pool_prepare(db, "sweep_sessions", "SELECT api.sweep_sessions()");
  db_pool_prepare(db, "event_types_list", "SELECT api.event_types_list($1)");
  db_pool_prepare(db, "event_type_get", "SELECT api.event_type_get($1, $2)");
  db_pool_prepare(db, "event_type_create", "SELECT api.event_type_create($1, $3, $2)");
  db_pool_prepare(db, "event_type_update", "SELECT api.event_type_update($1, $2, $3)");
  db_pool_prepare(db, "event_type_delete", "SELECT api.event_type_delete($1, $2)");
  db_pool_prepare(db, "schedules_list", "SELECT api.schedules_list($1)");
  db_pool_prepare(db, "schedule_get", "SELECT api.schedule_get($1, $2)");
  db_pool_prepare(db, "schedule_save", "SELECT api.schedule_save($1, $2, $3)");
  db_pool_prepare(db, "schedule_delete", "SELECT api.schedule_delete($1, $2)");
  db_pool_prepare(db, "availability_data", "SELECT api.availability_data($1, $2, $3, $4)");
  db_pool_prepare(db, "availability_data_excl", "SELECT api.availability_data($1, $2, $3, $4, $5)");
  db_pool_prepare(db, "booking_create", "SELECT api.booking_create($1)");
  db_pool_prepare(db, "bookings_list", "SELECT api.bookings_list($1, $2, $3, $4, $5, $6, $7)");
  db_pool_prepare(db, "booking_get_for_host", "SELECT api.booking_get(api.booking_id_for_host($1, $2))");
  db_pool_prepare(db, "booking_get", "SELECT api.booking_get($1)");
  db_pool_prepare(db, "booking_data", "SELECT api.booking_data($1, $2, $3, $4)");
  db_pool_prepare(db, "booking_transition", "SELECT api.booking_transition($1, $2, $3, $4, $5, $6)");
  db_pool_prepare(db, "booking_reschedule", "SELECT api.booking_reschedule($1, $2, $3, $4, $5)");
  db_pool_prepare(db, "booking_id_for_token", "SELECT api.booking_id_for_token($1, $2)");
  db_pool_prepare(db, "booking_id_for_number", "SELECT api.booking_id_for_number($1, $2, $3)");
  db_pool_prepare(db, "reservation_create", "SELECT api.reservation_create($1, $2, $3, $4, $5, $6)");
  db_pool_prepare(db, "reservation_get", "SELECT api.reservation_get($1)");
  db_pool_prepare(db, "reservation_delete", "SELECT api.reservation_delete($1)");
  db_pool_prepare(db, "idem_begin", "SELECT api.idem_begin($1, $2, $3)");
  db_pool_prepare(db, "idem_finish", "SELECT api.idem_finish($1, $2, $3, $4)");
  db_pool_prepare(db, "idem_abort", "SELECT api.idem_abort($1, $2)");
  db_pool_prepare(db, "idem_unknown", "SELECT api.idem_unknown($1, $2)");
  db_pool_prepare(db, "sweep_reservations", "SELECT api.sweep_reservations()");
  db_pool_prepare(db, "webhooks_list", "SELECT api.webhooks_list($1)");
  db_pool_prepare(db, "webhook_create", "SELECT api.webhook_create($1, $2, $3, $4)");
  db_pool_prepare(db, "webhook_update", "SELECT api.webhook_update($1, $2, $3)");
  db_pool_prepare(db, "webhook_delete", "SELECT api.webhook_delete($1, $2)");
  db_pool_prepare(db, "webhook_ping", "SELECT api.webhook_ping($1, $2)");
  db_pool_prepare(db, "deliveries_list", "SELECT api.deliveries_list($1, $2, $3, $4)");
  db_pool_prepare(db, "delivery_redeliver", "SELECT api.delivery_redeliver($1, $2, $3)");
  db_pool_prepare(db, "webhook_claim", "SELECT id, url, secret, event, payload, attempts FROM api.webhook_claim($1, $2)");
  db_pool_prepare(db, "webhook_result", "SELECT api.webhook_result($1, $2, $3, $4, $5, $6, $7)");
  db_pool_prepare(db, "webhook_next_due", "SELECT api.webhook_next_due()");
  db_pool_prepare(db, "sweep_idempotency", "SELECT api.sweep_idempotency()");
}
