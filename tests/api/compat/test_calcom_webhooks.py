"""Cal.com API v2 dialect (issue 16): webhooks, event-type webhooks (a user's and an org's),
/v2/me and /v2/api-keys/refresh -- every operation through the validating V2 client, and the
deliveries in Cal.com's format ({triggerEvent, createdAt, payload}, X-Cal-Signature-256) through
the native outbox, received by a real HTTP endpoint that verifies each signature."""

import copy
import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

import calcom_util
from accounts_util import call, count, new_user
from booking_util import Host, close_env, day_at, iso, make_env, unique
from calcom_util import V2, err, ok, override
from conftest import wait_until
from org_util import add_member, org_key
from team_util import Org, at, next_monday
from webhook_util import LOCAL_ENV, Receiver, closed_port

UTC = dt.timezone.utc
SUPPORTED = ["BOOKING_CREATED", "BOOKING_PAYMENT_INITIATED", "BOOKING_PAID", "BOOKING_RESCHEDULED",
             "BOOKING_REQUESTED", "BOOKING_CANCELLED", "BOOKING_REJECTED", "BOOKING_NO_SHOW_UPDATED"]
ISO_MS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"

# ----------------------------------------------------------------------------- the document's defects


def _webhook_schema(name, many):
    one = copy.deepcopy(calcom_util.DEFINITIONS[name])
    one["properties"]["triggers"] = {"type": "array", "items": {"type": "string", "enum": SUPPORTED}}
    one["properties"]["payloadTemplate"] = {"type": ["string", "null"]}
    return {"type": "object", "required": ["status", "data"],
            "properties": {"status": {"const": "success"},
                           "data": {"type": "array", "items": one} if many else one}}


_REASON = ("the document types triggers as an array of objects and payloadTemplate as a required string; "
           "Cal.com's output pipe returns the trigger names (strings) and the stored template, null when "
           "none was given")
for _base, _name in (("/v2/webhooks", "UserWebhookOutputDto"),
                     ("/v2/event-types/{eventTypeId}/webhooks", "EventTypeWebhookOutputDto"),
                     ("/v2/teams/{teamId}/event-types/{eventTypeId}/webhooks", "EventTypeWebhookOutputDto")):
    override(_base, "get", 200, _webhook_schema(_name, True), _REASON)
    override(_base, "post", 201, _webhook_schema(_name, False), _REASON)
    for _m in ("get", "patch", "delete"):
        override(_base + "/{webhookId}", _m, 200, _webhook_schema(_name, False), _REASON)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    """Webhooks to 127.0.0.1 allowed (the receiver), a fast retry schedule."""
    e = make_env(pg, tmp_path_factory, "test_calcom_webhooks", {**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "1,1"})
    try:
        yield e
    finally:
        close_env(e)


@pytest.fixture(scope="module")
def strict(pg, tmp_path_factory):
    """slotd's defaults: https only, no private addresses."""
    e = make_env(pg, tmp_path_factory, "test_calcom_webhooks_strict")
    try:
        yield e
    finally:
        close_env(e)


@pytest.fixture
def rcv():
    r = Receiver()
    yield r
    r.close()


class CHost(Host):
    """A host with an API key and a V2 client presenting it as Bearer."""

    def __init__(self, s, db, **kw):
        super().__init__(s, db, **kw)
        self.key = self.user.key
        self.v2 = V2(s, self.key)


def hook_body(url, triggers=None, **extra):
    return {"active": True, "subscriberUrl": url, "triggers": triggers if triggers is not None else SUPPORTED,
            **extra}


def sig_ok(req, secret):
    want = hmac.new(secret.encode(), req.body, hashlib.sha256).hexdigest()
    got = req.header("X-Cal-Signature-256")
    assert got == want, (got, want, req.body[:300])


def received(rcv, n, path=None, timeout=15):
    reqs = rcv.wait_count(n, timeout=timeout, path=path)
    return [x for x in reqs if path is None or x.path == path]


def quiet(rcv, n, path=None):
    """Exactly n requests (to path) arrive: wait for them, then a moment for any extra one."""
    received(rcv, n, path) if n else None
    time.sleep(0.7)
    got = [x for x in rcv.snapshot() if path is None or x.path == path]
    assert len(got) == n, [(x.path, x.body[:200]) for x in got]
    return got


def hooks_in_db(db, where="true"):
    return count(db, "webhooks", where)


# ----------------------------------------------------------------------------- /v2/webhooks


def test_user_webhooks_crud(env):
    h = CHost(env.s, env.db)
    url = "http://127.0.0.1:9/one"
    d = ok(h.v2.post("/v2/webhooks", hook_body(url, ["BOOKING_CREATED", "BOOKING_CANCELLED", "BOOKING_CREATED"],
                                               secret="s3cret", version="2021-10-20")), 201)
    assert d["userId"] == h.id and d["subscriberUrl"] == url and d["active"] is True
    assert d["triggers"] == ["BOOKING_CREATED", "BOOKING_CANCELLED"]  # a repeat is dropped, order kept
    assert d["secret"] == "s3cret" and d["payloadTemplate"] is None and "eventTypeId" not in d
    wid = d["id"]
    assert ok(h.v2.get(f"/v2/webhooks/{wid}")) == d
    assert ok(h.v2.get("/v2/webhooks")) == [d]

    d2 = ok(h.v2.patch(f"/v2/webhooks/{wid}", {"active": False, "triggers": ["BOOKING_PAID"],
                                               "subscriberUrl": "http://127.0.0.1:9/two",
                                               "payloadTemplate": '{"t":"{{title}}"}'}))
    assert (d2["active"], d2["triggers"], d2["subscriberUrl"], d2["payloadTemplate"], d2["secret"]) == \
        (False, ["BOOKING_PAID"], "http://127.0.0.1:9/two", '{"t":"{{title}}"}', "s3cret")
    # the native events follow the triggers
    assert env.db.sql(f"SELECT events::text, is_active::text FROM webhooks WHERE id = {wid}") == [["{booking.paid}", "false"]]
    d3 = ok(h.v2.patch(f"/v2/webhooks/{wid}", {"payloadTemplate": None, "triggers": ["BOOKING_CREATED"]}))
    assert d3["payloadTemplate"] is None
    assert env.db.sql(f"SELECT events::text FROM webhooks WHERE id = {wid}") == [["{booking.confirmed,booking.created,booking.paid}"]]

    d3 = ok(h.v2.patch(f"/v2/webhooks/{wid}", {"secret": None}))  # null clears it, as in Cal.com
    assert "secret" not in d3
    assert env.db.sql(f"SELECT secret = '' FROM webhooks WHERE id = {wid}") == [["t"]]
    gone = ok(h.v2.delete(f"/v2/webhooks/{wid}"))
    assert gone == d3
    err(h.v2.get(f"/v2/webhooks/{wid}"), 404, "webhook not found")
    err(h.v2.delete(f"/v2/webhooks/{wid}"), 404)
    assert ok(h.v2.get("/v2/webhooks")) == []


