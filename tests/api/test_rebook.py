"""A reschedule that makes a new booking (issue 16's core feature, Cal.com's model; native:
POST /api/bookings/:id/reschedule with "new_booking": true): the old booking is cancelled and
linked to the new one, which has a new uid, new tokens and confirmation number; all in one
transaction, decided by the same engine as a move; refusals change nothing."""

import pytest

from booking_util import Host, assert_no_double_booking, day_at, env, iso  # noqa: F401 (env: the fixture)


@pytest.fixture(scope="module")
def host(env):
    return Host(env.s, env.db)


def rebook(h, bid, start, **extra):
    return h.act(bid, "reschedule", {"start_time": iso(start), "new_booking": True, **extra})


def test_rebook_links_old_and_new(env, host):
    et = host.et(duration_minutes=30, slot_interval_minutes=15)
    old = host.book(et, day_at(5, 10))
    r = rebook(host, old["id"], day_at(5, 10, 15), reason="clash")  # overlaps its own old time
    assert r.status == 200, r
    new = r.json()["booking"]
    assert new["uid"] != old["uid"] and new["id"] != old["id"]
    assert new["status"] == "confirmed" and new["start"] == iso(day_at(5, 10, 15))
    assert new["rescheduled_from_uid"] == old["uid"] and new["reschedule_reason"] == "clash"
    assert new["confirmation_number"] != old["confirmation_number"]
    assert new["invitee_email"] == old["invitee_email"] and new["customer_id"] == old["customer_id"]
    o = host.booking(old["id"])
    assert o["status"] == "cancelled" and o["rescheduled_to_uid"] == new["uid"] and o["reason"] == "clash"
    rows = env.db.sql(f"SELECT cancel_token_hash <> (SELECT cancel_token_hash FROM bookings WHERE id = {old['id']}), "
                      f"rescheduled_from FROM bookings WHERE id = {new['id']}")
    assert rows == [["t", str(old["id"])]]
    ev = env.db.sql(f"SELECT type, payload->'data'->'booking'->>'rescheduled_from_uid' FROM events "
                    f"WHERE booking_id = {new['id']}")
    assert ev == [["booking.rescheduled", old["uid"]]]
    assert env.db.sql(f"SELECT count(*) FROM events WHERE booking_id = {old['id']} AND type = 'booking.cancelled'") \
        == [["0"]]
    assert_no_double_booking(env.db)


def test_rebook_refusals_change_nothing(env, host):
    et = host.et(duration_minutes=30)
    a = host.book(et, day_at(6, 9))
    b = host.book(et, day_at(6, 11))
    before = env.db.sql("SELECT id, status, start_at FROM bookings ORDER BY id")
    r = rebook(host, a["id"], day_at(6, 11))  # taken by b
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    r = rebook(host, a["id"], day_at(6, 9, 7))  # off the grid
    assert r.status == 400, r
    host.act(b["id"], "cancel")
    before = env.db.sql("SELECT id, status, start_at FROM bookings ORDER BY id")
    r = rebook(host, b["id"], day_at(7, 9))  # a cancelled booking
    assert r.status == 409 and r.json()["status"] == "cancelled", r
    other = Host(env.s, env.db)
    r = other.act(a["id"], "reschedule", {"start_time": iso(day_at(7, 9)), "new_booking": True})
    assert r.status == 404, r
    r = host.act(a["id"], "reschedule", {"start_time": iso(day_at(7, 9)), "new_booking": "yes"})
    assert r.status == 400 and r.json()["field"] == "new_booking", r
    assert env.db.sql("SELECT id, status, start_at FROM bookings ORDER BY id") == before


def test_rebook_pending_stays_pending(env, host):
    et = host.et(duration_minutes=30, requires_confirmation=True)
    old = host.book(et, day_at(8, 14))
    assert old["status"] == "pending"
    r = rebook(host, old["id"], day_at(8, 15))
    assert r.status == 200, r
    new = r.json()["booking"]
    assert new["status"] == "pending"
    r = host.act(new["id"], "confirm")
    assert r.status == 200 and r.json()["booking"]["status"] == "confirmed", r
