"""Cal.com API v2 event types (cal-api-version 2024-06-14) on the native event types (issue 16):
every operation through V2 (bodies validated against Cal.com's document, repaired below where it
cannot be met), the field mapping both ways, round trips, the Cal.com-only settings stored and
returned, refusals naming the field with nothing changed, the public list by username, other
users' ids, missing credentials, the version header, and a native booking on a type made here."""

import copy
import json

from booking_util import Host, day_at, env, iso  # noqa: F401 (fixture)
from accounts_util import call
from calcom_util import DEFINITIONS, V2, err, ok, override, validate
import test_calcom_schedules  # noqa: F401 (its repairs of the schedule outputs, for the schedule made here)

# -------------------------------------------------------------------------- the document's repairs

LOCATION_TYPES = {"OutputAddressLocation_2024_06_14": "address", "OutputLinkLocation_2024_06_14": "link",
                  "OutputIntegrationLocation_2024_06_14": "integration", "OutputPhoneLocation_2024_06_14": "phone",
                  "OutputOrganizersDefaultAppLocation_2024_06_14": "organizersDefaultApp",
                  "OutputUnknownLocation_2024_06_14": "unknown"}
DEFAULT_FIELDS = {"NameDefaultFieldOutput_2024_06_14": "name", "EmailDefaultFieldOutput_2024_06_14": "email",
                  "LocationDefaultFieldOutput_2024_06_14": "location",
                  "RescheduleReasonDefaultFieldOutput_2024_06_14": "rescheduleReason",
                  "TitleDefaultFieldOutput_2024_06_14": "title", "NotesDefaultFieldOutput_2024_06_14": "notes",
                  "GuestsDefaultFieldOutput_2024_06_14": "guests"}
CUSTOM_FIELDS = {"PhoneFieldOutput_2024_06_14": "phone", "AddressFieldOutput_2024_06_14": "address",
                 "TextFieldOutput_2024_06_14": "text", "NumberFieldOutput_2024_06_14": "number",
                 "TextAreaFieldOutput_2024_06_14": "textarea", "SelectFieldOutput_2024_06_14": "select",
                 "MultiSelectFieldOutput_2024_06_14": "multiselect",
                 "MultiEmailFieldOutput_2024_06_14": "multiemail",
                 "CheckboxGroupFieldOutput_2024_06_14": "checkbox", "RadioGroupFieldOutput_2024_06_14": "radio",
                 "BooleanFieldOutput_2024_06_14": "boolean", "UrlFieldOutput_2024_06_14": "url"}


def _const(name, key, value, extra=None):
    s = copy.deepcopy(DEFINITIONS[name])
    s["properties"][key] = {"const": value}
    for k, v in (extra or {}).items():
        s["properties"][k] = v
    return s


def _event_type_output():
    locations = [_const(n, "type", t) for n, t in LOCATION_TYPES.items()]
    locations += [{"type": "object", "required": ["type"], "properties": {"type": {"const": t}}}
                  for t in ("attendeeAddress", "attendeePhone", "attendeeDefined")]
    fields = [_const(n, "slug", slug, {"isDefault": {"const": True}}) for n, slug in DEFAULT_FIELDS.items()]
    fields[1]["properties"]["required"] = {"type": "boolean"}
    fields += [_const(n, "type", t, {"isDefault": {"const": False}}) for n, t in CUSTOM_FIELDS.items()]
    s = copy.deepcopy(DEFINITIONS["EventTypeOutput_2024_06_14"])
    s["properties"]["locations"] = {"type": "array", "items": {"oneOf": locations}}
    s["properties"]["bookingFields"] = {"type": "array", "items": {"oneOf": fields}}
    s["properties"]["bookingWindow"] = {"type": "array", "items": {"oneOf": [
        _const("BusinessDaysWindow_2024_06_14", "type", "businessDays"),
        _const("CalendarDaysWindow_2024_06_14", "type", "calendarDays"),
        _const("RangeWindow_2024_06_14", "type", "range")]}}
    s["properties"]["successRedirectUrl"] = {"type": ["string", "null"]}
    s["properties"]["forwardParamsSuccessRedirect"] = {"type": ["boolean", "null"]}
    return s


