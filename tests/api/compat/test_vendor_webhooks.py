"""Webhook deliveries in the vendors' own shapes (issues 17 and 18) on a real slotd, PostgreSQL and
HTTP receiver: SchedKit's {event, timestamp, payload} with x-schedkit-signature, Kordless's
{event, timestamp, webhookId, data {booking}} with X-Kordless-Signature/-Timestamp/-Webhook-Id,
Calendesk's {event, data} signed like native deliveries. Every body is validated against the
schemas below (from seeds 002/004/000 and ../shared/vendors/README.md §3.6, §1.8, §2.5) and every
signature recomputed here. Also: the native "format" field and its refusals (nothing written),
ping and redelivery, a retry and a kill -9 with a retry pending (same bytes, same signature),
erasure keeping the vendor's shape, and native deliveries unchanged beside them."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import zoneinfo

import jsonschema
import pytest

from accounts_util import call, count
from booking_util import OPEN_ALL_WEEK, Host, close_env, day_at, iso, make_env, unique
from conftest import wait_until
from org_util import make_org, org_key
from webhook_util import LOCAL_ENV, Receiver, closed_port

TS = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}
NSTR = {"type": ["string", "null"]}

# SchedKit docs (api-reference/webhooks): the envelope and the booking payload; slotd adds status.
SCHEDKIT = {
    "type": "object", "required": ["event", "timestamp", "payload"], "additionalProperties": False,
    "properties": {
        "event": {"enum": ["booking.confirmed", "booking.cancelled", "booking.rescheduled", "ping"]},
        "timestamp": TS,
        "payload": {"type": "object"}},
    "if": {"properties": {"event": {"const": "ping"}}},
    "then": {"properties": {"payload": {"required": ["webhook_id"]}}},
    "else": {"properties": {"payload": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "attendee_name", "attendee_email", "start_time", "end_time", "event_type"],
        "properties": {"id": {"type": "integer"}, "attendee_name": NSTR, "attendee_email": NSTR,
                       "start_time": TS, "end_time": TS, "event_type": {"type": "string"},
                       "status": {"enum": ["confirmed", "pending", "cancelled", "declined"]}}}}},
}

# Kordless docs (webhooks/setup): camelCase booking, status spelled "canceled" (a confirmation
# number is null only once erasure has removed it).
KORDLESS = {
    "type": "object", "required": ["event", "timestamp", "webhookId", "data"], "additionalProperties": False,
    "properties": {
        "event": {"enum": ["booking.created", "booking.updated", "booking.cancelled", "ping"]},
        "timestamp": TS,
        "webhookId": {"type": "string", "pattern": r"^whk_\d+$"},
        "data": {"type": "object"}},
    "if": {"properties": {"event": {"const": "ping"}}},
    "then": {},
    "else": {"properties": {"data": {
        "type": "object", "required": ["booking"], "additionalProperties": False,
        "properties": {"booking": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "confirmation_number", "serviceId", "startsAt", "endsAt", "status", "contact"],
            "properties": {
                "id": {"type": "string"}, "confirmation_number": NSTR, "serviceId": {"type": "string"},
                "startsAt": TS, "endsAt": TS, "status": {"enum": ["confirmed", "pending", "canceled"]},
                "contact": {"type": "object", "required": ["name", "email", "phone"], "additionalProperties": False,
                            "properties": {"name": NSTR, "email": NSTR, "phone": NSTR}}}}}}}},
}

WARSAW = zoneinfo.ZoneInfo("Europe/Warsaw")
HM = {"type": "string", "pattern": r"^\d\d:\d\d$"}
# Calendesk seed 000: {"event": "booking_created", "data": {id, employee_id, user_id, service {id,
# name}, start_date, start_time, end_time, status}}; user_created: the customer as the dialect shows users.
CALENDESK_BOOKING = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "employee_id", "user_id", "service", "start_date", "start_time", "end_time", "status"],
    "properties": {"id": {"type": "integer"}, "employee_id": {"type": "integer"}, "user_id": {"type": ["integer", "null"]},
                   "service": {"type": "object", "required": ["id", "name"], "additionalProperties": False,
                               "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                   "start_date": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"}, "start_time": HM,
                   "end_time": HM,
                   "status": {"enum": ["approved", "pending", "waiting_for_payment", "rejected", "cancelled"]}}}
CALENDESK_USER = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "name", "surname", "email", "status", "time_zone", "created_at", "default_phone", "tags", "groups"],
    "properties": {"id": {"type": "integer"}, "name": NSTR, "surname": NSTR, "email": NSTR, "status": {"type": "string"},
                   "time_zone": NSTR, "created_at": TS,
                   "default_phone": {"type": ["object", "null"]}, "tags": {"type": "array"}, "groups": {"type": "array"}}}
CALENDESK = {
    "type": "object", "required": ["event", "data"], "additionalProperties": False,
    "properties": {"event": {"enum": ["booking_created", "booking_updated", "booking_deleted", "booking_paid",
                                      "user_created", "ping"]},
                   "data": {"type": "object"}},
    "allOf": [
        {"if": {"properties": {"event": {"const": "user_created"}}},
         "then": {"properties": {"data": CALENDESK_USER}}},
        {"if": {"properties": {"event": {"pattern": "^booking_"}}},
         "then": {"properties": {"data": CALENDESK_BOOKING}}}],
}


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = make_env(pg, tmp_path_factory, "test_vendor_webhooks", {**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "1,1"})
    try:
        yield e
    finally:
        close_env(e)


@pytest.fixture
def rcv():
    r = Receiver()
    yield r
    r.close()


def received(rcv, n, path, timeout=15):
    reqs = rcv.wait_count(n, timeout=timeout, path=path)
    return [x for x in reqs if x.path == path]


def quiet(rcv, n, path):
    received(rcv, n, path) if n else None
    time.sleep(0.7)
    got = [x for x in rcv.snapshot() if x.path == path]
    assert len(got) == n, [(x.path, x.body[:200]) for x in got]
    return got


def hook(h, url, fmt, events, secret=None, path="/api/webhooks"):
    body = {"url": url, "events": events, "format": fmt}
    if secret:
        body["secret"] = secret
    r = h.call("POST", path, body)
    assert r.status == 201, r
    j = r.json()
    assert j["format"] == fmt and j["events"] == events, j
    return j


def hexmac(secret, msg):
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def schedkit_ok(req, secret):
    assert req.header("x-schedkit-signature") == hexmac(secret, req.body), req.body[:300]
    assert req.header("Content-Type") == "application/json"
    assert req.header("X-Slotd-Signature") is None and req.header("webhook-signature") is None
    j = req.json()
    assert list(j) == ["event", "timestamp", "payload"], j
    jsonschema.validate(j, SCHEDKIT)
    return j


def kordless_ok(req, secret):
    ts = req.header("X-Kordless-Timestamp")
    assert ts and ts.isdigit() and abs(int(ts) - time.time()) < 120, ts
    assert req.header("X-Kordless-Signature") == hexmac(secret, ts.encode() + b"." + req.body), req.body[:300]
    assert req.header("Content-Type") == "application/json"
    assert req.header("X-Slotd-Signature") is None
    j = req.json()
    assert list(j) == ["event", "timestamp", "webhookId", "data"], j
    assert req.header("X-Kordless-Webhook-Id") == j["webhookId"]
    jsonschema.validate(j, KORDLESS)
    return j


def native_sig_ok(req, secret):
    """The native headers: X-Slotd-Signature and Standard Webhooks' (recomputed here)."""
    assert req.header("X-Slotd-Signature") == hexmac(secret, req.body)
    mid, ts = req.header("webhook-id"), req.header("webhook-timestamp")
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    want = base64.b64encode(hmac.new(key, f"{mid}.{ts}.".encode() + req.body, hashlib.sha256).digest()).decode()
    assert req.header("webhook-signature") == "v1," + want
    assert req.header("x-schedkit-signature") is None and req.header("X-Kordless-Signature") is None


