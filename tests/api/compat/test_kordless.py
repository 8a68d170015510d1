"""Kordless's public Booking API dialect (issue 17): /api/calendar/v1/public/... on a real slotd
and PostgreSQL. Every body is validated against kordless_schemas (written from seed 004 and the
vendor's documented pages). Covers each endpoint's shape, the seed's own JavaScript / Python /
curl flow (org -> services -> availability -> book -> confirmation number, then lookup,
reschedule, cancel), round-robin and collective organisations, every error's shape, a race
(one winner), the Idempotency-Key replay, the per-key limits (a slotd with the default limits),
and that refusals change nothing."""

import datetime as dt
import json
import threading
import time
import urllib.parse

import pytest

from accounts_util import call, call_from, new_user
from booking_util import UTC, Host, close_env, count_rows, day_at, env, iso, make_env, unique  # noqa: F401
from kordless_schemas import (BOOKING_RESPONSE, CREATE_RESPONSE, ORG_RESPONSE, SERVICE_RESPONSE, SLOTS_RESPONSE,
                              err, ok)
from team_util import Org, at, next_monday

BASE = "/api/calendar/v1/public"


def K(key):
    return {"x-kordless-key": key}


def kget(s, path, key, **params):
    q = ("?" + urllib.parse.urlencode(params)) if params else ""
    return call(s, "GET", BASE + path + q, auth=K(key) if key else None)


def kpost(s, path, body, key, headers=None):
    return call(s, "POST", BASE + path, body, auth=K(key) if key else None, headers=headers)


_ip = iter(range(2, 250))


def selfservice(s, method, number, contact, body=None, action="", raw_contact=None):
    """A customer's call by confirmation number + contact, each from its own loopback address
    (the per-IP guessing budget is 10 a minute). raw_contact: the query value as written."""
    q = "contact=" + (raw_contact if raw_contact is not None else urllib.parse.quote(contact, safe="@"))
    path = f"{BASE}/bookings/confirmation/{number}{action}?{q}"
    return call_from(s, f"127.0.0.{next(_ip)}", method, path, body=body if body is not None else (
        None if method == "GET" else {}))


def org_key(s, org):
    r = call(s, "POST", f"/api/orgs/{org.id}/api-keys", {"label": "kordless"}, auth=org.owner.session)
    assert r.status == 201, r
    return r.json()["key"]


def page_host(e, name="Haircut", **fields):
    """A personal booking page open around the clock in UTC with a 60-minute service."""
    h = Host(e.s, e.db)
    et = h.et(name=name, duration_minutes=60, **fields)
    return h, et


def bookings_state(db):
    return db.sql("SELECT 'rows:' || coalesce(string_agg(row_to_json(b)::text, ';' ORDER BY id), '') FROM bookings b")[0][0], \
        count_rows(db, "events")