EVENT_TYPE = _event_type_output()
REASON = ("EventTypeOutput_2024_06_14's locations and bookingFields are oneOf lists whose members differ only by "
          "a `type`/`slug` the document describes in prose ('only allowed value for type is ...') without an enum, "
          "so one location or field matches several members (OrganizersDefaultApp requires only `type`) and no "
          "real output passes oneOf (bookingWindow's three window schemas share one type enum, so a window matches "
          "two); repaired with those values as consts (and the attendee* location outputs "
          "Cal.com returns). Also successRedirectUrl / forwardParamsSuccessRedirect are typed object (a nullable "
          "string and boolean), and the email default field's `required` object (a boolean)")


def _envelope(data):
    return {"type": "object", "required": ["status", "data"],
            "properties": {"status": {"const": "success"}, "data": data}}


for _t, _m, _st, _data in [("/v2/event-types", "get", 200, {"type": "array", "items": EVENT_TYPE}),
                           ("/v2/event-types", "post", 201, EVENT_TYPE),
                           ("/v2/event-types/{eventTypeId}", "get", 200, EVENT_TYPE),
                           ("/v2/event-types/{eventTypeId}", "patch", 200, EVENT_TYPE)]:
    override(_t, _m, _st, _envelope(_data), REASON)


# -------------------------------------------------------------------------- helpers

def host_v2(env):  # noqa: F811
    h = Host(env.s, env.db)
    return h, V2(env.s, h.user.key)


def native_row(env, et_id, cols):  # noqa: F811
    row = env.db.sql(f"SELECT row_to_json(t)::text FROM (SELECT {cols} FROM event_types WHERE id = {int(et_id)}) t")
    return json.loads(row[0][0])


def snapshot(env, h):  # noqa: F811
    return env.db.sql(f"SELECT id, updated_at::text, calcom::text FROM event_types WHERE user_id = {h.id} ORDER BY id")


FULL = {
    "lengthInMinutes": 45, "title": "Strategy call", "slug": "strategy", "description": "Plans",
    "locations": [{"type": "address", "address": "1 Main St", "public": True},
                  {"type": "link", "link": "https://meet.example.com/x", "public": False}],
    "bookingFields": [{"type": "name", "label": "Full name", "placeholder": "Jane Doe"},
                      {"type": "text", "slug": "company", "label": "Company", "required": True, "placeholder": "ACME",
                       "hidden": False},
                      {"type": "select", "slug": "size", "label": "Size", "required": False, "placeholder": "",
                       "options": ["S", "M"], "hidden": False},
                      {"type": "boolean", "slug": "agree", "label": "I agree", "required": True, "hidden": False}],
    "slotInterval": 15, "minimumBookingNotice": 120, "beforeEventBuffer": 5, "afterEventBuffer": 10,
    "bookingLimitsCount": {"day": 3, "week": 10},
    "bookingWindow": {"type": "calendarDays", "value": 30, "rolling": False},
    "seats": {"seatsPerTimeSlot": 4, "showAttendeeInfo": True, "showAvailabilityCount": False},
    "hidden": False, "disableGuests": True, "bookingRequiresAuthentication": False,
    "color": {"lightThemeHex": "#112233", "darkThemeHex": "#445566"},
    "customName": "{Event type title} with {Scheduler}", "lockTimeZoneToggleOnBookingPage": True,
    "successRedirectUrl": "https://example.com/thanks", "interfaceLanguage": "de",
    "bookerLayouts": {"defaultLayout": "month", "enabledLayouts": ["month", "week"]},
    "lengthInMinutesOptions": ["15", 45, 90], "recurrence": {"disabled": True},
}


# -------------------------------------------------------------------------- tests

