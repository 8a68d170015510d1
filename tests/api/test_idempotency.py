"""Issue 5, Idempotency-Key (Kordless) on every POST: the first request's status and body are
stored for 24 h and replayed (Idempotent-Replayed: true) for the same key from the same caller
with the same request; the same key with a different body -> 422 IDEMPOTENCY_KEY_REUSED. Scope:
the API key or the user for authenticated calls, the client IP for public ones. (The race of
20 identical requests is in test_booking_races.py; the sweep timer in test_reservations.py.)
"""

import datetime as dt
import json

import pytest

from accounts_util import call_from
from booking_util import (Host, assert_error, call, count_rows, day_at, env, iso, next_ip,  # noqa: F401
                          unique)


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def key(k):
    return {"Idempotency-Key": k}


def replayed(r):
    return r.header("Idempotent-Replayed") == "true"


def test_replay_same_request(env, host):
    et = host.et()
    t = day_at(3, 10)
    k = unique("book-")
    r1 = host.book_req(et, t, headers=key(k))
    assert r1.status == 201, r1
    assert not replayed(r1)
    r2 = host.book_req(et, t, headers=key(k))
    assert r2.status == 201, r2
    assert replayed(r2), r2.headers
    assert r2.body == r1.body
    assert r2.header("Content-Type").startswith("application/json")
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 1
    assert count_rows(env.db, "events", f"host_id = {host.id}") == 1
    # stored: the first status, and the body sealed (only a caller with the key can open it);
    # the key itself is kept only as its SHA-256
    row = env.db.sql(f"SELECT status, body FROM idempotency_keys WHERE key = encode(sha256('{k}'::bytea), 'hex')")
    assert len(row) == 1 and row[0][0] == "201", row
    assert row[0][1].startswith("v1.") and r1.json()["booking"]["uid"] not in row[0][1]
    assert count_rows(env.db, "idempotency_keys", f"key = '{k}'") == 0
    # without the key the same body is an ordinary second attempt: taken
    r3 = host.book_req(et, t)
    assert r3.status == 409 and not replayed(r3), r3


def test_same_key_different_request_422(env, host):
    et = host.et()
    et2 = host.et()
    t = day_at(3, 11)
    k = unique("k-")
    assert host.book_req(et, t, headers=key(k)).status == 201
    for r in (host.book_req(et, t + dt.timedelta(hours=1), headers=key(k)),          # another body
              host.book_req(et, t, headers=key(k), email="other@example.com"),
              host.book_req(et2, t + dt.timedelta(hours=2), headers=key(k))):         # another route
        assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
        assert not replayed(r)
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 1


def test_errors_are_replayed_too(env, host):
    et = host.et()
    t = day_at(3, 12)
    blocker = host.book(et, t, email="first@example.com")
    k = unique("late-")
    r1 = host.book_req(et, t, headers=key(k))
    assert r1.status == 409, r1
    # the slot frees up, but the key's answer was given
    assert host.act(blocker["id"], "cancel").status == 200
    r2 = host.book_req(et, t, headers=key(k))
    assert r2.status == 409 and replayed(r2) and r2.body == r1.body, r2
    assert count_rows(env.db, "bookings", f"host_id = {host.id} AND status = 'confirmed'") == 0
    # a 400 as well
    k2 = unique("bad-")
    r1 = host.book_req(et, t, headers=key(k2), email="nope")
    assert r1.status == 400
    r2 = host.book_req(et, t, headers=key(k2), email="nope")
    assert r2.status == 400 and replayed(r2) and r2.body == r1.body


def test_public_scope_is_the_client_ip(env, host):
    et = host.et()
    t = day_at(3, 13)
    k = unique("ip-")
    body = {"name": "Ann", "email": "ann@example.com", "start_time": iso(t)}
    ip1, ip2 = next_ip(), next_ip()
    r1 = call_from(env.s, ip1, "POST", host.book_path(et), body, headers=key(k))
    assert r1.status == 201, r1
    # same key and body from another address: not a replay, so the slot is simply taken
    r2 = call_from(env.s, ip2, "POST", host.book_path(et), body, headers=key(k))
    assert r2.status == 409 and not replayed(r2), r2
    r3 = call_from(env.s, ip1, "POST", host.book_path(et), body, headers=key(k))
    assert r3.status == 201 and replayed(r3) and r3.body == r1.body, r3
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 1