def delivery_ids(db, hook_id):
    return [int(x) for (x,) in db.sql(f"SELECT id FROM webhook_deliveries WHERE webhook_id = {hook_id} ORDER BY id")]


# ----------------------------------------------------------------------------- SchedKit


def test_schedkit_every_event_signed(env, rcv):
    h = Host(env.s, env.db)
    secret = "schedkit secret, any text é"
    w = hook(h, rcv.url("/sk"), "schedkit",
             ["booking.created", "booking.confirmed", "booking.cancelled", "booking.rescheduled"], secret)
    et = h.et(name="30-min intro")
    needs_ok = h.et(requires_confirmation=True)
    n = 0

    def last(event):
        nonlocal n
        n += 1
        j = schedkit_ok(received(rcv, n, "/sk")[n - 1], secret)
        assert j["event"] == event, j
        return j

    start = day_at(3, 10)
    b = h.book(et, start, name="Jason Johnson", email="jason@example.com")
    j = last("booking.confirmed")
    assert j["payload"] == {"id": b["id"], "attendee_name": "Jason Johnson", "attendee_email": "jason@example.com",
                            "start_time": iso(start), "end_time": iso(start + dt.timedelta(minutes=30)),
                            "event_type": "30-min intro", "status": "confirmed"}
    assert abs(dt.datetime.fromisoformat(j["timestamp"][:-1]).replace(tzinfo=dt.timezone.utc).timestamp()
               - time.time()) < 120
    moved = day_at(4, 11)
    assert h.act(b["id"], "reschedule", {"start_time": iso(moved)}).status == 200
    j = last("booking.rescheduled")
    assert (j["payload"]["id"], j["payload"]["start_time"]) == (b["id"], iso(moved))
    r = h.act(b["id"], "reschedule", {"start_time": iso(day_at(5, 9)), "new_booking": True})
    assert r.status == 200, r
    new = r.json()["booking"]
    j = last("booking.rescheduled")  # SchedKit's reschedule is a new booking too: about the new one
    assert (j["payload"]["id"], j["payload"]["start_time"], j["payload"]["status"]) == \
        (new["id"], iso(day_at(5, 9)), "confirmed")
    assert h.act(new["id"], "cancel", {"reason": "sick"}).status == 200
    j = last("booking.cancelled")
    assert (j["payload"]["id"], j["payload"]["status"]) == (new["id"], "cancelled")
    # a request is not a confirmed booking (SchedKit documents no event for it); its confirmation is
    pend = h.book(needs_ok, day_at(3, 14))
    assert h.act(pend["id"], "confirm").status == 200
    j = last("booking.confirmed")
    assert (j["payload"]["id"], j["payload"]["status"]) == (pend["id"], "confirmed")
    quiet(rcv, n, "/sk")
    # the delivery log keeps the native names it was subscribed to
    events = [e for (e,) in env.db.sql(f"SELECT event FROM webhook_deliveries WHERE webhook_id = {w['id']} ORDER BY id")]
    assert events == ["booking.created", "booking.rescheduled", "booking.rescheduled", "booking.cancelled",
                      "booking.confirmed"]


