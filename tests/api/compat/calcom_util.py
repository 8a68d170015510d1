"""The Cal.com API v2 dialect's test client (issue 16): every response body it receives is
validated against Cal.com's own OpenAPI document, reduced to the operations slotd serves
(../shared/calcom-v2/openapi-subset.json, read where it lies), with python3-jsonschema.

- OpenAPI 3.0 -> JSON Schema (draft 7): component $refs become #/definitions/..., and
  `nullable: true` admits null. Unknown keywords (example, discriminator) are ignored as JSON
  Schema ignores them.
- Success bodies (2xx) are validated against the operation's schema for that status; error
  bodies against Cal.com's error envelope (SUMMARY.md §2, from its exception filter).
- The document's known defects (SUMMARY.md §7) are repaired in SPEC_REPAIRS below, each with
  its reason; a test module may add an operation-level override with `override()` (reason
  required), so every repair is written down where it is made.

Usage:
    v2 = V2(slotd, key="cal_...")          # Bearer key, or None for public calls
    r = v2.get("/v2/slots", eventTypeId=5, start="2050-09-05", end="2050-09-09")
    r = v2.post("/v2/bookings", {...})     # the version header is the operation's own
    data = ok(r, 201)                      # status checked, body validated, data returned
"""

import copy
import json
import os
import re
import urllib.parse

import jsonschema

from accounts_util import call

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "calcom-v2",
                                          "openapi-subset.json"))

VERSIONS = {  # SUMMARY.md §3: the cal-api-version of each group (None: no header)
    "/v2/slots": "2024-09-04",
    "/v2/bookings": "2024-08-13",
    "/v2/event-types": "2024-06-14",
    "/v2/schedules": "2024-06-11",
}


def version_for(path):
    if re.match(r"^/v2/event-types/[^/]+/webhooks", path):
        return None
    for prefix, v in VERSIONS.items():
        if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?"):
            return v
    return None


# ----------------------------------------------------------------------------- the document

with open(SPEC_PATH) as f:
    SPEC = json.load(f)


def _props(name):
    return SPEC["components"]["schemas"][name].setdefault("properties", {})


ANY = {}
NULLABLE_NUMBER = {"type": ["number", "null"]}

# Repairs of defects in Cal.com's own document (SUMMARY.md §7). name -> (function, reason).
SPEC_REPAIRS = []


def _repair(reason):
    def wrap(fn):
        SPEC_REPAIRS.append((fn, reason))
        return fn
    return wrap


@_repair("GetReservedSlotOutput_2024_09_04.data refers to itself (generator bug): it is the reservation "
         "without reservationDuration, or null for an unknown uid")
def _reserved():
    s = SPEC["components"]["schemas"]
    out = copy.deepcopy(s["ReserveSlotOutput_2024_09_04"])
    out["properties"].pop("reservationDuration", None)
    out["required"] = [r for r in out.get("required", []) if r != "reservationDuration"]
    s["ReservedSlotData_2024_09_04"] = out
    _props("GetReservedSlotOutput_2024_09_04")["data"] = {
        "nullable": True, "allOf": [{"$ref": "#/components/schemas/ReservedSlotData_2024_09_04"}]}


@_repair("ReassignBookingOutput_2024_08_13.data refers to itself (generator bug): the reassigned booking "
         "plus reassignedTo (ReassignedToDto)")
def _reassign():
    _props("ReassignBookingOutput_2024_08_13")["data"] = {
        "allOf": [{"$ref": "#/components/schemas/BookingOutput_2024_08_13"},
                  {"type": "object", "properties": {"reassignedTo": {"$ref": "#/components/schemas/ReassignedToDto"}},
                   "required": ["reassignedTo"]}]}


@_repair("CalendarLinksOutput / BookingReferencesOutput type status as object; the example is the string")
def _status_strings():
    for name in ("CalendarLinksOutput_2024_08_13", "BookingReferencesOutput_2024_08_13"):
        if name in SPEC["components"]["schemas"]:
            _props(name)["status"] = {"type": "string", "enum": ["success", "error"]}


@_repair("GetTeamMembershipsOutput.data is a single membership in the document; the list is an array")
def _memberships():
    if "GetTeamMembershipsOutput" in SPEC["components"]["schemas"]:
        _props("GetTeamMembershipsOutput")["data"] = {
            "type": "array", "items": {"$ref": "#/components/schemas/TeamMembershipOutput"}}


@_repair("event-type outputs type hosts/users as string[] and slotInterval, seatsPerTimeSlot, ownerId as "
         "object (generator artifacts): hosts/users are objects, the others nullable numbers")
def _event_type_fields():
    for name, schema in SPEC["components"]["schemas"].items():
        props = schema.get("properties", {})
        for k in ("hosts", "users"):
            if name.startswith(("EventTypeOutput", "TeamEventTypeOutput")) and k in props:
                props[k] = {"type": "array"}
        for k in ("slotInterval", "seatsPerTimeSlot", "ownerId"):
            if k in props and props[k].get("type") == "object":
                props[k] = NULLABLE_NUMBER


def _apply_repairs():
    for fn, _reason in SPEC_REPAIRS:
        fn()


_apply_repairs()


