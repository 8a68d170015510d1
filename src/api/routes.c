/* routes.c — the native API (seed 001 and what README lists): its route table and its
 * statements, which say whether they write. */
#include <llhttp.h>

#include "api_keys.h"
#include "../app.h"
#include "respond.h"
#include "auth.h"
#include "availability.h"
#include "bookings.h"
#include "event_types.h"
#include "schedules.h"
#include "webhooks.h"
#include "dispatch.h"
#include "query.h"
#include "booking_page.h"
#include "payments.h"
#include "calendar.h"
#include "ops.h"

#define PUB(fn) api_dispatch, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC, &api_native_dialect}
#define AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH, &api_native_dialect}
#define ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &api_native_dialect}

static const http_route_t routes[] = {
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
    {M(HTTP_GET), "/api/public/:slug/:event_slug", PUB(booking_page_public_event)},

    {M(HTTP_GET), "/api/event-types", AUTH(event_types_list)},
    {M(HTTP_POST), "/api/event-types", AUTH(event_types_create)},
    {M(HTTP_GET), "/api/event-types/:id", AUTH(event_types_get)},
    {M(HTTP_PUT), "/api/event-types/:id", AUTH(event_types_update)},
    {M(HTTP_DELETE), "/api/event-types/:id", AUTH(event_types_delete)},
    {M(HTTP_GET), "/api/event-types/:id/slots", PUB(availability_get_by_id)},
    {M(HTTP_POST), "/api/event-types/:id/book", PUB(bookings_create_by_id)},

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
    {M(HTTP_POST), "/api/bookings/:id/payments", ORG(payments_create)},
    {M(HTTP_GET), "/api/bookings/:id/payments", ORG(payments_list)},
    {M(HTTP_GET), "/api/bookings/:id/ics", PUB(calendar_ics)},
    {M(HTTP_GET), "/api/bookings/:id/calendar-links", PUB(calendar_links_get)},
    {M(HTTP_GET), "/api/bookings/:token/confirm", PUB(links_confirm)},
    {M(HTTP_GET), "/api/bookings/:token/decline", PUB(links_decline)},
    {M(HTTP_POST), "/api/cancel/:token/confirm", PUB(links_cancel)},
    {M(HTTP_GET), "/api/cancel/:token", PUB(links_cancel_page)},
    {M(HTTP_POST), "/api/reschedule/:token", PUB(links_reschedule)},
    {M(HTTP_GET), "/api/reschedule/:token", PUB(links_reschedule_page)},

    {M(HTTP_GET), "/api/webhooks", AUTH(webhooks_list)},
    {M(HTTP_POST), "/api/webhooks", AUTH(webhooks_create)},
    {M(HTTP_PUT), "/api/webhooks/:id", AUTH(webhooks_update)},
    {M(HTTP_DELETE), "/api/webhooks/:id", AUTH(webhooks_delete)},
    {M(HTTP_POST), "/api/webhooks/:id/ping", AUTH(webhooks_ping)},
    {M(HTTP_GET), "/api/webhooks/:id/deliveries", AUTH(webhooks_deliveries)},
    {M(HTTP_POST), "/api/webhooks/:id/deliveries/:delivery_id/redeliver", AUTH(webhooks_redeliver)},

    {M(HTTP_POST), "/api/reservations", PUB(reservations_create)},
    {M(HTTP_GET), "/api/reservations", AUTH(reservations_list)},
    {M(HTTP_GET), "/api/reservations/:uid", PUB(reservations_get)},
    {M(HTTP_DELETE), "/api/reservations/:uid", PUB(reservations_delete)},
};