def test_schedkit_failed_delivery_is_retried_with_same_bytes(env):
    rcv = Receiver(statuses=[500])
    try:
        h = Host(env.s, env.db)
        hook(h, rcv.url("/flaky"), "schedkit", ["booking.created"], "retry-secret-1234")
        h.book(h.et(), day_at(9, 10))
        a, b = received(rcv, 2, "/flaky", timeout=20)
        assert (a.status, b.status) == (500, 200)
        assert a.body == b.body and a.header("x-schedkit-signature") == b.header("x-schedkit-signature")
        schedkit_ok(b, "retry-secret-1234")
    finally:
        rcv.close()


# ----------------------------------------------------------------------------- Kordless


def test_kordless_every_event_signed(env, rcv):
    h = Host(env.s, env.db)
    secret = "kordless-secret-0123456789"
    w = hook(h, rcv.url("/k"), "kordless",
             ["booking.created", "booking.requested", "booking.rescheduled", "booking.cancelled", "booking.declined"],
             secret)
    et = h.et(slug="haircut", name="Haircut", duration_minutes=60)
    needs_ok = h.et(requires_confirmation=True)
    n = 0

    def last(event):
        nonlocal n
        n += 1
        got = received(rcv, n, "/k")[n - 1]
        j = kordless_ok(got, secret)
        assert j["event"] == event, j
        return j

    start = day_at(3, 14)
    b = h.book(et, start, name="Jane Doe", email="jane@example.com", phone="+1234567890")
    j = last("booking.created")
    did = delivery_ids(env.db, w["id"])[0]
    assert j["webhookId"] == f"whk_{did}"
    assert j["data"] == {"booking": {
        "id": b["uid"], "confirmation_number": b["confirmation_number"], "serviceId": "haircut",
        "startsAt": iso(start), "endsAt": iso(start + dt.timedelta(hours=1)), "status": "confirmed",
        "contact": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1234567890"}}}
    moved = day_at(4, 10)
    assert h.act(b["id"], "reschedule", {"start_time": iso(moved)}).status == 200
    j = last("booking.updated")
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["startsAt"]) == (b["uid"], iso(moved))
    r = h.act(b["id"], "reschedule", {"start_time": iso(day_at(5, 10)), "new_booking": True})
    assert r.status == 200, r
    new = r.json()["booking"]
    j = last("booking.updated")  # the other kind of reschedule: about the new booking
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["startsAt"]) == (new["uid"], iso(day_at(5, 10)))
    assert h.act(new["id"], "cancel").status == 200
    j = last("booking.cancelled")
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["status"]) == (new["uid"], "canceled")
    pend = h.book(needs_ok, day_at(3, 9))
    j = last("booking.created")
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["status"]) == (pend["uid"], "pending")
    assert h.act(pend["id"], "decline", {"reason": "busy"}).status == 200
    j = last("booking.cancelled")  # declined: canceled in Kordless's words
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["status"]) == (pend["uid"], "canceled")
    got = quiet(rcv, n, "/k")
    assert len({x.header("X-Kordless-Webhook-Id") for x in got}) == n  # one id per delivery


