"""JSON Schemas of Kordless's public Booking API (issue 17), as slotd serves it under
/api/calendar/v1. Kordless publishes no machine-readable schema: these are written from seed 004
and the vendor's documented pages (../shared/vendors/README.md §1.4-1.5), each shape with the
page it comes from; where the documents leave a field open (the slot's host/team objects, the
types of 409/422/429/500) the brief's choice is written down. Every body the Kordless tests
receive goes through validate() with one of these."""

import jsonschema

ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
TIME = {"type": "string", "pattern": ISO_Z}
INT = {"type": "integer"}

# Errors [DOC errors]: {"detail", "status", "type"}; the types of 409/422/429/500 are the
# issue's names (the page shows only 400-404).
ERROR_TYPES = {400: "validation_error", 401: "authentication_error", 403: "permission_error", 404: "not_found",
               409: "conflict", 415: "validation_error", 422: "unprocessable_entity", 429: "rate_limit_error",
               500: "internal_error", 503: "internal_error"}
ERROR = {
    "type": "object",
    "required": ["detail", "status", "type"],
    "additionalProperties": False,
    "properties": {
        "detail": {"type": "string", "minLength": 1},
        "status": INT,
        "type": {"enum": sorted(set(ERROR_TYPES.values()))},
    },
}

# K1 [DOC services/list-services]
BRANDING = {
    "type": "object",
    "required": ["primaryColor", "logo", "companyName"],
    "properties": {"primaryColor": NSTR, "logo": NSTR, "companyName": NSTR},
}
ORGANIZATION = {
    "type": "object",
    "required": ["id", "name", "slug", "tagline", "branding"],
    "properties": {"id": STR, "name": STR, "slug": STR, "tagline": NSTR, "branding": BRANDING},
}
SERVICE = {
    "type": "object",
    "required": ["key", "name", "slug", "description", "category", "duration", "price", "currency",
                 "isBookablePublic", "metadata"],
    "properties": {
        "key": STR, "name": STR, "slug": STR, "description": NSTR, "category": NSTR,
        "duration": {"type": "integer", "minimum": 1},
        "price": {"type": ["number", "null"], "minimum": 0},
        "currency": NSTR,
        "isBookablePublic": {"const": True},
        "metadata": {"type": "object"},
    },
}
ORG_RESPONSE = {
    "type": "object",
    "required": ["organization", "services"],
    "properties": {"organization": ORGANIZATION, "services": {"type": "array", "items": SERVICE}},
}

# K2 [DOC services/get-service]: location {type: onsite|phone|meet_url|custom, value};
# cancellation_policy {noticeHours, policyText}.
LOCATION = {
    "type": ["object", "null"],
    "required": ["type", "value"],
    "properties": {"type": {"enum": ["onsite", "phone", "meet_url", "custom"]}, "value": NSTR},
}
CALENDAR_SETTINGS = {
    "type": "object",
    "required": ["duration_minutes", "slot_interval_minutes", "buffer_before", "buffer_after", "booking_window_days",
                 "timezone", "location", "max_parallel_bookings", "cancellation_policy"],
    "properties": {
        "duration_minutes": INT, "slot_interval_minutes": INT, "buffer_before": INT, "buffer_after": INT,
        "booking_window_days": INT, "timezone": STR, "location": LOCATION,
        "max_parallel_bookings": {"type": "integer", "minimum": 1},
        "cancellation_policy": {
            "type": "object",
            "required": ["noticeHours", "policyText"],
            "properties": {"noticeHours": {"type": "number", "minimum": 0}, "policyText": NSTR},
        },
    },
}
SERVICE_RESPONSE = {
    "type": "object",
    "required": ["organization", "service", "calendarSettings"],
    "properties": {"organization": ORGANIZATION, "service": SERVICE, "calendarSettings": CALENDAR_SETTINGS},
}

# K3 [DOC availability/get-slots]; host {id, displayName} (the example is cut after "displa");
# team's fields are undocumented (slotd: {id, name, slug}).
HOST = {"type": ["object", "null"], "required": ["id", "displayName"],
        "properties": {"id": STR, "displayName": STR}}
TEAM = {"type": ["object", "null"], "required": ["id"], "properties": {"id": STR, "name": STR}}
SLOT = {
    "type": "object",
    "required": ["startsAt", "endsAt", "capacity", "availableCapacity", "serviceId", "hostId", "teamId", "timezone",
                 "host", "team"],
    "properties": {
        "startsAt": TIME, "endsAt": TIME,
        "capacity": {"type": "integer", "minimum": 1},
        "availableCapacity": {"type": "integer", "minimum": 1},
        "serviceId": STR, "hostId": NSTR, "teamId": NSTR, "timezone": STR, "host": HOST, "team": TEAM,
    },
}
SLOTS_RESPONSE = {"type": "object", "required": ["slots"], "properties": {"slots": {"type": "array", "items": SLOT}}}

# K4 [DOC bookings/create-booking, bookings/overview]: status confirmed | pending | canceled.
BOOKING = {
    "type": "object",
    "required": ["id", "confirmation_number", "status", "start_at", "end_at", "service_name", "organization_name",
                 "location"],
    "properties": {
        "id": STR,
        "confirmation_number": {"type": "string", "pattern": "^[0-9A-Z]{8}$"},
        "status": {"enum": ["confirmed", "pending", "canceled"]},
        "start_at": TIME, "end_at": TIME, "service_name": STR, "organization_name": STR, "location": LOCATION,
    },
}
# K5/K6 [DOC bookings/list-bookings, cancel-booking]: the full form.
BOOKING_FULL = {
    "allOf": [BOOKING, {
        "type": "object",
        "required": ["organization_slug", "service_id", "service_slug", "contact", "timezone"],
        "properties": {
            "organization_slug": STR, "service_id": STR, "service_slug": STR, "timezone": STR,
            "contact": {"type": "object", "required": ["name", "email", "phone"],
                        "properties": {"name": STR, "email": STR, "phone": NSTR}},
        },
    }],
}
CREATE_RESPONSE = {
    "type": "object",
    "required": ["booking", "calendar_invite"],
    "properties": {
        "booking": BOOKING,
        "calendar_invite": {"type": "object", "required": ["ics_url"],
                            "properties": {"ics_url": {"type": "string", "pattern": "^https?://"}}},
    },
}
BOOKING_RESPONSE = {"type": "object", "required": ["booking"], "properties": {"booking": BOOKING_FULL}}


def validate(body, schema):
    jsonschema.validate(body, schema)
    return body


def ok(r, schema, status=200):
    assert r.status == status, r
    assert (r.header("Content-Type") or "").startswith("application/json"), r
    return validate(r.json(), schema)


def err(r, status, detail=None):
    """An error in Kordless's shape, its type the one for its status."""
    assert r.status == status, f"expected {status}, got {r!r}"
    j = validate(r.json(), ERROR)
    assert j["status"] == status and j["type"] == ERROR_TYPES[status], j
    if detail is not None:
        assert detail in j["detail"], j
    return j
