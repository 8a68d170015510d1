"""SchedKit's /v1 dialect (issue 17; seed 002): every operation through the real server, every
body validated against schedkit_schemas, the seed's own example calls (create, list,
confirm/decline by the e-mailed link, cancel by token, reschedule by token), refusals in
SchedKit's {"error"} shape that leave the database as it was, other users' ids 404, a missing or
invalid x-api-key 401, and a race of 10 on one slot with one winner.
"""

import datetime as dt
import json

import pytest

from booking_util import UTC, Host, call, concurrently, day_at, env, iso, statuses  # noqa: F401
from org_util import make_team, ok as native_ok, org_key
from schedkit_schemas import (BOOKING, CANCELLED, CREATED, DELETED, ERROR, EVENT_TYPE, EVENT_TYPES, LIST, ME, MOVED,
                              REBOOKED, SLOTS, check)
from team_util import Org, at, next_monday

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def key(h):
    return {"x-api-key": h.user.key}


def sk(s, method, path, body=None, auth=None, headers=None, raw=None):
    hd = dict(headers or {})
    if auth:
        hd.update(auth)
    return call(s, method, path, body, headers=hd, raw=raw)


def ok(r, schema, status=200):
    assert r.status == status, r
    assert (r.header("Content-Type") or "").startswith("application/json"), r
    return check(schema, r.json())


def err(r, status):
    assert r.status == status, r
    assert (r.header("Content-Type") or "").startswith("application/json"), r
    return check(ERROR, r.json())["error"]


def is_html(r):
    return (r.header("Content-Type") or "").startswith("text/html")


def state(db):
    """Everything a refusal must leave alone."""
    return (db.sql("SELECT id, status, start_at, end_at, invitee_timezone, rescheduled_to FROM bookings ORDER BY id"),
            db.sql("SELECT id, name, slug, duration_minutes, min_notice_hours, questions::text, is_active, "
                   "location_type, buffer_before FROM event_types ORDER BY id"),
            db.sql("SELECT count(*) FROM events"))


def seed_body(start, **extra):
    """The seed's own example body."""
    return {"attendee_name": "Jason Johnson", "attendee_email": "jason@example.com", "start_time": iso(start),
            "timezone": "America/Chicago", "notes": "Looking to discuss the enterprise plan", **extra}


def book(h, et, start, **extra):
    r = sk(h.s, "POST", f"/v1/book/{h.slug}/{et['slug']}", seed_body(start, **extra))
    return ok(r, CREATED, 201)


# ----------------------------------------------------------------------------- create


def test_seed_create_example(env, host):
    et = host.et(duration_minutes=30)
    start = day_at(3, 14)
    b = book(host, et, start)
    assert b["status"] == "confirmed" and b["requires_confirmation"] is False
    assert b["attendee_name"] == "Jason Johnson" and b["attendee_email"] == "jason@example.com"
    assert b["start_time"] == iso(start) and b["end_time"] == iso(start + dt.timedelta(minutes=30))
    assert b["cancel_token"] != b["reschedule_token"]
    row = env.db.sql(f"SELECT invitee_timezone, notes, host_id FROM bookings WHERE id = {b['id']}")[0]
    assert list(map(str, row)) == ["America/Chicago", "Looking to discuss the enterprise plan", str(host.id)]


