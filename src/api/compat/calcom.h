/* calcom.h — the Cal.com API v2 dialect (issue 16): what every /v2 module shares. The contract
 * is Cal.com's own OpenAPI document reduced to what slotd serves (../shared/calcom-v2/
 * openapi-subset.json, summarised in SUMMARY.md); each area is a module of its own under
 * api/compat/ (slots and reservations, bookings, event types and schedules, webhooks/me/keys,
 * teams) mapping onto the same cores as the native API.
 *
 *   - Envelopes: {"status": "success", "data": ...}; errors (api_fail through calcom_dialect)
 *     {"status": "error", "timestamp", "path", "error": {"code": <Nest exception name>,
 *     "message", "details": {"message", "error", "statusCode"[, "field"]}}}.
 *   - cal-api-version: one value per resource group; absent means that value, anything else is
 *     400 naming the supported one (calcom_version).
 *   - Times: inputs ISO 8601 (UTC or with an offset; date-only where the spec allows it);
 *     outputs as JavaScript's toISOString ("2030-01-08T15:00:00.000Z"), or in a requested zone
 *     as Luxon's toISO ("2050-09-05T09:00:00.000+02:00").
 *   - Identity: username = booking-page slug, organizationSlug/teamSlug = org/team slugs,
 *     numeric ids for event types, users, schedules, teams; bookings by uid. */
#ifndef SLOTD_API_COMPAT_CALCOM_H
#define SLOTD_API_COMPAT_CALCOM_H

#include <jansson.h>
#include <stdint.h>

#include "../../http/server.h"
#include "../../sched/tzif.h"
#include "../dispatch.h"
#include "../respond.h"

#define CALCOM_V_SLOTS "2024-09-04"       /* slots and reservations */
#define CALCOM_V_BOOKINGS "2024-08-13"    /* /v2/bookings... */
#define CALCOM_V_EVENT_TYPES "2024-06-14" /* /v2/event-types (and the team event types' schemas) */
#define CALCOM_V_SCHEDULES "2024-06-11"   /* /v2/schedules... */

extern const api_dialect_t calcom_dialect;

/* Route helpers for the modules' tables: public (per-IP limit; a handler may still call
 * api_authenticate when an Authorization header is present) and authenticated (Bearer API key
 * or session; org keys refused unless the module says API_ORG). */
#define CALCOM_PUB(fn) api_dispatch, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC, &calcom_dialect}
#define CALCOM_AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH, &calcom_dialect}

/* The cal-api-version header against the operation's version: 0 when absent or equal; else
 * responds 400 ("... supports cal-api-version <v>") and returns -1. version NULL: the operation
 * has no version header (any value is ignored). */
int calcom_version(http_req_t *req, const char *version);

/* Success: {"status":"success","data":<data>} with status (201 for creations). Steals data. */
void calcom_ok(http_req_t *req, int status, json_t *data);
/* The same around JSON text (compact, e.g. from PostgreSQL through json_compact_append). */
void calcom_ok_text(http_req_t *req, int status, const char *json, size_t len);
/* {"status":"success"} alone (reservation and schedule deletes). */
void calcom_ok_bare(http_req_t *req, int status);
/* A failure in Cal.com's words (calcom_dialect renders it): status and message; field may be NULL. */
void calcom_fail(http_req_t *req, int status, const char *message, const char *field);

/* JavaScript toISOString of a Unix time: "2030-01-08T15:00:00.000Z" (out: 32 bytes). */
void calcom_iso(int64_t t, char out[32]);
/* Luxon's toISO of t in tz: "2050-09-05T09:00:00.000+02:00"; "Z" only for the UTC zones
 * themselves (UTC, Etc/UTC, GMT...), as Luxon prints a fixed zero offset (out: 40 bytes). */
void calcom_iso_tz(const tz_t *tz, int64_t t, char out[40]);
/* ISO 8601 input: a date-time with Z or an offset, fractions allowed, or (date_ok) a date
 * alone, which is 00:00:00Z or, with end_of_day, 23:59:59Z of that date. 0, or -1. */
int calcom_parse_time(const char *s, int date_ok, int end_of_day, int64_t *out);

#endif