def test_user_webhooks_take_skip(env):
    h = CHost(env.s, env.db)
    ids = [ok(h.v2.post("/v2/webhooks", hook_body(f"http://127.0.0.1:9/p{i}")), 201)["id"] for i in range(4)]
    assert [w["id"] for w in ok(h.v2.get("/v2/webhooks", take=2, skip=1))] == ids[1:3]
    assert [w["id"] for w in ok(h.v2.get("/v2/webhooks", skip=3))] == ids[3:]
    assert [w["id"] for w in ok(h.v2.get("/v2/webhooks", take=250))] == ids
    for q in ({"take": 0}, {"take": 251}, {"take": "x"}, {"skip": -1}, {"take": "1.5"}):
        err(h.v2.get("/v2/webhooks", **q), 400, list(q)[0])


def test_webhook_refusals_change_nothing(env):
    h = CHost(env.s, env.db)
    base = hooks_in_db(env.db)
    url = "http://127.0.0.1:9/r"
    cases = [
        ({"subscriberUrl": url, "triggers": ["BOOKING_CREATED"]}, "active"),
        ({"active": True, "triggers": ["BOOKING_CREATED"]}, "subscriberUrl"),
        ({"active": True, "subscriberUrl": url}, "triggers"),
        ({"active": "yes", "subscriberUrl": url, "triggers": ["BOOKING_CREATED"]}, "active"),
        (hook_body(url, "BOOKING_CREATED"), "triggers"),
        (hook_body(url, [1]), "triggers"),
        (hook_body(url, ["BOOKING_EXPLODED"]), "one of the following values"),
        (hook_body(url, ["BOOKING_CREATED", "MEETING_ENDED"]), "MEETING_ENDED is not supported"),
        (hook_body(url, ["FORM_SUBMITTED"]), "FORM_SUBMITTED is not supported"),
        (hook_body(url, ["OOO_CREATED"]), "OOO_CREATED is not supported"),
        (hook_body(url, ["RECORDING_READY"]), "RECORDING_READY is not supported"),
        (hook_body("not a url"), "subscriberUrl"),
        (hook_body("ftp://127.0.0.1/x"), "subscriberUrl"),
        (hook_body(url, version="2024-01-01"), "version"),
        (hook_body(url, secret=""), "secret"),
        (hook_body(url, secret=5), "secret"),
        (hook_body(url, payloadTemplate="{{#if title}}x{{/if}}"), "payloadTemplate"),
        (hook_body(url, payloadTemplate="{{> partial}}"), "payloadTemplate"),
        (hook_body(url, payloadTemplate="{{title"), "payloadTemplate"),
        (hook_body(url, payloadTemplate="{{lookup attendees 0}}"), "payloadTemplate"),
        (hook_body(url, payloadTemplate=7), "payloadTemplate"),
    ]
    for body, msg in cases:
        err(h.v2.post("/v2/webhooks", body), 400, msg)
    r = h.v2.request("POST", "/v2/webhooks", headers={"Content-Type": "application/json"}, check=False,
                     body=None)
    assert r.status == 400, r
    r = call(env.s, "POST", "/v2/webhooks", raw=b'{"active": true,', headers={"Authorization": f"Bearer {h.key}",
                                                                           "Content-Type": "application/json"})
    assert r.status == 400 and r.json()["status"] == "error", r
    err(V2(env.s).post("/v2/webhooks", hook_body(url)), 401)
    err(V2(env.s, "cal_" + "0" * 64).get("/v2/webhooks"), 401)
    assert hooks_in_db(env.db) == base
    # updates: the same rules; nulls for required fields are refused
    wid = ok(h.v2.post("/v2/webhooks", hook_body(url)), 201)["id"]
    before = env.db.sql(f"SELECT url, events::text, calcom_triggers::text, is_active::text FROM webhooks WHERE id = {wid}")
    for body, msg in [({"triggers": ["MEETING_STARTED"]}, "MEETING_STARTED"), ({"active": None}, "active"),
                      ({"subscriberUrl": None}, "subscriberUrl"), ({"triggers": None}, "triggers"),
                      ({"payloadTemplate": "{{!comment}}"}, "payloadTemplate")]:
        err(h.v2.patch(f"/v2/webhooks/{wid}", body), 400, msg)
    assert env.db.sql(f"SELECT url, events::text, calcom_triggers::text, is_active::text FROM webhooks WHERE id = {wid}") == before
    # one webhook per subscriber URL (Cal.com: 409)
    err(h.v2.post("/v2/webhooks", hook_body(url)), 409, "subscriber url already exists for this user")
    other = ok(h.v2.post("/v2/webhooks", hook_body(url + "2")), 201)["id"]
    err(h.v2.patch(f"/v2/webhooks/{other}", {"subscriberUrl": url}), 409)
    # the group has no cal-api-version: any value is ignored, as Cal.com's unversioned controllers do
    ok(h.v2.get("/v2/webhooks", version="2099-01-01"))
    err(h.v2.get("/v2/webhooks/abc"), 404)