def test_create_accepts_the_vendor_servers_spellings(env, host):
    et = host.et(duration_minutes=30, questions=[
        {"id": "site", "label": "Site", "type": "text", "required": True},
        {"id": "team", "label": "Team size", "type": "text"}])
    body = {"attendee_name": "Ann", "attendee_email": "ann@example.com", "start_time": iso(day_at(3, 9)),
            "attendee_timezone": "Europe/Rome", "custom_responses": {"site": "Rome", "team": "4"}}
    b = ok(sk(env.s, "POST", f"/v1/book/{host.slug}/{et['slug']}", body), CREATED, 201)
    g = ok(sk(env.s, "GET", f"/v1/bookings/{b['id']}", auth=key(host)), BOOKING)
    assert g["attendee_timezone"] == "Europe/Rome"
    assert g["custom_responses"] == {"site": "Rome", "team": "4"}
    assert sorted(g["answers"], key=lambda a: a["question_id"]) == [
        {"question_id": "site", "answer": "Rome"}, {"question_id": "team", "answer": "4"}]
    # the seed's answers array, the same questions
    b2 = book(host, et, day_at(3, 10), answers=[{"question_id": "site", "answer": "Oslo"}])
    g2 = ok(sk(env.s, "GET", f"/v1/bookings/{b2['id']}", auth=key(host)), BOOKING)
    assert g2["custom_responses"] == {"site": "Oslo"} and g2["attendee_timezone"] == "America/Chicago"
    # a required question left out is the core's 400, nothing written
    before = state(env.db)
    err(sk(env.s, "POST", f"/v1/book/{host.slug}/{et['slug']}", seed_body(day_at(3, 11))), 400)
    assert state(env.db) == before


def test_create_refusals_leave_nothing(env, host):
    et = host.et(duration_minutes=30)
    path = f"/v1/book/{host.slug}/{et['slug']}"
    start = day_at(4, 10)
    before = state(env.db)
    bad = [
        {k: v for k, v in seed_body(start).items() if k != "attendee_name"},
        {k: v for k, v in seed_body(start).items() if k != "attendee_email"},
        {k: v for k, v in seed_body(start).items() if k != "start_time"},
        {k: v for k, v in seed_body(start).items() if k != "timezone"},  # required by the seed
        seed_body(start, attendee_email="not-an-email"),
        seed_body(start, timezone="Mars/Olympus"),
        seed_body(start, timezone="UTC", attendee_timezone="Europe/Rome"),
        dict(seed_body(start), start_time="2030-02-30T10:00:00Z"),  # impossible date
        dict(seed_body(start), start_time="tomorrow at ten"),
        dict(seed_body(start), start_time=1234567890),
        dict(seed_body(start), attendee_name=["Jason"]),
        seed_body(start, answers={"site": "x"}),
        seed_body(start, answers=[{"answer": "x"}]),
        seed_body(start, custom_responses=["x"]),
    ]
    for body in bad:
        err(sk(env.s, "POST", path, body), 400)
    err(sk(env.s, "POST", path, raw=b'{"attendee_name": "x",'), 400)
    err(sk(env.s, "POST", path, raw=b'[]'), 400)
    r = sk(env.s, "POST", path, raw=b'{}', headers={"Content-Type": "text/plain"})
    err(r, 415)
    err(sk(env.s, "POST", f"/v1/book/{host.slug}/nope", seed_body(start)), 404)
    err(sk(env.s, "POST", f"/v1/book/nobody-{host.slug}/{et['slug']}", seed_body(start)), 404)
    # not a slot: in the past, off the grid
    for t in (day_at(-2, 10), start + dt.timedelta(minutes=7)):
        r = sk(env.s, "POST", path, seed_body(t))
        assert r.status in (400, 409), r
        err(r, r.status)
    assert state(env.db) == before


