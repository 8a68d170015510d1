"""JSON Schemas of the Calendesk dialect's bodies (issue 18), written from seed
000_49d3722da56f4a10.txt and ../shared/vendors/README.md §2. What the seed shows is required
exactly (the create answer's keys, the slot map's shape, the user search's members); the rest
(Laravel's paginator, error bodies, employees, services, payments) is what the vendors README
records as documented by usage or inferred, and slotd's choices where nothing is known.
Every body a test receives goes through ok() or err(), which validate it."""

import jsonschema

INT = {"type": "integer"}
STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
DATE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"}
HM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
TS = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}
STATUS = {"enum": ["approved", "pending", "waiting_for_payment", "rejected", "cancelled"]}


def obj(props, required=None, extra=True):
    return {"type": "object", "properties": props, "required": list(required if required is not None else props),
            "additionalProperties": extra}


# GET /api/available-slots: {"<employee id>": {"YYYY-MM-DD": ["HH:MM", ...]}} (seed; keyed by employee
# per the README's usage evidence); days without slots are left out.
SLOTS = {"type": "object", "propertyNames": {"pattern": r"^[1-9]\d*$"},
         "additionalProperties": {"type": "object", "propertyNames": {"pattern": r"^\d{4}-\d\d-\d\d$"},
                                  "additionalProperties": {"type": "array", "items": HM, "minItems": 1}}}

SERVICE_SHORT = obj({"id": INT, "name": STR, "duration": INT, "price": INT}, extra=False)

# POST /api/bookings 201: exactly the seed's object.
BOOKING = obj({"id": INT, "employee_id": INT, "user_id": {"type": ["integer", "null"]}, "service_id": INT,
               "start_date": DATE, "start_time": HM, "end_time": HM, "status": STATUS, "service": SERVICE_SHORT},
              extra=False)

TAG = obj({"id": INT, "name": STR}, extra=False)

# The seed's user (GET /api/admin/users data[]) plus default_phone, tags, groups.
USER = obj({"id": INT, "name": NSTR, "surname": NSTR, "email": NSTR, "status": {"enum": ["active", "blocked"]},
            "time_zone": NSTR, "created_at": TS,
            "default_phone": {"anyOf": [{"type": "null"}, obj({"e164": {"type": "string", "pattern": r"^\+\d+$"}})]},
            "tags": {"type": "array", "items": TAG}, "groups": {"type": "array", "items": TAG}}, extra=False)

# a service's employees, as the keyless service list shows them: no account e-mail (slotd's public
# page shows hosts by id and name only)
EMPLOYEE_SHORT = obj({"id": INT, "name": STR, "surname": NSTR}, extra=False)
EMPLOYEE = obj({"id": INT, "name": STR, "surname": NSTR, "email": STR, "services": {"type": "array", "items": INT}},
               extra=False)
SERVICE = obj({"id": INT, "name": STR, "duration": INT, "price": INT, "currency": NSTR, "description": NSTR,
               "employees": {"type": "array", "items": EMPLOYEE_SHORT},
               "locations": {"type": "array", "items": {"type": "object"}}}, extra=False)

NURL = {"type": ["string", "null"]}


def page_of(item):
    """Laravel's LengthAwarePaginator (without links, which slotd does not send)."""
    return obj({"current_page": INT, "data": {"type": "array", "items": item}, "first_page_url": STR,
                "from": {"type": ["integer", "null"]}, "last_page": INT, "last_page_url": STR, "next_page_url": NURL,
                "path": STR, "per_page": INT, "prev_page_url": NURL, "to": {"type": ["integer", "null"]},
                "total": INT}, extra=False)


LABEL = obj({"id": INT, "name": STR, "created_at": TS}, extra=False)
LABELS = {"type": "array", "items": obj({"id": INT, "name": STR, "customers": INT, "created_at": TS}, extra=False)}
PAYMENT = obj({"id": INT, "status": {"enum": ["paid", "approved"]}, "booking_id": INT, "amount": INT}, extra=False)
DELETED = obj({"message": STR}, extra=False)

# Errors, the Laravel way.
MESSAGE = obj({"message": STR}, extra=False)
INVALID = obj({"message": {"const": "The given data was invalid."},
               "errors": {"type": "object", "minProperties": 1,
                          "additionalProperties": {"type": "array", "items": STR, "minItems": 1}}}, extra=False)


def validate(body, schema):
    jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)
    return body


def ok(r, schema, status=200):
    assert r.status == status, r
    return validate(r.json(), schema)


def err(r, status, field=None):
    """An error body: 422 names field in errors; every other status is {"message"}."""
    assert r.status == status, r
    body = r.json()
    if status == 422:
        validate(body, INVALID)
        if field:
            assert field in body["errors"], body
    else:
        validate(body, MESSAGE)
    return body