def _convert(node):
    """OpenAPI 3.0 schema -> JSON Schema draft 7."""
    if isinstance(node, list):
        return [_convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str):
            out[k] = v.replace("#/components/schemas/", "#/definitions/")
        elif k in ("properties", "definitions", "patternProperties"):
            out[k] = {name: _convert(s) for name, s in v.items()}
        elif k in ("example", "examples", "discriminator", "xml", "externalDocs", "deprecated", "readOnly",
                   "writeOnly", "nullable"):
            continue
        else:
            out[k] = _convert(v)
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


DEFINITIONS = {name: _convert(s) for name, s in SPEC["components"]["schemas"].items()}

SLOT = {"type": "object", "required": ["start"], "additionalProperties": False,
        "properties": {"start": {"type": "string"}, "end": {"type": "string"}, "seatsBooked": {"type": "integer"},
                       "seatsRemaining": {"type": "integer"}, "seatsTotal": {"type": "integer"},
                       "bookingUid": {"type": "string"}}}

# (template, method, status) -> (schema, reason)
OVERRIDES = {
    ("/v2/slots", "get", 200): (
        {"type": "object", "required": ["status", "data"],
         "properties": {"status": {"const": "success"},
                        "data": {"type": "object", "additionalProperties": {"type": "array", "items": SLOT},
                                 "propertyNames": {"pattern": r"^\d{4}-\d\d-\d\d$"}}}},
        "the document's inline oneOf types slots as strings while its example, the e2e tests and the output "
        "service return {start[, end][, seats...]} objects in {status, data} (SUMMARY.md §4.1)"),
}


def override(template, method, status, schema, reason):
    """An operation-level schema for a defect found by a test module (reason is required)."""
    assert reason and len(reason) > 20, "say why the document is wrong"
    OVERRIDES[(template, method.lower(), status)] = (schema, reason)


ERROR = {"type": "object", "required": ["status", "timestamp", "path", "error"],
         "properties": {"status": {"const": "error"}, "timestamp": {"type": "string"}, "path": {"type": "string"},
                        "error": {"type": "object", "required": ["code", "message"],
                                  "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                                 "details": {"type": "object"}}}}}


def _template_regex(t):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$")


TEMPLATES = sorted(((t, _template_regex(t)) for t in SPEC["paths"]),
                   key=lambda x: (-len([s for s in x[0].split("/") if s and not s.startswith("{")]), x[0]))


def template_of(path):
    p = path.split("?")[0]
    for t, rx in TEMPLATES:
        if rx.match(p):
            return t
    return None


def schema_for(template, method, status):
    key = (template, method.lower(), status)
    if key in OVERRIDES:
        return OVERRIDES[key][0]
    op = SPEC["paths"][template][method.lower()]
    resp = op["responses"].get(str(status))
    assert resp is not None, f"{method} {template}: the document has no {status} response " \
                             f"(it has {sorted(op['responses'])})"
    return _convert(resp["content"]["application/json"]["schema"])


def validate(method, path, status, body):
    """Validates one response body; raises AssertionError naming what does not conform."""
    template = template_of(path)
    assert template, f"{path} is not an operation of the subset"
    if 200 <= status < 300:
        schema = schema_for(template, method, status)
    else:
        schema = ERROR
    full = dict(schema)
    full["definitions"] = DEFINITIONS
    v = jsonschema.Draft7Validator(full)
    errors = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(x) for x in e.absolute_path)
        raise AssertionError(f"{method} {path} -> {status}: body does not conform to Cal.com's schema at "
                             f"'{where}': {e.message[:400]}\nbody: {json.dumps(body)[:1500]}")


# ----------------------------------------------------------------------------- the client

class V2:
    """Requests to slotd's /v2 with Cal.com's headers; every JSON answer validated."""

    def __init__(self, s, key=None):
        self.s, self.key = s, key
        self.validated = 0

    def request(self, method, path, body=None, key=..., version=..., headers=None, check=True, **query):
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(
                {k: v for k, v in query.items() if v is not None}, doseq=True)
        h = dict(headers or {})
        v = version_for(path) if version is ... else version
        if v is not None:
            h["cal-api-version"] = v
        k = self.key if key is ... else key
        auth = f"Bearer {k}" if k else None
        if auth:
            h["Authorization"] = auth
        r = call(self.s, method, path, body, headers=h)
        if check and r.body and (r.header("Content-Type") or "").startswith("application/json"):
            validate(method, path, r.status, r.json())
            self.validated += 1
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def group_uid(seat_uid):
    """A seated group's public uid (api.calcom_group_uid): derived one way from its first seat's
    own uid, which stays that seat's capability (its seatUid)."""
    import hashlib
    import uuid
    return str(uuid.UUID(hashlib.md5(("calcom-seat-group:" + seat_uid).encode()).hexdigest()))


def ok(r, status=200):
    assert r.status == status, f"want {status}, got {r.status}: {r.body[:2000]!r}"
    j = r.json()
    assert j["status"] == "success", j
    return j.get("data")


def err(r, status, message=None):
    """An error in Cal.com's envelope with this status (and message substring)."""
    assert r.status == status, f"want {status}, got {r.status}: {r.body[:2000]!r}"
    j = r.json()
    assert j["status"] == "error" and j["error"]["code"], j
    if message:
        assert message.lower() in j["error"]["message"].lower(), j
    return j["error"]