def test_subscriber_url_checked_like_native_webhooks(strict):
    h = CHost(strict.s, strict.db)
    for url, msg in [("http://example.com/x", "https"), ("https://127.0.0.1/x", "private"),
                     ("https://10.1.2.3/x", "private"), ("https://[::1]/x", "private"),
                     ("https://localhost/x", "private"), ("https://2130706433/x", "private"),
                     ("https://0x7f.1/x", "private"), ("https://169.254.169.254/x", "private")]:
        err(h.v2.post("/v2/webhooks", hook_body(url)), 400, msg)
        # the native API refuses the same URL
        r = call(strict.s, "POST", "/api/webhooks", {"url": url, "events": ["booking.created"]}, auth=h.auth)
        assert r.status == 400, (url, r)
    assert hooks_in_db(strict.db, f"user_id = {h.id}") == 0
    d = ok(h.v2.post("/v2/webhooks", hook_body("https://hooks.example.com/cal")), 201)
    err(h.v2.patch(f"/v2/webhooks/{d['id']}", {"subscriberUrl": "https://192.168.0.1/"}), 400, "private")


def test_other_users_webhooks_are_404(env):
    a, b = CHost(env.s, env.db), CHost(env.s, env.db)
    wid = ok(a.v2.post("/v2/webhooks", hook_body("http://127.0.0.1:9/a")), 201)["id"]
    et = a.et()
    ewid = ok(a.v2.post(f"/v2/event-types/{et['id']}/webhooks", hook_body("http://127.0.0.1:9/ae")), 201)["id"]
    err(b.v2.get(f"/v2/webhooks/{wid}"), 404, "webhook not found")
    err(b.v2.patch(f"/v2/webhooks/{wid}", {"active": False}), 404)
    err(b.v2.delete(f"/v2/webhooks/{wid}"), 404)
    assert ok(b.v2.get("/v2/webhooks")) == []
    # an event-type webhook is not a user webhook, and the other way round
    err(a.v2.get(f"/v2/webhooks/{ewid}"), 404)
    err(a.v2.get(f"/v2/event-types/{et['id']}/webhooks/{wid}"), 404)
    assert [w["id"] for w in ok(a.v2.get("/v2/webhooks"))] == [wid]
    # someone else's event type: 404, as an unknown one
    for path in (f"/v2/event-types/{et['id']}/webhooks", f"/v2/event-types/{et['id']}/webhooks/{ewid}"):
        err(b.v2.get(path), 404, "event type not found")
    err(b.v2.post(f"/v2/event-types/{et['id']}/webhooks", hook_body("http://127.0.0.1:9/b")), 404)
    err(b.v2.patch(f"/v2/event-types/{et['id']}/webhooks/{ewid}", {"active": False}), 404)
    err(b.v2.delete(f"/v2/event-types/{et['id']}/webhooks/{ewid}"), 404)
    err(b.v2.delete(f"/v2/event-types/{et['id']}/webhooks"), 404)
    err(a.v2.get("/v2/event-types/999999999/webhooks"), 404, "event type not found")
    assert env.db.sql(f"SELECT is_active::text FROM webhooks WHERE id IN ({wid}, {ewid}) ORDER BY id") == [["true"], ["true"]]


# ----------------------------------------------------------------------------- deliveries


