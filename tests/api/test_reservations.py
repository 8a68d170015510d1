"""Issue 5, reservations (holds, Cal.com): POST /api/reservations {slug, event_slug, start_time,
minutes?} -> 201 {reservation_uid, start, end, reserved_until}; GET and DELETE by uid. A live
hold removes the slot from everyone else's availability; booking it needs the uid (consumed),
else 409. Expiry is by timestamp; expired holds are swept by a timer.
"""

import datetime as dt

import pytest

from accounts_util import NO_LIMITS
from booking_util import (UTC, UUID_RE, Host, assert_error, assert_no_double_booking, call, count_rows,  # noqa
                          day_at, env, iso, parse_iso, wait_until_gone)


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def hold_req(s, h, et, t, auth=None, **extra):
    return call(s, "POST", "/api/reservations", {"slug": h.slug, "event_slug": et["slug"], "start_time": iso(t),
                                                  **extra}, auth=auth)


def hold(s, h, et, t, **kw):
    r = hold_req(s, h, et, t, **kw)
    assert r.status == 201, r
    return r.json()


def slots_of(h, et, t):
    day = t.strftime("%Y-%m-%d")
    r = call(h.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={day}&end={day}")
    assert r.status == 200, r
    return r.json()["slots"].get(day, [])


def expire(db, uid):
    db.sql(f"UPDATE reservations SET expires_at = now() - interval '1 second' WHERE uid = '{uid}'")


def test_create_get_shape(env, host):
    et = host.et(duration_minutes=45, slot_interval_minutes=15)
    t = day_at(3, 10, 15)
    before = dt.datetime.now(UTC)
    j = hold(env.s, host, et, t)
    assert {"reservation_uid", "start", "end", "reserved_until"} <= set(j), j
    assert UUID_RE.fullmatch(j["reservation_uid"]), j
    assert parse_iso(j["start"]) == t and parse_iso(j["end"]) == t + dt.timedelta(minutes=45), j
    until = parse_iso(j["reserved_until"])
    # the default length: 5 minutes
    assert before + dt.timedelta(minutes=5) - dt.timedelta(seconds=3) <= until <= \
        dt.datetime.now(UTC) + dt.timedelta(minutes=5, seconds=3), (before, until)
    r = call(env.s, "GET", f"/api/reservations/{j['reservation_uid']}")
    assert r.status == 200, r
    assert r.json()["reservation_uid"] == j["reservation_uid"] and r.json()["start"] == j["start"]
    assert r.json()["reserved_until"] == j["reserved_until"]
    assert count_rows(env.db, "reservations", f"host_id = {host.id}") == 1


def test_hold_blocks_everyone_else_and_is_consumed(env, host):
    et = host.et()
    other = host.et(duration_minutes=60, slot_interval_minutes=30)
    t = day_at(3, 11)
    hm = t.strftime("%H:%M")
    assert hm in slots_of(host, et, t)
    j = hold(env.s, host, et, t)
    uid = j["reservation_uid"]
    assert hm not in slots_of(host, et, t)
    assert hm not in slots_of(host, other, t)
    # without the uid: taken, by any event type of the host
    r = host.book_req(et, t)
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    assert host.book_req(other, t - dt.timedelta(minutes=30)).status == 409
    # another hold on the same slot: taken
    r = hold_req(env.s, host, et, t)
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    # with it: booked, and the hold is gone
    r = host.book_req(et, t, email="holder@example.com", reservation_uid=uid)
    assert r.status == 201, r
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 0
    assert_error(call(env.s, "GET", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    # consumed: it cannot be used again (here or anywhere)
    r = host.book_req(et, t + dt.timedelta(hours=1), email="again@example.com", reservation_uid=uid)
    assert r.status == 409, r
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 1
    assert_no_double_booking(env.db)


def test_hold_for_another_time_or_type_does_not_help(env, host):
    et = host.et()
    et2 = host.et()
    t = day_at(3, 12)
    uid = hold(env.s, host, et, t)["reservation_uid"]
    # a different time than held: 409 naming reservation_uid; the hold survives
    r = host.book_req(et, t + dt.timedelta(hours=2), reservation_uid=uid)
    assert r.status == 409, r
    assert r.json().get("field") == "reservation_uid", r.json()
    # another event type at the same time
    r = host.book_req(et2, t, reservation_uid=uid)
    assert r.status == 409, r
    # another host's slot
    h2 = Host(env.s, env.db)
    r = h2.book_req(h2.et(), t, reservation_uid=uid)
    assert r.status == 409, r
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 1
    assert count_rows(env.db, "bookings", f"host_id IN ({host.id}, {h2.id})") == 0
    assert host.book_req(et, t, reservation_uid=uid).status == 201


def test_delete_releases(env, host):
    et = host.et()
    t = day_at(3, 13)
    uid = hold(env.s, host, et, t)["reservation_uid"]
    r = call(env.s, "DELETE", f"/api/reservations/{uid}")
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert t.strftime("%H:%M") in slots_of(host, et, t)
    assert_error(call(env.s, "GET", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    assert_error(call(env.s, "DELETE", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    r = host.book_req(et, t, reservation_uid=uid)
    assert r.status == 409, r
    assert host.book_req(et, t).status == 201


def test_expiry_is_by_timestamp(env, host):
    et = host.et()
    t = day_at(3, 14)
    uid = hold(env.s, host, et, t)["reservation_uid"]
    expire(env.db, uid)
    # the row is still there (nobody sweeps in the read path) but it no longer counts
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 1
    assert_error(call(env.s, "GET", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    assert_error(call(env.s, "DELETE", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    assert t.strftime("%H:%M") in slots_of(host, et, t)
    assert count_rows(env.db, "reservations", f"uid = '{uid}'") == 1
    # the expired uid does not book; a plain booking does
    r = host.book_req(et, t, reservation_uid=uid)
    assert r.status == 409, r
    assert host.book_req(et, t, email="plain@example.com").status == 201
    # and a new hold on a slot whose old hold expired is fine
    t2 = day_at(3, 15)
    uid2 = hold(env.s, host, et, t2)["reservation_uid"]
    expire(env.db, uid2)
    assert hold_req(env.s, host, et, t2).status == 201


def test_not_bookable_times_and_unknowns(env, host):
    et = host.et()
    t = day_at(3, 16)
    host.book(et, t)
    r = hold_req(env.s, host, et, t)
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    assert isinstance(r.json().get("next_slots"), list)
    assert_error(hold_req(env.s, host, et, day_at(3, 16, 7)), 400, "VALIDATION_FAILED", "start_time")
    assert_error(hold_req(env.s, host, et, day_at(-1, 16)), 400, "VALIDATION_FAILED", "start_time")
    assert_error(hold_req(env.s, host, et, day_at(90, 16)), 400, "VALIDATION_FAILED", "start_time")
    for body, field in (({"event_slug": et["slug"], "start_time": iso(t)}, "slug"),
                        ({"slug": host.slug, "start_time": iso(t)}, "event_slug"),
                        ({"slug": host.slug, "event_slug": et["slug"]}, "start_time"),
                        ({"slug": host.slug, "event_slug": et["slug"], "start_time": "noon"}, "start_time")):
        assert_error(call(env.s, "POST", "/api/reservations", body), 400, "VALIDATION_FAILED", field)
    assert_error(call(env.s, "POST", "/api/reservations", {"slug": host.slug, "event_slug": "nope",
                                                          "start_time": iso(t)}), 404, "NOT_FOUND")
    assert_error(call(env.s, "POST", "/api/reservations", {"slug": "no-such-host-x", "event_slug": et["slug"],
                                                          "start_time": iso(t)}), 404, "NOT_FOUND")
    for uid in ("00000000-0000-0000-0000-000000000000", "not-a-uid", "1"):
        assert_error(call(env.s, "GET", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
        assert_error(call(env.s, "DELETE", f"/api/reservations/{uid}"), 404, "NOT_FOUND")
    assert count_rows(env.db, "reservations", f"host_id = {host.id}") == 0


def test_minutes_host_only(env, host):
    et = host.et()
    t = day_at(4, 10)
    before = dt.datetime.now(UTC)
    j = hold(env.s, host, et, t, auth=host.auth, minutes=30)
    until = parse_iso(j["reserved_until"])
    assert before + dt.timedelta(minutes=30) - dt.timedelta(seconds=3) <= until <= \
        dt.datetime.now(UTC) + dt.timedelta(minutes=30, seconds=3), until
    j = hold(env.s, host, et, t + dt.timedelta(hours=1), auth=host.session, minutes=1)
    assert parse_iso(j["reserved_until"]) <= dt.datetime.now(UTC) + dt.timedelta(minutes=1, seconds=3)
    j = hold(env.s, host, et, t + dt.timedelta(hours=2), auth=host.auth, minutes=60)
    assert parse_iso(j["reserved_until"]) >= before + dt.timedelta(minutes=60) - dt.timedelta(seconds=3)
    for bad in (0, 61, -5, "10", 2.5):
        r = hold_req(env.s, host, et, t + dt.timedelta(hours=3), auth=host.auth, minutes=bad)
        assert_error(r, 400, "VALIDATION_FAILED", "minutes")
    # anyone else asking for a length: refused, nothing held
    other = Host(env.s, env.db)
    r = hold_req(env.s, host, et, t + dt.timedelta(hours=3), auth=other.auth, minutes=30)
    assert_error(r, 403, "FORBIDDEN")
    r = hold_req(env.s, host, et, t + dt.timedelta(hours=3), minutes=30)
    assert r.status in (401, 403), r
    assert count_rows(env.db, "reservations", f"host_id = {host.id}") == 3
    # without minutes, an authenticated non-host gets the default hold
    j = hold(env.s, host, et, t + dt.timedelta(hours=3), auth=other.auth)
    assert parse_iso(j["reserved_until"]) <= dt.datetime.now(UTC) + dt.timedelta(minutes=5, seconds=3)


def test_holds_are_per_host(env, host):
    et = host.et()
    h2 = Host(env.s, env.db)
    et2 = h2.et()
    t = day_at(4, 14)
    hold(env.s, host, et, t)
    assert h2.book_req(et2, t).status == 201
    assert t.strftime("%H:%M") in slots_of(host, host.et(), t + dt.timedelta(days=1))


def test_timer_sweeps_expired_holds_and_idempotency_keys(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    h = Host(s, db)
    et = h.et()
    live = hold(s, h, et, day_at(3, 10))["reservation_uid"]
    old = hold(s, h, et, day_at(3, 11))["reservation_uid"]
    db.sql(f"UPDATE reservations SET expires_at = now() - interval '10 minutes' WHERE uid = '{old}'")
    for k in ("fresh", "stale"):
        r = call(s, "POST", "/api/reservations", {"slug": h.slug, "event_slug": et["slug"],
                                                  "start_time": iso(day_at(3, 12 if k == "fresh" else 13))},
                 headers={"Idempotency-Key": k})
        assert r.status == 201, r
    db.sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = encode(sha256('stale'::bytea), 'hex')")
    # the sweep runs a few seconds after start, then every minute
    wait_until_gone(db, "reservations", f"uid = '{old}'", timeout=15)
    wait_until_gone(db, "idempotency_keys", "key = encode(sha256('stale'::bytea), 'hex')", timeout=5)
    assert count_rows(db, "reservations", f"uid = '{live}'") == 1
    assert count_rows(db, "idempotency_keys", "key = encode(sha256('fresh'::bytea), 'hex')") == 1
