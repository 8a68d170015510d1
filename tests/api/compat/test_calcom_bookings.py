"""Cal.com API v2 bookings (issue 16; cal-api-version 2024-08-13): every operation through the
V2 client, so every JSON answer is validated against Cal.com's own schemas (calcom_util), onto
the one booking core: create (plain, by slugs, seated, with a reserved slot), get, list with its
filters and pagination, cancel (booking, seat, every seat), confirm/decline, mark-absent,
reassign among round-robin hosts, calendar links, references; refusals (401/403/404/400/409)
leave the database as it was; a 20-way race on one slot has one winner.
"""

import datetime as dt

import pytest

import calcom_util
from calcom_util import V2, err, ok
from booking_util import UTC, UUID_RE, Host, call, concurrently, count_rows, day_at, env, iso  # noqa: F401
from org_util import org_key
from team_util import Org, at, next_monday

calcom_util.override(
    "/v2/bookings/{bookingUid}/reassign", "post", 200,
    {"type": "object", "required": ["status", "data"], "properties": {
        "status": {"const": "success"},
        "data": {"allOf": [{"$ref": "#/definitions/BookingOutput_2024_08_13"},
                           {"type": "object", "required": ["reassignedTo"], "properties": {"reassignedTo": {
                               "type": "object", "required": ["id", "name", "email", "displayEmail"],
                               "properties": {"id": {"type": "number"}, "name": {"type": "string"},
                                              "email": {"type": "string"}, "displayEmail": {"type": "string"}}}}}]}}},
    "ReassignBookingOutput_2024_08_13.data refers to itself and the subset lacks ReassignedToDto, which "
    "calcom_util's repair names: the booking plus reassignedTo {id, name, email, displayEmail}, inline")
calcom_util.override(
    "/v2/bookings/{bookingUid}/reassign/{userId}", "post", 200,
    calcom_util.OVERRIDES[("/v2/bookings/{bookingUid}/reassign", "post", 200)][0],
    "the same self-reference as /reassign: the booking plus reassignedTo, inline")