def test_every_trigger_delivered_signed(env, rcv):
    h = CHost(env.s, env.db)
    secret = "whsec-like but any text"
    hook = ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/all"), secret=secret)), 201)
    plain = h.et(description="Plain type", location_type="custom", location_value="Room 4")
    needs_ok = h.et(requires_confirmation=True)
    paid = h.et(price="49.99", currency="EUR", requires_payment=True)

    def last(trigger, n):
        reqs = received(rcv, n, "/all")
        got = reqs[n - 1]
        sig_ok(got, secret)
        assert got.header("Content-Type") == "application/json"
        j = got.json()
        assert list(j) == ["triggerEvent", "createdAt", "payload"], j
        assert j["triggerEvent"] == trigger, j
        assert dt.datetime.strptime(j["createdAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
        return j["payload"]

    start = day_at(3, 10)
    b = h.book(plain, start, notes="bring slides", phone="+1 555 0100")
    p = last("BOOKING_CREATED", 1)
    assert (p["uid"], p["bookingId"], p["eventTypeId"], p["type"], p["status"]) == \
        (b["uid"], b["id"], plain["id"], plain["slug"], "ACCEPTED")
    assert (p["startTime"], p["endTime"], p["length"]) == (iso(start), iso(start + dt.timedelta(minutes=30)), 30)
    assert p["title"] == f"{plain['name']} between {h.user.name} and Bob Johnson"
    assert p["organizer"]["email"] == h.email and p["organizer"]["username"] == h.slug
    assert p["organizer"]["timeZone"] == "UTC" and p["organizer"]["utcOffset"] == 0
    assert p["attendees"] == [{"email": "bob@example.com", "name": "Bob Johnson", "firstName": "Bob",
                               "lastName": "Johnson", "timeZone": "UTC", "language": {"locale": "en"},
                               "utcOffset": 0}]
    assert p["responses"]["name"] == {"label": "your_name", "value": "Bob Johnson"}
    assert p["responses"]["notes"]["value"] == "bring slides" and p["additionalNotes"] == "bring slides"
    assert p["location"] == "Room 4" and p["eventDescription"] == "Plain type" and p["price"] == 0

    moved = day_at(4, 11)
    assert h.act(b["id"], "reschedule", {"start_time": iso(moved)}).status == 200
    p = last("BOOKING_RESCHEDULED", 2)
    assert (p["uid"], p["startTime"], p["rescheduleUid"], p["rescheduleStartTime"], p["rescheduleEndTime"]) == \
        (b["uid"], iso(moved), b["uid"], iso(start), iso(start + dt.timedelta(minutes=30)))

    # a reschedule that makes a new booking (Cal.com's model): about the new one, naming the old
    again = day_at(5, 9)
    r = h.act(b["id"], "reschedule", {"start_time": iso(again), "new_booking": True})
    assert r.status == 200, r
    new = r.json()["booking"]
    p = last("BOOKING_RESCHEDULED", 3)
    assert (p["uid"], p["bookingId"], p["rescheduleUid"], p["rescheduleId"], p["rescheduleStartTime"]) == \
        (new["uid"], new["id"], b["uid"], b["id"], iso(moved))

    assert h.act(new["id"], "cancel", {"reason": "sick"}).status == 200
    p = last("BOOKING_CANCELLED", 4)
    assert (p["uid"], p["status"], p["cancellationReason"], p["cancelledBy"]) == (new["uid"], "CANCELLED", "sick", h.email)

    pend = h.book(needs_ok, day_at(3, 14))
    p = last("BOOKING_REQUESTED", 5)
    assert (p["uid"], p["status"], p["requiresConfirmation"]) == (pend["uid"], "PENDING", True)
    assert h.act(pend["id"], "confirm").status == 200
    p = last("BOOKING_CREATED", 6)  # Cal.com's confirmation sends BOOKING_CREATED
    assert (p["uid"], p["status"]) == (pend["uid"], "ACCEPTED")
    pend2 = h.book(needs_ok, day_at(3, 16))
    last("BOOKING_REQUESTED", 7)
    assert h.act(pend2["id"], "decline", {"reason": "busy"}).status == 200
    p = last("BOOKING_REJECTED", 8)
    assert (p["uid"], p["status"], p["rejectionReason"]) == (pend2["uid"], "REJECTED", "busy")

    env.db.sql(f"UPDATE bookings SET start_at = now() - interval '2 hours', end_at = now() - interval '90 minutes' "
               f"WHERE id = {pend['id']}")
    assert h.act(pend["id"], "no-show").status == 200
    p = last("BOOKING_NO_SHOW_UPDATED", 9)
    assert p == {"bookingUid": pend["uid"], "bookingId": pend["id"], "message": "bob@example.com marked as no-show",
                 "attendees": [{"email": "bob@example.com", "noShow": True}]}

    bp = h.book(paid, day_at(6, 10))
    p = last("BOOKING_PAYMENT_INITIATED", 10)
    assert (p["uid"], p["price"], p["currency"]) == (bp["uid"], 4999, "eur")
    r = h.call("POST", f"/api/bookings/{bp['id']}/payments", {"amount": "49.99", "currency": "EUR"})
    assert r.status == 201, r
    # the payment confirms it: Cal.com sends BOOKING_CREATED, then BOOKING_PAID
    p = last("BOOKING_CREATED", 11)
    assert p["uid"] == bp["uid"] and p["status"] == "ACCEPTED"
    p = last("BOOKING_PAID", 12)
    assert p["uid"] == bp["uid"] and p["status"] == "ACCEPTED" and p["paymentId"] == r.json()["payment"]["id"]
    assert p["paymentData"]["amount"] == 49.99
    quiet(rcv, 12, "/all")
    # the delivery log says Cal.com's trigger names
    events = [e for (e,) in env.db.sql(f"SELECT event FROM webhook_deliveries WHERE webhook_id = {hook['id']} ORDER BY id")]
    assert events == ["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED",
                      "BOOKING_REQUESTED", "BOOKING_CREATED", "BOOKING_REQUESTED", "BOOKING_REJECTED",
                      "BOOKING_NO_SHOW_UPDATED", "BOOKING_PAYMENT_INITIATED", "BOOKING_CREATED", "BOOKING_PAID"]


def test_seated_and_v2_bookings_name_the_same_booking(env, rcv):
    """A seat is a slotd booking of its own; Cal.com's booking is the seated group: the payload's
    uid is what /v2/bookings answers for it, and attendeeSeatId names the seat. Bookings made and
    changed through /v2/bookings are heard like any other."""
    h = CHost(env.s, env.db)
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/seats"), secret="s")), 201)
    et = h.et(seats=3)
    start = day_at(15, 10)
    s1 = h.book(et, start, email="one@example.com")
    s2 = h.book(et, start, email="two@example.com", name="Two Person")
    a, b = received(rcv, 2)
    pa, pb = a.json()["payload"], b.json()["payload"]
    group = calcom_util.group_uid(s1["uid"])  # the group's public uid is never a seat's own
    assert (pa["uid"], pa["bookingId"], pa["attendeeSeatId"]) == (group, s1["id"], s1["uid"])
    assert (pb["uid"], pb["bookingId"], pb["attendeeSeatId"]) == (group, s1["id"], s2["uid"])
    assert pb["seatsPerTimeSlot"] == 3 and pb["attendees"][0]["email"] == "two@example.com"
    # the bookings area prints the same booking (its schemas are validated in its own module)
    g = ok(h.v2.get(f"/v2/bookings/{s1['uid']}", check=False))
    assert g["uid"] == group and {x["seatUid"] for x in g["attendees"]} == {s1["uid"], s2["uid"]}

    plain = h.et()
    made = ok(V2(env.s).post("/v2/bookings", {"start": iso(day_at(16, 10)), "eventTypeId": plain["id"],
                                              "attendee": {"name": "Ada Lovelace", "email": "ada@example.com",
                                                           "timeZone": "Europe/Rome"}}, check=False), 201)
    c = received(rcv, 3)[2].json()
    assert (c["triggerEvent"], c["payload"]["uid"], c["payload"]["attendees"][0]["timeZone"]) == \
        ("BOOKING_CREATED", made["uid"], "Europe/Rome")
    ok(h.v2.post(f"/v2/bookings/{made['uid']}/cancel", {"cancellationReason": "no longer"}, check=False))
    c = received(rcv, 4)[3].json()
    assert (c["triggerEvent"], c["payload"]["uid"], c["payload"]["cancellationReason"]) == \
        ("BOOKING_CANCELLED", made["uid"], "no longer")
    for x in received(rcv, 4):
        sig_ok(x, "s")


def test_triggers_filter_and_inactive(env, rcv):
    h = CHost(env.s, env.db)
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/cancel"), ["BOOKING_CANCELLED"], secret="x")), 201)
    off = ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/off"), secret="x")), 201)
    ok(h.v2.patch(f"/v2/webhooks/{off['id']}", {"active": False}))
    et = h.et()
    b = h.book(et, day_at(7, 10))
    assert h.act(b["id"], "cancel").status == 200
    got = quiet(rcv, 1)
    assert got[0].path == "/cancel" and got[0].json()["triggerEvent"] == "BOOKING_CANCELLED"


def test_no_secret_is_no_secret_provided(env, rcv):
    h = CHost(env.s, env.db)
    d = ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/nosecret"), ["BOOKING_CREATED"], secret=None,
                                               version=None, payloadTemplate=None)), 201)
    assert "secret" not in d
    h.book(h.et(), day_at(8, 10))
    (got,) = received(rcv, 1)
    assert got.header("X-Cal-Signature-256") == "no-secret-provided"
    assert got.header("X-Slotd-Signature") is None and got.header("webhook-signature") is None