def booking_body(slug, service, start, minutes=60, **extra):
    body = {"org_slug": slug, "service_slug": service, "starts_at": iso(start),
            "ends_at": iso(start + dt.timedelta(minutes=minutes)), "timezone": "America/New_York",
            "contact": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1234567890"}}
    body.update(extra)
    return body


# ----------------------------------------------------------------------------- the seed's flow


def test_seed_flow_on_a_booking_page(env):
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    # 1. organisation and services (JavaScript / Python / curl step 1)
    org = ok(kget(env.s, f"/org/{slug}", key), ORG_RESPONSE)
    assert org["organization"]["slug"] == slug and org["organization"]["branding"]["companyName"]
    services = org["services"]
    assert [x["slug"] for x in services] == ["haircut"] and services[0]["duration"] == 60
    assert services[0]["key"] == "haircut" and services[0]["isBookablePublic"] is True
    # 2. availability for services[0] over one day, partySize 1
    day = day_at(3, 0)
    slots = ok(kget(env.s, "/availability", key, org_slug=slug, service_slug=services[0]["slug"], **{
        "from": iso(day), "to": iso(day + dt.timedelta(hours=23, minutes=59, seconds=59)), "partySize": "1"}),
        SLOTS_RESPONSE)["slots"]
    assert len(slots) == 24, slots
    assert slots[0]["startsAt"] == iso(day) and slots[0]["endsAt"] == iso(day + dt.timedelta(hours=1))
    assert slots[0]["serviceId"] == "haircut" and slots[0]["hostId"] == str(h.id)
    assert slots[0]["host"] == {"id": str(h.id), "displayName": h.user.name} and slots[0]["team"] is None
    assert slots[0]["capacity"] == 1 and slots[0]["availableCapacity"] == 1
    # 3. book slots[0] with the seed's headers and body
    r = kpost(env.s, "/bookings", {"org_slug": slug, "service_slug": services[0]["slug"],
                                   "starts_at": slots[0]["startsAt"], "ends_at": slots[0]["endsAt"],
                                   "timezone": "America/New_York",
                                   "contact": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1234567890"}},
              key, headers={"Idempotency-Key": f"booking-{int(time.time() * 1000)}"})
    created = ok(r, CREATE_RESPONSE, 201)
    b = created["booking"]
    number = b["confirmation_number"]
    assert b["status"] == "confirmed" and b["start_at"] == slots[0]["startsAt"] and b["end_at"] == slots[0]["endsAt"]
    assert b["service_name"] == "Haircut" and b["organization_name"] == org["organization"]["name"]
    row = env.db.sql(f"SELECT host_id, invitee_email, phone, invitee_timezone, confirmation_number FROM bookings "
                     f"WHERE uid = '{b['id']}'")
    assert row == [[str(h.id), "jane@example.com", "+1234567890", "America/New_York", number]], row
    # the calendar invite is the native ICS of the booking, by the invitee's token
    u = urllib.parse.urlsplit(created["calendar_invite"]["ics_url"])
    assert u.path == f"/api/bookings/{b['id']}/ics"
    ics = call(env.s, "GET", u.path + "?" + u.query)
    assert ics.status == 200 and ics.header("Content-Type").startswith("text/calendar"), ics
    assert b"BEGIN:VCALENDAR" in ics.body
    # the booking's slot is gone from availability
    again = ok(kget(env.s, "/availability", key, org_slug=slug, service_slug="haircut",
                    **{"from": iso(day), "to": iso(day + dt.timedelta(hours=2))}), SLOTS_RESPONSE)["slots"]
    assert [x["startsAt"] for x in again] == [iso(day + dt.timedelta(hours=1)), iso(day + dt.timedelta(hours=2))]

    # customer self-service: lookup (number case-insensitive, by e-mail), reschedule, cancel (by phone)
    got = ok(selfservice(env.s, "GET", number.lower(), "JANE@example.com"), BOOKING_RESPONSE)["booking"]
    assert got["id"] == b["id"] and got["status"] == "confirmed" and got["organization_slug"] == slug
    assert got["service_slug"] == got["service_id"] == "haircut" and got["timezone"] == "America/New_York"
    assert got["contact"] == {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1234567890"}
    new = day + dt.timedelta(hours=5)
    moved = ok(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule",
                           body={"start_at": iso(new), "end_at": iso(new + dt.timedelta(hours=1)),
                                 "timezone": "Europe/Paris", "notes": "later please"}), BOOKING_RESPONSE)["booking"]
    assert moved["start_at"] == iso(new) and moved["confirmation_number"] == number and moved["id"] == b["id"]
    assert moved["timezone"] == "Europe/Paris" and moved["status"] == "confirmed"
    # the phone as the docs write it: "+" unencoded (a space on arrival), and encoded
    got = ok(selfservice(env.s, "GET", number, None, raw_contact="+1234567890"), BOOKING_RESPONSE)["booking"]
    assert got["start_at"] == iso(new)
    cancelled = ok(selfservice(env.s, "POST", number, None, action="/cancel", raw_contact="%2B1234567890"),
                   BOOKING_RESPONSE)["booking"]
    assert cancelled["status"] == "canceled"
    assert env.db.sql(f"SELECT status FROM bookings WHERE uid = '{b['id']}'") == [["cancelled"]]
    assert ok(selfservice(env.s, "GET", number, "jane@example.com"), BOOKING_RESPONSE)["booking"]["status"] == "canceled"


def test_seed_python_and_curl_examples(env):
    """The Python example (no phone, partySize as an int) and the curl example's exact body
    text, at future dates."""
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    services = ok(kget(env.s, f"/org/{slug}", key), ORG_RESPONSE)["services"]
    day = day_at(4, 0)
    slots = ok(kget(env.s, "/availability", key, org_slug=slug, service_slug=services[0]["slug"],
                    **{"from": iso(day), "to": iso(day + dt.timedelta(hours=23, minutes=59, seconds=59)),
                       "partySize": 1}), SLOTS_RESPONSE)["slots"]
    r = call(env.s, "POST", BASE + "/bookings", {
        "org_slug": slug, "service_slug": services[0]["slug"], "starts_at": slots[0]["startsAt"],
        "ends_at": slots[0]["endsAt"], "timezone": "America/New_York",
        "contact": {"name": "Jane Doe", "email": "jane@example.com"}},
        headers={"x-kordless-key": key, "Content-Type": "application/json"})
    b = ok(r, CREATE_RESPONSE, 201)["booking"]
    assert len(b["confirmation_number"]) == 8
    got = ok(selfservice(env.s, "GET", b["confirmation_number"], "jane@example.com"), BOOKING_RESPONSE)["booking"]
    assert got["contact"]["phone"] is None
    start = day + dt.timedelta(hours=14)
    raw = ('{\n"org_slug": "%s",\n"service_slug": "haircut",\n"starts_at": "%s",\n"ends_at": "%s",\n'
           '"timezone": "America/New_York",\n"contact": {\n"name": "Jane Doe",\n"email": "jane@example.com"\n}\n}'
           % (slug, iso(start), iso(start + dt.timedelta(hours=1)))).encode()
    r = call(env.s, "POST", BASE + "/bookings", raw=raw, headers={"x-kordless-key": key,
                                                                   "Content-Type": "application/json"})
    assert ok(r, CREATE_RESPONSE, 201)["booking"]["start_at"] == iso(start)


# ----------------------------------------------------------------------------- organisations


def test_org_service_and_team_availability(env):
    org = Org(env.s)
    key = org_key(env.s, org)
    team = call(env.s, "POST", f"/api/orgs/{org.id}/teams", {"name": "Stylists"}, auth=org.owner.session).json()
    rr = org.event_type(name="Cut", duration_minutes=60, team_id=team["id"], price=45, currency="USD",
                        location_type="in_person", location_value="123 Main St", description="A cut")
    co = org.event_type(name="Panel", scheduling="collective", duration_minutes=60)
    body = ok(kget(env.s, f"/org/{org.slug}", key), ORG_RESPONSE)
    assert body["organization"]["id"] == f"org_{org.id}" and body["organization"]["name"] == org.org["name"]
    svc = {x["slug"]: x for x in body["services"]}
    assert set(svc) == {rr["slug"], co["slug"]}
    assert svc[rr["slug"]]["price"] == 45 and svc[rr["slug"]]["currency"] == "USD"
    assert svc[rr["slug"]]["category"] == "Stylists" and svc[co["slug"]]["category"] is None
    one = ok(kget(env.s, f"/org/{org.slug}/service/{rr['slug']}", key), SERVICE_RESPONSE)
    cs = one["calendarSettings"]
    assert cs["duration_minutes"] == 60 and cs["slot_interval_minutes"] == 60
    assert cs["location"] == {"type": "onsite", "value": "123 Main St"} and cs["timezone"] == "UTC"
    assert cs["booking_window_days"] == 365 and cs["max_parallel_bookings"] == 1
    assert one["service"]["description"] == "A cut"

    monday = next_monday(2)
    q = {"org_slug": org.slug, "from": at(monday, "09:00"), "to": at(monday, "11:00"), "timezone": "America/Chicago"}
    slots = ok(kget(env.s, "/availability", key, service_slug=rr["slug"], **q), SLOTS_RESPONSE)["slots"]
    # round robin: one entry per (start, free host); the client may choose the host
    by_start = {}
    for x in slots:
        by_start.setdefault(x["startsAt"], set()).add(x["hostId"])
        assert x["host"]["id"] == x["hostId"] and x["teamId"] == str(team["id"]) and x["team"]["name"] == "Stylists"
        assert x["timezone"] == "America/Chicago"
    ids = {str(i) for i in org.ids}
    assert by_start == {at(monday, "09:00"): ids, at(monday, "10:00"): ids, at(monday, "11:00"): ids}, by_start
    # book with a chosen host: that host is taken at 10:00, the others are still offered
    chosen = org.ids[1]
    b = ok(kpost(env.s, "/bookings", booking_body(org.slug, rr["slug"], dt.datetime.fromisoformat(
        at(monday, "10:00").replace("Z", "+00:00")), host_id=str(chosen), team_id=str(team["id"])), key),
        CREATE_RESPONSE, 201)["booking"]
    assert env.db.sql(f"SELECT host_id FROM bookings WHERE uid = '{b['id']}'") == [[str(chosen)]]
    assert b["location"] == {"type": "onsite", "value": "123 Main St"}
    slots = ok(kget(env.s, "/availability", key, service_slug=rr["slug"], **q), SLOTS_RESPONSE)["slots"]
    assert {x["hostId"] for x in slots if x["startsAt"] == at(monday, "10:00")} == ids - {str(chosen)}
    # collective: one entry per start, no host to choose; the chosen host's 10:00 is busy for all
    slots = ok(kget(env.s, "/availability", key, service_slug=co["slug"], **q), SLOTS_RESPONSE)["slots"]
    assert [x["startsAt"] for x in slots] == [at(monday, "09:00"), at(monday, "11:00")]
    assert all(x["host"] is None and x["hostId"] is None and x["team"] is None for x in slots)
    # the same instants as the native availability of the collective type
    native = org.slots(co, monday.isoformat())[monday.isoformat()]
    assert [s["start"] for s in native if at(monday, "09:00") <= s["start"] <= at(monday, "11:00")] == \
        [x["startsAt"] for x in slots], native
    # and the round-robin entries are exactly the native slots' free hosts
    native = org.slots(rr, monday.isoformat())[monday.isoformat()]
    want = {(s["start"], str(i)) for s in native if at(monday, "09:00") <= s["start"] <= at(monday, "11:00")
            for i in s["hosts"]}
    got = ok(kget(env.s, "/availability", key, service_slug=rr["slug"], **q), SLOTS_RESPONSE)["slots"]
    assert {(x["startsAt"], x["hostId"]) for x in got} == want and len(got) == len(want)
    # a collective booking occupies every host; the core does not move one (409, as natively):
    # its customer cancels it and books again
    start = dt.datetime.fromisoformat(at(monday, "11:00").replace("Z", "+00:00"))
    c = ok(kpost(env.s, "/bookings", booking_body(org.slug, co["slug"], start), key), CREATE_RESPONSE, 201)["booking"]
    assert count_rows(env.db, "bookings", f"event_type_id = {co['id']}") == len(org.ids)
    later = start + dt.timedelta(hours=3)
    before = bookings_state(env.db)
    err(selfservice(env.s, "POST", c["confirmation_number"], "jane@example.com", action="/reschedule",
                    body={"start_at": iso(later), "end_at": iso(later + dt.timedelta(hours=1))}), 409)
    assert bookings_state(env.db) == before
    gone = ok(selfservice(env.s, "POST", c["confirmation_number"], "jane@example.com", action="/cancel"),
              BOOKING_RESPONSE)["booking"]
    assert gone["status"] == "canceled" and gone["organization_slug"] == org.slug
    assert gone["service_slug"] == co["slug"] and gone["organization_name"] == org.org["name"]
    assert count_rows(env.db, "bookings", f"event_type_id = {co['id']} AND status = 'cancelled'") == len(org.ids)
    # a service that requires confirmation books as pending
    held = org.event_type(name="Review", duration_minutes=60, requires_confirmation=True)
    p = ok(kpost(env.s, "/bookings", booking_body(org.slug, held["slug"], start + dt.timedelta(hours=4)), key),
           CREATE_RESPONSE, 201)["booking"]
    assert p["status"] == "pending"


# ----------------------------------------------------------------------------- errors


def test_auth_and_access_errors(env):
    h, et = page_host(env)
    other, _ = page_host(env)
    org = Org(env.s)
    okey = org_key(env.s, org)
    org.event_type(name="Cut", duration_minutes=60)
    org2 = Org(env.s)
    okey2 = org_key(env.s, org2)
    before = bookings_state(env.db)
    err(kget(env.s, f"/org/{h.slug}", None), 401, "Invalid or missing API key")
    err(kget(env.s, f"/org/{h.slug}", "sk_not_a_key"), 401)
    err(kget(env.s, f"/org/{h.slug}", other.user.key), 403)       # another person's page
    err(kget(env.s, f"/org/{h.slug}", okey), 403)                 # an org key on a page
    err(kget(env.s, f"/org/{org.slug}", h.user.key), 403)         # a personal key on an org
    err(kget(env.s, f"/org/{org.slug}", okey2), 403)              # another org's key
    err(kget(env.s, f"/org/{org.slug}/service/cut", okey2), 403)
    err(kget(env.s, "/availability", okey2, org_slug=org.slug, service_slug="cut", **{
        "from": iso(day_at(3, 0)), "to": iso(day_at(3, 5))}), 403)
    err(kpost(env.s, "/bookings", booking_body(org.slug, "cut", day_at(3, 10)), okey2), 403)
    err(kpost(env.s, "/bookings", booking_body(h.slug, "haircut", day_at(3, 10)), okey), 403)
    # slotd's own key headers are read too (after x-kordless-key)
    for hdr in ({"X-API-Key": h.user.key}, {"Authorization": f"Bearer {h.user.key}"}):
        ok(call(env.s, "GET", f"{BASE}/org/{h.slug}", auth=hdr), ORG_RESPONSE)
    ok(call(env.s, "GET", f"{BASE}/org/{h.slug}", auth={"x-kordless-key": h.user.key, "X-API-Key": okey}),
       ORG_RESPONSE)
    assert ok(kget(env.s, f"/org/{org.slug}", okey), ORG_RESPONSE)["services"][0]["slug"] == "cut"
    err(kget(env.s, "/org/no-such-org-here", okey), 404)
    err(kget(env.s, f"/org/{h.slug}/service/nope", h.user.key), 404)
    err(kget(env.s, f"/org/{org.slug}/service/nope", okey), 404)
    # a secret (unlisted) event type is not a service
    secret = h.et(name="Hidden", duration_minutes=60, is_secret=True)
    err(kget(env.s, f"/org/{h.slug}/service/{secret['slug']}", h.user.key), 404)
    assert [x["slug"] for x in ok(kget(env.s, f"/org/{h.slug}", h.user.key), ORG_RESPONSE)["services"]] == ["haircut"]
    assert bookings_state(env.db) == before


def test_availability_errors(env):
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    day = day_at(3, 0)
    good = {"org_slug": slug, "service_slug": "haircut", "from": iso(day), "to": iso(day + dt.timedelta(hours=3))}
    for missing in good:
        q = {k: v for k, v in good.items() if k != missing}
        assert missing in err(kget(env.s, "/availability", key, **q), 400)["detail"]
    err(kget(env.s, "/availability", key, **{**good, "from": "tomorrow"}), 400)
    err(kget(env.s, "/availability", key, **{**good, "to": iso(day - dt.timedelta(hours=1))}), 400)
    err(kget(env.s, "/availability", key, **{**good, "to": iso(day + dt.timedelta(days=90))}), 400)
    err(kget(env.s, "/availability", key, **{**good, "partySize": "0"}), 400)
    err(kget(env.s, "/availability", key, **{**good, "partySize": "two"}), 400)
    err(kget(env.s, "/availability", key, **{**good, "timezone": "Mars/Olympus"}), 400)
    err(kget(env.s, "/availability", key, **{**good, "service_slug": "nope"}), 404)
    # partySize beyond the service's capacity: nothing is free for that many
    assert ok(kget(env.s, "/availability", key, **{**good, "partySize": "2"}), SLOTS_RESPONSE)["slots"] == []
    seated = h.et(name="Class", duration_minutes=60, seats=5)
    slots = ok(kget(env.s, "/availability", key, **{**good, "service_slug": seated["slug"], "partySize": "3"}),
               SLOTS_RESPONSE)["slots"]
    assert len(slots) == 4 and all(x["capacity"] == 5 and x["availableCapacity"] == 5 for x in slots)
    # the malformed query string is refused in Kordless's shape too
    r = call(env.s, "GET", BASE + "/availability?org_slug=%zz", auth=K(key))
    err(r, 400)


def test_create_errors_change_nothing(env):
    h, et = page_host(env)
    multi = h.et(name="Flexible", duration_minutes=30, durations=[30, 60])
    key, slug = h.user.key, h.slug
    start = day_at(5, 10)
    taken = ok(kpost(env.s, "/bookings", booking_body(slug, "haircut", start), key), CREATE_RESPONSE, 201)["booking"]
    before = bookings_state(env.db)
    good = booking_body(slug, "haircut", start + dt.timedelta(hours=2))
    r = call(env.s, "POST", BASE + "/bookings", raw=b'{"org_slug": ', auth=K(key))
    err(r, 400)
    r = call(env.s, "POST", BASE + "/bookings", raw=b'{}', auth=K(key), headers={"Content-Type": "text/plain"})
    err(r, 415)
    for field in ("org_slug", "service_slug", "starts_at", "ends_at", "timezone", "contact"):
        err(kpost(env.s, "/bookings", {k: v for k, v in good.items() if k != field}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "starts_at": 12}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "starts_at": "soon"}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "timezone": "Nowhere/Land"}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "contact": "jane@example.com"}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "contact": {"name": "Jane"}}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "contact": {"name": "Jane", "email": "nope"}}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "party_size": 0}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "party_size": 2}, key), 400)  # beyond the capacity of 1
    err(kpost(env.s, "/bookings", {**good, "host_id": "99999999"}, key), 400)
    err(kpost(env.s, "/bookings", {**good, "team_id": "7"}, key), 400)
    # ends_at must be starts_at + the duration
    j = err(kpost(env.s, "/bookings", {**good, "ends_at": iso(start + dt.timedelta(hours=2, minutes=30))}, key), 400)
    assert "ends_at" in j["detail"]
    err(kpost(env.s, "/bookings", {**good, "ends_at": good["starts_at"]}, key), 400)
    # impossible times: the past, off the grid, beyond the window
    err(kpost(env.s, "/bookings", booking_body(slug, "haircut", day_at(-2, 10)), key), 400)
    j = err(kpost(env.s, "/bookings", booking_body(slug, "haircut", start + dt.timedelta(minutes=17)), key), 400)
    assert j["detail"].startswith("starts_at"), j
    err(kpost(env.s, "/bookings", booking_body(slug, "haircut", day_at(400, 10)), key), 400)
    # taken
    err(kpost(env.s, "/bookings", booking_body(slug, "haircut", start), key), 409)
    err(kpost(env.s, "/bookings", booking_body(slug, "nope", start), key), 404)
    err(kpost(env.s, "/bookings", booking_body("no-such-page-x", "haircut", start), key), 404)
    err(kpost(env.s, "/bookings", good, None), 401)
    assert bookings_state(env.db) == before
    # several lengths: ends_at picks one of them
    s2 = start + dt.timedelta(hours=4)
    b = ok(kpost(env.s, "/bookings", booking_body(slug, multi["slug"], s2, minutes=60), key), CREATE_RESPONSE, 201)
    assert b["booking"]["end_at"] == iso(s2 + dt.timedelta(hours=1))
    before = bookings_state(env.db)
    err(kpost(env.s, "/bookings", booking_body(slug, multi["slug"], s2 + dt.timedelta(hours=2), minutes=45), key), 400)
    assert bookings_state(env.db) == before
    assert taken["status"] == "confirmed"