def _recurring_discriminated(template, method, status, items=False):
    """RecurringBookingOutput_2024_08_13 is BookingOutput_2024_08_13 plus recurringBookingUid, with no
    additionalProperties: false on either, so one recurrence matches both and the document's oneOf
    can never hold for it. Cal.com tells them apart by recurringBookingUid: an object with one is
    validated against the recurring variants only, one without against the others (still oneOf)."""
    op = calcom_util.SPEC["paths"][template][method]
    ref = op["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    wrapper = calcom_util.DEFINITIONS[ref]
    data = wrapper["properties"]["data"]
    alts = data["items"]["oneOf"] if items else data["oneOf"]
    rec = [x for x in alts if "Recurring" in x.get("$ref", "")]
    rest = [x for x in alts if x not in rec]
    obj = {"if": {"type": "object", "required": ["recurringBookingUid"]}, "then": {"oneOf": rec},
           "else": {"oneOf": rest}}
    arrays = [x for x in alts if x.get("type") == "array"]  # a whole series: unambiguous as it is
    if items:
        new = dict(data, items=obj)
    elif arrays:
        obj["then"]["oneOf"] = [x for x in rec if x not in arrays]
        obj["else"]["oneOf"] = [x for x in rest if x not in arrays]
        new = {"if": {"type": "array"}, "then": {"oneOf": arrays}, "else": obj}
    else:
        new = obj
    schema = dict(wrapper, properties=dict(wrapper["properties"], data=new))
    calcom_util.override(template, method, status, schema,
                         "one recurrence matches both BookingOutput and RecurringBookingOutput (the latter only adds "
                         "recurringBookingUid, neither forbids other properties): oneOf decided by recurringBookingUid")


for _t, _m, _st in (("/v2/bookings/{bookingUid}", "get", 200), ("/v2/bookings/{bookingUid}/cancel", "post", 200),
                    ("/v2/bookings/{bookingUid}/mark-absent", "post", 200),
                    ("/v2/bookings/{bookingUid}/reschedule", "post", 201),
                    ("/v2/bookings/{bookingUid}/confirm", "post", 200),
                    ("/v2/bookings/{bookingUid}/decline", "post", 200)):
    _recurring_discriminated(_t, _m, _st)
_recurring_discriminated("/v2/bookings", "get", 200, items=True)

ATTENDEE = {"name": "Ada Lovelace", "email": "ada@example.com", "timeZone": "Europe/Rome"}


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def iso_ms(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def body(et, t, **extra):
    return {"start": iso(t), "eventTypeId": et["id"], "attendee": dict(ATTENDEE), **extra}


def book(v2, et, t, **extra):
    return ok(v2.post("/v2/bookings", body(et, t, **extra)), 201)


def bookings_rows(db):
    return count_rows(db, "bookings") + count_rows(db, "calcom_bookings")


# ----------------------------------------------------------------------------- create and get


def test_create_and_get(env, host):
    et = host.et(duration_minutes=30)
    pub = V2(env.s)
    t = day_at(3, 10)
    b = book(pub, et, t, guests=["Grace@Example.com"], metadata={"crm": "42", "vip": True, "n": 3},
             bookingFieldsResponses={"notes": "About the engine"},
             location={"type": "attendeeAddress", "address": "12 Analytical Rd"})
    assert UUID_RE.fullmatch(b["uid"]) and b["status"] == "accepted", b
    assert b["start"] == iso_ms(t) and b["end"] == iso_ms(t + dt.timedelta(minutes=30)) and b["duration"] == 30
    assert b["eventTypeId"] == et["id"] and b["eventType"] == {"id": et["id"], "slug": et["slug"]}
    assert b["title"] == f"{et['name']} between {host.user.name} and Ada Lovelace", b["title"]
    assert b["description"] == "About the engine" and b["location"] == "12 Analytical Rd"
    assert b["hosts"] == [{"id": host.id, "name": host.user.name, "email": host.email, "displayEmail": host.email,
                           "username": host.slug, "timeZone": "UTC"}], b["hosts"]
    assert b["attendees"] == [{"name": "Ada Lovelace", "email": "ada@example.com", "displayEmail": "ada@example.com",
                               "timeZone": "Europe/Rome", "absent": False, "language": "en"}], b["attendees"]
    assert b["guests"] == ["grace@example.com"] and b["metadata"] == {"crm": "42", "vip": True, "n": 3}
    assert b["bookingFieldsResponses"] == {"name": "Ada Lovelace", "email": "ada@example.com",
                                           "notes": "About the engine", "guests": ["grace@example.com"]}
    assert b["absentHost"] is False and b["icsUid"].startswith(b["uid"] + "@")
    assert "cancellationReason" not in b and "seatUid" not in b
    # the same booking natively
    native = host.booking(b["id"])
    assert native["uid"] == b["uid"] and native["notes"] == "About the engine" and native["status"] == "confirmed"
    # anyone holding the uid reads it (as in Cal.com); the host too
    for v in (pub, V2(env.s, host.user.key)):
        g = ok(v.get(f"/v2/bookings/{b['uid']}"))
        assert g == {**b, "updatedAt": g["updatedAt"]}, (g, b)
    # by slugs, with a phone and a language; the missing header means this version
    t2 = day_at(3, 11)
    b2 = ok(pub.post("/v2/bookings", {"start": iso(t2), "eventTypeSlug": et["slug"], "username": host.slug,
                                       "attendee": {**ATTENDEE, "phoneNumber": "+39 06 1234567", "language": "it"}},
                     version=None), 201)
    assert b2["attendees"][0]["phoneNumber"] == "+39 06 1234567" and b2["attendees"][0]["language"] == "it"
    assert b2["bookingFieldsResponses"]["attendeePhoneNumber"] == "+39 06 1234567"
    # a retry with the same Idempotency-Key is the same booking, replayed
    t3 = day_at(3, 12)
    r1 = pub.post("/v2/bookings", body(et, t3), headers={"Idempotency-Key": "calcom-retry-1"})
    r2 = pub.post("/v2/bookings", body(et, t3), headers={"Idempotency-Key": "calcom-retry-1"})
    assert ok(r1, 201)["uid"] == ok(r2, 201)["uid"] and r2.header("Idempotent-Replayed") == "true"


def test_create_refusals_change_nothing(env, host):
    et = host.et(duration_minutes=30, questions=[{"id": "company", "label": "Company", "type": "text",
                                                   "required": True}])
    pub = V2(env.s)
    t = day_at(3, 10)
    before = bookings_rows(env.db)
    good = body(et, t, bookingFieldsResponses={"company": "Acme"})
    cases = [
        ({**good, "attendee": {"name": "No Mail", "timeZone": "UTC"}}, 400, "attendee.email is required"),
        ({**good, "attendee": {**ATTENDEE, "timeZone": "Mars/Olympus"}}, 400, "attendee.timeZone"),
        ({**good, "attendee": {**ATTENDEE, "email": "nope"}}, 400, "attendee.email"),
        ({**good, "attendee": {**ATTENDEE, "language": "klingon"}}, 400, "attendee.language"),
        ({k: v for k, v in good.items() if k != "attendee"}, 400, "attendee is required"),
        ({**good, "start": "tomorrow"}, 400, "start must be"),
        ({k: v for k, v in good.items() if k != "start"}, 400, "start"),
        ({**good, "eventTypeId": "x"}, 400, "eventTypeId"),
        ({k: v for k, v in good.items() if k != "eventTypeId"}, 400, "eventTypeId, or eventTypeSlug"),
        ({**good, "instant": True}, 400, "instant bookings are not supported"),
        ({**good, "recurrenceCount": 3}, 400, "does not recur"),
        ({**good, "recurrenceCount": 0}, 400, "recurrenceCount"),
        ({**good, "lengthInMinutes": 60}, 400, "lengthInMinutes is not one of the event type's lengths"),
        ({**good, "routing": {"responseId": 1, "teamMemberIds": [1]}}, 400, "routing"),
        ({**good, "guests": ["not-an-email"]}, 400, "guests"),
        ({**good, "metadata": {"k" * 41: "v"}}, 400, "metadata"),
        ({**good, "metadata": {str(i): "v" for i in range(51)}}, 400, "metadata"),
        ({**good, "metadata": {"k": "v" * 501}}, 400, "metadata"),
        ({**good, "location": {"type": "teleport"}}, 400, "location"),
        ({**good, "bookingFieldsResponses": {}}, 400, "requires an answer"),
        ({**good, "bookingFieldsResponses": {"company": "Acme", "shoe": "42"}}, 400, "question"),
        ({**good, "reservedSlotUid": "abc"}, 400, "reservedSlotUid"),
        ({**good, "start": iso(t + dt.timedelta(minutes=7))}, 400, "not a bookable time"),
        ({**good, "eventTypeId": 10**12}, 404, "event type not found"),
    ]
    for b, status, msg in cases:
        err(pub.post("/v2/bookings", b), status, msg)
    err(pub.post("/v2/bookings", good, version="2024-06-14"), 400, "2024-08-13")
    r = call(env.s, "POST", "/v2/bookings", raw=b"{not json", headers={"cal-api-version": "2024-08-13"})
    assert r.status == 400 and r.json()["status"] == "error", r
    err(pub.post("/v2/bookings", good, key="cal_nonsense"), 401)
    err(pub.post("/v2/bookings", good, headers={"Authorization": "Basic eDp5"}), 401)
    assert bookings_rows(env.db) == before
    # the right length is fine
    assert book(pub, et, t, lengthInMinutes=30, bookingFieldsResponses={"company": "Acme"})["duration"] == 30
    assert host.booking(book(pub, et, day_at(3, 12), bookingFieldsResponses={"company": "Initech"})["id"])[
        "answers"] == {"company": "Initech"}


# ----------------------------------------------------------------------------- host operations


def test_list_filters_and_pagination(env):
    h = Host(env.s, env.db)
    other = Host(env.s, env.db)
    a = h.et(duration_minutes=30)
    b = h.et(duration_minutes=60)
    pub, v = V2(env.s), V2(env.s, h.user.key)
    made = []
    for i in range(5):
        made.append(book(pub, a if i % 2 == 0 else b, day_at(4, 8 + 2 * i),
                         attendee={**ATTENDEE, "email": f"p{i}@example.com", "name": f"Person {i}"}))
    book(pub, other.et(), day_at(4, 9))  # another host's: never listed
    ok(v.post(f"/v2/bookings/{made[4]['uid']}/cancel", {"cancellationReason": "no longer needed"}))

    def lst(**q):
        r = v.get("/v2/bookings", **q)
        assert r.status == 200, r
        j = r.json()
        return [x["uid"] for x in j["data"]], j["pagination"]

    uids, p = lst()
    assert uids == [m["uid"] for m in made], uids  # by start, ascending
    assert p == {"totalItems": 5, "remainingItems": 0, "returnedItems": 5, "itemsPerPage": 100, "currentPage": 1,
                 "totalPages": 1, "hasNextPage": False, "hasPreviousPage": False}, p
    uids, p = lst(take=2, skip=2)
    assert uids == [made[2]["uid"], made[3]["uid"]]
    assert p == {"totalItems": 5, "remainingItems": 1, "returnedItems": 2, "itemsPerPage": 2, "currentPage": 2,
                 "totalPages": 3, "hasNextPage": True, "hasPreviousPage": True}, p
    assert lst(take=2, skip=10)[0] == []
    assert lst(sortStart="desc")[0] == [m["uid"] for m in reversed(made)]
    assert lst(sortCreated="desc")[0] == [m["uid"] for m in reversed(made)]
    assert lst(status="cancelled")[0] == [made[4]["uid"]]
    assert lst(status="upcoming")[0] == [m["uid"] for m in made[:4]]
    assert lst(status="upcoming,cancelled")[0] == [m["uid"] for m in made]
    assert lst(status="past")[0] == [] and lst(status="unconfirmed")[0] == [] and lst(status="recurring")[0] == []
    assert lst(attendeeEmail="P3@example.com")[0] == [made[3]["uid"]]
    assert lst(attendeeName="person 1")[0] == [made[1]["uid"]]
    assert lst(bookingUid=made[2]["uid"])[0] == [made[2]["uid"]]
    assert lst(eventTypeId=b["id"])[0] == [made[1]["uid"], made[3]["uid"]]
    assert lst(eventTypeIds=f"{a['id']},{b['id']}")[0] == [m["uid"] for m in made]
    assert lst(afterStart=iso(day_at(4, 11)), beforeEnd=iso(day_at(4, 15)))[0] == [made[2]["uid"], made[3]["uid"]]
    assert lst(afterCreatedAt=(dt.date.today() - dt.timedelta(days=1)).isoformat())[0] == [m["uid"] for m in made]
    assert lst(beforeCreatedAt="2000-01-01")[0] == []
    assert lst(afterUpdatedAt="2000-01-01", beforeUpdatedAt=iso(day_at(1)))[0] == [m["uid"] for m in made]
    assert lst(teamId=1)[0] == []
    for q in ({"status": "soon"}, {"take": 0}, {"take": 251}, {"skip": -1}, {"sortStart": "up"},
              {"eventTypeIds": "1,x"}, {"afterStart": "yesterday"}, {"bookingUid": "nope"}):
        err(v.get("/v2/bookings", **q), 400)
    err(V2(env.s).get("/v2/bookings"), 401)
    err(v.get("/v2/bookings", version="2024-09-04"), 400, "2024-08-13")


def test_confirm_decline_and_cancel(env, host):
    et = host.et(duration_minutes=30, requires_confirmation=True)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    other = V2(env.s, Host(env.s, env.db).user.key)
    p1 = book(pub, et, day_at(5, 9))
    p2 = book(pub, et, day_at(5, 10))
    assert p1["status"] == "pending" and p2["status"] == "pending"
    # not the other host's: 404 (never a leak), nothing changes; no credentials: 401
    for path in ("confirm", "decline"):
        err(other.post(f"/v2/bookings/{p1['uid']}/{path}"), 404)
        err(pub.post(f"/v2/bookings/{p1['uid']}/{path}"), 401)
    assert ok(v.get(f"/v2/bookings/{p1['uid']}"))["status"] == "pending"
    c = ok(v.post(f"/v2/bookings/{p1['uid']}/confirm"))
    assert c["uid"] == p1["uid"] and c["status"] == "accepted"
    d = ok(v.post(f"/v2/bookings/{p2['uid']}/decline", {"reason": "busy that day"}))
    assert d["status"] == "rejected" and d["cancellationReason"] == "busy that day"
    assert host.booking(p2["id"])["status"] == "declined"
    err(v.post(f"/v2/bookings/{p2['uid']}/confirm"), 409, "declined")
    # cancel by the attendee (the uid is enough, as in Cal.com) and by the host
    x = ok(pub.post(f"/v2/bookings/{p1['uid']}/cancel", {"cancellationReason": "conflict"}))
    assert x["status"] == "cancelled" and x["cancellationReason"] == "conflict"
    assert x["cancelledByEmail"] == "ada@example.com"
    assert host.booking(p1["id"])["cancelled_by"] == "invitee"
    err(pub.post(f"/v2/bookings/{p1['uid']}/cancel", {}), 409, "cancelled")
    plain = host.et(duration_minutes=30)
    p3 = book(pub, plain, day_at(5, 12))
    y = ok(v.post(f"/v2/bookings/{p3['uid']}/cancel"))
    assert y["status"] == "cancelled" and y["cancelledByEmail"] == host.email and "cancellationReason" not in y
    # unknown or malformed uids
    err(pub.get("/v2/bookings/00000000-0000-4000-8000-000000000000"), 404)
    err(pub.get("/v2/bookings/not-a-uid"), 404)
    err(pub.post("/v2/bookings/00000000-0000-4000-8000-000000000000/cancel", {}), 404)
    err(pub.post(f"/v2/bookings/{p3['uid']}/cancel", {"cancellationReason": 5}), 400)
    err(pub.post(f"/v2/bookings/{p3['uid']}/cancel", {}, version="2024-09-04"), 400, "2024-08-13")


def test_mark_absent_links_references(env, host):
    et = host.et(duration_minutes=30)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    other = V2(env.s, Host(env.s, env.db).user.key)
    b = book(pub, et, day_at(6, 9))
    mark = {"host": True, "attendees": [{"email": "ADA@example.com", "absent": True}]}
    err(v.post(f"/v2/bookings/{b['uid']}/mark-absent", mark), 409, "not started")
    err(other.post(f"/v2/bookings/{b['uid']}/mark-absent", mark), 404)
    err(pub.post(f"/v2/bookings/{b['uid']}/mark-absent", mark), 401)
    err(v.post(f"/v2/bookings/{b['uid']}/mark-absent", {"attendees": [{"email": "ada@example.com"}]}), 400)
    past = dt.datetime.now(UTC).replace(microsecond=0, second=0) - dt.timedelta(hours=3)
    host.move(b["id"], past, past + dt.timedelta(minutes=30))
    err(v.post(f"/v2/bookings/{b['uid']}/mark-absent", {"attendees": [{"email": "x@example.com", "absent": True}]}),
        400, "not an attendee")
    m = ok(v.post(f"/v2/bookings/{b['uid']}/mark-absent", mark))
    assert m["absentHost"] is True and m["attendees"][0]["absent"] is True
    assert host.booking(b["id"])["no_show"] is True
    m = ok(v.post(f"/v2/bookings/{b['uid']}/mark-absent", {"host": False}))
    assert m["absentHost"] is False and m["attendees"][0]["absent"] is True
    err(v.post(f"/v2/bookings/{b['uid']}/mark-absent", {"attendees": [{"email": "ada@example.com", "absent": False}]}),
        400, "not supported")
    # calendar links (the native ones, Cal.com's labels) and references (none kept)
    b2 = book(pub, et, day_at(6, 11))
    links = ok(v.get(f"/v2/bookings/{b2['uid']}/calendar-links"))
    assert [x["label"] for x in links] == ["Google Calendar", "Microsoft Office", "Microsoft Outlook", "ICS"]
    assert links[0]["link"].startswith("https://calendar.google.com/") and links[3]["link"].endswith(
        f"/api/bookings/{b2['uid']}/ics")
    err(other.get(f"/v2/bookings/{b2['uid']}/calendar-links"), 404)
    err(pub.get(f"/v2/bookings/{b2['uid']}/calendar-links"), 401)
    assert ok(v.get(f"/v2/bookings/{b2['uid']}/references")) == []
    assert ok(v.get(f"/v2/bookings/{b2['uid']}/references", type="google_calendar")) == []
    err(v.get(f"/v2/bookings/{b2['uid']}/references", type="carrier_pigeon"), 400)
    err(other.get(f"/v2/bookings/{b2['uid']}/references"), 404)


# ----------------------------------------------------------------------------- seats


def test_seated_booking(env, host):
    et = host.et(duration_minutes=30, seats=3)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    t = day_at(7, 10)
    s1 = book(pub, et, t, attendee={**ATTENDEE, "email": "s1@example.com", "name": "Seat One"},
              metadata={"seat": "1"})
    s2 = book(pub, et, t, attendee={**ATTENDEE, "email": "s2@example.com", "name": "Seat Two"})
    # one Cal.com booking: the first seat's uid, each seat its own seatUid
    assert s2["uid"] == s1["uid"] and s2["id"] == s1["id"]
    # the group's public uid is derived one way from its first seat's: holding it (every attendee
    # does) never grants that seat's own capability
    assert s1["seatUid"] != s1["uid"] and s2["seatUid"] != s1["seatUid"] and s1["uid"] == s2["uid"]
    assert s1["uid"] == calcom_util.group_uid(s1["seatUid"])
    # a booker sees their own seat only
    assert [a["email"] for a in s2["attendees"]] == ["s2@example.com"] and s2["attendees"][0]["seatUid"] == s2["seatUid"]
    assert s1["attendees"][0]["metadata"] == {"seat": "1"} and s1["attendees"][0]["bookingFieldsResponses"][
        "name"] == "Seat One"
    # the host sees every attendee; the public none
    g = ok(v.get(f"/v2/bookings/{s1['uid']}"))
    assert [a["email"] for a in g["attendees"]] == ["s1@example.com", "s2@example.com"] and "seatUid" not in g
    assert ok(pub.get(f"/v2/bookings/{s2['seatUid']}"))["attendees"] == []
    uids, _ = [x["uid"] for x in ok(v.get("/v2/bookings"))], None
    assert uids == [s1["uid"]]
    # a seat is cancelled with its seatUid, without credentials
    err(pub.post(f"/v2/bookings/{s1['uid']}/cancel", {}), 400, "seatUid")
    err(pub.post(f"/v2/bookings/{s1['uid']}/cancel", {"seatUid": "00000000-0000-4000-8000-000000000000"}), 404)
    c = ok(pub.post(f"/v2/bookings/{s1['uid']}/cancel", {"seatUid": s2["seatUid"]}))
    assert c["status"] == "accepted"
    assert [a["email"] for a in ok(v.get(f"/v2/bookings/{s1['uid']}"))["attendees"]] == ["s1@example.com"]
    s3 = book(pub, et, t, attendee={**ATTENDEE, "email": "s3@example.com"})
    assert s3["uid"] == s1["uid"]
    # the host cancels every seat, with a reason
    err(v.post(f"/v2/bookings/{s1['uid']}/cancel", {}), 400, "Cancellation reason is required")
    x = ok(v.post(f"/v2/bookings/{s1['uid']}/cancel", {"cancellationReason": "room flooded"}))
    assert x["status"] == "cancelled" and x["attendees"] == [] and x["cancellationReason"] == "room flooded"
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']} AND status = 'cancelled'") == 3


# ----------------------------------------------------------------------------- holds and races


def test_reserved_slot(env, host):
    et = host.et(duration_minutes=30)
    pub = V2(env.s)
    t = day_at(8, 10)
    hold = call(env.s, "POST", "/api/reservations", {"slug": host.slug, "event_slug": et["slug"],
                                                      "start_time": iso(t)}).json()
    uid = hold["reservation_uid"]
    # someone else's live hold: Cal.com's 409, both stay
    e = err(pub.post("/v2/bookings", body(et, t)), 409, "Someone else reserved this booking time slot before you")
    assert "seconds" in e["message"]
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 1
    # the holder books with it (here through Cal.com's cookie): it is consumed
    r = pub.post("/v2/bookings", body(et, t), headers={"Cookie": f"theme=dark; uid={uid}"})
    assert ok(r, 201)["start"] == iso_ms(t)
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 0
    # an ordinary taken slot
    err(pub.post("/v2/bookings", body(et, t)), 409, "User either already has booking at this time")
    # in the body
    t2 = day_at(8, 11)
    uid2 = call(env.s, "POST", "/api/reservations", {"slug": host.slug, "event_slug": et["slug"],
                                                      "start_time": iso(t2)}).json()["reservation_uid"]
    ok(pub.post("/v2/bookings", body(et, t2, reservedSlotUid=uid2)), 201)
    assert count_rows(env.db, "reservations", f"uid = '{uid2}'") == 0


def test_race_one_slot(env, host):
    et = host.et(duration_minutes=30)
    t = day_at(9, 10)
    reqs = [("POST", "/v2/bookings", body(et, t, attendee={**ATTENDEE, "email": f"r{i}@example.com"}),
             {"cal-api-version": "2024-08-13"}) for i in range(20)]
    rs = concurrently(env.s, reqs)
    statuses = sorted(r.status for r in rs)
    assert statuses == [201] + [409] * 19, statuses
    for r in rs:
        calcom_util.validate("POST", "/v2/bookings", r.status, r.json())
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']} AND status = 'confirmed'") == 1


# ----------------------------------------------------------------------------- round robin


def test_round_robin_reassign(env):
    org = Org(env.s)
    et = org.event_type(name="Consult", scheduling="round_robin", duration_minutes=30)
    key = org.owner.make_key()["key"]
    v, pub = V2(env.s, key), V2(env.s)
    day = next_monday()
    b = ok(pub.post("/v2/bookings", {"start": at(day, "10:00"), "eventTypeSlug": et["slug"], "teamSlug": org.slug,
                                     "attendee": dict(ATTENDEE)}), 201)
    first = b["hosts"][0]["id"]
    assert len(b["hosts"]) == 1 and first in org.ids
    # the org's admin lists it (an org booking) and reassigns it
    assert [x["uid"] for x in ok(v.get("/v2/bookings", teamId=org.id))] == [b["uid"]]
    r = ok(v.post(f"/v2/bookings/{b['uid']}/reassign"))
    assert r["uid"] == b["uid"] and r["reassignedTo"]["id"] != first and r["hosts"][0]["id"] == r["reassignedTo"]["id"]
    target = [i for i in org.ids if i != r["reassignedTo"]["id"]][0]
    r2 = ok(v.post(f"/v2/bookings/{b['uid']}/reassign/{target}", {"reason": "speaks Italian"}))
    assert r2["reassignedTo"]["id"] == target and r2["hosts"][0]["id"] == target
    assert env.db.sql(f"SELECT reassign_reason FROM calcom_bookings WHERE booking_id = {b['id']}")[0][0] == \
        "speaks Italian"
    err(v.post(f"/v2/bookings/{b['uid']}/reassign/{target}"), 400, "already hosts")
    err(v.post(f"/v2/bookings/{b['uid']}/reassign/x"), 400)
    # an org's API key acts for the org on its own routes only: here 403
    _, org_headers = org_key(env.s, org.id, org.owner.session)
    err(V2(env.s).get("/v2/bookings", headers=org_headers), 403)
    err(V2(env.s).post(f"/v2/bookings/{b['uid']}/reassign", headers=org_headers), 403)
    # a stranger: 404; a personal booking: not round robin
    stranger = V2(env.s, Host(env.s, env.db).user.key)
    err(stranger.post(f"/v2/bookings/{b['uid']}/reassign"), 404)
    h = Host(env.s, env.db)
    p = book(pub, h.et(), day_at(3, 15))
    err(V2(env.s, h.user.key).post(f"/v2/bookings/{p['uid']}/reassign"), 404)


# ----------------------------------------------------------------------------- reschedule, lengths, series


def test_reschedule_makes_a_new_booking(env, host):
    et = host.et(duration_minutes=30)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    other = V2(env.s, Host(env.s, env.db).user.key)
    t, t2 = day_at(10, 9), day_at(10, 13)
    b = book(pub, et, t, metadata={"crm": "7"}, guests=["g@example.com"])
    before = bookings_rows(env.db)
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {}), 400, "start")
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": "later"}), 400, "start")
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(t2), "rescheduledBy": "x"}), 400)
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(t2 + dt.timedelta(minutes=5))}), 400,
        "not a bookable time")
    err(pub.post("/v2/bookings/00000000-0000-4000-8000-000000000000/reschedule", {"start": iso(t2)}), 404)
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(t2)}, version="2024-06-11"), 400)
    assert bookings_rows(env.db) == before
    n = ok(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(t2), "reschedulingReason": "dentist",
                                                             "rescheduledBy": "ada@example.com"}), 201)
    assert n["uid"] != b["uid"] and n["start"] == iso_ms(t2) and n["status"] == "accepted"
    assert n["rescheduledFromUid"] == b["uid"] and n["reschedulingReason"] == "dentist"
    assert n["rescheduledByEmail"] == "ada@example.com"
    assert n["metadata"] == {"crm": "7"} and n["guests"] == ["g@example.com"]
    old = ok(pub.get(f"/v2/bookings/{b['uid']}"))
    assert old["status"] == "cancelled" and old["rescheduledToUid"] == n["uid"]
    # the old booking is over; the new one moves again (by its host), its old time free again
    err(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(t)}), 409)
    n2 = ok(v.post(f"/v2/bookings/{n['uid']}/reschedule", {"start": iso(t)}), 201)
    assert n2["rescheduledFromUid"] == n["uid"] and n2["rescheduledByEmail"] == host.email
    # another host's key is no host here: it acts as anyone holding the uid
    n3 = ok(other.post(f"/v2/bookings/{n2['uid']}/reschedule", {"start": iso(t2)}), 201)
    assert n3["rescheduledByEmail"] == "ada@example.com"
    # onto a taken time
    b2 = book(pub, et, day_at(10, 15))
    err(pub.post(f"/v2/bookings/{b2['uid']}/reschedule", {"start": iso(t2)}), 409)