def test_recurring_type_books_one_occurrence(env, host):
    et = host.et(duration_minutes=30, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    b = book(host, et, day_at(4, 15))
    assert b["start_time"] == iso(day_at(4, 15))
    assert env.db.sql(f"SELECT count(*) FROM bookings WHERE event_type_id = {et['id']}")[0][0] in (1, "1")
    ok(sk(env.s, "POST", f"/v1/cancel/{b['cancel_token']}/confirm"), CANCELLED)


def test_idempotency_key_replays_the_booking(env, host):
    et = host.et(duration_minutes=30)
    h = {"Idempotency-Key": "sk-book-1"}
    path = f"/v1/book/{host.slug}/{et['slug']}"
    a = sk(env.s, "POST", path, seed_body(day_at(4, 17)), headers=h)
    b = sk(env.s, "POST", path, seed_body(day_at(4, 17)), headers=h)
    assert ok(a, CREATED, 201) == ok(b, CREATED, 201) and b.header("Idempotent-Replayed") == "true"
    assert int(env.db.sql(f"SELECT count(*) FROM bookings WHERE event_type_id = {et['id']}")[0][0]) == 1
    err(sk(env.s, "POST", path, seed_body(day_at(4, 18)), headers=h), 422)  # the same key, another request


def test_taken_slot_409(env, host):
    et = host.et(duration_minutes=30)
    start = day_at(5, 10)
    book(host, et, start)
    before = state(env.db)
    err(sk(env.s, "POST", f"/v1/book/{host.slug}/{et['slug']}", seed_body(start)), 409)
    assert state(env.db) == before


def test_race_of_ten_on_one_slot(env, host):
    et = host.et(duration_minutes=30)
    start = day_at(6, 11)
    reqs = [("POST", f"/v1/book/{host.slug}/{et['slug']}",
             seed_body(start, attendee_email=f"racer{i}@example.com"), None) for i in range(10)]
    rs = concurrently(env.s, reqs)
    assert statuses(rs) == {201: 1, 409: 9}, statuses(rs)
    for r in rs:
        if r.status == 201:
            check(CREATED, r.json())
        else:
            check(ERROR, r.json())
    n = env.db.sql(f"SELECT count(*) FROM bookings WHERE event_type_id = {et['id']} AND status = 'confirmed'")
    assert int(n[0][0]) == 1


# ----------------------------------------------------------------------------- the host's bookings


def test_seed_list_get_and_paging(env, host):
    et = host.et(duration_minutes=30)
    ids = [book(host, et, day_at(7, h))["id"] for h in (9, 10, 11)]
    r = ok(sk(env.s, "GET", "/v1/bookings", auth=key(host)), LIST)
    assert r["total"] == 3 and sorted(b["id"] for b in r["bookings"]) == sorted(ids)
    p2 = ok(sk(env.s, "GET", "/v1/bookings?limit=2&page=2", auth=key(host)), LIST)
    assert p2["total"] == 3 and len(p2["bookings"]) == 1
    sk(env.s, "POST", f"/api/bookings/{ids[0]}/cancel", auth=host.auth)
    c = ok(sk(env.s, "GET", "/v1/bookings?status=cancelled", auth=key(host)), LIST)
    assert c["total"] == 1 and c["bookings"][0]["id"] == ids[0] and c["bookings"][0]["status"] == "cancelled"
    g = ok(sk(env.s, "GET", f"/v1/bookings/{ids[1]}", auth=key(host)), BOOKING)
    assert g["id"] == ids[1] and g["attendee_email"] == "jason@example.com" and g["start_time"] == iso(day_at(7, 10))
    assert "cancel_token" not in g and "confirm_token" not in g
    for q in ("status=bogus", "limit=0", "limit=x", "page=0"):
        err(sk(env.s, "GET", f"/v1/bookings?{q}", auth=key(host)), 400)


def test_auth_401_and_other_users_404(env, host):
    other = Host(env.s, env.db)
    et = host.et(duration_minutes=30)
    b = book(host, et, day_at(8, 10))
    for path in ("/v1/bookings", f"/v1/bookings/{b['id']}", "/v1/event-types", "/v1/auth/me"):
        err(sk(env.s, "GET", path), 401)
        err(sk(env.s, "GET", path, auth={"x-api-key": "cal_" + "0" * 40}), 401)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"start_time": iso(day_at(8, 12))}), 401)
    before = state(env.db)
    assert ok(sk(env.s, "GET", "/v1/bookings", auth=key(other)), LIST) == {"bookings": [], "total": 0}
    err(sk(env.s, "GET", f"/v1/bookings/{b['id']}", auth=key(other)), 404)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"start_time": iso(day_at(8, 12))},
           auth=key(other)), 404)
    err(sk(env.s, "GET", f"/v1/event-types/{et['id']}", auth=key(other)), 404)
    err(sk(env.s, "PATCH", f"/v1/event-types/{et['id']}", {"title": "Mine"}, auth=key(other)), 404)
    err(sk(env.s, "DELETE", f"/v1/event-types/{et['id']}", auth=key(other)), 404)
    err(sk(env.s, "GET", "/v1/bookings/999999999", auth=key(host)), 404)
    err(sk(env.s, "GET", "/v1/bookings/abc", auth=key(host)), 404)
    assert state(env.db) == before