def test_create_maps_onto_the_native_type_and_round_trips(env):  # noqa: F811
    h, v2 = host_v2(env)
    e = ok(v2.post("/v2/event-types", FULL), 201)
    assert e["lengthInMinutes"] == 45 and e["title"] == "Strategy call" and e["slug"] == "strategy"
    assert e["description"] == "Plans" and e["ownerId"] == h.id and e["hidden"] is False
    assert e["locations"] == FULL["locations"]
    assert e["slotInterval"] == 15 and e["minimumBookingNotice"] == 120
    assert e["beforeEventBuffer"] == 5 and e["afterEventBuffer"] == 10
    assert e["bookingLimitsCount"] == {"day": 3, "week": 10}
    assert e["bookingWindow"] == [{"type": "calendarDays", "value": 30, "rolling": False}]
    assert e["seats"] == {"seatsPerTimeSlot": 4, "showAttendeeInfo": True, "showAvailabilityCount": False}
    assert e["seatsPerTimeSlot"] == 4 and e["seatsShowAvailabilityCount"] is False
    assert e["color"] == {"lightThemeHex": "#112233", "darkThemeHex": "#445566"}
    assert e["recurrence"] is None and e["scheduleId"] is None and e["disableGuests"] is True
    assert e["lengthInMinutesOptions"] == [15, 45, 90]
    assert e["users"][0]["id"] == h.id and e["users"][0]["username"] == h.slug
    assert e["bookingUrl"].endswith(f"/{h.slug}/strategy")
    # stored and returned, not acted on
    for k in ("customName", "lockTimeZoneToggleOnBookingPage", "successRedirectUrl", "interfaceLanguage",
              "bookerLayouts"):
        assert e[k] == FULL[k], k
    fields = {f["slug"]: f for f in e["bookingFields"]}
    assert fields["name"]["label"] == "Full name" and fields["name"]["placeholder"] == "Jane Doe"
    assert fields["name"]["isDefault"] is True and fields["email"]["required"] is True
    assert fields["location"]["type"] == "radioInput"  # two locations: the booker picks one
    assert fields["company"] == {"isDefault": False, "type": "text", "slug": "company", "label": "Company",
                                 "required": True, "placeholder": "ACME", "hidden": False, "disableOnPrefill": False}
    assert fields["size"]["options"] == ["S", "M"] and fields["agree"]["type"] == "boolean"
    assert fields["guests"]["hidden"] is True
    n = native_row(env, e["id"], "name, slug, duration_minutes, description, location_type, location_value, "
                                 "questions, slot_interval_minutes, min_notice_hours, buffer_before, buffer_after, "
                                 "limit_per_day, limit_per_week, max_future_days, seats, is_secret, color")
    assert n == {"name": "Strategy call", "slug": "strategy", "duration_minutes": 45, "description": "Plans",
                 "location_type": "in_person", "location_value": "1 Main St",
                 "questions": [{"id": "company", "label": "Company", "type": "text", "required": True},
                               {"id": "size", "label": "Size", "type": "select", "required": False,
                                "options": ["S", "M"]},
                               {"id": "agree", "label": "I agree", "type": "checkbox", "required": True}],
                 "slot_interval_minutes": 15, "min_notice_hours": 2, "buffer_before": 5, "buffer_after": 10,
                 "limit_per_day": 3, "limit_per_week": 10, "max_future_days": 30, "seats": 4, "is_secret": False,
                 "color": "#112233"}
    assert ok(v2.get(f"/v2/event-types/{e['id']}")) == e

    # PATCH: given fields change, the rest (extras included) stays
    p = ok(v2.patch(f"/v2/event-types/{e['id']}", {
        "title": "Strategy", "lengthInMinutes": 60, "lengthInMinutesOptions": [], "hidden": True,
        "customName": "changed",
        "bookingWindow": {"disabled": True}, "bookingLimitsCount": {"disabled": True}, "seats": {"disabled": True},
        "locations": [{"type": "integration", "integration": "zoom"}], "bookingFields": [],
        "confirmationPolicy": {"type": "always", "blockUnconfirmedBookingsInBooker": True},
        "successRedirectUrl": None, "recurrence": {"interval": 2, "occurrences": 3, "frequency": "weekly"}}))
    assert p["title"] == "Strategy" and p["lengthInMinutes"] == 60 and p["hidden"] is True
    assert "lengthInMinutesOptions" not in p
    assert p["customName"] == "changed" and p["bookerLayouts"] == FULL["bookerLayouts"]
    assert p["successRedirectUrl"] is None
    assert p["recurrence"] == {"interval": 2, "occurrences": 3, "frequency": "weekly"}
    assert p["bookingWindow"] == [] and "bookingLimitsCount" not in p and "seats" not in p
    assert p["seatsPerTimeSlot"] is None
    assert p["locations"] == [{"type": "integration", "integration": "zoom"}]
    assert p["confirmationPolicy"] == {"type": "always", "blockUnconfirmedBookingsInBooker": True}
    assert [f["slug"] for f in p["bookingFields"]] == ["name", "email", "title", "notes", "guests",
                                                       "rescheduleReason"]
    assert p["slotInterval"] == 15 and p["minimumBookingNotice"] == 120
    assert ok(v2.get(f"/v2/event-types/{e['id']}")) == p
    n = native_row(env, e["id"], "location_type, max_future_days, limit_per_day, seats, requires_confirmation, "
                                 "questions, is_secret, durations, recurrence")
    assert n == {"location_type": "zoom", "max_future_days": 3650, "limit_per_day": None, "seats": 1,
                 "requires_confirmation": True, "questions": [], "is_secret": True, "durations": None,
                 "recurrence": {"frequency": "weekly", "interval": 2, "occurrences": 3}}
    assert ok(v2.patch(f"/v2/event-types/{e['id']}", {"recurrence": {"disabled": True}}))["recurrence"] is None

    d = ok(v2.delete(f"/v2/event-types/{e['id']}"))
    assert d == {"id": e["id"], "lengthInMinutes": 60, "title": "Strategy", "slug": "strategy"}
    err(v2.get(f"/v2/event-types/{e['id']}"), 404)
    err(v2.delete(f"/v2/event-types/{e['id']}"), 404)