def test_reschedule_a_seat(env, host):
    et = host.et(duration_minutes=30, seats=4)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    t, t2 = day_at(11, 9), day_at(11, 10)
    s1 = book(pub, et, t, attendee={**ATTENDEE, "email": "one@example.com"})
    s2 = book(pub, et, t, attendee={**ATTENDEE, "email": "two@example.com"})
    err(pub.post(f"/v2/bookings/{s1['uid']}/reschedule", {"start": iso(t2)}), 400, "seatUid")
    m = ok(pub.post(f"/v2/bookings/{s1['uid']}/reschedule", {"start": iso(t2), "seatUid": s2["seatUid"]}), 201)
    assert m["start"] == iso_ms(t2) and m["seatUid"] != s2["seatUid"]
    assert [a["email"] for a in m["attendees"]] == ["two@example.com"]
    assert [a["email"] for a in ok(v.get(f"/v2/bookings/{s1['uid']}"))["attendees"]] == ["one@example.com"]


def test_lengths(env, host):
    et = host.et(duration_minutes=30, durations=[15, 30, 60])
    pub = V2(env.s)
    b = book(pub, et, day_at(12, 9), lengthInMinutes=60)
    assert b["duration"] == 60 and b["end"] == iso_ms(day_at(12, 10))
    assert book(pub, et, day_at(12, 11))["duration"] == 30
    err(pub.post("/v2/bookings", body(et, day_at(12, 13), lengthInMinutes=45)), 400, "lengthInMinutes")
    # a reschedule keeps the booking's own length
    n = ok(pub.post(f"/v2/bookings/{b['uid']}/reschedule", {"start": iso(day_at(12, 14))}), 201)
    assert n["duration"] == 60