def test_host_reschedule(env, host):
    et = host.et(duration_minutes=30)
    b = book(host, et, day_at(9, 10))
    other = book(host, et, day_at(9, 12))
    new = day_at(9, 15)
    m = ok(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule",
              {"start_time": iso(new), "timezone": "Asia/Tokyo"}, auth=key(host)), MOVED)
    assert m["id"] == b["id"] and m["start_time"] == iso(new) and m["ok"] is True
    assert m["attendee_timezone"] == "Asia/Tokyo" and m["status"] == "confirmed"
    before = state(env.db)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"start_time": other["start_time"]},
           auth=key(host)), 409)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"timezone": "UTC"}, auth=key(host)), 400)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", auth=key(host)), 400)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"start_time": "2030-13-01T00:00:00Z"},
           auth=key(host)), 400)
    err(sk(env.s, "POST", f"/v1/bookings/{b['id']}/reschedule", {"start_time": iso(day_at(9, 16)),
                                                                  "timezone": "Nowhere/City"}, auth=key(host)), 400)
    assert state(env.db) == before


# ----------------------------------------------------------------------------- e-mailed links


def test_seed_confirm_and_decline_links(env, host):
    et = host.et(duration_minutes=30, requires_confirmation=True)
    a = book(host, et, day_at(10, 9))
    assert a["status"] == "pending" and a["requires_confirmation"] is True
    tok = host.confirm_token(a["id"])
    r = sk(env.s, "GET", f"/v1/bookings/{tok}/confirm")  # a browser: the page
    assert r.status == 200 and is_html(r), r
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {a['id']}")[0][0] == "confirmed"
    b = book(host, et, day_at(10, 11))
    j = ok(sk(env.s, "GET", f"/v1/bookings/{host.confirm_token(b['id'])}/confirm", headers=JSON), BOOKING)
    assert j["id"] == b["id"] and j["status"] == "confirmed"
    c = book(host, et, day_at(10, 13))
    r = sk(env.s, "GET", f"/v1/bookings/{host.confirm_token(c['id'])}/decline", headers=HTML)
    assert r.status == 200 and is_html(r), r
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {c['id']}")[0][0] == "declined"
    d = book(host, et, day_at(10, 15))
    dt_ = host.confirm_token(d["id"])
    j = ok(sk(env.s, "GET", f"/v1/bookings/{dt_}/decline", headers=JSON), BOOKING)
    assert j["status"] == "declined"
    before = state(env.db)
    err(sk(env.s, "GET", f"/v1/bookings/{dt_}/confirm", headers=JSON), 404)  # a declined booking's link is dead
    err(sk(env.s, "GET", f"/v1/bookings/{'a' * 64}/confirm", headers=JSON), 404)
    err(sk(env.s, "GET", "/v1/bookings/short/decline", headers=JSON), 404)
    r = sk(env.s, "GET", f"/v1/bookings/{'b' * 64}/confirm")
    assert r.status == 404 and is_html(r), r
    assert state(env.db) == before