def test_kordless_ping_and_redelivery(env, rcv):
    h = Host(env.s, env.db)
    w = hook(h, rcv.url("/kp"), "kordless", ["booking.created"], "ping-secret-0123456789")
    assert h.call("POST", f"/api/webhooks/{w['id']}/ping").status == 202
    (p,) = received(rcv, 1, "/kp")
    j = kordless_ok(p, "ping-secret-0123456789")
    assert j["event"] == "ping" and j["data"] == {"webhook": w["id"]}
    h.book(h.et(), day_at(10, 10))
    first = received(rcv, 2, "/kp")[1]
    did = delivery_ids(env.db, w["id"])[-1]
    assert h.call("POST", f"/api/webhooks/{w['id']}/deliveries/{did}/redeliver").status == 202
    again = received(rcv, 3, "/kp")[2]
    a, b = kordless_ok(first, "ping-secret-0123456789"), kordless_ok(again, "ping-secret-0123456789")
    # a new message (a new id, as the native webhook-id), the same event and booking
    new_id = delivery_ids(env.db, w["id"])[-1]
    assert b["webhookId"] == f"whk_{new_id}" != a["webhookId"]
    assert (b["event"], b["timestamp"], b["data"]) == (a["event"], a["timestamp"], a["data"])


def test_kill9_with_a_pending_kordless_retry_then_restart(db, slotd_factory):
    """The outbox's durability holds for Kordless deliveries: a retry pending when slotd is killed
    is made by the next process, same bytes, signed again (a new timestamp, a valid signature)."""
    rcv = Receiver(statuses=[500])
    try:
        senv = {**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "3,3"}
        a = slotd_factory(env=senv, name="first")
        h = Host(a, db)
        w = hook(h, rcv.url("/k9"), "kordless", ["booking.created"], "durable-secret-0123")
        b = h.book(h.et(), day_at(3, 10))
        received(rcv, 1, "/k9")
        wait_until(lambda: db.sql(f"SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = {w['id']}")
                   == [["pending", "1"]], 5, what="the first attempt recorded")
        a.kill()
        a.checked = True
        slotd_factory(env=senv, name="second")
        first, second = received(rcv, 2, "/k9", timeout=20)
        assert (first.status, second.status) == (500, 200)
        assert first.body == second.body
        assert kordless_ok(second, "durable-secret-0123")["data"]["booking"]["id"] == b["uid"]
        assert first.header("X-Kordless-Webhook-Id") == second.header("X-Kordless-Webhook-Id")
        wait_until(lambda: db.sql(f"SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = {w['id']}")
                   == [["delivered", "2"]], 5, what="the retry recorded")
        time.sleep(0.5)
        assert rcv.count() == 2
    finally:
        rcv.close()


