"""Recurring event types (issue 16's core feature; Cal.com's booking "option 3"): recurrence
{frequency weekly|monthly, interval, occurrences <= 24} on event types; booking one books every
occurrence in one transaction or none (409 naming the dates that are not free); each occurrence
can be cancelled alone, or with the later ones (cancel {following: true})."""

import datetime as dt

from booking_util import Host, assert_no_double_booking, day_at, env, iso, parse_iso  # noqa: F401 (env: the fixture)

WEEKLY4 = {"frequency": "weekly", "interval": 1, "occurrences": 4}


def test_recurrence_field(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, recurrence=WEEKLY4)
    assert et["recurrence"] == WEEKLY4
    assert h.et(duration_minutes=30)["recurrence"] is None
    for bad in ({"frequency": "daily", "interval": 1, "occurrences": 4},
                {"frequency": "weekly", "interval": 0, "occurrences": 4},
                {"frequency": "weekly", "interval": 1, "occurrences": 25},
                {"frequency": "weekly", "interval": 1}, "weekly", [1],
                {"frequency": "weekly", "interval": 1, "occurrences": 4, "x": 1}):
        r = h.call("PUT", f"/api/event-types/{et['id']}", {"recurrence": bad})
        assert r.status == 400 and r.json()["field"] == "recurrence", (bad, r)
    assert h.et_put(et["id"], recurrence=None)["recurrence"] is None


def test_series_all_or_nothing(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, recurrence=WEEKLY4, max_future_days=120)
    start = day_at(3, 9)
    r = h.book_req(et, start, timezone="UTC")
    assert r.status == 201, r
    j = r.json()
    bs = j["bookings"]
    assert len(bs) == 4 and j["booking"] == bs[0]
    assert [parse_iso(b["start"]) for b in bs] == [start + dt.timedelta(weeks=k) for k in range(4)]
    assert len({b["uid"] for b in bs}) == 4 and len({b["recurring_uid"] for b in bs}) == 1
    assert len({b["cancel_token"] for b in bs}) == 4 and len({b["confirmation_number"] for b in bs}) == 4
    assert env.db.sql(f"SELECT count(*) FROM events WHERE type = 'booking.created' AND booking_id IN "
                      f"({','.join(str(b['id']) for b in bs)})") == [["4"]]
    # two of four, on request; more than the type has, or a count on a plain type: 400
    r = h.book_req(et, day_at(3, 11), recurrence_count=2)
    assert r.status == 201 and len(r.json()["bookings"]) == 2, r
    r = h.book_req(et, day_at(3, 12), recurrence_count=5)
    assert r.status == 400 and r.json()["field"] == "recurrence_count", r
    plain = h.et(duration_minutes=30)
    r = h.book_req(plain, day_at(3, 12), recurrence_count=2)
    assert r.status == 400 and r.json()["field"] == "recurrence_count", r
    # the third week taken: nothing written, the date named
    h.book(plain, day_at(3 + 14, 13))
    before = env.db.sql("SELECT count(*) FROM bookings")
    r = h.book_req(et, day_at(3, 13))
    assert r.status == 409, r
    assert (day_at(3 + 14, 13)).date().isoformat() in r.json()["error"], r.json()
    assert env.db.sql("SELECT count(*) FROM bookings") == before
    assert_no_double_booking(env.db)


def test_series_keeps_its_wall_clock_across_dst(env):
    """Weekly at 09:00 New York time through the March change: the UTC hour moves, the local one not."""
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3},
              max_future_days=3650)
    # a Monday 09:00 New York, two weeks before the second Sunday of March next year
    y = dt.date.today().year + 1
    march = dt.date(y, 3, 8)
    while march.weekday() != 6:
        march += dt.timedelta(days=1)  # the second Sunday of March
    first = march - dt.timedelta(days=13)  # the Monday two weeks before it
    ny_off = dt.timezone(dt.timedelta(hours=-5))
    start = dt.datetime(first.year, first.month, first.day, 9, 0, tzinfo=ny_off)
    r = h.book_req(et, start, timezone="America/New_York")
    assert r.status == 201, r
    hours = [parse_iso(b["start"]).astimezone(dt.timezone.utc).hour for b in r.json()["bookings"]]
    assert hours == [14, 14, 13], hours  # 09:00 EST, 09:00 EST, 09:00 EDT


def test_monthly_and_cancel_following(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, recurrence={"frequency": "monthly", "interval": 1, "occurrences": 3},
              max_future_days=400)
    d = dt.date.today() + dt.timedelta(days=3)
    if d.day > 28:
        d = d.replace(day=28) if d.month != 12 else d.replace(day=28)
    start = dt.datetime(d.year, d.month, d.day, 10, tzinfo=dt.timezone.utc)
    r = h.book_req(et, start)
    assert r.status == 201, r
    bs = r.json()["bookings"]
    assert [parse_iso(b["start"]).day for b in bs] == [d.day] * 3
    # the second one and what follows
    r = h.act(bs[1]["id"], "cancel", {"following": True, "reason": "moving away"})
    assert r.status == 200, r
    st = {int(i): s for i, s in env.db.sql("SELECT id, status FROM bookings WHERE id IN "
                                           f"({','.join(str(b['id']) for b in bs)})")}
    assert [st[b["id"]] for b in bs] == ["confirmed", "cancelled", "cancelled"]
    # the 31st of a month cannot start a monthly series
    r = h.book_req(et, dt.datetime(2027, 1, 31, 10, tzinfo=dt.timezone.utc))
    assert r.status == 400 and r.json()["field"] == "start_time", r
