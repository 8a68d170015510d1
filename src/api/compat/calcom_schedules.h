/* calcom_schedules.h — Cal.com API v2 schedules (cal-api-version 2024-06-11) on the native
 * availability schedules, and what the event types of the same module share with them. The
 * routes are in calcom_event_types.c (one module for both). */
#ifndef SLOTD_API_COMPAT_CALCOM_SCHEDULES_H
#define SLOTD_API_COMPAT_CALCOM_SCHEDULES_H

#include <jansson.h>

#include "../../db/pool.h"
#include "../../http/server.h"
#include "../query.h"
#include "../validate.h"

int calcom_schedules_list(http_req_t *req);
int calcom_schedules_create(http_req_t *req);
int calcom_schedules_default(http_req_t *req);
int calcom_schedules_get(http_req_t *req);
int calcom_schedules_update(http_req_t *req);
int calcom_schedules_delete(http_req_t *req);
/* Their statements (calcom_schedules_list, calcom_schedule_get/save/delete) are registered with
 * the event types' (calcom_event_types.c: one list per module). */

/* Native field names -> Cal.com's, {NULL, NULL}-terminated: the field a refusal names. */
typedef struct {
  const char *native, *calcom;
} calcom_field_map_t;
const char *calcom_field_name(const calcom_field_map_t *map, const char *native);

/* The event types' native field names -> Cal.com's (team event types' schedulingType too). */
extern const calcom_field_map_t calcom_event_type_fields[];

/* Cal.com's event-type body b (EventType/TeamEventType create or update input) -> n, the native
 * body the native event_type_fields then validates (one set of rules), and c, the Cal.com part
 * kept in event_types.calcom (locations, booking-field details, display settings, window and
 * seat flags: see 0019_calcom_event_types.sql). Cal.com's defaults on create: 120 minutes'
 * notice, no booking window. Failures in v, naming Cal.com's fields. */
void calcom_event_type_translate(api_v_t *v, json_t *b, int create, json_t *n, json_t *c);

/* A failed statement answered in Cal.com's words with its field renamed (500s and outages as
 * api_db_failed does). 1 when r failed (answered), else 0. */
int calcom_db_failed(http_req_t *req, const db_result_t *r, const calcom_field_map_t *map);
/* A write's row (body, host_ids, stale) answered as {"status":"success","data":body}. */
void calcom_respond_write(http_req_t *req, const db_result_t *r, int status, const calcom_field_map_t *map);

#endif