def test_seed_cancel_by_token(env, host):
    et = host.et(duration_minutes=30)
    b = book(host, et, day_at(11, 10))
    g = ok(sk(env.s, "GET", f"/v1/cancel/{b['cancel_token']}", headers=JSON), BOOKING)
    assert g["id"] == b["id"] and g["status"] == "confirmed"
    r = sk(env.s, "GET", f"/v1/cancel/{b['cancel_token']}")
    assert r.status == 200 and is_html(r) and b"<form" in r.body, r
    before = state(env.db)
    err(sk(env.s, "POST", f"/v1/cancel/{b['reschedule_token']}/confirm"), 404)  # tokens are single-purpose
    err(sk(env.s, "POST", f"/v1/cancel/{b['cancel_token']}/confirm", {"reason": 5}), 400)
    assert state(env.db) == before
    c = ok(sk(env.s, "POST", f"/v1/cancel/{b['cancel_token']}/confirm", {"reason": "cannot make it"}), CANCELLED)
    assert c["id"] == b["id"]
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "cancelled"
    err(sk(env.s, "POST", f"/v1/cancel/{b['cancel_token']}/confirm"), 404)
    # the vendor server's spelling, POST /v1/cancel/:token
    b2 = book(host, et, day_at(11, 12))
    ok(sk(env.s, "POST", f"/v1/cancel/{b2['cancel_token']}"), CANCELLED)
    # a browser's form post gets the native page
    b3 = book(host, et, day_at(11, 14))
    r = sk(env.s, "POST", f"/v1/cancel/{b3['cancel_token']}/confirm", headers=HTML)
    assert r.status == 200 and is_html(r), r
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b3['id']}")[0][0] == "cancelled"


def test_reschedule_by_token(env, host):
    et = host.et(duration_minutes=30)
    b = book(host, et, day_at(12, 10))
    taken = book(host, et, day_at(12, 13))
    g = ok(sk(env.s, "GET", f"/v1/reschedule/{b['reschedule_token']}", headers=JSON), BOOKING)
    assert g["id"] == b["id"]
    r = sk(env.s, "GET", f"/v1/reschedule/{b['reschedule_token']}")
    assert r.status == 200 and is_html(r), r
    before = state(env.db)
    tokpath = f"/v1/reschedule/{b['reschedule_token']}"
    err(sk(env.s, "POST", tokpath, {"start_time": taken["start_time"]}), 409)
    err(sk(env.s, "POST", tokpath, {}), 400)
    err(sk(env.s, "POST", tokpath), 400)
    err(sk(env.s, "POST", tokpath, {"start_time": iso(day_at(12, 15)), "attendee_timezone": "No/Where"}), 400)
    err(sk(env.s, "POST", f"/v1/reschedule/{b['cancel_token']}", {"start_time": iso(day_at(12, 15))}), 404)
    assert state(env.db) == before
    new = day_at(12, 15)
    m = ok(sk(env.s, "POST", tokpath, {"start_time": iso(new), "attendee_timezone": "Europe/Paris"}), REBOOKED)
    assert m["start_time"] == iso(new) and m["id"] != b["id"] and m["booking_status"] == "confirmed"
    assert m["cancel_url"] == f"/v1/cancel/{m['cancel_token']}"
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "cancelled"
    n = ok(sk(env.s, "GET", f"/v1/bookings/{m['id']}", auth=key(host)), BOOKING)
    assert n["attendee_timezone"] == "Europe/Paris" and n["start_time"] == iso(new)
    err(sk(env.s, "POST", tokpath, {"start_time": iso(day_at(12, 17))}), 404)  # the old token died with it
    ok(sk(env.s, "POST", m["cancel_url"] + "/confirm"), CANCELLED)  # the new one works


# ----------------------------------------------------------------------------- slots