def test_non_ascii_payload_signed_over_its_utf8_bytes(env, rcv):
    h = CHost(env.s, env.db)
    secret = "sécret-ключ"
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/utf8"), ["BOOKING_CREATED"], secret=secret)), 201)
    b = h.book(h.et(), day_at(14, 10), name="Zoë Ünal 日本", email="zoe@example.com", notes="naïve ☃")
    (got,) = received(rcv, 1)
    sig_ok(got, secret)
    p = got.json()["payload"]
    assert (p["uid"], p["attendees"][0]["name"], p["attendees"][0]["firstName"], p["attendees"][0]["lastName"],
            p["additionalNotes"]) == (b["uid"], "Zoë Ünal 日本", "Zoë", "Ünal 日本", "naïve ☃")


def test_failed_delivery_is_retried_with_same_bytes(env):
    rcv = Receiver(statuses=[500])
    try:
        h = CHost(env.s, env.db)
        ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/flaky"), ["BOOKING_CREATED"], secret="k")), 201)
        h.book(h.et(), day_at(9, 10))
        a, b = received(rcv, 2, timeout=20)
        assert (a.status, b.status) == (500, 200)
        assert a.body == b.body and a.header("X-Cal-Signature-256") == b.header("X-Cal-Signature-256")
        sig_ok(b, "k")
    finally:
        rcv.close()


def test_kill9_with_a_pending_retry_then_restart(db, slotd_factory):
    """The outbox's durability holds for Cal.com deliveries: a retry pending when slotd is killed
    is made by the next process, same bytes, same signature."""
    rcv = Receiver(statuses=[500])
    try:
        senv = {**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "3,3"}
        a = slotd_factory(env=senv, name="first")
        h = CHost(a, db)
        hook = ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/k"), ["BOOKING_CREATED"], secret="dur")), 201)
        b = h.book(h.et(), day_at(3, 10))
        received(rcv, 1)
        wait_until(lambda: db.sql(f"SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = {hook['id']}")
                   == [["pending", "1"]], 5, what="the first attempt recorded")
        a.kill()
        a.checked = True
        slotd_factory(env=senv, name="second")
        first, second = received(rcv, 2, timeout=20)
        assert (first.status, second.status) == (500, 200)
        assert first.body == second.body and second.json()["payload"]["uid"] == b["uid"]
        sig_ok(second, "dur")
        wait_until(lambda: db.sql(f"SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = {hook['id']}")
                   == [["delivered", "2"]], 5, what="the retry recorded")
        time.sleep(0.5)
        assert rcv.count() == 2
    finally:
        rcv.close()


def test_customer_erasure_rewrites_cal_com_deliveries(env):
    """Erasing a customer rewrites the stored deliveries about their bookings: still Cal.com's
    format (same trigger, same createdAt), without the erased fields."""
    h = CHost(env.s, env.db)
    down = f"http://127.0.0.1:{closed_port()}"
    j = ok(h.v2.post("/v2/webhooks", hook_body(down + "/j", ["BOOKING_CREATED", "BOOKING_CANCELLED"], secret="e")),
           201)
    f = ok(h.v2.post("/v2/webhooks", hook_body(down + "/f", ["BOOKING_CREATED"],
                                               payloadTemplate="who={{attendees.0.email}}&t={{title}}")), 201)
    email = f"{unique('erase')}@example.org"
    b = h.book(h.et(), day_at(17, 10), name="Erin Erasable", email=email, notes="private note")
    assert h.act(b["id"], "cancel", {"reason": "private reason"}).status == 200

    def rows():
        return env.db.sql(f"SELECT webhook_id, event, payload, coalesce(content_type, '') FROM webhook_deliveries "
                          f"WHERE webhook_id IN ({j['id']}, {f['id']}) ORDER BY id")
    before = rows()
    assert [(int(w), e) for w, e, _p, _c in before] == \
        [(j["id"], "BOOKING_CREATED"), (f["id"], "BOOKING_CREATED"), (j["id"], "BOOKING_CANCELLED")]
    assert all(email in p for _w, _e, p, _c in before)
    cid = b["customer_id"]
    assert h.call("DELETE", f"/api/customers/{cid}").status == 200
    after = rows()
    for (w, e, p, c), (_w, _e, old, oc) in zip(after, before):
        assert email not in p and "Erin" not in p and "private" not in p, p
        assert (e, c) == (_e, oc)
        if int(w) == j["id"]:
            body, prev = json.loads(p), json.loads(old)
            assert list(body) == ["triggerEvent", "createdAt", "payload"]
            assert (body["triggerEvent"], body["createdAt"]) == (prev["triggerEvent"], prev["createdAt"])
            assert body["payload"]["uid"] == b["uid"] and body["payload"]["attendees"][0]["email"] is None
        else:
            assert p == "who=&t=" + b["event_name"]