def test_minimal_create_takes_cal_com_defaults(env):  # noqa: F811
    h, v2 = host_v2(env)
    e = ok(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Quick", "slug": "quick"}), 201)
    assert e["minimumBookingNotice"] == 120 and e["bookingWindow"] == [] and e["locations"] == []
    assert e["slotInterval"] is None and e["price"] == 0 and e["currency"] == "usd" and e["metadata"] == {}
    assert e["description"] == "" and e["bookingRequiresAuthentication"] is False
    assert e["forwardParamsSuccessRedirect"] is True and e["lockTimeZoneToggleOnBookingPage"] is False


def test_a_native_type_reads_as_cal_com(env):  # noqa: F811
    h, v2 = host_v2(env)
    nt = h.et(name="Native one", duration_minutes=20, location_type="phone", location_value="+15551234567",
              questions=[{"id": "topic", "label": "Topic", "type": "textarea", "required": True}],
              min_notice_hours=3, max_future_days=14, price="12.50", currency="EUR")
    e = ok(v2.get(f"/v2/event-types/{nt['id']}"))
    assert e["locations"] == [{"type": "phone", "phone": "+15551234567", "public": True}]
    assert e["minimumBookingNotice"] == 180 and e["price"] == 1250 and e["currency"] == "eur"
    assert e["bookingWindow"] == [{"type": "calendarDays", "value": 14, "rolling": False}]
    assert {"isDefault": False, "type": "textarea", "slug": "topic", "label": "Topic", "required": True,
            "placeholder": "", "hidden": False, "disableOnPrefill": False} in e["bookingFields"]
    # a native change after a Cal.com one: the output follows the native columns
    ok(v2.patch(f"/v2/event-types/{nt['id']}", {"locations": [{"type": "address", "address": "Here",
                                                               "public": True}]}))
    h.et_put(nt["id"], location_type="zoom")
    assert ok(v2.get(f"/v2/event-types/{nt['id']}"))["locations"] == [{"type": "integration",
                                                                       "integration": "zoom"}]


def test_refusals_name_the_field_and_change_nothing(env):  # noqa: F811
    h, v2 = host_v2(env)
    et = ok(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Base", "slug": "base"}), 201)
    before = snapshot(env, h)
    base = {"lengthInMinutes": 30, "title": "T", "slug": "t"}
    cases = [
        ({"title": "T", "slug": "t"}, "lengthInMinutes", None),
        ({"lengthInMinutes": 30, "slug": "t"}, "title", None),
        ({"lengthInMinutes": 30, "title": "T"}, "slug", None),
        ({**base, "lengthInMinutes": 3}, "lengthInMinutes", None),
        ({**base, "lengthInMinutes": "30"}, "lengthInMinutes", None),
        ({**base, "title": 5}, "title", None),
        ({**base, "slug": "Not A Slug"}, "slug", None),
        ({**base, "minimumBookingNotice": 90}, "minimumBookingNotice", "whole hours"),
        ({**base, "lengthInMinutesOptions": [15, 60]}, "lengthInMinutesOptions", "include"),
        ({**base, "lengthInMinutesOptions": [30, 2000]}, "lengthInMinutesOptions", None),
        ({**base, "lengthInMinutesOptions": ["30", "x"]}, "lengthInMinutesOptions", None),
        ({**base, "recurrence": {"interval": 1, "occurrences": 4, "frequency": "yearly"}}, "recurrence", None),
        ({**base, "recurrence": {"interval": 1, "occurrences": 99, "frequency": "weekly"}}, "recurrence", None),
        ({**base, "recurrence": [1]}, "recurrence", None),
        ({**base, "bookingWindow": {"type": "businessDays", "value": 5}}, "bookingWindow", None),
        ({**base, "bookingWindow": {"type": "calendarDays", "value": 5, "rolling": True}}, "bookingWindow", None),
        ({**base, "bookingWindow": {"type": "calendarDays", "value": 9999}}, "bookingWindow", None),
        ({**base, "bookingLimitsCount": {"month": 3}}, "bookingLimitsCount", None),
        ({**base, "confirmationPolicy": {"type": "time", "blockUnconfirmedBookingsInBooker": True,
                                         "noticeThreshold": {"unit": "minutes", "count": 30}}},
         "confirmationPolicy", None),
        ({**base, "bookingFields": [{"type": "multiselect", "slug": "m", "label": "M", "required": False,
                                     "options": ["a"], "hidden": False}]}, "bookingFields", "not supported"),
        ({**base, "bookingFields": [{"type": "email", "label": "E", "placeholder": "", "required": False}]},
         "bookingFields", None),
        ({**base, "bookingFields": [{"type": "select", "slug": "s", "label": "S", "required": False,
                                     "placeholder": "", "hidden": False}]}, "bookingFields", None),
        ({**base, "locations": [{"type": "link", "link": "not a url", "public": True}]}, "locations", None),
        ({**base, "locations": [{"type": "organizersDefaultApp"}]}, "locations", None),
        ({**base, "bookingRequiresAuthentication": True}, "bookingRequiresAuthentication", None),
        ({**base, "disableCancelling": {"disabled": True}}, "disableCancelling", None),
        ({**base, "disableGuests": False}, "disableGuests", None),
        ({**base, "seats": {"seatsPerTimeSlot": 5000, "showAttendeeInfo": False, "showAvailabilityCount": True}},
         "seats", None),
        ({**base, "scheduleId": 999999999}, "scheduleId", None),
        ({**base, "successRedirectUrl": "javascript:alert(1)"}, "successRedirectUrl", None),
        ({**base, "color": {"lightThemeHex": "red", "darkThemeHex": "#000000"}}, "color", None),
    ]
    for i, (body, field, msg) in enumerate(cases):
        e = err(v2.post("/v2/event-types", body), 400, msg)
        assert e["details"].get("field") == field, (body, e)
        if i >= 3:
            e = err(v2.patch(f"/v2/event-types/{et['id']}", {field: body[field]}), 400, msg)
            assert e["details"].get("field") == field, (body, e)
    e = err(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Again", "slug": "base"}), 409)
    assert e["details"].get("field") == "slug"
    for raw in (b"{bad", b"[1]", b""):
        r = call(env.s, "POST", "/v2/event-types", raw=raw,
                 headers={"cal-api-version": "2024-06-14", "Authorization": f"Bearer {h.user.key}"})
        assert r.status == 400, r
        validate("POST", "/v2/event-types", 400, r.json())
    assert snapshot(env, h) == before


def test_list_public_by_username_and_own(env):  # noqa: F811
    h, v2 = host_v2(env)
    other, vo = host_v2(env)
    shown = ok(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Shown", "slug": "shown"}), 201)
    hidden = ok(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Hidden", "slug": "hidden",
                                            "hidden": True}), 201)
    anon = V2(env.s)
    assert [x["id"] for x in ok(anon.get("/v2/event-types", username=h.slug))] == [shown["id"]]
    assert [x["id"] for x in ok(vo.get("/v2/event-types", username=h.slug))] == [shown["id"]]
    assert [x["id"] for x in ok(v2.get("/v2/event-types", username=h.slug))] == [shown["id"], hidden["id"]]
    assert ok(anon.get("/v2/event-types", username=h.slug, eventSlug="shown")) == [shown]
    assert ok(anon.get("/v2/event-types", username=h.slug, eventSlug="hidden")) == []
    assert [x["id"] for x in ok(v2.get("/v2/event-types"))] == [shown["id"], hidden["id"]]
    assert [x["id"] for x in ok(v2.get("/v2/event-types", sortCreatedAt="desc"))] == [hidden["id"], shown["id"]]
    assert ok(vo.get("/v2/event-types")) == []
    err(anon.get("/v2/event-types"), 401)
    err(anon.get("/v2/event-types", username="no-such-user-here"), 404)
    err(anon.get("/v2/event-types", eventSlug="shown"), 400)
    err(anon.get("/v2/event-types", usernames=f"{h.slug},{other.slug}"), 400)
    err(anon.get("/v2/event-types", username=h.slug, sortCreatedAt="sideways"), 400)
    err(V2(env.s, "cal_bogus").get("/v2/event-types", username=h.slug), 401)


def test_other_users_ids_credentials_and_version(env):  # noqa: F811
    a, va = host_v2(env)
    b, vb = host_v2(env)
    et = ok(va.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Mine", "slug": "mine"}), 201)
    before = snapshot(env, a)
    err(vb.get(f"/v2/event-types/{et['id']}"), 404)
    err(vb.patch(f"/v2/event-types/{et['id']}", {"title": "yours"}), 404)
    err(vb.delete(f"/v2/event-types/{et['id']}"), 404)
    err(vb.patch("/v2/event-types/999999999", {"title": "x"}), 404)
    err(vb.get("/v2/event-types/abc"), 404)
    # scheduleId must be one's own schedule
    bs = b.schedules()[0]["id"]
    e = err(va.patch(f"/v2/event-types/{et['id']}", {"scheduleId": bs}), 400)
    assert e["details"]["field"] == "scheduleId"
    anon = V2(env.s)
    for method, path, body in [("POST", "/v2/event-types", {"lengthInMinutes": 30, "title": "x", "slug": "x"}),
                               ("GET", f"/v2/event-types/{et['id']}", None),
                               ("PATCH", f"/v2/event-types/{et['id']}", {"title": "x"}),
                               ("DELETE", f"/v2/event-types/{et['id']}", None)]:
        err(anon.request(method, path, body), 401)
        e = err(va.request(method, path, body, version="2024-08-13"), 400, "2024-06-14")
        assert e["details"]["field"] == "cal-api-version"
    err(va.get("/v2/event-types", version="2024-06-11"), 400)
    assert snapshot(env, a) == before
    assert ok(va.get(f"/v2/event-types/{et['id']}", version=None))["id"] == et["id"]


def test_a_type_made_here_books_natively_and_uses_its_schedule(env):  # noqa: F811
    h, v2 = host_v2(env)
    sid = ok(v2.post("/v2/schedules", {"name": "Mornings", "timeZone": "UTC", "isDefault": False, "availability": [
        {"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
         "startTime": "08:00", "endTime": "12:00"}]}), 201)["id"]
    et = ok(v2.post("/v2/event-types", {
        "lengthInMinutes": 30, "title": "Book me", "slug": "book-me", "minimumBookingNotice": 0,
        "scheduleId": sid, "bookingFields": [{"type": "text", "slug": "company", "label": "Company",
                                              "required": True, "placeholder": "", "hidden": False}]}), 201)
    assert et["scheduleId"] == sid
    path = f"/api/book/{h.slug}/book-me"
    body = {"name": "Bob Johnson", "email": "bob@example.com", "start_time": iso(day_at(3, 9))}
    r = call(env.s, "POST", path, body)
    assert r.status == 400, r  # the required custom field is a required native question
    r = call(env.s, "POST", path, {**body, "answers": {"company": "ACME"}})
    assert r.status == 201, r
    assert r.json()["booking"]["event_type_id"] == et["id"]
    # outside the schedule given by scheduleId
    r = call(env.s, "POST", path, {**body, "start_time": iso(day_at(3, 14)), "answers": {"company": "ACME"}})
    assert r.status == 400 and r.json()["field"] == "start_time", r


def test_a_recurring_type_made_here_books_its_series_natively(env):  # noqa: F811
    h, v2 = host_v2(env)
    et = ok(v2.post("/v2/event-types", {"lengthInMinutes": 30, "title": "Weekly", "slug": "weekly",
                                        "minimumBookingNotice": 0,
                                        "recurrence": {"interval": 1, "occurrences": 3, "frequency": "weekly"}}), 201)
    assert et["recurrence"] == {"interval": 1, "occurrences": 3, "frequency": "weekly"}
    r = call(env.s, "POST", f"/api/book/{h.slug}/weekly",
             {"name": "Bob Johnson", "email": "bob@example.com", "start_time": iso(day_at(3, 9))})
    assert r.status == 201, r
    bs = r.json()["bookings"]
    assert len(bs) == 3 and len({b["recurring_uid"] for b in bs}) == 1