def test_selfservice_errors(env):
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    start = day_at(6, 10)
    b = ok(kpost(env.s, "/bookings", booking_body(slug, "haircut", start), key), CREATE_RESPONSE, 201)["booking"]
    other = ok(kpost(env.s, "/bookings", booking_body(slug, "haircut", start + dt.timedelta(hours=1),
                                                     contact={"name": "Al", "email": "al@example.com"}), key),
               CREATE_RESPONSE, 201)["booking"]
    number = b["confirmation_number"]
    before = bookings_state(env.db)
    # a wrong contact and an unknown number answer alike
    wrong = selfservice(env.s, "GET", number, "someone@example.com")
    unknown = selfservice(env.s, "GET", "ZZZZZZZZ", "jane@example.com")
    assert wrong.status == unknown.status == 404 and wrong.body == unknown.body
    err(wrong, 404)
    err(selfservice(env.s, "GET", number, "al@example.com"), 404)           # another booking's contact
    err(selfservice(env.s, "GET", "SHORT", "jane@example.com"), 404)
    err(selfservice(env.s, "POST", number, "someone@example.com", action="/cancel"), 404)
    r = call_from(env.s, "127.0.0.251", "GET", f"{BASE}/bookings/confirmation/{number}")
    err(r, 400)
    mv = {"start_at": iso(start + dt.timedelta(hours=3)), "end_at": iso(start + dt.timedelta(hours=4))}
    err(selfservice(env.s, "POST", number, "someone@example.com", action="/reschedule", body=mv), 404)
    # reschedule: bad bodies, a wrong length, a taken time (409)
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule", body={}), 400)
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule",
                    body={**mv, "start_at": "later"}), 400)
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule",
                    body={**mv, "timezone": "Bad/Zone"}), 400)
    assert "end_at" in err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule",
                                       body={**mv, "end_at": iso(start + dt.timedelta(hours=5))}), 400)["detail"]
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule",
                    body={"start_at": other["start_at"], "end_at": other["end_at"]}), 409)
    assert bookings_state(env.db) == before
    # a cancelled booking can be neither cancelled again nor rescheduled (422)
    ok(selfservice(env.s, "POST", number, "jane@example.com", action="/cancel"), BOOKING_RESPONSE)
    before = bookings_state(env.db)
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/reschedule", body=mv), 422)
    err(selfservice(env.s, "POST", number, "jane@example.com", action="/cancel"), 422)
    assert bookings_state(env.db) == before
    # the per-IP guessing budget (10 a minute, the native one) in Kordless's shape
    codes = [call_from(env.s, "127.0.0.252", "GET", f"{BASE}/bookings/confirmation/ABCDEFGH?contact=x%40y.z").status
             for _ in range(11)]
    assert codes[:10] == [404] * 10, codes
    r = call_from(env.s, "127.0.0.252", "GET", f"{BASE}/bookings/confirmation/{number}?contact=jane%40example.com")
    err(r, 429)
    assert r.header("Retry-After")