def test_slots(env, host):
    et = host.et(duration_minutes=30, description="Quick intro", location_type="zoom")
    d = (dt.datetime.now(UTC) + dt.timedelta(days=14)).date()
    # 10:00 in Chicago that day, booked
    r0 = ok(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}?date={d}&timezone=America/Chicago"), SLOTS)
    assert r0["date"] == str(d) and r0["timezone"] == "America/Chicago"
    assert r0["event_type"] == {"title": et["name"], "duration_minutes": 30, "description": "Quick intro",
                                "location_type": "video", "location": None}
    assert len(r0["slots"]) == 48  # open around the clock: every half hour of the local day
    first = r0["slots"][0]
    assert first["start_local"].startswith(f"{d}T00:00:00-0")
    b = book(host, et, dt.datetime.fromisoformat(first["start"].replace("Z", "+00:00")))
    r1 = ok(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}?date={d}&timezone=America/Chicago"), SLOTS)
    assert len(r1["slots"]) == 47 and r1["slots"][0]["start"] != b["start_time"]
    u = ok(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}?date={d}"), SLOTS)
    assert u["timezone"] == "UTC" and u["slots"][0]["start"] == f"{d}T00:00:00Z"
    assert u["slots"][0]["start_local"] == f"{d}T00:00:00+00:00"
    err(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}"), 400)
    err(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}?date=2030-02-30"), 400)
    err(sk(env.s, "GET", f"/v1/slots/{host.slug}/{et['slug']}?date={d}&timezone=Mars/Base"), 400)
    err(sk(env.s, "GET", f"/v1/slots/{host.slug}/nope?date={d}"), 404)


# ----------------------------------------------------------------------------- event types, me


def test_event_types_crud(env, host):
    fields = [{"id": "site", "label": "Site", "type": "text", "required": True}]
    body = {"title": "Incident Triage", "duration_minutes": 30, "description": "Quick ops intake",
            "buffer_before": 0, "buffer_after": 15, "min_notice_minutes": 120, "requires_confirmation": False,
            "location_type": "video", "location": "Google Meet", "custom_fields": fields,
            "max_bookings_per_day": 8}
    e = ok(sk(env.s, "POST", "/v1/event-types", body, auth=key(host)), EVENT_TYPE, 201)
    assert e["slug"] == "incident-triage" and e["min_notice_minutes"] == 120 and e["buffer_after"] == 15
    assert e["location_type"] == "video" and e["location"] == "Google Meet" and e["max_bookings_per_day"] == 8
    assert json.loads(e["custom_fields"]) == fields
    native = env.db.sql(f"SELECT min_notice_hours, questions->0->>'id', location_type FROM event_types "
                        f"WHERE id = {e['id']}")[0]
    assert list(map(str, native)) == ["2", "site", "google_meet"]
    lst = ok(sk(env.s, "GET", "/v1/event-types", auth=key(host)), EVENT_TYPES)
    assert e["id"] in [x["id"] for x in lst["event_types"]]
    assert ok(sk(env.s, "GET", f"/v1/event-types/{e['id']}", auth=key(host)), EVENT_TYPE) == e
    # the vendor's string form of custom_fields is read too
    p = ok(sk(env.s, "PATCH", f"/v1/event-types/{e['id']}",
              {"title": "Triage", "custom_fields": "[]", "min_notice_minutes": 0, "requires_confirmation": True},
              auth=key(host)), EVENT_TYPE)
    assert p["title"] == "Triage" and p["custom_fields"] == "[]" and p["min_notice_minutes"] == 0
    assert p["requires_confirmation"] is True and p["slug"] == "incident-triage"
    # refusals: nothing changes
    before = state(env.db)
    for bad in ({"min_notice_minutes": 90}, {"min_notice_minutes": -60}, {"duration_minutes": 2},
                {"title": ""}, {"title": None}, {"custom_fields": "not json"},
                {"custom_fields": [{"id": "x", "label": "X", "type": "hologram"}]}, {"location_type": "moon"},
                {"buffer_before": "ten"}, {"webhook_url": "https://example.com/h"}, {"active": False},
                {"slug": "Bad Slug"}):
        err(sk(env.s, "PATCH", f"/v1/event-types/{e['id']}", bad, auth=key(host)), 400)
    err(sk(env.s, "POST", "/v1/event-types", {"title": "No length"}, auth=key(host)), 400)
    err(sk(env.s, "POST", "/v1/event-types", {"duration_minutes": 30}, auth=key(host)), 400)
    err(sk(env.s, "POST", "/v1/event-types", raw=b"{", auth=key(host)), 400)
    other = ok(sk(env.s, "POST", "/v1/event-types", {"title": "Other", "duration_minutes": 15}, auth=key(host)),
               EVENT_TYPE, 201)
    before = state(env.db)
    err(sk(env.s, "PATCH", f"/v1/event-types/{other['id']}", {"slug": "incident-triage"}, auth=key(host)), 409)
    err(sk(env.s, "GET", "/v1/event-types/99999999", auth=key(host)), 404)
    assert state(env.db) == before
    # booking a type made through /v1
    b = book(host, p, day_at(15, 10), answers=[])
    assert b["status"] == "pending" and b["requires_confirmation"] is True
    assert ok(sk(env.s, "DELETE", f"/v1/event-types/{other['id']}", auth=key(host)), DELETED) == {"deleted": True}
    err(sk(env.s, "GET", f"/v1/event-types/{other['id']}", auth=key(host)), 404)
    err(sk(env.s, "DELETE", f"/v1/event-types/{other['id']}", auth=key(host)), 404)


