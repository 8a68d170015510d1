"""JSON Schemas of SchedKit's /v1 answers as slotd's dialect serves them (issue 17), written from
seed 002 (the 201 of POST /v1/book, the error body) and ../shared/vendors/README.md §3 (the
documented {"error"} body, the booking row of the vendor's server, the slots answer, the event
type, GET /v1/auth/me). SchedKit publishes no machine-readable schema; every body the tests
receive is validated against one of these (`check`)."""

import jsonschema

UTC_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"  # ISO 8601 UTC with Z, as the seed writes times
LOCAL = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"
TOKEN = r"^[0-9a-f]{64}$"

T = {"type": "string", "pattern": UTC_Z}
ID = {"type": "integer", "minimum": 1}
STR = {"type": "string"}
STR_NULL = {"type": ["string", "null"]}
STATUS = {"enum": ["confirmed", "pending", "cancelled", "declined", "pending_payment", "expired"]}


def obj(props, required=None, extra=False):
    return {"type": "object", "properties": props, "required": list(required if required is not None else props),
            "additionalProperties": extra}


# {"error": "message"} — docs.schedkit.net/docs/errors; nothing else in it
ERROR = obj({"error": {"type": "string", "minLength": 1}})

# 201 of POST /v1/book/...: exactly the seed's object
CREATED = obj({
    "id": ID, "status": {"enum": ["confirmed", "pending"]}, "requires_confirmation": {"type": "boolean"},
    "attendee_name": STR, "attendee_email": STR, "start_time": T, "end_time": T,
    "cancel_token": {"type": "string", "pattern": TOKEN}, "reschedule_token": {"type": "string", "pattern": TOKEN},
})

ANSWER = obj({"question_id": STR, "answer": {}})

# a booking as GET /v1/bookings[/:id] shows it (the vendor's row, tokens never included)
BOOKING = obj({
    "id": ID, "uid": STR, "event_type_id": ID, "event_type": STR_NULL, "attendee_name": STR, "attendee_email": STR,
    "attendee_timezone": STR, "start_time": T, "end_time": T, "status": STATUS, "notes": STR_NULL,
    "answers": {"type": "array", "items": ANSWER}, "custom_responses": {"type": "object"}, "created_at": T,
    "user_id": ID,
}, required=["id", "uid", "event_type_id", "event_type", "attendee_name", "attendee_email", "attendee_timezone",
             "start_time", "end_time", "status", "notes", "answers", "custom_responses", "created_at"])

LIST = obj({"bookings": {"type": "array", "items": BOOKING}, "total": {"type": "integer", "minimum": 0}})

# POST /v1/bookings/:id/reschedule: the booking, and ok: true as the vendor's server answers
MOVED = {"allOf": [{**BOOKING, "additionalProperties": True},
                   obj({"ok": {"const": True}}, extra=True)]}

# POST /v1/cancel/:token[/confirm] as JSON
CANCELLED = obj({"status": {"const": "cancelled"}, "id": ID, "uid": STR})

# POST /v1/reschedule/:token: a new booking with new tokens (the vendor's answer, with the seed's names)
REBOOKED = obj({
    "status": {"const": "rescheduled"}, "id": ID, "uid": STR, "booking_status": STATUS, "start_time": T,
    "end_time": T, "cancel_token": {"type": "string", "pattern": TOKEN},
    "reschedule_token": {"type": "string", "pattern": TOKEN},
    "cancel_url": {"type": "string", "pattern": r"^/v1/cancel/[0-9a-f]{64}$"},
    "reschedule_url": {"type": "string", "pattern": r"^/v1/reschedule/[0-9a-f]{64}$"},
})

SLOT = obj({"start": T, "end": T, "start_local": {"type": "string", "pattern": LOCAL},
            "end_local": {"type": "string", "pattern": LOCAL}})
SLOTS = obj({
    "date": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"}, "timezone": STR,
    "event_type": obj({"title": STR, "duration_minutes": ID, "description": STR_NULL,
                       "location_type": {"enum": ["video", "phone", "in_person", "other", None]},
                       "location": STR_NULL}),
    "slots": {"type": "array", "items": SLOT},
})

EVENT_TYPE = obj({
    "id": ID, "title": STR, "slug": STR, "description": STR_NULL, "duration_minutes": ID,
    "buffer_before": {"type": "integer", "minimum": 0}, "buffer_after": {"type": "integer", "minimum": 0},
    "min_notice_minutes": {"type": "integer", "minimum": 0, "multipleOf": 60},
    "max_bookings_per_day": {"type": ["integer", "null"]},
    "location_type": {"enum": ["video", "phone", "in_person", "other", None]}, "location": STR_NULL,
    "custom_fields": STR,  # a JSON string of [{id, label, type, required}], as the vendor's rows hold it
    "requires_confirmation": {"type": "boolean"}, "active": {"type": "boolean"}, "created_at": T,
})
EVENT_TYPES = obj({"event_types": {"type": "array", "items": EVENT_TYPE}})
DELETED = obj({"deleted": {"const": True}})

ME = obj({"id": ID, "email": STR, "name": STR, "slug": STR, "timezone": STR, "created_at": T})


def check(schema, body):
    jsonschema.validate(body, schema)
    return body