static const api_stmt_t statements[] = {
    {"ping", "SELECT api.ping()", 0},
    {"register", "SELECT api.register($1, $2, $3, $4, $5)", 1},
    {"login_lookup", "SELECT id, password_hash FROM api.login_lookup($1)", 0},
    {"session_create", "SELECT api.session_create($1, $2, $3)", 1},
    {"logout", "SELECT api.logout($1)", 1},
    {"me", "SELECT api.me($1)", 0},
    {"update_me", "SELECT api.update_me($1, $2)", 1},
    {"password_get", "SELECT api.password_get($1)", 0},
    {"password_set", "SELECT api.password_set($1, $2, $3, $4)", 1},
    {"api_key_create", "SELECT api.api_key_create($1, $2, $3, $4, $5, $6)", 1},
    {"api_keys_list", "SELECT api.api_keys_list($1)", 0},
    {"api_key_revoke", "SELECT api.api_key_revoke($1, $2)", 1},
    {"booking_page_get", "SELECT api.booking_page_get($1)", 0},
    {"booking_page_update", "SELECT body, host_ids, stale FROM api.booking_page_update($1, $2)", 1},
    {"public_page", "SELECT api.public_page($1)", 0},
    {"public_event_page", "SELECT api.public_event_page($1, $2)", 0},
    {"event_types_list", "SELECT api.event_types_list($1)", 0},
    {"event_type_get", "SELECT api.event_type_get($1, $2)", 0},
    {"event_type_create", "SELECT body, host_ids, stale FROM api.event_type_create($1, $3, $2)", 1},
    {"event_type_update", "SELECT body, host_ids, stale FROM api.event_type_update($1, $2, $3)", 1},
    {"event_type_delete", "SELECT body, host_ids, stale FROM api.event_type_delete($1, $2)", 1},
    {"schedules_list", "SELECT api.schedules_list($1)", 0},
    {"schedule_get", "SELECT api.schedule_get($1, $2)", 0},
    {"schedule_save", "SELECT body, host_ids, stale FROM api.schedule_save($1, $2, $3)", 1},
    {"schedule_delete", "SELECT body, host_ids, stale FROM api.schedule_delete($1, $2)", 1},
    {"booking_create", "SELECT body, host_ids, stale FROM api.booking_create($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
     "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)", 1},
    {"bookings_list", "SELECT body, total FROM api.bookings_list($1, $2, $3, $4, $5, $6, $7)", 0},
    {"booking_get_for_host", "SELECT api.booking_get(api.booking_id_for_host($1, $2))", 0},
    {"booking_get", "SELECT api.booking_get($1)", 0},
    {"booking_transition", "SELECT body, host_ids, stale FROM api.booking_transition($1, $2, $3, $4, $5, $6)", 1},
    {"booking_reschedule", "SELECT body, host_ids, stale FROM api.booking_reschedule($1, $2, $3, $4, $5)", 1},
    {"booking_create_series", "SELECT body, host_ids, stale FROM api.booking_create_series($1, $2, $3, $4, $5, $6, $7, "
     "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)", 1},
    {"booking_cancel_following", "SELECT body, host_ids, stale FROM api.booking_cancel_following($1, $2, $3, $4)", 1},
    {"booking_rebook", "SELECT body, host_ids, stale FROM api.booking_rebook($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
     "$11, $12)", 1},
    {"booking_id_for_token", "SELECT api.booking_id_for_token($1, $2)", 0},
    {"booking_id_for_number", "SELECT api.booking_id_for_number($1, $2, $3)", 0},
    {"reservation_create", "SELECT body, host_ids, stale FROM api.reservation_create($1, $2, $3, $4, $5, $6, $7, $8, $9)", 1},
    {"reservation_get", "SELECT api.reservation_get($1)", 0},
    {"reservations_list", "SELECT api.reservations_list($1)", 0},
    {"reservation_delete", "SELECT body, host_ids, stale FROM api.reservation_delete($1)", 1},
    {"webhooks_list", "SELECT api.webhooks_list($1)", 0},
    {"webhook_create", "SELECT api.webhook_create($1, $2, $3, $4)", 1},
    {"webhook_update", "SELECT api.webhook_update($1, $2, $3)", 1},
    {"webhook_delete", "SELECT api.webhook_delete($1, $2)", 1},
    {"webhook_ping", "SELECT api.webhook_ping($1, $2)", 1},
    {"deliveries_list", "SELECT body, total FROM api.deliveries_list($1, $2, $3, $4)", 0},
    {"delivery_redeliver", "SELECT api.delivery_redeliver($1, $2, $3)", 1},
    {"payment_record", "SELECT body, host_ids, created FROM api.payment_record($1, $2, $3, $4, $5, $6, $7, $8)", 1},
    {"payments_list", "SELECT api.payments_list($1, $2, $3)", 0},
    {"booking_calendar", "SELECT api.booking_calendar($1, $2, $3)", 0},
    {"engine_inputs", "SELECT * FROM api.engine_inputs($1, $2, $3, $4, $5, $6, $7, $8)", 0},
    {"booking_inputs", "SELECT * FROM api.booking_inputs($1, $2, $3, $4, $5, $6, $7)", 0},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_native_module = {"native", routes, (int)(sizeof routes / sizeof routes[0]), register_statements};
