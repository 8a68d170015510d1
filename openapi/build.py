#!/usr/bin/env python3
"""Builds openapi/openapi.json, slotd's OpenAPI 3.1 contract, from the Python below.

    python3 openapi/build.py            # rewrite openapi/openapi.json
    python3 openapi/build.py --check    # exit 1 if openapi/openapi.json is not what this builds

The JSON file is what ships (compiled into the binary by web/bundle.py, served at GET /openapi.json)
and what tests/api validates every response against; this script is its source, written as Python
only because the same shapes repeat. Every schema is ours, written from slotd's own responses
(sql/migrations/*_json functions, src/api/) and README.md; nothing is copied from the vendors'
documents. Objects are left open (additionalProperties not false) unless stated: slotd may add
fields, and a client must ignore the ones it does not know. Required lists name the fields the
server always writes. Nullable fields use type arrays ("type": ["string", "null"]).
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "openapi.json"

# -- schema helpers -----------------------------------------------------------------------------


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def t(*types, **kw):
    s = {"type": types[0] if len(types) == 1 else list(types)}
    s.update(kw)
    return s


STR = t("string")
NSTR = t("string", "null")
INT = t("integer")
NINT = t("integer", "null")
BOOL = t("boolean")
NBOOL = t("boolean", "null")
NUM = t("number")
NNUM = t("number", "null")
ID = t("integer", minimum=1)
ANY = {}
OBJ = t("object")
NOBJ = t("object", "null")
SEED_TS = t("string", pattern=r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", description="the seed's UTC \"YYYY-MM-DD HH:MM:SS\"")
RFC = t("string", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
NRFC = t("string", "null", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DATE = t("string", pattern=r"^\d{4}-\d\d-\d\d$")
HHMM = t("string", pattern=r"^\d\d:\d\d$")
UUID = t("string", pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BIT = t("integer", enum=[0, 1])


def arr(items, **kw):
    s = {"type": "array", "items": items}
    s.update(kw)
    return s


def nullable(s):
    if "$ref" in s:
        return {"anyOf": [s, {"type": "null"}]}
    s = dict(s)
    ty = s["type"] if isinstance(s["type"], list) else [s["type"]]
    s["type"] = ty + ["null"]
    if "enum" in s:
        s["enum"] = s["enum"] + [None]
    return s


def obj(req=None, opt=None, closed=False, **kw):
    """An object with required fields req and optional fields opt (dicts name -> schema)."""
    req, opt = req or {}, opt or {}
    s = {"type": "object"}
    if req:
        s["required"] = list(req)
    props = {**req, **opt}
    if props:
        s["properties"] = props
    if closed:
        s["additionalProperties"] = False
    s.update(kw)
    return s


def enum(*values):
    return {"enum": list(values)}


# -- shared native schemas ----------------------------------------------------------------------

BOOKING_STATUS = enum("pending", "confirmed", "cancelled", "declined", "pending_payment", "expired")
PAYMENT_STATUS = t("string", "null", enum=["unpaid", "paid", "partially_refunded", "refunded", None])
MONEY = t("number", "null")
CURRENCY = t("string", "null", pattern=r"^[A-Z]{3}$")

S = {}  # components.schemas

S["Error"] = obj(
    {"error": t("string", minLength=1, description="a message for people"),
     "code": t("string", pattern=r"^[A-Z][A-Z_]*$",
               description="VALIDATION_FAILED, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, ...")},
    {"field": t("string", description="the offending input, on validation errors"),
     "status": t("string", description="a booking's current status, on an illegal transition")},
    description="Every native error (4xx, 5xx).")
S["RateLimited"] = obj(
    {"error": obj({"code": {"const": "RATE_LIMIT_EXCEEDED"}, "message": t("string", minLength=1)}, closed=True)},
    closed=True, description="429 over a rate limit (with Retry-After).")
S["Ok"] = obj({"ok": {"const": True}})
S["User"] = obj({"id": ID, "name": STR, "email": STR, "timezone": STR, "avatar_url": NSTR,
                 "created_at": SEED_TS, "created_at_rfc3339": RFC})
S["UserBrief"] = obj({"id": ID, "name": STR, "email": STR, "timezone": STR})
S["ApiKey"] = obj({"id": ID, "label": STR, "prefix": STR, "last4": STR, "created_at": SEED_TS,
                   "created_at_rfc3339": RFC, "expires_at": NSTR, "last_used_at": NSTR})
S["ApiKeyCreated"] = {"allOf": [ref("ApiKey"), obj({"key": t("string", pattern="^cal_")})]}
S["BookingPage"] = obj({"id": ID, "slug": STR, "display_name": STR, "bio": NSTR, "welcome_message": NSTR,
                        "brand_color": NSTR})
S["Question"] = OBJ
S["Recurrence"] = t("object", "null", required=["frequency", "interval", "occurrences"],
                    properties={"frequency": enum("weekly", "monthly"), "interval": t("integer", minimum=1, maximum=12),
                                "occurrences": t("integer", minimum=2, maximum=24)})
S["PublicEventType"] = obj({
    "id": ID, "name": STR, "slug": STR, "description": NSTR, "duration_minutes": t("integer", minimum=1),
    "durations": t("array", "null", items=INT), "color": NSTR, "location_type": NSTR,
    "requires_confirmation": BOOL, "questions": arr(ref("Question")), "price": MONEY, "currency": CURRENCY,
    "seats": INT, "recurrence": ref("Recurrence")})
S["PublicPage"] = {"anyOf": [
    obj({"slug": STR, "display_name": STR, "bio": NSTR, "welcome_message": NSTR, "brand_color": NSTR,
         "event_types": arr(ref("PublicEventType"))}),
    obj({"kind": {"const": "org"}, "slug": STR, "display_name": STR, "timezone": STR,
         "event_types": arr({"allOf": [ref("PublicEventType"), obj({
             "scheduling": enum("round_robin", "collective"), "hosts": arr(obj({"id": ID, "name": STR}))})]})})],
    "description": "a person's page, or an organisation's (kind: org) whose event types name their hosts"}
S["EventType"] = obj({
    "id": ID, "name": STR, "slug": STR, "duration_minutes": t("integer", minimum=1), "description": NSTR,
    "color": NSTR, "location_type": NSTR, "location_value": NSTR, "questions": arr(ref("Question")),
    "is_secret": BOOL, "requires_confirmation": BOOL, "buffer_before": INT, "buffer_after": INT,
    "min_notice_hours": t("number"), "max_future_days": t("number"), "slot_interval_minutes": INT,
    "schedule_id": NINT, "price": MONEY, "currency": CURRENCY, "seats": INT, "requires_payment": BOOL,
    "payment_window_minutes": INT, "reminders": t("array", "null", items=INT), "durations": arr(INT),
    "recurrence": ref("Recurrence"), "limit_per_day": NINT, "limit_per_week": NINT, "is_active": BIT,
    "created_at": SEED_TS, "created_at_rfc3339": RFC})
S["OrgEventType"] = {"allOf": [ref("EventType"), obj({
    "org_id": ID, "scheduling": enum("round_robin", "collective"), "team_id": NINT,
    "hosts": arr(obj({"user_id": ID, "priority": INT, "weight": INT}))})]}
S["EventTypeInput"] = obj(opt={
    "name": STR, "slug": STR, "duration_minutes": INT, "description": NSTR, "color": NSTR, "location_type": NSTR,
    "location_value": NSTR, "questions": arr(OBJ), "is_secret": BOOL, "requires_confirmation": BOOL,
    "buffer_before": INT, "buffer_after": INT, "min_notice_hours": NUM, "max_future_days": NUM,
    "slot_interval_minutes": NINT, "schedule_id": NINT, "price": t("number", "string", "null"),
    "currency": NSTR, "seats": INT, "requires_payment": BOOL, "payment_window_minutes": INT,
    "reminders": t("array", "null", items=INT), "durations": t("array", "null", items=INT),
    "recurrence": t("object", "null"), "limit_per_day": NINT, "limit_per_week": NINT})
S["OrgEventTypeInput"] = {"allOf": [ref("EventTypeInput"), obj(opt={
    "scheduling": enum("round_robin", "collective"), "team_id": NINT,
    "hosts": arr(obj({"user_id": INT}, {"priority": INT, "weight": INT}))})]}
S["ScheduleRule"] = obj({"day": t("integer", minimum=0, maximum=6), "start": HHMM, "end": HHMM})
S["Schedule"] = obj({"id": ID, "name": STR, "timezone": STR, "rules": arr(ref("ScheduleRule")),
                     "overrides": arr(OBJ), "is_default": BIT, "created_at": SEED_TS, "created_at_rfc3339": RFC})
S["ScheduleInput"] = obj(opt={"name": STR, "timezone": STR, "rules": t("array", "string"),
                              "overrides": t("array", "string"), "is_default": t("integer", "boolean")})
S["HostRef"] = obj({"id": ID, "name": STR, "email": NSTR})
S["Booking"] = obj({
    "id": ID, "uid": UUID, "event_type_id": ID, "event_name": STR, "event_type_name": STR,
    "duration_minutes": t("integer", minimum=1), "invitee_name": NSTR, "invitee_email": NSTR, "phone": NSTR,
    "notes": NSTR, "answers": OBJ, "seats": t("integer", minimum=1),
    "start_time": SEED_TS | {"description": "the invitee's wall clock"}, "end_time": SEED_TS, "start": RFC, "end": RFC,
    "status": BOOKING_STATUS, "timezone": STR, "confirmation_number": NSTR, "previous_start": NRFC,
    "previous_end": NRFC, "reason": NSTR, "cancelled_by": NSTR, "no_show": BOOL, "location_type": NSTR,
    "location_value": NSTR, "customer_id": NINT, "payment_status": PAYMENT_STATUS, "amount_due": MONEY,
    "amount_paid": MONEY, "amount_refunded": MONEY, "currency": CURRENCY, "payment_expires_at": NRFC,
    "created_at": SEED_TS, "created_at_rfc3339": RFC,
}, {
    "cancel_token": STR, "reschedule_token": STR, "rescheduled_from_uid": NSTR, "rescheduled_to_uid": NSTR,
    "reschedule_reason": NSTR, "rescheduled_by": NSTR, "recurring_uid": STR, "org_id": ID,
    "scheduling": enum("round_robin", "collective"), "host": ref("HostRef"), "hosts": arr(ref("HostRef")),
}, description="A native booking; cancel_token/reschedule_token only in the answer that made it.")
S["BookingOne"] = obj({"booking": ref("Booking")})
S["BookingCreated"] = obj({"booking": ref("Booking")}, {"bookings": arr(ref("Booking"))})
S["BookingInput"] = obj(opt={
    "start_time": STR, "start": STR, "name": STR, "email": STR, "invitee_name": STR, "invitee_email": STR,
    "timezone": STR, "notes": NSTR, "phone": NSTR, "answers": OBJ, "seats": INT, "duration_minutes": INT,
    "reservation_uid": STR, "host_id": INT, "recurrence_count": INT, "notify": BOOL})
S["Slot"] = obj({"start": RFC, "end": RFC}, {"seats_remaining": NINT, "hosts": arr(INT)})
S["Slots"] = obj({"slots": t("object", propertyNames={"pattern": r"^\d{4}-\d\d-\d\d$"},
                             additionalProperties={"anyOf": [arr(HHMM), arr(ref("Slot"))]})},
                 description="by date on the invitee's wall clock: times \"HH:MM\", or with format=range {start, end}")
S["Webhook"] = obj({"id": ID, "url": STR, "events": arr(STR), "is_active": BOOL, "secret_hint": STR,
                    "created_at": SEED_TS, "created_at_rfc3339": RFC})
S["WebhookCreated"] = {"allOf": [ref("Webhook"), obj({"secret": STR})]}
S["Queued"] = obj({"ok": {"const": True}, "delivery_id": ID})
S["Delivery"] = obj({"id": ID, "event": STR, "status": enum("pending", "delivering", "delivered", "failed"),
                     "attempts": INT, "last_status": NINT, "last_error": NSTR, "last_duration_ms": NINT,
                     "created_at": RFC, "last_attempt_at": NRFC, "next_attempt_at": NRFC, "delivered_at": NRFC})
S["Reservation"] = obj({"reservation_uid": UUID, "event_type_id": ID, "start": RFC, "end": RFC,
                        "reserved_until": RFC})
S["Org"] = obj({"id": ID, "name": STR, "slug": STR, "timezone": STR, "created_at": RFC,
                "role": enum("owner", "admin", "member", None)})
S["Member"] = obj({"user_id": ID, "name": STR, "email": STR, "role": enum("owner", "admin", "member"),
                   "timezone": STR})
S["Team"] = obj({"id": ID, "org_id": ID, "name": STR, "slug": STR, "member_ids": arr(ID), "created_at": RFC})
S["TimeOff"] = obj({"id": ID, "user_id": ID, "start": RFC, "end": RFC, "reason": NSTR, "created_at": RFC})
S["Label"] = obj({"id": ID, "name": STR})
S["CustomerLabel"] = obj({"id": ID, "name": STR, "created_at": RFC}, {"customers": INT})
S["Customer"] = obj({
    "id": ID, "user_id": NINT, "org_id": NINT, "name": NSTR, "surname": NSTR, "email": NSTR, "phone": NSTR,
    "time_zone": NSTR, "status": enum("active", "blocked"), "notes": NSTR, "tags": arr(ref("Label")),
    "groups": arr(ref("Label")), "last_booking_at": NRFC, "created_at": RFC, "updated_at": RFC})
S["CustomerExport"] = obj({"customer": ref("Customer"), "bookings": arr(OBJ), "payments": arr(OBJ),
                           "events": arr(OBJ), "exported_at": RFC})
S["Payment"] = obj({"id": ID, "booking_id": ID, "kind": enum("payment", "refund"), "amount": NUM,
                    "currency": STR, "method": NSTR, "external_id": NSTR, "created_at": RFC})
S["Ledger"] = obj({"payments": arr(ref("Payment")), "amount_due": MONEY, "amount_paid": MONEY,
                   "amount_refunded": MONEY, "currency": CURRENCY, "payment_status": PAYMENT_STATUS})
S["PaymentRecorded"] = obj({"payment": ref("Payment"), "booking": ref("Booking")})
S["CalendarLinks"] = obj({"google": STR, "outlook": STR, "office365": STR, "yahoo": STR, "ics": STR})

# -- vendor envelopes ---------------------------------------------------------------------------

S["CalcomSuccess"] = obj({"status": {"const": "success"}, "data": ANY}, {"pagination": OBJ},
                         description="Cal.com v2's success envelope")
S["CalcomError"] = obj({"status": {"const": "error"}, "error": obj({"code": STR, "message": STR},
                                                                   {"details": OBJ})},
                       {"timestamp": STR, "path": STR}, description="Cal.com v2's error envelope")
S["SchedkitError"] = obj({"error": STR}, description="SchedKit's {error} (any extra native fields allowed)")
S["KordlessError"] = obj({"detail": t("string", minLength=1), "status": INT,
                          "type": enum("validation_error", "authentication_error", "permission_error", "not_found",
                                       "conflict", "unprocessable_entity", "rate_limit_error", "internal_error")},
                         closed=True, description="Kordless's errors")
S["CalendeskError"] = obj({"message": STR}, {"errors": t("object", additionalProperties=arr(STR))},
                          description="Laravel's errors: {message}, 422 with errors by field")
S["CalendeskPage"] = obj({
    "current_page": INT, "data": t("array"), "first_page_url": STR, "from": NINT, "last_page": INT,
    "last_page_url": STR, "next_page_url": NSTR, "path": STR, "per_page": INT, "prev_page_url": NSTR,
    "to": NINT, "total": INT}, description="Laravel's paginator")
S["JsonRpcResponse"] = obj({"jsonrpc": {"const": "2.0"}, "id": t("string", "integer", "null")},
                           {"result": ANY, "error": obj({"code": INT, "message": STR}, {"data": ANY})},
                           oneOf=[{"required": ["result"]}, {"required": ["error"]}])

# -- operations ---------------------------------------------------------------------------------

PATHS = {}
JSON = "application/json"


def content(schema, media=JSON):
    return {media: {"schema": schema}} if schema is not None else None


def resp(desc, schema=None, media=JSON, headers=None):
    r = {"description": desc}
    if isinstance(schema, dict) and all("/" in k for k in schema):  # several media types
        r["content"] = {m: {"schema": s} for m, s in schema.items()}
    elif schema is not None:
        r["content"] = {media: {"schema": schema}}
    if headers:
        r["headers"] = headers
    return r


RESPONSES = {}  # components.responses: the error responses many operations share


def shared(name, response):
    """A response kept once under components.responses and referenced."""
    assert RESPONSES.setdefault(name, response) == response, name
    return {"$ref": f"#/components/responses/{name}"}


NATIVE_ERRORS = {
    "4XX": shared("Error4XX", resp("Error (400 validation, 401, 403, 404, 409, 413, 415, 422 ...)", ref("Error"))),
    "429": shared("RateLimited", resp("Over a rate limit", ref("RateLimited"),
                                      headers={"Retry-After": {"schema": INT}})),
    "5XX": shared("Error5XX", resp("Server error (503: the database is unavailable, with Retry-After)", ref("Error"))),
}


def dialect_errors(name, schema):
    # A body over SLOTD_MAX_BODY is refused before a route is chosen: its 413 is native; so is an
    # answer to a dialect's path that its dialect does not take (Calendesk without X-Tenant).
    either = {"anyOf": [schema, ref("Error")]}
    return {"4XX": shared(f"{name}Error4XX", resp("Error in the dialect's shape", either)),
            "5XX": shared(f"{name}Error5XX", resp("Server error in the dialect's shape", either))}


CALCOM_ERRORS = dialect_errors("Calcom", ref("CalcomError"))
SCHEDKIT_ERRORS = dialect_errors("Schedkit", ref("SchedkitError"))
KORDLESS_ERRORS = dialect_errors("Kordless", ref("KordlessError"))
CALENDESK_ERRORS = dialect_errors("Calendesk", ref("CalendeskError"))

PARAM_DOC = {}


def op(method, path, tag, summary, ok=None, body=None, query=(), errors=None, auth=True, extra=None, op_id=None,
       security=None):
    """Adds an operation. ok: {status: response} (default 200 with no body)."""
    oas = re.sub(r":([A-Za-z_]+)", r"{\1}", path)
    item = PATHS.setdefault(oas, {})
    params = [{"name": n, "in": "path", "required": True, "schema": STR}
              for n in re.findall(r":([A-Za-z_]+)", path)]
    for q in query:
        if isinstance(q, str):
            q = (q, STR)
        params.append({"name": q[0], "in": "query", "required": False, "schema": q[1]})
    o = {"tags": [tag], "summary": summary}
    o["operationId"] = op_id or (method + re.sub(r"[^A-Za-z0-9]+", "_", oas)).strip("_")
    if params:
        o["parameters"] = params
    if body is not None:
        o["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    responses = {}
    for status, r in (ok or {"200": resp("OK")}).items():
        responses[str(status)] = r
    if extra:
        responses.update({str(k): v for k, v in extra.items()})
    for k, v in (NATIVE_ERRORS if errors is None else errors).items():
        responses.setdefault(k, v)
    o["responses"] = responses
    if security is not None:
        o["security"] = security
    elif not auth:
        o["security"] = [{}]
    assert method not in item, (method, path)
    item[method] = o


def ok200(desc, schema):
    return {"200": resp(desc, schema)}


def ok201(desc, schema):
    return {"201": resp(desc, schema)}


PAGED = ("limit", INT), ("page", INT), ("offset", INT)
LIST_HEADERS = {"X-Total-Count": {"schema": INT}, "Link": {"schema": STR}}
HTML = "text/html"
HTML_PAGE = t("string")


def listed(desc, item):
    return {"200": resp(desc, arr(item), headers=LIST_HEADERS)}


# operations and monitoring
op("get", "/healthz", "operations", "Liveness", ok200("alive", obj({"status": STR})), auth=False,
   errors={"5XX": resp("not alive", ref("Error"))})
op("get", "/readyz", "operations", "Readiness (503 while draining or without the database)",
   ok200("ready", obj({"status": STR})), auth=False,
   errors={"5XX": resp("Server error", ref("Error"))})
op("get", "/metrics", "operations", "Prometheus metrics (404 when SLOTD_METRICS_LISTEN is set)",
   {"200": resp("the metrics", STR, media="text/plain; version=0.0.4")}, auth=False)
op("get", "/openapi.json", "operations", "This document", {"200": resp("the OpenAPI document", OBJ),
                                                           "304": resp("Not modified (If-None-Match)")},
   auth=False, errors={"4XX": resp("not found", STR, media="text/plain")})

# accounts
AUTH_BODY = obj({"email": STR, "password": STR}, {"name": STR, "timezone": STR})
op("post", "/api/auth/register", "accounts", "Register", ok201("the account", obj({"user": ref("User"), "bookingSlug": STR})),
   body=AUTH_BODY, auth=False)
op("post", "/api/auth/login", "accounts", "Log in (sets the session cookie)",
   ok200("logged in", obj({"user": ref("UserBrief")})), body=obj({"email": STR, "password": STR}), auth=False)
op("post", "/api/auth/logout", "accounts", "Log out", ok200("logged out", ref("Ok")))
op("get", "/api/auth/me", "accounts", "The caller", ok200("the caller", ref("User")))
op("put", "/api/auth/me", "accounts", "Change name, time zone, avatar", ok200("the caller", ref("User")),
   body=obj(opt={"name": STR, "timezone": STR, "avatar_url": NSTR}))
op("put", "/api/auth/password", "accounts", "Change the password", ok200("changed", ref("Ok")),
   body=obj({"current_password": STR, "new_password": STR}))

# API keys
op("get", "/api/api-keys", "api keys", "List keys", ok200("the keys", arr(ref("ApiKey"))))
op("post", "/api/api-keys", "api keys", "Make a key (shown once)", ok201("the key", ref("ApiKeyCreated")),
   body=obj(opt={"label": STR, "expires_at": NSTR}))
op("delete", "/api/api-keys/:id", "api keys", "Revoke a key", ok200("revoked", ref("Ok")))

# booking page
op("get", "/api/booking-page", "booking page", "The caller's page", ok200("the page", ref("BookingPage")))
op("put", "/api/booking-page", "booking page", "Change the page", ok200("the page", ref("BookingPage")),
   body=obj(opt={"slug": STR, "display_name": STR, "bio": NSTR, "welcome_message": NSTR, "brand_color": NSTR}))
op("get", "/api/public/:slug", "booking page", "A person's or an organisation's public page",
   ok200("the page", ref("PublicPage")), auth=False)
op("get", "/api/public/:slug/:event_slug", "booking page", "One event type's public data (the booking form)",
   ok200("the event type and its page", obj({
       "page": obj({"slug": STR, "display_name": STR},
                   {"kind": {"const": "org"}, "timezone": STR, "bio": NSTR, "welcome_message": NSTR, "brand_color": NSTR}),
       "event_type": {"allOf": [ref("PublicEventType"), obj(opt={
           "scheduling": enum("round_robin", "collective"), "hosts": arr(obj({"id": ID, "name": STR}))})]}})),
   auth=False)

# event types
op("get", "/api/event-types", "event types", "List", ok200("the caller's event types", arr(ref("EventType"))))
op("post", "/api/event-types", "event types", "Create", ok201("the event type", ref("EventType")),
   body=ref("EventTypeInput"))
op("get", "/api/event-types/:id", "event types", "Get", ok200("the event type", ref("EventType")))
op("put", "/api/event-types/:id", "event types", "Change", ok200("the event type", ref("EventType")),
   body=ref("EventTypeInput"))
op("delete", "/api/event-types/:id", "event types", "Delete", ok200("deleted", ref("Ok")))
SLOT_QUERY = (("start", STR), ("end", STR), ("timezone", STR), ("format", enum("range")), ("explain", STR),
              ("duration", INT), ("host_id", INT), ("seats", INT))
op("get", "/api/event-types/:id/slots", "slots", "Free slots by event type id", ok200("the slots", ref("Slots")),
   query=SLOT_QUERY, auth=False, extra={"304": resp("Not modified")})
op("post", "/api/event-types/:id/book", "bookings", "Book by event type id", ok201("the booking", ref("BookingCreated")),
   body=ref("BookingInput"), auth=False)

# schedules
op("get", "/api/availability-schedules", "schedules", "List", ok200("the schedules", arr(ref("Schedule"))))
op("post", "/api/availability-schedules", "schedules", "Create", ok201("the schedule", ref("Schedule")),
   body=ref("ScheduleInput"))
op("get", "/api/availability-schedules/:id", "schedules", "Get", ok200("the schedule", ref("Schedule")))
op("put", "/api/availability-schedules/:id", "schedules", "Change", ok200("the schedule", ref("Schedule")),
   body=ref("ScheduleInput"))
op("delete", "/api/availability-schedules/:id", "schedules", "Delete", ok200("deleted", ref("Ok")))

# slots and booking
op("get", "/api/availability/:slug/:event_slug", "slots", "Free slots", ok200("the slots", ref("Slots")),
   query=SLOT_QUERY, auth=False, extra={"304": resp("Not modified")})
op("post", "/api/book/:slug/:event_slug", "bookings", "Book", ok201("the booking", ref("BookingCreated")),
   body=ref("BookingInput"), auth=False)
op("get", "/api/bookings", "bookings", "The host's bookings (X-Total-Count, Link)",
   listed("the bookings", ref("Booking")),
   query=(("status", STR), ("from", STR), ("to", STR), ("event_type_id", INT)) + PAGED)
BY_NUMBER_Q = (("contact", STR),)
op("get", "/api/bookings/confirmation/:number", "invitee links", "A booking by confirmation number and contact",
   ok200("the booking", obj({"booking": ref("Booking")})), query=BY_NUMBER_Q, auth=False)
op("post", "/api/bookings/confirmation/:number/cancel", "invitee links", "Cancel by confirmation number",
   ok200("cancelled", obj({"booking": ref("Booking")})), query=BY_NUMBER_Q, auth=False)
op("post", "/api/bookings/confirmation/:number/reschedule", "invitee links", "Move by confirmation number",
   ok200("moved", obj({"booking": ref("Booking")})), query=BY_NUMBER_Q, auth=False)
op("get", "/api/bookings/:id", "bookings", "One booking", ok200("the booking", ref("Booking")))
TRANSITION_BODY = obj(opt={"reason": NSTR, "following": BOOL})
op("post", "/api/bookings/:id/cancel", "bookings", "Cancel",
   ok200("cancelled: {ok: true}, or with following: true the booking", {"anyOf": [ref("Ok"), ref("BookingOne")]}), body=TRANSITION_BODY)
op("post", "/api/bookings/:id/reschedule", "bookings", "Move (or, with new_booking, rebook)",
   ok200("the booking", ref("BookingOne")),
   body=obj(opt={"start_time": STR, "start": STR, "timezone": STR, "reason": NSTR, "new_booking": BOOL}))
op("post", "/api/bookings/:id/confirm", "bookings", "Confirm a pending booking", ok200("the booking", ref("BookingOne")))
op("post", "/api/bookings/:id/decline", "bookings", "Decline a pending booking", ok200("the booking", ref("BookingOne")),
   body=TRANSITION_BODY)
op("post", "/api/bookings/:id/no-show", "bookings", "Mark a no-show", ok200("the booking", ref("BookingOne")),
   body=obj(opt={"no_show": BOOL}))
op("post", "/api/bookings/:id/payments", "payments", "Record a payment or refund",
   {"201": resp("recorded", ref("PaymentRecorded")), "200": resp("the same external_id again", ref("PaymentRecorded"))},
   body=obj({"amount": t("number", "string")}, {"currency": STR, "kind": enum("payment", "refund"), "method": NSTR,
                                                 "external_id": NSTR}))
op("get", "/api/bookings/:id/payments", "payments", "The ledger", ok200("the ledger", ref("Ledger")))
op("get", "/api/bookings/:id/ics", "calendar", "The booking's invitation (?token= for the invitee)",
   {"200": resp("the invitation", STR, media="text/calendar")}, query=(("token", STR),), auth=False)
op("get", "/api/bookings/:id/calendar-links", "calendar", "Add-to-calendar links",
   ok200("the links", ref("CalendarLinks")), query=(("token", STR),), auth=False)
TOKEN_PAGE = {JSON: ref("BookingOne"), HTML: HTML_PAGE}
LINK_ERRORS = {**NATIVE_ERRORS,
               "4XX": resp("Error: JSON, or a page for a browser", {JSON: ref("Error"), HTML: HTML_PAGE})}
op("get", "/api/bookings/:id/confirm#token", "invitee links", "The host's e-mailed confirm link ({id} is the token)",
   {"200": resp("confirmed: JSON, or a page for a browser", TOKEN_PAGE)}, auth=False, errors=LINK_ERRORS)
op("get", "/api/bookings/:id/decline#token", "invitee links", "The host's e-mailed decline link ({id} is the token)",
   {"200": resp("declined: JSON, or a page for a browser", TOKEN_PAGE)}, auth=False, errors=LINK_ERRORS)
op("post", "/api/cancel/:token/confirm", "invitee links", "The invitee cancels",
   {"200": resp("cancelled: JSON, or a page for a browser", {JSON: ref("Ok"), HTML: HTML_PAGE})}, auth=False,
   errors=LINK_ERRORS,
   body=obj(opt={"reason": NSTR}))
op("get", "/api/cancel/:token", "invitee links", "The cancel link's page (the booking as JSON for Accept: application/json)",
   {"200": resp("a page, or the booking", {JSON: ref("Booking"), HTML: HTML_PAGE})}, auth=False, errors=LINK_ERRORS)
op("post", "/api/reschedule/:token", "invitee links", "The invitee moves the booking",
   {"200": resp("moved: JSON, or a page for a browser", TOKEN_PAGE)}, errors=LINK_ERRORS,
   query=(("start_time", STR),), auth=False, body=obj(opt={"start_time": STR, "start": STR, "timezone": STR}))
op("get", "/api/reschedule/:token", "invitee links", "The reschedule link's page (the booking as JSON for Accept: application/json)",
   {"200": resp("a page, or the booking", {JSON: ref("Booking"), HTML: HTML_PAGE})}, auth=False, errors=LINK_ERRORS)

# webhooks (personal and an org's)
WEBHOOK_BODY = obj(opt={"url": STR, "events": arr(STR), "is_active": BOOL, "secret": STR})


def webhook_ops(base, tag, pid):
    op("get", base, tag, "List webhooks", ok200("the webhooks", arr(ref("Webhook"))))
    op("post", base, tag, "Create a webhook (the secret is shown once)", ok201("the webhook", ref("WebhookCreated")),
       body=WEBHOOK_BODY)
    op("put", f"{base}/:{pid}", tag, "Change a webhook", ok200("the webhook", ref("Webhook")), body=WEBHOOK_BODY)
    op("delete", f"{base}/:{pid}", tag, "Delete a webhook", ok200("deleted", ref("Ok")))
    op("post", f"{base}/:{pid}/ping", tag, "Send a ping", {"202": resp("queued", ref("Queued"))})
    op("get", f"{base}/:{pid}/deliveries", tag, "Deliveries, newest first", listed("the deliveries", ref("Delivery")),
       query=PAGED)
    op("post", f"{base}/:{pid}/deliveries/:delivery_id/redeliver", tag, "Deliver again",
       {"202": resp("queued", ref("Queued"))})


webhook_ops("/api/webhooks", "webhooks", "id")

# holds
op("post", "/api/reservations", "holds", "Hold a slot", ok201("the hold", ref("Reservation")),
   body=obj({"event_type_id": INT}, {"start": STR, "start_time": STR, "duration_minutes": INT}), auth=False)
op("get", "/api/reservations", "holds", "Live holds on the host's calendar", ok200("the holds", arr(ref("Reservation"))))
op("get", "/api/reservations/:uid", "holds", "One hold", ok200("the hold", ref("Reservation")), auth=False)
op("delete", "/api/reservations/:uid", "holds", "Release a hold", ok200("released", ref("Ok")), auth=False)

# organisations
ORG_BODY = obj(opt={"name": STR, "slug": STR, "timezone": STR})
op("post", "/api/orgs", "organisations", "Create", ok201("the org", ref("Org")), body=ORG_BODY)
op("get", "/api/orgs", "organisations", "The caller's orgs", listed("the orgs", ref("Org")), query=PAGED)
op("get", "/api/orgs/:id", "organisations", "Get", ok200("the org", ref("Org")))
op("put", "/api/orgs/:id", "organisations", "Change", ok200("the org", ref("Org")), body=ORG_BODY)
op("delete", "/api/orgs/:id", "organisations", "Delete", ok200("deleted", ref("Ok")))
MEMBER_BODY = obj(opt={"email": STR, "name": STR, "role": enum("owner", "admin", "member"), "timezone": STR})
op("post", "/api/orgs/:id/members", "organisations", "Add a member", ok201("the member", ref("Member")),
   body=MEMBER_BODY)
op("get", "/api/orgs/:id/members", "organisations", "Members", listed("the members", ref("Member")), query=PAGED)
op("put", "/api/orgs/:id/members/:user_id", "organisations", "Change a member", ok200("the member", ref("Member")),
   body=MEMBER_BODY)
op("delete", "/api/orgs/:id/members/:user_id", "organisations", "Remove a member", ok200("removed", ref("Ok")))
MS = "/api/orgs/:id/members/:user_id/schedules"
op("get", MS, "organisations", "A member's schedules", ok200("the schedules", arr(ref("Schedule"))))
op("post", MS, "organisations", "Create a member's schedule", ok201("the schedule", ref("Schedule")),
   body=ref("ScheduleInput"))
op("get", MS + "/:schedule_id", "organisations", "A member's schedule", ok200("the schedule", ref("Schedule")))
op("put", MS + "/:schedule_id", "organisations", "Change a member's schedule", ok200("the schedule", ref("Schedule")),
   body=ref("ScheduleInput"))
op("delete", MS + "/:schedule_id", "organisations", "Delete a member's schedule", ok200("deleted", ref("Ok")))
TIME_OFF_BODY = obj({"start": STR, "end": STR}, {"reason": NSTR})
MT = "/api/orgs/:id/members/:user_id/time-off"
op("get", MT, "time off", "A member's time off", listed("the time off", ref("TimeOff")), query=PAGED)
op("post", MT, "time off", "Add a member's time off", ok201("the time off", ref("TimeOff")), body=TIME_OFF_BODY)
op("delete", MT + "/:time_off_id", "time off", "Delete a member's time off", ok200("deleted", ref("Ok")))
op("post", "/api/orgs/:id/api-keys", "organisations", "Make an org key (shown once)",
   ok201("the key", ref("ApiKeyCreated")), body=obj(opt={"label": STR, "expires_at": NSTR}))
op("get", "/api/orgs/:id/api-keys", "organisations", "The org's keys", ok200("the keys", arr(ref("ApiKey"))))
op("delete", "/api/orgs/:id/api-keys/:key_id", "organisations", "Revoke an org key", ok200("revoked", ref("Ok")))
TEAM_BODY = obj(opt={"name": STR, "slug": STR, "member_ids": arr(INT)})
op("post", "/api/orgs/:id/teams", "organisations", "Create a team", ok201("the team", ref("Team")), body=TEAM_BODY)
op("get", "/api/orgs/:id/teams", "organisations", "Teams", listed("the teams", ref("Team")), query=PAGED)
op("get", "/api/orgs/:id/teams/:team_id", "organisations", "A team", ok200("the team", ref("Team")))
op("put", "/api/orgs/:id/teams/:team_id", "organisations", "Change a team", ok200("the team", ref("Team")),
   body=TEAM_BODY)
op("delete", "/api/orgs/:id/teams/:team_id", "organisations", "Delete a team", ok200("deleted", ref("Ok")))
op("post", "/api/time-off", "time off", "Add time off", ok201("the time off", ref("TimeOff")), body=TIME_OFF_BODY)
op("get", "/api/time-off", "time off", "The caller's time off", listed("the time off", ref("TimeOff")), query=PAGED)
op("delete", "/api/time-off/:id", "time off", "Delete time off", ok200("deleted", ref("Ok")))

# org event types, their bookings, org webhooks
OET = "/api/orgs/:id/event-types"
op("get", OET, "org event types", "List", ok200("the org's event types", arr(ref("OrgEventType"))))
op("post", OET, "org event types", "Create", ok201("the event type", ref("OrgEventType")), body=ref("OrgEventTypeInput"))
op("get", OET + "/:event_type_id", "org event types", "Get", ok200("the event type", ref("OrgEventType")))
op("put", OET + "/:event_type_id", "org event types", "Change", ok200("the event type", ref("OrgEventType")),
   body=ref("OrgEventTypeInput"))
op("delete", OET + "/:event_type_id", "org event types", "Delete", ok200("deleted", ref("Ok")))
op("get", "/api/orgs/:id/bookings", "org event types", "The org's bookings", listed("the bookings", ref("Booking")),
   query=(("host_id", INT), ("status", STR), ("from", STR), ("to", STR), ("event_type_id", INT)) + PAGED)
op("post", "/api/bookings/:id/reassign", "org event types", "Reassign a round-robin booking",
   ok200("the booking", ref("BookingOne")), body=obj(opt={"host_id": NINT}))
webhook_ops("/api/orgs/:id/webhooks", "org webhooks", "webhook_id")


# customers (own and an org's)
def customer_ops(base, tag):
    CUSTOMER_BODY = obj(opt={"name": NSTR, "surname": NSTR, "email": NSTR, "phone": NSTR, "time_zone": NSTR,
                             "status": enum("active", "blocked"), "tags": arr(t("integer", "string")),
                             "groups": arr(t("integer", "string")), "notes": NSTR})
    op("get", f"{base}/customers", tag, "Customers", listed("the customers", ref("Customer")),
       query=(("query", STR), ("tag", STR), ("group", STR), ("status", STR)) + PAGED)
    op("post", f"{base}/customers", tag, "Add a customer", ok201("the customer", ref("Customer")), body=CUSTOMER_BODY)
    op("get", f"{base}/customers/:customer_id", tag, "A customer", ok200("the customer", ref("Customer")))
    op("put", f"{base}/customers/:customer_id", tag, "Change a customer", ok200("the customer", ref("Customer")),
       body=CUSTOMER_BODY)
    op("delete", f"{base}/customers/:customer_id", tag, "Erase a customer", ok200("erased", ref("Ok")))
    op("get", f"{base}/customers/:customer_id/bookings", tag, "A customer's bookings",
       listed("the bookings", ref("Booking")), query=PAGED)
    op("get", f"{base}/customers/:customer_id/export", tag, "Everything held about a customer",
       ok200("the export", ref("CustomerExport")))
    for kind in ("customer-tags", "customer-groups"):
        op("get", f"{base}/{kind}", tag, f"List {kind}", ok200("the labels", arr(ref("CustomerLabel"))))
        op("post", f"{base}/{kind}", tag, f"Create a {kind[:-1]}", ok201("the label", ref("CustomerLabel")),
           body=obj({"name": STR}))
        op("delete", f"{base}/{kind}/:label_id", tag, f"Delete a {kind[:-1]}", ok200("deleted", ref("Ok")))


customer_ops("/api", "customers")
customer_ops("/api/orgs/:id", "customers")

# AI clients
op("post", "/api/ai/chat", "ai", "The booking assistant",
   ok200("the answer", obj({"session_id": STR, "message": STR,
                            "action": obj({"type": enum("suggest_booking", "clarify", "booked", "none")})})),
   body=obj({"booking_page_slug": STR, "message": STR}, {"session_id": NSTR, "timezone": NSTR}), auth=False)
MCP_ERRORS = {"4XX": resp("A JSON-RPC error with id null (native 413)",
                          {"anyOf": [ref("JsonRpcResponse"), ref("Error")]}),
              "5XX": resp("A JSON-RPC error (-32000)", ref("JsonRpcResponse"))}
op("post", "/mcp", "ai", "Model Context Protocol (one JSON-RPC message per POST)",
   {"200": resp("a JSON-RPC response", ref("JsonRpcResponse")), "202": resp("a notification, accepted")},
   body=OBJ, auth=False, errors=MCP_ERRORS)
op("get", "/mcp", "ai", "Not offered (no SSE stream): 405, Allow: POST", {}, auth=False, errors=MCP_ERRORS)
op("delete", "/mcp", "ai", "Not offered (no sessions): 405, Allow: POST", {}, auth=False, errors=MCP_ERRORS)

# booking pages (HTML) and their assets
PAGE_ERRORS = {"4XX": resp("a not-found page (or a native error)", {HTML: HTML_PAGE, JSON: ref("Error")}),
               "5XX": resp("Server error", {HTML: HTML_PAGE, JSON: ref("Error")})}
ASSET_ERRORS = {"4XX": resp("not found", STR, media="text/plain")}
op("get", "/embed.js", "booking pages", "The embed script",
   {"200": resp("the script", STR, media="text/javascript"), "304": resp("Not modified")}, auth=False,
   errors=ASSET_ERRORS)
op("get", "/assets/:name", "booking pages", "The pages' script and style sheet (fingerprinted)",
   {"200": resp("the asset", {"text/javascript": STR, "text/css": STR}), "304": resp("Not modified")},
   auth=False, errors=ASSET_ERRORS)
op("get", "/booking/:uid", "booking pages", "The invitee's manage page (?token=...)",
   {"200": resp("the page", HTML_PAGE, media=HTML)}, auth=False, errors=PAGE_ERRORS)
op("get", "/:slug", "booking pages", "A person's or an organisation's booking page",
   {"200": resp("the page", HTML_PAGE, media=HTML)}, auth=False, errors=PAGE_ERRORS)
op("get", "/:slug/:event_slug", "booking pages", "An event type's booking page",
   {"200": resp("the page", HTML_PAGE, media=HTML)}, auth=False, errors=PAGE_ERRORS)

# -- Cal.com v2 ---------------------------------------------------------------------------------
CAL = "Cal.com v2"
ISO_MS = t("string", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
S["CalcomBooking"] = obj({
    "id": ID, "uid": UUID, "title": STR, "description": NSTR, "status": STR, "start": ISO_MS, "end": ISO_MS,
    "duration": INT, "eventTypeId": ID, "eventType": OBJ, "location": NSTR, "metadata": OBJ, "icsUid": STR,
    "hosts": arr(OBJ), "attendees": arr(OBJ), "absentHost": BOOL, "createdAt": ISO_MS, "updatedAt": NSTR},
    description="a booking as Cal.com's 2024-08-13 bookings API writes it")
S["CalcomBookings"] = {"anyOf": [ref("CalcomBooking"), arr(ref("CalcomBooking"))],
                       "description": "one booking, or a recurring series' occurrences"}
S["CalcomEventType"] = obj({"id": ID, "title": STR, "slug": STR, "lengthInMinutes": INT, "description": NSTR,
                            "locations": arr(OBJ), "bookingFields": arr(OBJ), "hidden": BOOL, "ownerId": NINT,
                            "scheduleId": NINT})
S["CalcomSchedule"] = obj({"id": ID, "ownerId": ID, "name": STR, "timeZone": STR, "availability": arr(OBJ),
                           "isDefault": BOOL, "overrides": arr(OBJ)})
S["CalcomWebhook"] = obj({"id": ID, "subscriberUrl": STR, "triggers": arr(STR), "active": BOOL,
                          "payloadTemplate": NSTR})
S["CalcomMe"] = obj({"id": ID, "username": STR, "email": STR, "name": NSTR, "timeZone": STR, "weekStart": STR,
                     "timeFormat": INT, "defaultScheduleId": NINT, "organizationId": NINT})
S["CalcomTeam"] = obj({"id": ID, "name": STR, "slug": NSTR, "timeZone": STR, "isPrivate": BOOL,
                       "isOrganization": BOOL})
S["CalcomMembership"] = obj({"id": ID, "teamId": ID, "userId": ID, "role": enum("OWNER", "ADMIN", "MEMBER"),
                             "accepted": BOOL, "user": OBJ})
S["CalcomReservation"] = obj({"reservationUid": UUID, "eventTypeId": ID, "slotStart": ISO_MS, "slotEnd": ISO_MS,
                              "slotDuration": INT, "reservationUntil": ISO_MS}, {"reservationDuration": INT})
S["CalcomSlots"] = t("object", propertyNames={"pattern": r"^\d{4}-\d\d-\d\d$"},
                     additionalProperties=arr(obj({"start": ISO_MS}, {"end": ISO_MS})),
                     description="free slots by date")
CALV = {"name": "cal-api-version", "in": "header", "required": False, "schema": STR}


def cal(method, path, summary, status=200, auth=True, data=ANY, list_=False):
    if method == "delete":  # some deletions answer {status: "success"} alone, or data a message
        d = obj({"status": {"const": "success"}}, {"data": ANY})
    else:
        d = obj({"status": {"const": "success"}, "data": arr(OBJ) if list_ else data}, {"pagination": OBJ})
    op(method, path, CAL, summary, {str(status): resp("success", d)}, errors=CALCOM_ERRORS, auth=auth,
       body=OBJ if method in ("post", "patch") else None)


cal("get", "/v2/slots", "Free slots", auth=False, data=ref("CalcomSlots"))
cal("post", "/v2/slots/reservations", "Reserve a slot", 201, auth=False, data=ref("CalcomReservation"))
cal("get", "/v2/slots/reservations/:uid", "A reservation (null once expired)", auth=False, data=nullable(ref("CalcomReservation")))
cal("patch", "/v2/slots/reservations/:uid", "Change a reservation", auth=False, data=ref("CalcomReservation"))
cal("delete", "/v2/slots/reservations/:uid", "Release a reservation", auth=False)
cal("post", "/v2/bookings", "Book", 201, auth=False, data=ref("CalcomBookings"))
cal("get", "/v2/bookings", "Bookings", data=arr(ref("CalcomBooking")))
cal("get", "/v2/bookings/:uid", "A booking", auth=False, data=ref("CalcomBookings"))
cal("post", "/v2/bookings/:uid/cancel", "Cancel", auth=False, data=ref("CalcomBookings"))
cal("post", "/v2/bookings/:uid/reschedule", "Reschedule (a new booking)", 201, auth=False, data=ref("CalcomBookings"))
for a in ("mark-absent", "reassign", "confirm", "decline"):
    cal("post", f"/v2/bookings/:uid/{a}", a, data=OBJ)
cal("post", "/v2/bookings/:uid/reassign/:userId", "Reassign to a user", data=OBJ)
cal("get", "/v2/bookings/:uid/calendar-links", "Calendar links", list_=True)
cal("get", "/v2/bookings/:uid/references", "Booking references", list_=True)
cal("get", "/v2/event-types", "Event types (?username= public)", auth=False, data=t("array", "object"))
cal("post", "/v2/event-types", "Create an event type", 201, data=ref("CalcomEventType"))
cal("get", "/v2/event-types/:eventTypeId", "An event type", data=nullable(ref("CalcomEventType")))
cal("patch", "/v2/event-types/:eventTypeId", "Change an event type", data=ref("CalcomEventType"))
cal("delete", "/v2/event-types/:eventTypeId", "Delete an event type", data=OBJ)
cal("get", "/v2/schedules", "Schedules", data=arr(ref("CalcomSchedule")))
cal("post", "/v2/schedules", "Create a schedule", 201, data=ref("CalcomSchedule"))
cal("get", "/v2/schedules/default", "The default schedule", data=nullable(ref("CalcomSchedule")))
cal("get", "/v2/schedules/:scheduleId", "A schedule", data=nullable(ref("CalcomSchedule")))
cal("patch", "/v2/schedules/:scheduleId", "Change a schedule", data=ref("CalcomSchedule"))
cal("delete", "/v2/schedules/:scheduleId", "Delete a schedule")
for base, pid in (("/v2/webhooks", "webhookId"), ("/v2/event-types/:eventTypeId/webhooks", "webhookId"),
                  ("/v2/teams/:teamId/event-types/:eventTypeId/webhooks", "webhookId")):
    cal("get", base, "Webhooks", data=arr(ref("CalcomWebhook")))
    cal("post", base, "Create a webhook", 201, data=ref("CalcomWebhook"))
    if base != "/v2/webhooks":
        cal("delete", base, "Delete all the event type's webhooks", data=OBJ)
    cal("get", f"{base}/:{pid}", "A webhook", data=ref("CalcomWebhook"))
    cal("patch", f"{base}/:{pid}", "Change a webhook", data=ref("CalcomWebhook"))
    cal("delete", f"{base}/:{pid}", "Delete a webhook", data=OBJ)
cal("get", "/v2/me", "The caller", data=ref("CalcomMe"))
cal("patch", "/v2/me", "Change the caller", data=ref("CalcomMe"))
cal("post", "/v2/api-keys/refresh", "Refresh the API key", data=OBJ)
cal("get", "/v2/teams", "Teams", data=arr(ref("CalcomTeam")))
cal("post", "/v2/teams", "Create a team", 201, data=ref("CalcomTeam"))
cal("get", "/v2/teams/:team_id", "A team", data=ref("CalcomTeam"))
cal("patch", "/v2/teams/:team_id", "Change a team", data=ref("CalcomTeam"))
cal("delete", "/v2/teams/:team_id", "Delete a team", data=OBJ)
cal("get", "/v2/teams/:team_id/memberships", "Memberships", data=arr(ref("CalcomMembership")))
cal("post", "/v2/teams/:team_id/memberships", "Add a membership", 201, data=ref("CalcomMembership"))
cal("get", "/v2/teams/:team_id/memberships/:membership_id", "A membership", data=ref("CalcomMembership"))
cal("patch", "/v2/teams/:team_id/memberships/:membership_id", "Change a membership", data=ref("CalcomMembership"))
cal("delete", "/v2/teams/:team_id/memberships/:membership_id", "Remove a membership", data=OBJ)
cal("get", "/v2/teams/:team_id/event-types", "Team event types", auth=False, data=arr(ref("CalcomEventType")))
cal("post", "/v2/teams/:team_id/event-types", "Create a team event type", 201, data={"anyOf": [ref("CalcomEventType"), arr(ref("CalcomEventType"))]})
cal("get", "/v2/teams/:team_id/event-types/:event_type_id", "A team event type", data=ref("CalcomEventType"))
cal("patch", "/v2/teams/:team_id/event-types/:event_type_id", "Change a team event type", data=ref("CalcomEventType"))
cal("delete", "/v2/teams/:team_id/event-types/:event_type_id", "Delete a team event type", data=OBJ)
cal("get", "/v2/teams/:team_id/schedules", "Team members' schedules", list_=True)

# -- SchedKit /v1 -------------------------------------------------------------------------------
SK = "SchedKit v1"


ZTIME = t("string", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
S["SchedkitBooking"] = obj({
    "id": ID, "uid": UUID, "event_type_id": ID, "event_type": STR, "attendee_name": NSTR, "attendee_email": NSTR,
    "attendee_timezone": STR, "start_time": ZTIME, "end_time": ZTIME, "status": STR, "notes": NSTR,
    "answers": arr(obj({"question_id": STR, "answer": ANY})), "custom_responses": OBJ, "created_at": ZTIME})
S["SchedkitBooked"] = obj({"id": ID, "status": STR, "requires_confirmation": BOOL, "attendee_name": NSTR,
                           "attendee_email": NSTR, "start_time": ZTIME, "end_time": ZTIME, "cancel_token": STR,
                           "reschedule_token": STR})
S["SchedkitEventType"] = obj({
    "id": ID, "title": STR, "slug": STR, "description": NSTR, "duration_minutes": INT, "buffer_before": INT,
    "buffer_after": INT, "min_notice_minutes": NUM, "max_bookings_per_day": NINT, "location_type": NSTR,
    "location": NSTR, "custom_fields": t("string", "array", "null"), "requires_confirmation": BOOL, "active": BOOL,
    "created_at": STR})
S["SchedkitSlots"] = obj({"date": STR, "timezone": STR, "event_type": obj(
    {"title": STR, "description": NSTR, "duration_minutes": INT, "location_type": NSTR, "location": NSTR}),
    "slots": arr(obj({"start": RFC, "end": RFC, "start_local": STR, "end_local": STR}))})
SK_LINK_ERRORS = {**SCHEDKIT_ERRORS, "4XX": resp("Error: JSON, or a page for a browser", {
    JSON: {"anyOf": [ref("SchedkitError"), ref("Error")]}, HTML: HTML_PAGE})}


def sk(method, path, summary, ok, auth=True, html=False):
    body = ok if not html else {JSON: ok, HTML: HTML_PAGE}
    status = "201" if method == "post" and (path.startswith("/v1/book/") or path == "/v1/event-types") else "200"
    op(method, path, SK, summary, {status: resp("OK", body)}, errors=SK_LINK_ERRORS if html else SCHEDKIT_ERRORS,
       auth=auth, body=OBJ if method in ("post", "patch") and not html else None)


SKB = ref("SchedkitBooking")
SK_CANCELLED = obj({"status": {"const": "cancelled"}, "id": ID, "uid": UUID})
sk("post", "/v1/book/:username/:event_slug", "Book", ref("SchedkitBooked"), auth=False)
sk("post", "/v1/book/:org_slug/:team_slug/:event_slug", "Book a team event type", ref("SchedkitBooked"), auth=False)
sk("get", "/v1/bookings", "Bookings", obj({"bookings": arr(SKB), "total": INT}))
sk("get", "/v1/bookings/:id", "A booking", SKB)
sk("post", "/v1/bookings/:id/reschedule", "Move a booking", SKB)
sk("get", "/v1/bookings/:id/confirm", "The host's confirm link ({id} is the token)", SKB, auth=False, html=True)
sk("get", "/v1/bookings/:id/decline", "The host's decline link ({id} is the token)", SKB, auth=False, html=True)
sk("get", "/v1/cancel/:token", "The cancel link's page (JSON: the booking)", SKB, auth=False, html=True)
sk("post", "/v1/cancel/:token", "Cancel (the vendor server's spelling)", SK_CANCELLED, auth=False, html=True)
sk("post", "/v1/cancel/:token/confirm", "Cancel", SK_CANCELLED, auth=False, html=True)
sk("get", "/v1/reschedule/:token", "The reschedule link's page (JSON: the booking)", SKB, auth=False, html=True)
sk("post", "/v1/reschedule/:token", "Move by the invitee's token",
   obj({"status": {"const": "rescheduled"}, "id": ID, "uid": UUID, "booking_status": STR, "start_time": ZTIME,
        "end_time": ZTIME, "cancel_token": STR, "reschedule_token": STR}, {"cancel_url": STR, "reschedule_url": STR}),
   auth=False, html=True)
sk("get", "/v1/slots/:username/:event_slug", "Free slots", ref("SchedkitSlots"), auth=False)
sk("get", "/v1/slots/:org_slug/:team_slug/:event_slug", "Free slots of a team event type", ref("SchedkitSlots"),
   auth=False)
sk("get", "/v1/event-types", "Event types", obj({"event_types": arr(ref("SchedkitEventType"))}))
sk("post", "/v1/event-types", "Create an event type", ref("SchedkitEventType"))
sk("get", "/v1/event-types/:id", "An event type", ref("SchedkitEventType"))
sk("patch", "/v1/event-types/:id", "Change an event type", ref("SchedkitEventType"))
sk("delete", "/v1/event-types/:id", "Delete an event type", obj({"deleted": {"const": True}}))
sk("get", "/v1/auth/me", "The caller", obj({"id": ID, "name": STR, "slug": STR, "email": STR, "timezone": STR,
                                             "created_at": STR}))

# -- Kordless -----------------------------------------------------------------------------------
KO = "Kordless"
KB = "/api/calendar/v1/public"


def ko(method, path, summary, status="200", auth=True, schema=OBJ):
    op(method, KB + path, KO, summary, {status: resp("OK", schema)}, errors=KORDLESS_ERRORS, auth=auth,
       body=OBJ if method == "post" else None)


S["KordlessOrg"] = obj({"id": t("integer", "string"), "name": STR, "slug": STR, "tagline": NSTR, "branding": NOBJ})
S["KordlessBooking"] = obj({
    "id": t("integer", "string"), "confirmation_number": STR, "status": STR, "organization_slug": STR,
    "organization_name": STR, "start_at": STR, "end_at": STR, "service_id": t("integer", "string"),
    "service_slug": STR, "service_name": STR, "contact": OBJ, "location": ANY, "timezone": STR})
KOB = obj({"booking": ref("KordlessBooking")})
ko("get", "/org/:org_slug", "The organisation and its services",
   schema=obj({"organization": ref("KordlessOrg"), "services": arr(OBJ)}))
ko("get", "/org/:org_slug/service/:service_slug", "A service",
   schema=obj({"organization": ref("KordlessOrg"), "service": obj({"key": STR, "name": STR, "slug": STR}),
               "calendarSettings": OBJ}))
ko("get", "/availability", "Free slots", schema=obj({"slots": arr(OBJ)}))
ko("post", "/bookings", "Book", "201", schema=obj({"booking": ref("KordlessBooking"),
                                                   "calendar_invite": obj({"ics_url": STR})}))
ko("get", "/bookings/confirmation/:number", "A booking by confirmation number", auth=False, schema=KOB)
ko("post", "/bookings/confirmation/:number/cancel", "Cancel by confirmation number", auth=False, schema=KOB)
ko("post", "/bookings/confirmation/:number/reschedule", "Move by confirmation number", auth=False, schema=KOB)

# -- Calendesk ----------------------------------------------------------------------------------
CD = "Calendesk"


def cd(method, path, summary, status="200", auth=True, schema=OBJ):
    op(method, path, CD, summary, {status: resp("OK", schema)}, errors=CALENDESK_ERRORS, auth=auth,
       body=OBJ if method in ("post", "put") else None)


S["CalendeskBooking"] = obj({"id": ID, "status": STR, "employee_id": ID, "user_id": NINT, "service_id": ID,
                             "service": obj({"id": ID, "name": STR, "price": ANY, "duration": INT}),
                             "start_date": DATE, "start_time": HHMM, "end_time": HHMM})
S["CalendeskUser"] = obj({"id": ID, "name": NSTR, "surname": NSTR, "email": NSTR, "status": STR,
                          "time_zone": NSTR, "tags": arr(ANY), "groups": arr(ANY), "created_at": STR})
CDB = ref("CalendeskBooking")
cd("get", "/api/available-slots", "Free slots by employee: {employee_id: {date: [HH:MM]}}", auth=False,
   schema=t("object", propertyNames={"pattern": "^[0-9]+$"},
            additionalProperties=t("object", additionalProperties=arr(HHMM))))
cd("post", "/api/bookings", "Book (X-Tenant; without it the native 405)", "201", schema=CDB)
cd("get", "/api/admin/bookings", "Bookings", schema=ref("CalendeskPage"))
cd("get", "/api/admin/bookings/:id", "A booking", schema=CDB)
cd("put", "/api/admin/bookings/:id", "Move or change a booking", schema=CDB)
cd("delete", "/api/admin/bookings/:id", "Cancel a booking", schema=CDB)
cd("get", "/api/admin/employees", "Employees", schema=t("object", "array"))
cd("get", "/api/admin/employees/:id", "An employee")
cd("get", "/api/admin/services", "Services", auth=False, schema=t("object", "array"))
cd("get", "/api/admin/services/:id", "A service", auth=False)
cd("get", "/api/admin/users", "Users (customers)", schema=ref("CalendeskPage"))
cd("post", "/api/admin/users", "Add a user", "201", schema=ref("CalendeskUser"))
cd("get", "/api/admin/users/:id", "A user", schema=ref("CalendeskUser"))
cd("put", "/api/admin/users/:id", "Change a user", schema=ref("CalendeskUser"))
cd("delete", "/api/admin/users/:id", "Delete a user")
cd("get", "/api/admin/users/:id/bookings", "A user's bookings", schema=ref("CalendeskPage"))
cd("get", "/api/admin/tags", "Tags", schema=t("object", "array"))
cd("post", "/api/admin/tags", "Create a tag", "201")
cd("get", "/api/admin/groups", "Groups", schema=t("object", "array"))
cd("post", "/api/admin/groups", "Create a group", "201")
cd("post", "/api/admin/payments/bookings", "Record a payment",
   schema=obj({"id": ID, "booking_id": ID, "amount": NUM, "status": STR}))
cd("post", "/api/admin/webhooks", "Create a webhook", "201")
cd("get", "/api/admin/webhooks", "Webhooks", schema=t("object", "array"))
cd("delete", "/api/admin/webhooks/:id", "Delete a webhook")


# -- document -----------------------------------------------------------------------------------

def finish_paths(paths):
    """"#token" marks an operation whose path template equals another's (the router tells them apart
    by method); it is merged into the plain template."""
    out = {}
    for p, item in paths.items():
        base = p.split("#")[0]
        out.setdefault(base, {}).update(item)
    return dict(sorted(out.items()))


TAGS = [
    ("operations", "Health, readiness, metrics, this document"),
    ("accounts", "Registration, sessions, the caller"), ("api keys", ""), ("booking page", ""),
    ("event types", ""), ("schedules", ""), ("slots", ""), ("bookings", ""), ("invitee links", ""),
    ("calendar", ""), ("payments", ""), ("holds", ""), ("webhooks", ""), ("organisations", ""),
    ("time off", ""), ("org event types", ""), ("org webhooks", ""), ("customers", ""), ("ai", ""),
    ("booking pages", "HTML pages for invitees and their assets"),
    (CAL, "Cal.com API v2 dialect: {status: success, data} / {status: error, error}"),
    (SK, "SchedKit dialect: errors {error}"),
    (KO, "Kordless public Booking API dialect: errors {detail, status, type}"),
    (CD, "Calendesk dialect (X-Tenant): Laravel errors {message[, errors]}"),
]

DOC = {
    "openapi": "3.1.0",
    "info": {
        "title": "slotd",
        "version": "1",
        "summary": "A scheduling API server: event types, availability, bookings, webhooks",
        "description": "The native API (the Calendo document's paths, fields and shapes) and the vendor "
                       "dialects slotd also answers. Built by openapi/build.py; see README.md.",
        "license": {"name": "proprietary", "identifier": "LicenseRef-slotd"},
    },
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
    "tags": [{"name": n, "description": d} if d else {"name": n} for n, d in TAGS],
    "security": [{"session": []}, {"apiKey": []}, {"bearer": []}],
    "paths": finish_paths(PATHS),
    "components": {
        "schemas": S,
        "responses": RESPONSES,
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (cal_...)"},
        },
    },
}


def main():
    text = json.dumps(DOC, indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit("openapi/openapi.json is out of date: run python3 openapi/build.py")
        return
    OUT.write_text(text)


if __name__ == "__main__":
    main()