def test_auth_me(env, host):
    me = ok(sk(env.s, "GET", "/v1/auth/me", auth=key(host)), ME)
    assert me["id"] == host.id and me["slug"] == host.slug and me["email"] == host.email
    # X-API-Key in any case is the same header
    ok(sk(env.s, "GET", "/v1/auth/me", auth={"X-Api-Key": host.user.key}), ME)


# ----------------------------------------------------------------------------- teams


def test_team_path(env):
    org = Org(env.s)
    team = make_team(env.s, org.id, org.owner.session, name="Support", member_ids=org.ids[:2])
    other_team = make_team(env.s, org.id, org.owner.session, name="Sales", member_ids=org.ids[2:])
    et = native_ok(call(env.s, "POST", f"/api/orgs/{org.id}/event-types",
                        {"name": "Consult", "team_id": team["id"], "min_notice_hours": 0, "max_future_days": 365},
                        auth=org.owner.session), 201)
    loose = org.event_type(name="Loose")  # hosts listed one by one, no team
    day = next_monday()
    start = at(day, "10:00")
    path = f"/v1/book/{org.slug}/{team['slug']}/{et['slug']}"
    s = ok(sk(env.s, "GET", f"/v1/slots/{org.slug}/{team['slug']}/{et['slug']}?date={day}"), SLOTS)
    assert f"{day}T10:00:00Z" in [x["start"] for x in s["slots"]]
    b = ok(sk(env.s, "POST", path, dict(seed_body(0), start_time=start)), CREATED, 201)
    assert b["start_time"] == start
    host_id = int(env.db.sql(f"SELECT host_id FROM bookings WHERE id = {b['id']}")[0][0])
    assert host_id in org.ids[:2]
    ok(sk(env.s, "POST", f"/v1/book/{org.slug}/{other_team['slug']}/{loose['slug']}",
          dict(seed_body(0), start_time=start)), CREATED, 201)
    before = state(env.db)
    for bad in (f"/v1/book/{org.slug}/{other_team['slug']}/{et['slug']}",
                f"/v1/book/{org.slug}/nope/{et['slug']}", f"/v1/book/nope-{org.slug}/{team['slug']}/{et['slug']}",
                f"/v1/book/{org.slug}/{team['slug']}/nope"):
        assert "not found" in err(sk(env.s, "POST", bad, dict(seed_body(0), start_time=at(day, "11:00"))), 404)
    err(sk(env.s, "GET", f"/v1/slots/{org.slug}/{other_team['slug']}/{et['slug']}?date={day}"), 404)
    # SchedKit's keys are a person's: an organisation's key is refused (403) in SchedKit's shape
    _, okey = org_key(env.s, org.id, org.owner.session)
    err(sk(env.s, "GET", "/v1/bookings", auth=okey), 403)
    assert state(env.db) == before