def test_native_ping_and_redelivery_of_a_calcom_webhook(env, rcv):
    h = CHost(env.s, env.db)
    d = ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/ping"), ["BOOKING_CREATED"], secret="p")), 201)
    r = h.call("POST", f"/api/webhooks/{d['id']}/ping")
    assert r.status == 202, r
    (got,) = received(rcv, 1)
    sig_ok(got, "p")
    assert got.json()["triggerEvent"] == "PING" and got.json()["payload"]["webhookId"] == d["id"]
    h.book(h.et(), day_at(10, 10))
    reqs = received(rcv, 2)
    did = int(env.db.sql(f"SELECT max(id) FROM webhook_deliveries WHERE webhook_id = {d['id']}")[0][0])
    r = h.call("POST", f"/api/webhooks/{d['id']}/deliveries/{did}/redeliver")
    assert r.status == 202, r
    reqs = received(rcv, 3)
    assert reqs[2].body == reqs[1].body and reqs[2].json()["triggerEvent"] == "BOOKING_CREATED"
    sig_ok(reqs[2], "p")


def test_native_webhooks_keep_their_format(env, rcv):
    h = CHost(env.s, env.db)
    r = h.call("POST", "/api/webhooks", {"url": rcv.url("/native"), "events": ["booking.created"]})
    assert r.status == 201, r
    secret = r.json()["secret"]
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/cal"), ["BOOKING_CREATED"], secret="c")), 201)
    h.book(h.et(), day_at(11, 10))
    reqs = received(rcv, 2)
    native = [x for x in reqs if x.path == "/native"][0]
    cal = [x for x in reqs if x.path == "/cal"][0]
    assert native.json()["event"] == "booking.created" and native.header("X-Slotd-Event") == "booking.created"
    assert native.header("X-Slotd-Signature") == hmac.new(secret.encode(), native.body, hashlib.sha256).hexdigest()
    assert native.header("X-Cal-Signature-256") is None
    sig_ok(cal, "c")


def test_payload_template(env, rcv):
    h = CHost(env.s, env.db)
    tpl_json = ('{"content":"A new event has been scheduled","type":"{{type}}","name":"{{title}}",'
                '"organizer":"{{organizer.name}}","booker":"{{attendees.0.name}}","when":"{{ startTime }}",'
                '"trigger":"{{triggerEvent}}","notes":"{{additionalNotes}}","raw":"{{{additionalNotes}}}",'
                '"missing":"{{nope.nothing}}","n":"{{length}}"}')
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/json"), ["BOOKING_CREATED"], secret="t",
                                           payloadTemplate=tpl_json)), 201)
    ok(h.v2.post("/v2/webhooks", hook_body(rcv.url("/form"), ["BOOKING_CREATED"], secret="t",
                                           payloadTemplate="title={{title}}&uid={{uid}}&who={{attendees.0.email}}")),
       201)
    et = h.et()
    start = day_at(12, 10)
    b = h.book(et, start, notes="a<b & 'c'")
    reqs = received(rcv, 2)
    j = [x for x in reqs if x.path == "/json"][0]
    f = [x for x in reqs if x.path == "/form"][0]
    sig_ok(j, "t")
    sig_ok(f, "t")
    assert j.header("Content-Type") == "application/json"
    body = j.json()
    assert body == {"content": "A new event has been scheduled", "type": et["slug"],
                    "name": f"{et['name']} between {h.user.name} and Bob Johnson", "organizer": h.user.name,
                    "booker": "Bob Johnson", "when": iso(start), "trigger": "BOOKING_CREATED",
                    "notes": "a&lt;b &amp; &#x27;c&#x27;", "raw": "a<b & 'c'", "missing": "", "n": "30"}
    assert f.header("Content-Type") == "application/x-www-form-urlencoded"
    assert f.body.decode() == f"title={et['name']} between {h.user.name} and Bob Johnson&uid={b['uid']}" \
                              f"&who=bob@example.com"
    # a redelivery through the native API sends the same bytes the same way
    hid = int(env.db.sql(f"SELECT id FROM webhooks WHERE url = '{rcv.url('/form')}'")[0][0])
    did = int(env.db.sql(f"SELECT max(id) FROM webhook_deliveries WHERE webhook_id = {hid}")[0][0])
    assert h.call("POST", f"/api/webhooks/{hid}/deliveries/{did}/redeliver").status == 202
    again = received(rcv, 2, "/form")[1]
    assert again.body == f.body and again.header("Content-Type") == "application/x-www-form-urlencoded"
    sig_ok(again, "t")


# ----------------------------------------------------------------------------- event-type webhooks