# ----------------------------------------------------------------------------- races and replays


def test_race_one_winner(env):
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    start = day_at(7, 9)
    gate = threading.Barrier(8)
    out = []

    def go(i):
        body = booking_body(slug, "haircut", start, contact={"name": f"P{i}", "email": f"p{i}@example.com"})
        gate.wait()
        out.append(kpost(env.s, "/bookings", body, key))

    ts = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wins = [r for r in out if r.status == 201]
    assert len(wins) == 1, out
    ok(wins[0], CREATE_RESPONSE, 201)
    for r in out:
        if r.status != 201:
            err(r, 409)
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']} AND status = 'confirmed'") == 1


def test_idempotency_key_replay(env):
    h, et = page_host(env)
    key, slug = h.user.key, h.slug
    body = booking_body(slug, "haircut", day_at(8, 11))
    hdr = {"Idempotency-Key": f"booking-user123-{int(time.time() * 1000)}"}
    a = kpost(env.s, "/bookings", body, key, headers=hdr)
    b = kpost(env.s, "/bookings", body, key, headers=hdr)
    ok(a, CREATE_RESPONSE, 201)
    ok(b, CREATE_RESPONSE, 201)
    assert a.body == b.body
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']}") == 1
    # the same key with another body is refused in Kordless's shape, and books nothing
    err(kpost(env.s, "/bookings", {**body, "notes": "different"}, key, headers=hdr), 422)
    assert count_rows(env.db, "bookings", f"event_type_id = {et['id']}") == 1