# ----------------------------------------------------------------------------- Calendesk


def test_calendesk_every_event(env, rcv):
    """A booking-page tenant (its user's personal key), zone Europe/Warsaw: every Calendesk event,
    on the tenant's wall clock, signed with the native headers."""
    h = Host(env.s, env.db)
    h.set_rules(OPEN_ALL_WEEK, tz="Europe/Warsaw")
    hdr = {"X-Tenant": h.slug, **h.auth}
    events = ["booking_created", "booking_updated", "booking_deleted", "booking_paid", "user_created"]
    r = h.call("POST", "/api/admin/webhooks", {"url": rcv.url("/cd"), "events": events}, headers=hdr)
    assert r.status == 201, r
    w = r.json()
    secret = w["secret"]
    et = h.et(name="Consultation", duration_minutes=60, price="100.00", currency="EUR", requires_payment=True)
    got = []

    def take(k):
        reqs = received(rcv, len(got) + k, "/cd")[len(got):]
        for x in reqs:
            native_sig_ok(x, secret)
            assert x.header("Content-Type") == "application/json"
            j = x.json()
            assert list(j) == ["event", "data"], j
            jsonschema.validate(j, CALENDESK)
        got.extend(reqs)
        return {x.json()["event"]: x.json()["data"] for x in reqs}

    email = f"{unique('cd')}@example.com"
    start = day_at(20, 12)
    wall = [(start + dt.timedelta(days=i)).astimezone(WARSAW) for i in (0, 1)]
    b = h.book(et, start, name="Jane Smith", email=email)
    d = take(2)  # the new customer, and the booking awaiting its payment
    cid = d["user_created"]["id"]
    assert (d["user_created"]["email"], d["user_created"]["name"]) == (email, "Jane")
    assert d["booking_created"] == {"id": b["id"], "employee_id": h.id, "user_id": cid,
                                    "service": {"id": et["id"], "name": "Consultation"},
                                    "start_date": wall[0].strftime("%Y-%m-%d"), "start_time": wall[0].strftime("%H:%M"),
                                    "end_time": (wall[0] + dt.timedelta(hours=1)).strftime("%H:%M"),
                                    "status": "waiting_for_payment"}
    r = h.call("POST", f"/api/bookings/{b['id']}/payments", {"amount": "100.00", "currency": "EUR"})
    assert r.status == 201, r
    d = take(1)
    assert d["booking_paid"]["id"] == b["id"] and d["booking_paid"]["status"] == "approved"
    assert h.act(b["id"], "reschedule", {"start_time": iso(start + dt.timedelta(days=1))}).status == 200
    d = take(1)
    assert (d["booking_updated"]["start_date"], d["booking_updated"]["start_time"]) == \
        (wall[1].strftime("%Y-%m-%d"), wall[1].strftime("%H:%M"))
    assert h.act(b["id"], "cancel").status == 200
    d = take(1)
    assert (d["booking_deleted"]["id"], d["booking_deleted"]["status"]) == (b["id"], "cancelled")
    quiet(rcv, 5, "/cd")
    # X-Slotd-Event names the native event the subscription hears; the body names Calendesk's
    assert [x.header("X-Slotd-Event") for x in got][2:] == ["booking.paid", "booking.rescheduled", "booking.cancelled"]