def test_authenticated_scope_is_the_key_or_the_user(env, host):
    k = "create-type"
    body = {"name": "Idem Type", "min_notice_hours": 0}
    r1 = host.call("POST", "/api/event-types", body, headers=key(k))
    assert r1.status == 201, r1
    r2 = host.call("POST", "/api/event-types", body, headers=key(k))
    assert r2.status == 201 and replayed(r2) and r2.body == r1.body, r2
    # the same user's session is another scope than its API key
    r3 = host.call("POST", "/api/event-types", body, auth=host.session, headers=key(k))
    assert r3.status == 201 and not replayed(r3), r3
    assert r3.json()["id"] != r1.json()["id"]
    r4 = host.call("POST", "/api/event-types", body, auth=host.session, headers=key(k))
    assert replayed(r4) and r4.json()["id"] == r3.json()["id"]
    # another user with the same key and body never sees the first user's answer
    other = Host(env.s, env.db)
    r5 = other.call("POST", "/api/event-types", body, headers=key(k))
    assert r5.status == 201 and not replayed(r5), r5
    assert r5.json()["id"] not in (r1.json()["id"], r3.json()["id"])
    assert count_rows(env.db, "event_types", f"user_id = {host.id} AND name = 'Idem Type'") == 2
    assert count_rows(env.db, "event_types", f"user_id = {other.id} AND name = 'Idem Type'") == 1


def test_host_actions_and_reservations(env, host):
    et = host.et()
    b = host.book(et, day_at(3, 14))
    k = unique("cancel-")
    r1 = host.act(b["id"], "cancel", {"reason": "x"}, headers=key(k))
    assert r1.status == 200 and r1.json() == {"ok": True}, r1
    r2 = host.act(b["id"], "cancel", {"reason": "x"}, headers=key(k))
    assert r2.status == 200 and replayed(r2) and r2.body == r1.body, r2   # not a 409: a replay
    assert count_rows(env.db, "events", f"booking_id = {b['id']} AND type = 'booking.cancelled'") == 1
    # reservations
    body = {"slug": host.slug, "event_slug": et["slug"], "start_time": iso(day_at(3, 15))}
    k = unique("hold-")
    r1 = call(env.s, "POST", "/api/reservations", body, headers=key(k))
    assert r1.status == 201, r1
    r2 = call(env.s, "POST", "/api/reservations", body, headers=key(k))
    assert r2.status == 201 and replayed(r2) and r2.body == r1.body, r2
    assert count_rows(env.db, "reservations", f"host_id = {host.id}") == 1
    # invitee links
    b2 = host.book(et, day_at(3, 16))
    k = unique("inv-")
    path = f"/api/reschedule/{b2['reschedule_token']}"
    r1 = call(env.s, "POST", path, {"start_time": iso(day_at(3, 17))}, headers=key(k))
    assert r1.status == 200, r1
    r2 = call(env.s, "POST", path, {"start_time": iso(day_at(3, 17))}, headers=key(k))
    assert r2.status == 200 and replayed(r2) and r2.body == r1.body, r2
    assert count_rows(env.db, "events", f"booking_id = {b2['id']} AND type = 'booking.rescheduled'") == 1


def test_key_validation_and_get_ignores_it(env, host):
    et = host.et()
    t = day_at(3, 18)
    r = host.book_req(et, t, headers=key("k" * 256))
    assert_error(r, 400, "VALIDATION_FAILED", "Idempotency-Key")
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0
    r = host.book_req(et, t, headers=key("k" * 255))
    assert r.status == 201, r
    r = host.book_req(et, t, headers=key("k" * 255))
    assert r.status == 201 and replayed(r), r
    n = count_rows(env.db, "idempotency_keys")
    r = host.call("GET", "/api/bookings", headers=key("get-key"))
    assert r.status == 200 and not replayed(r)
    assert count_rows(env.db, "idempotency_keys") == n


def test_keys_expire_after_24_hours(env, host):
    et = host.et()
    t = day_at(3, 19)
    k = unique("old-")
    assert host.book_req(et, t, headers=key(k)).status == 201
    env.db.sql(f"UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = encode(sha256('{k}'::bytea), 'hex')")
    r = host.book_req(et, t, headers=key(k))
    assert r.status == 409 and not replayed(r), r   # ran again: the slot is taken (by the first run)
    # within 24 hours it is still replayed
    k2 = unique("young-")
    assert host.book_req(et, t + dt.timedelta(hours=1), headers=key(k2)).status == 201
    env.db.sql(f"UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = encode(sha256('{k2}'::bytea), 'hex')")
    r = host.book_req(et, t + dt.timedelta(hours=1), headers=key(k2))
    assert r.status == 201 and replayed(r), r


def test_replayed_booking_keeps_tokens_secret(env, host):
    """The invitee's tokens are "shown in this response only; stored hashed": storing the
    response for replays must not leave them readable in the database, and a replay that
    carries them is as uncacheable as the original."""
    et = host.et()
    k = unique("secret-")
    r1 = host.book_req(et, day_at(3, 20), headers=key(k))
    assert r1.status == 201, r1
    assert r1.header("Cache-Control") == "no-store", r1.headers
    b = r1.json()["booking"]
    for tok in (b["cancel_token"], b["reschedule_token"]):
        rows = env.db.sql(f"SELECT count(*) FROM idempotency_keys WHERE body LIKE '%{tok}%'")
        assert rows == [["0"]], "a plaintext invitee token is stored in idempotency_keys"
    r2 = host.book_req(et, day_at(3, 20), headers=key(k))
    assert r2.status == 201 and replayed(r2), r2
    assert r2.header("Cache-Control") == "no-store", r2.headers