def test_event_type_webhooks_crud_and_scope(env, rcv):
    h = CHost(env.s, env.db)
    et1, et2 = h.et(), h.et()
    base = f"/v2/event-types/{et1['id']}/webhooks"
    d = ok(h.v2.post(base, hook_body(rcv.url("/et1"), ["BOOKING_CREATED", "BOOKING_CANCELLED"], secret="e")), 201)
    assert d["eventTypeId"] == et1["id"] and "userId" not in d and d["triggers"] == ["BOOKING_CREATED", "BOOKING_CANCELLED"]
    assert ok(h.v2.get(base)) == [d]
    assert ok(h.v2.get(f"{base}/{d['id']}")) == d
    d2 = ok(h.v2.patch(f"{base}/{d['id']}", {"triggers": ["BOOKING_CREATED"]}))
    assert d2["triggers"] == ["BOOKING_CREATED"] and d2["eventTypeId"] == et1["id"]
    assert ok(h.v2.get("/v2/webhooks")) == []  # event-type webhooks are not user webhooks
    # the same webhook id under another event type of the same user: 404
    err(h.v2.get(f"/v2/event-types/{et2['id']}/webhooks/{d['id']}"), 404)
    err(h.v2.post(base, hook_body(rcv.url("/et1"))), 409, "already exists for this event type")
    err(h.v2.post(base, hook_body(rcv.url("/x"), ["INSTANT_MEETING"])), 400, "INSTANT_MEETING")

    # only bookings of et1 are heard
    h.book(et2, day_at(13, 10))
    b1 = h.book(et1, day_at(13, 12))
    (got,) = quiet(rcv, 1, "/et1")
    sig_ok(got, "e")
    assert got.json()["payload"]["uid"] == b1["uid"] and got.json()["payload"]["eventTypeId"] == et1["id"]

    extra = ok(h.v2.post(base, hook_body(rcv.url("/et1b"), ["BOOKING_CANCELLED"])), 201)
    assert [w["id"] for w in ok(h.v2.get(base, take=1, skip=1))] == [extra["id"]]
    assert ok(h.v2.delete(f"{base}/{extra['id']}")) == extra
    ok(h.v2.post(base, hook_body(rcv.url("/et1c"), ["BOOKING_CANCELLED"])), 201)
    r = h.v2.delete(base)
    assert ok(r) == "2 webhooks deleted"
    assert ok(h.v2.get(base)) == []
    assert ok(h.v2.delete(base)) == "0 webhooks deleted"
    assert hooks_in_db(env.db, f"event_type_id = {et1['id']}") == 0


def test_team_event_type_webhooks(env, rcv):
    org = Org(env.s, zones=("UTC", "UTC"))
    org.owner.make_key()
    owner = V2(env.s, org.owner.key)
    et = org.event_type(name="Team consult", scheduling="round_robin")
    other_et = org.event_type(name="Team other", scheduling="round_robin")
    base = f"/v2/teams/{org.id}/event-types/{et['id']}/webhooks"
    d = ok(owner.post(base, hook_body(rcv.url("/team"), ["BOOKING_CREATED"], secret="tm")), 201)
    assert d["eventTypeId"] == et["id"]
    assert ok(owner.get(base)) == [d]
    assert ok(owner.get(f"{base}/{d['id']}")) == d
    assert ok(owner.patch(f"{base}/{d['id']}", {"secret": "tm2"}))["secret"] == "tm2"
    assert env.db.sql(f"SELECT events::text FROM webhooks WHERE id = {d['id']}") == [["{booking.confirmed,booking.created,booking.paid}"]]
    # the org's API key acts as an admin of it
    _kid, kh = org_key(env.s, org.id, org.owner.session)
    okey = V2(env.s, kh["X-API-Key"])
    assert ok(okey.get(base)) == [ok(owner.get(f"{base}/{d['id']}"))]
    # a plain member: 403; an outsider, another org's event type, a personal route: 404
    member = new_user(env.s, unique("mem") + "@example.com", key=True)
    add_member(env.s, org.id, org.owner.session, member.email)
    err(V2(env.s, member.key).get(base), 403)
    outsider = new_user(env.s, unique("out") + "@example.com", key=True)
    err(V2(env.s, outsider.key).get(base), 404)
    err(V2(env.s, outsider.key).post(base, hook_body(rcv.url("/evil"))), 404)
    err(owner.get(f"/v2/event-types/{et['id']}/webhooks"), 404)  # an org event type is not the owner's own
    other_org = Org(env.s, zones=("UTC",))
    foreign = other_org.event_type(name="Foreign")
    err(owner.get(f"/v2/teams/{org.id}/event-types/{foreign['id']}/webhooks"), 404)
    # the org key cannot reach personal routes
    err(okey.get("/v2/webhooks"), 403)

    # the hosts' own Cal.com webhooks do not hear a team's bookings (Cal.com's triggerForUser)
    for uid in org.ids:
        env.db.sql("INSERT INTO webhooks (user_id, url, events, secret, format, calcom_triggers) VALUES "
                   f"({uid}, '{rcv.url('/host')}', api.calcom_trigger_events('{{BOOKING_CREATED}}'), '', 'calcom', "
                   "'{BOOKING_CREATED}')")
    day = next_monday()
    r = org.book(other_et, at(day, "10:00"))
    assert r.status == 201, r
    r = org.book(et, at(day, "12:00"))
    assert r.status == 201, r
    (got,) = quiet(rcv, 1, "/team")
    assert [x.path for x in rcv.snapshot()] == ["/team"]
    sig_ok(got, "tm2")
    p = got.json()["payload"]
    assert p["eventTypeId"] == et["id"] and p["schedulingType"] == "ROUND_ROBIN"
    assert p["team"] == {"id": org.id, "name": org.org["name"]}
    assert ok(owner.delete(f"{base}/{d['id']}"))["id"] == d["id"]
    assert ok(okey.delete(base)) == "0 webhooks deleted"


# ----------------------------------------------------------------------------- /v2/me


