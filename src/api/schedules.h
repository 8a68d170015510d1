/* schedules.h — availability schedules (owner-scoped CRUD), and the one parser of their rules
 * and overrides, used both to validate writes and to feed the slot engine. */
#ifndef SLOTD_API_SCHEDULES_H
#define SLOTD_API_SCHEDULES_H

#include <jansson.h>

#include "../http/server.h"
#include "../sched/slots.h"

int schedules_list(http_req_t *req);
int schedules_create(http_req_t *req);
int schedules_get(http_req_t *req);
int schedules_update(http_req_t *req);
int schedules_delete(http_req_t *req);

/* The validated patch of a schedule write from the request's parsed body (api_body_object
 * first): name (required when create), timezone, is_default, rules and overrides normalised.
 * Failures are kept in v (initialised here); the patch is a new reference either way. */
struct api_v_s;
json_t *schedules_patch(http_req_t *req, struct api_v_s *v, int create);

/* Parses rules [{day, start "HH:MM", end "HH:MM"|"24:00"}] and overrides [{date, start, end} |
 * {date, unavailable: true}] into out (out->overrides is malloc'd: sched_schedule_free).
 * Overlapping or touching intervals are merged. Returns 0, or -1 with the field ("rules" or
 * "overrides") and a message. Either array may be NULL (empty). */
int schedule_parse(json_t *rules, json_t *overrides, const tz_t *tz, sched_schedule_t *out, const char **field,
                   char *msg, size_t msglen);
void sched_schedule_free(sched_schedule_t *s);
/* The normalised JSON of a parsed schedule's rules and overrides (new references). */
json_t *schedule_rules_json(const sched_schedule_t *s);
json_t *schedule_overrides_json(const sched_schedule_t *s);
/* "YYYY-MM-DD" -> day number; -1 on error (dates before 1970 are refused). */
int parse_date(const char *s, int64_t *day);

#endif