# ----------------------------------------------------------------------------- the native format field


def test_format_field_and_refusals(env):
    h = Host(env.s, env.db)
    url = "http://127.0.0.1:9/h"
    before = count(env.db, "webhooks")
    for body, field in [({"format": "calcom"}, "format"), ({"format": "calendesk"}, "format"),
                        ({"format": "zapier"}, "format"), ({"format": 7}, "format"), ({"format": None}, "format"),
                        ({"format": "schedkit", "events": ["booking.no_show"]}, "events"),
                        ({"format": "kordless", "events": ["booking.created", "customer.created"]}, "events")]:
        r = h.call("POST", "/api/webhooks", {"url": url, "events": ["booking.created"], **body})
        assert r.status == 400, (body, r)
        assert r.json().get("field") == field, (body, r.json())
    assert count(env.db, "webhooks") == before
    # without the field: the native answer exactly as before (no "format" key)
    r = h.call("POST", "/api/webhooks", {"url": url, "events": ["booking.created"]})
    assert r.status == 201 and "format" not in r.json(), r
    native = r.json()
    r = h.call("POST", "/api/webhooks", {"url": url, "events": ["booking.created"], "format": "native"})
    assert r.status == 201 and "format" not in r.json(), r
    sk = hook(h, url, "schedkit", ["booking.created", "booking.cancelled"])
    assert sk["secret"].startswith("whsec_")
    r = h.call("PUT", f"/api/webhooks/{sk['id']}", {"format": "kordless"})
    assert r.status == 200 and r.json()["format"] == "kordless", r
    r = h.call("PUT", f"/api/webhooks/{sk['id']}", {"events": ["booking.no_show"]})  # not carried by kordless
    assert r.status == 400 and r.json().get("field") == "events", r
    r = h.call("PUT", f"/api/webhooks/{sk['id']}", {"format": "schedkit", "events": ["booking.declined"]})
    assert r.status == 400 and r.json().get("field") == "events", r
    assert env.db.sql(f"SELECT format, array_to_string(events, ',') FROM webhooks WHERE id = {sk['id']}") == \
        [["kordless", "booking.created,booking.cancelled"]]
    r = h.call("PUT", f"/api/webhooks/{sk['id']}", {"format": "native", "events": ["booking.no_show"]})
    assert r.status == 200 and "format" not in r.json() and r.json()["events"] == ["booking.no_show"], r
    r = h.call("PUT", f"/api/webhooks/{native['id']}", {"is_active": False})
    assert r.status == 200 and "format" not in r.json(), r
    # a Calendesk subscription keeps its dialect's format
    hdr = {"X-Tenant": h.slug, **h.auth}
    r = h.call("POST", "/api/admin/webhooks", {"url": "https://x.example/h", "events": ["booking_paid"]}, headers=hdr)
    assert r.status == 201, r
    cd = r.json()["id"]
    r = h.call("PUT", f"/api/webhooks/{cd}", {"format": "schedkit"})
    assert r.status == 400 and r.json().get("field") == "format", r
    assert env.db.sql(f"SELECT format FROM webhooks WHERE id = {cd}") == [["calendesk"]]
    # another user's webhook is 404, unchanged
    other = Host(env.s, env.db)
    r = other.call("PUT", f"/api/webhooks/{sk['id']}", {"format": "schedkit"})
    assert r.status == 404, r
    # an org's webhook with a format
    org = make_org(env.s, h.session, name="Acme", slug=unique("acme"))
    r = h.call("POST", f"/api/orgs/{org['id']}/webhooks",
               {"url": url, "events": ["booking.created"], "format": "kordless"})
    assert r.status == 201 and r.json()["format"] == "kordless", r
    oid = r.json()["id"]
    _kid, okey = org_key(env.s, org["id"], h.session)
    r = h.call("PUT", f"/api/orgs/{org['id']}/webhooks/{oid}", {"format": "schedkit"}, auth=okey)
    assert r.status == 200 and r.json()["format"] == "schedkit", r
    assert env.db.sql(f"SELECT format, org_id FROM webhooks WHERE id = {oid}") == [["schedkit", str(org["id"])]]