def test_recurring_series(env, host):
    et = host.et(duration_minutes=30, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 4})
    pub, v = V2(env.s), V2(env.s, host.user.key)
    t = day_at(3, 9)
    series = ok(pub.post("/v2/bookings", body(et, t, recurrenceCount=3)), 201)
    assert isinstance(series, list) and len(series) == 3
    rid = series[0]["recurringBookingUid"]
    assert UUID_RE.fullmatch(rid) and all(x["recurringBookingUid"] == rid for x in series)
    assert [x["start"] for x in series] == [iso_ms(t + dt.timedelta(weeks=k)) for k in range(3)]
    # the series by its uid; one occurrence by its own
    assert [x["uid"] for x in ok(pub.get(f"/v2/bookings/{rid}"))] == [x["uid"] for x in series]
    assert ok(pub.get(f"/v2/bookings/{series[1]['uid']}"))["recurringBookingUid"] == rid
    assert [x["uid"] for x in ok(v.get("/v2/bookings", status="recurring"))] == [x["uid"] for x in series]
    err(pub.post("/v2/bookings", body(et, t, recurrenceCount=5)), 400, "recurrenceCount")
    # a taken occurrence refuses the whole series, naming the dates
    other = book(pub, host.et(duration_minutes=30), t + dt.timedelta(weeks=1, hours=2))
    assert other["status"] == "accepted"
    before = bookings_rows(env.db)
    err(pub.post("/v2/bookings", body(et, t + dt.timedelta(hours=2), recurrenceCount=2)), 409, "occurrence")
    assert bookings_rows(env.db) == before
    # cancelSubsequentBookings from the second; then the whole series by its uid
    c = ok(pub.post(f"/v2/bookings/{series[1]['uid']}/cancel", {"cancelSubsequentBookings": True}))
    assert c["uid"] == series[1]["uid"] and c["status"] == "cancelled"
    assert [x["status"] for x in ok(pub.get(f"/v2/bookings/{rid}"))] == ["accepted", "cancelled", "cancelled"]
    all_ = ok(pub.post(f"/v2/bookings/{rid}/cancel", {"cancellationReason": "moving abroad"}))
    assert [x["status"] for x in all_] == ["cancelled"] * 3 and all_[0]["cancellationReason"] == "moving abroad"
    err(pub.post(f"/v2/bookings/{rid}/cancel", {}), 404)