def test_me_get_and_patch(env):
    h = CHost(env.s, env.db, timezone="Europe/Rome")
    me = ok(h.v2.get("/v2/me"))
    sched = [s for s in h.schedules() if s["is_default"] in (1, True)][0]["id"]
    assert me == {"id": h.id, "username": h.slug, "email": h.email, "name": h.user.name, "avatarUrl": None,
                  "bio": None, "timeFormat": 12, "defaultScheduleId": sched, "weekStart": "Sunday",
                  "timeZone": "Europe/Rome", "organizationId": None, "locale": "en", "metadata": {}}
    r = h.call("POST", "/api/availability-schedules", {"name": "Second", "timezone": "UTC", "rules": []})
    assert r.status == 201, r
    second = r.json()["id"]
    me2 = ok(h.v2.patch("/v2/me", {"name": "New Name", "timeZone": "America/New_York", "timeFormat": 24,
                                   "weekStart": "Monday", "bio": "I host things", "defaultScheduleId": second,
                                   "locale": "de", "avatarUrl": "https://example.com/a.png",
                                   "metadata": {"k": "v", "n": 3}, "email": h.email.upper()}))
    assert {k: me2[k] for k in ("name", "timeZone", "timeFormat", "weekStart", "bio", "defaultScheduleId", "locale",
                                "avatarUrl", "metadata", "email")} == \
        {"name": "New Name", "timeZone": "America/New_York", "timeFormat": 24, "weekStart": "Monday",
         "bio": "I host things", "defaultScheduleId": second, "locale": "de", "avatarUrl": "https://example.com/a.png",
         "metadata": {"k": "v", "n": 3}, "email": h.email}
    assert ok(h.v2.get("/v2/me")) == me2
    # the native account and booking page see the same
    r = h.call("GET", "/api/auth/me")
    assert r.json()["name"] == "New Name" and r.json()["timezone"] == "America/New_York"
    assert ok(h.v2.patch("/v2/me", {"avatarUrl": None, "bio": None}))["bio"] is None
    snap = env.db.sql(f"SELECT name, timezone FROM users WHERE id = {h.id}")
    for body, status, msg in [({"email": "someone.else@example.com"}, 400, "verified"),
                              ({"timeZone": "Mars/Olympus"}, 400, "timeZone"), ({"timeFormat": 13}, 400, "timeFormat"),
                              ({"weekStart": "Funday"}, 400, "weekStart"), ({"name": ""}, 400, "name"),
                              ({"name": None}, 400, "name"), ({"locale": "xx"}, 400, "locale"),
                              ({"metadata": {"k": {"deep": 1}}}, 400, "metadata"),
                              ({"metadata": {f"k{i}": i for i in range(51)}}, 400, "metadata"),
                              ({"defaultScheduleId": "x"}, 400, "defaultScheduleId"),
                              ({"avatarUrl": "javascript:alert(1)"}, 400, "avatarUrl")]:
        err(h.v2.patch("/v2/me", body), status, msg)
    other = CHost(env.s, env.db)
    other_sched = [s for s in other.schedules()][0]["id"]
    err(h.v2.patch("/v2/me", {"defaultScheduleId": other_sched, "name": "Changed?"}), 404)
    assert env.db.sql(f"SELECT name, timezone FROM users WHERE id = {h.id}") == snap
    err(V2(env.s).get("/v2/me"), 401)
    err(V2(env.s).patch("/v2/me", {"name": "x"}), 401)
    # a member of an organisation
    org = Org(env.s, zones=("UTC",))
    org.owner.make_key()
    me = ok(V2(env.s, org.owner.key).get("/v2/me"))
    assert me["organizationId"] == org.id and me["organization"] == {"isPlatform": False, "id": org.id}


# ----------------------------------------------------------------------------- /v2/api-keys/refresh


def test_api_key_refresh(env):
    h = CHost(env.s, env.db)
    old = h.key
    d = ok(h.v2.post("/v2/api-keys/refresh", {}))
    new = d["apiKey"]
    assert new.startswith("cal_") and new != old
    err(V2(env.s, old).get("/v2/me"), 401)
    assert ok(V2(env.s, new).get("/v2/me"))["id"] == h.id
    exp = env.db.sql(f"SELECT extract(epoch FROM expires_at - now())::int FROM api_keys "
                     f"WHERE key_hash = '{hashlib.sha256(new.encode()).hexdigest()}' AND revoked_at IS NULL")
    assert abs(int(exp[0][0]) - 30 * 86400) < 120, exp
    # apiKeyDaysValid, apiKeyNeverExpires
    d2 = ok(V2(env.s, new).post("/v2/api-keys/refresh", {"apiKeyDaysValid": 2}))
    h2 = hashlib.sha256(d2["apiKey"].encode()).hexdigest()
    assert abs(int(env.db.sql(f"SELECT extract(epoch FROM expires_at - now())::int FROM api_keys "
                              f"WHERE key_hash = '{h2}'")[0][0]) - 2 * 86400) < 120
    d3 = ok(V2(env.s, d2["apiKey"]).post("/v2/api-keys/refresh", {"apiKeyNeverExpires": True}))
    h3 = hashlib.sha256(d3["apiKey"].encode()).hexdigest()
    assert env.db.sql(f"SELECT expires_at IS NULL FROM api_keys WHERE key_hash = '{h3}'") == [["t"]]
    # the label goes along; only one live key remains
    assert env.db.sql(f"SELECT count(*), min(label) FROM api_keys WHERE user_id = {h.id} AND revoked_at IS NULL") == \
        [["1", "test key"]]
    k = V2(env.s, d3["apiKey"])
    for body, msg in [({"apiKeyDaysValid": 0}, "apiKeyDaysValid"), ({"apiKeyDaysValid": "30"}, "apiKeyDaysValid"),
                      ({"apiKeyDaysValid": 1.5}, "apiKeyDaysValid"), ({"apiKeyNeverExpires": "yes"}, "apiKeyNeverExpires")]:
        err(k.post("/v2/api-keys/refresh", body), 400, msg)
    assert ok(k.get("/v2/me"))["id"] == h.id  # refusals leave the key alone
    ok(k.post("/v2/api-keys/refresh"))  # no body at all: the defaults
    err(k.get("/v2/me"), 401)
    err(V2(env.s).post("/v2/api-keys/refresh", {}), 401)
    # an organisation's API key is refused on this personal route
    org = Org(env.s, zones=("UTC",))
    _kid, kh = org_key(env.s, org.id, org.owner.session)
    err(V2(env.s, kh["X-API-Key"]).post("/v2/api-keys/refresh", {}), 403)
    assert ok(V2(env.s, kh["X-API-Key"]).get(f"/v2/teams/{org.id}/event-types/"
                                                f"{org.event_type(name='K')['id']}/webhooks")) == []
    # a session is not an API key to refresh
    r = call(env.s, "POST", "/v2/api-keys/refresh", {}, auth=h.session)
    assert r.status == 401 and r.json()["status"] == "error", r