def test_native_deliveries_unchanged_beside_vendor_ones(env, rcv):
    h = Host(env.s, env.db)
    r = h.call("POST", "/api/webhooks", {"url": rcv.url("/native"), "events": ["booking.created"]})
    assert r.status == 201, r
    secret = r.json()["secret"]
    hook(h, rcv.url("/sk2"), "schedkit", ["booking.created"], "s-0123456789abcdef")
    hook(h, rcv.url("/k2"), "kordless", ["booking.created"], "k-0123456789abcdef")
    b = h.book(h.et(), day_at(11, 10))
    (n,) = received(rcv, 1, "/native")
    native_sig_ok(n, secret)
    j = n.json()
    assert sorted(j) == ["created_at", "data", "event"] and j["event"] == "booking.created"
    assert j["data"]["booking"]["id"] == b["id"] and n.header("X-Slotd-Event") == "booking.created"
    assert schedkit_ok(received(rcv, 1, "/sk2")[0], "s-0123456789abcdef")["payload"]["id"] == b["id"]
    assert kordless_ok(received(rcv, 1, "/k2")[0], "k-0123456789abcdef")["data"]["booking"]["id"] == b["uid"]


def test_customer_erasure_keeps_the_vendor_shape(env):
    h = Host(env.s, env.db)
    down = f"http://127.0.0.1:{closed_port()}"
    sk = hook(h, down + "/s", "schedkit", ["booking.created", "booking.cancelled"])
    kd = hook(h, down + "/k", "kordless", ["booking.created", "booking.cancelled"])
    email = f"{unique('erase')}@example.org"
    b = h.book(h.et(), day_at(17, 10), name="Erin Erasable", email=email, phone="+15550100")
    assert h.act(b["id"], "cancel", {"reason": "private reason"}).status == 200

    def rows():
        return env.db.sql(f"SELECT webhook_id, event, payload FROM webhook_deliveries "
                          f"WHERE webhook_id IN ({sk['id']}, {kd['id']}) ORDER BY id")
    before = rows()
    assert len(before) == 4 and all(email in p for _w, _e, p in before)
    assert h.call("DELETE", f"/api/customers/{b['customer_id']}").status == 200
    after = rows()
    for (w, e, p), (_w, _e, old) in zip(after, before):
        assert email not in p and "Erin" not in p and "+15550100" not in p, p
        body, prev = json.loads(p), json.loads(old)
        assert e == _e and list(body) == list(prev)
        assert (body["event"], body["timestamp"]) == (prev["event"], prev["timestamp"])
        if int(w) == sk["id"]:
            jsonschema.validate(body, SCHEDKIT)
            assert body["payload"]["id"] == b["id"] and body["payload"]["attendee_email"] is None
        else:
            jsonschema.validate(body, KORDLESS)
            assert body["webhookId"] == prev["webhookId"]
            assert body["data"]["booking"]["contact"] == {"name": None, "email": None, "phone": None}