def test_erasure_drops_guests_and_metadata(env, host):
    et = host.et(duration_minutes=30)
    pub = V2(env.s)
    b = book(pub, et, day_at(13, 9), guests=["friend@example.com"], metadata={"note": "private"},
             attendee={**ATTENDEE, "email": "erase-me@example.com"})
    cid = env.db.sql(f"SELECT customer_id FROM bookings WHERE id = {b['id']}")[0][0]
    r = host.call("DELETE", f"/api/customers/{cid}")
    assert r.status == 200, r
    assert count_rows(env.db, "calcom_bookings", f"booking_id = {b['id']}") == 0
    g = ok(pub.get(f"/v2/bookings/{b['uid']}"))
    assert g["guests"] == [] and g["metadata"] == {} and g["attendees"][0]["email"] == ""
    assert "friend@example.com" not in str(g) and "erase-me" not in str(g)


def test_seated_confirmation(env, host):
    et = host.et(duration_minutes=30, seats=3, requires_confirmation=True)
    pub, v = V2(env.s), V2(env.s, host.user.key)
    t = day_at(14, 9)
    s1 = book(pub, et, t, attendee={**ATTENDEE, "email": "c1@example.com"})
    s2 = book(pub, et, t, attendee={**ATTENDEE, "email": "c2@example.com"})
    assert s1["status"] == "pending" and s2["uid"] == s1["uid"]
    c = ok(v.post(f"/v2/bookings/{s1['uid']}/confirm"))
    assert c["status"] == "accepted" and [a["email"] for a in c["attendees"]] == ["c1@example.com", "c2@example.com"]
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']} AND status = 'confirmed'") == 2
    err(v.post(f"/v2/bookings/{s1['uid']}/confirm"), 409, "waiting")
    # a later seat waits alone; declining the group declines it
    book(pub, et, t, attendee={**ATTENDEE, "email": "c3@example.com"})
    d = ok(v.post(f"/v2/bookings/{s1['uid']}/decline", {"reason": "full"}))
    assert d["status"] == "accepted" and len(d["attendees"]) == 2
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']} AND status = 'declined'") == 1


def test_collective_hosts(env):
    org = Org(env.s)
    et = org.event_type(name="Panel", scheduling="collective", duration_minutes=30)
    pub = V2(env.s)
    b = ok(pub.post("/v2/bookings", {"start": at(next_monday(), "11:00"), "eventTypeId": et["id"],
                                     "attendee": dict(ATTENDEE)}), 201)
    assert sorted(h["id"] for h in b["hosts"]) == sorted(org.ids)
    # the org's owner lists it once (its primary: the hosts' shadow rows are never shown)
    owner = V2(env.s, org.owner.make_key()["key"])
    assert [x["uid"] for x in ok(owner.get("/v2/bookings"))] == [b["uid"]]
    assert ok(pub.post(f"/v2/bookings/{b['uid']}/cancel", {}))["status"] == "cancelled"