# ----------------------------------------------------------------------------- rate limits


def test_rate_limits_per_key(pg, tmp_path_factory):
    """The seed's limits on a slotd with slotd's default limits: 60 requests a minute per key,
    10 booking creations a minute per key, with the X-RateLimit-* headers of the limit that
    applies, and a 429 in Kordless's shape."""
    e = make_env(pg, tmp_path_factory, "kordless_rl",
                 {"SLOTD_RATE_LIMIT_AUTH": "300", "SLOTD_RATE_LIMIT_PUBLIC": "1000000"})
    try:
        h = Host(e.s, e.db)
        h.et(name="Haircut", duration_minutes=60)
        key = h.user.key
        remaining = []
        for _ in range(60):
            r = kget(e.s, f"/org/{h.slug}", key)
            assert r.status == 200, r
            assert len(r.header_all("X-RateLimit-Limit")) == 1 and r.header("X-RateLimit-Limit") == "60", r
            remaining.append(int(r.header("X-RateLimit-Remaining")))
            reset = int(r.header("X-RateLimit-Reset"))
            assert time.time() - 2 <= reset <= time.time() + 61
        assert remaining[0] == 59 and remaining[-1] == 0, remaining
        r = kget(e.s, f"/org/{h.slug}", key)
        err(r, 429)
        assert r.header("Retry-After") and r.header("X-RateLimit-Remaining") == "0"
        # creation: 10 a minute on a fresh key (each attempt counts, refused or not)
        fresh = h.user.make_key("third")["key"]
        codes = []
        for _ in range(10):
            r = kpost(e.s, "/bookings", {}, fresh)
            assert r.header("X-RateLimit-Limit") == "10", r
            codes.append(r.status)
        assert codes == [400] * 10, codes
        before = bookings_state(e.db)
        r = kpost(e.s, "/bookings", booking_body(h.slug, "haircut", day_at(3, 10)), fresh)
        err(r, 429)
        assert bookings_state(e.db) == before
        # reads on that key still have their own budget
        r = kget(e.s, f"/org/{h.slug}", fresh)
        assert r.status == 200 and r.header("X-RateLimit-Limit") == "60", r
    finally:
        close_env(e)