def test_ping_in_each_vendor_envelope(env, rcv):
    h = Host(env.s, env.db)
    sk = hook(h, rcv.url("/psk"), "schedkit", ["booking.cancelled"], "ping-sk-0123456789")
    assert h.call("POST", f"/api/webhooks/{sk['id']}/ping").status == 202
    j = schedkit_ok(received(rcv, 1, "/psk")[0], "ping-sk-0123456789")
    assert (j["event"], j["payload"]) == ("ping", {"webhook_id": sk["id"]})
    hdr = {"X-Tenant": h.slug, **h.auth}
    r = h.call("POST", "/api/admin/webhooks", {"url": rcv.url("/pcd"), "events": ["user_created"]}, headers=hdr)
    assert r.status == 201, r
    cd = r.json()
    assert h.call("POST", f"/api/webhooks/{cd['id']}/ping").status == 202
    got = received(rcv, 1, "/pcd")[0]
    native_sig_ok(got, cd["secret"])
    assert got.json() == {"event": "ping", "data": {"webhook_id": cd["id"]}}
    jsonschema.validate(got.json(), CALENDESK)


def test_bookings_through_the_dialects_name_the_same_booking(env, rcv):
    """A booking made through the Kordless or SchedKit dialect is announced with the ids that
    dialect answered with."""
    h = Host(env.s, env.db)
    kd = hook(h, rcv.url("/kdial"), "kordless", ["booking.created", "booking.cancelled"], "dial-k-0123456789")
    sk = hook(h, rcv.url("/sdial"), "schedkit", ["booking.created"], "dial-s-0123456789")
    h.et(slug="haircut", name="Haircut", duration_minutes=60)
    start = day_at(6, 10)
    body = {"org_slug": h.slug, "service_slug": "haircut", "starts_at": iso(start),
            "ends_at": iso(start + dt.timedelta(hours=1)), "timezone": "America/New_York",
            "contact": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1234567890"}}
    r = call(env.s, "POST", "/api/calendar/v1/public/bookings", body, headers={"x-kordless-key": h.user.key})
    assert r.status == 201, r
    kb = r.json()["booking"]
    j = kordless_ok(received(rcv, 1, "/kdial")[0], "dial-k-0123456789")
    assert j["event"] == "booking.created"
    assert (j["data"]["booking"]["id"], j["data"]["booking"]["confirmation_number"], j["data"]["booking"]["status"]) \
        == (kb["id"], kb["confirmation_number"], kb["status"])
    r = call(env.s, "POST", f"/api/calendar/v1/public/bookings/confirmation/{kb['confirmation_number']}/cancel"
                            "?contact=jane%40example.com")
    assert r.status == 200, r
    j = kordless_ok(received(rcv, 2, "/kdial")[1], "dial-k-0123456789")
    assert (j["event"], j["data"]["booking"]["id"], j["data"]["booking"]["status"]) == \
        ("booking.cancelled", kb["id"], r.json()["booking"]["status"])
    s1 = schedkit_ok(received(rcv, 1, "/sdial")[0], "dial-s-0123456789")
    r = call(env.s, "POST", f"/v1/book/{h.slug}/haircut",
             {"attendee_name": "Jason Johnson", "attendee_email": "jason@example.com",
              "start_time": iso(day_at(7, 10)), "timezone": "America/Chicago"})
    assert r.status == 201, r
    s2 = schedkit_ok(received(rcv, 2, "/sdial")[1], "dial-s-0123456789")
    assert (s2["event"], s2["payload"]["id"], s2["payload"]["start_time"], s2["payload"]["end_time"]) == \
        ("booking.confirmed", r.json()["id"], r.json()["start_time"], r.json()["end_time"])
    assert s1["payload"]["attendee_email"] == "jane@example.com"
    third = kordless_ok(quiet(rcv, 3, "/kdial")[2], "dial-k-0123456789")  # the SchedKit booking, to Kordless
    assert third["event"] == "booking.created" and third["webhookId"] == f"whk_{delivery_ids(env.db, kd['id'])[-1]}"
    assert sk["id"] != kd["id"]
