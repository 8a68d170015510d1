"""Several lengths per event type (issue 16's core feature; Cal.com's lengthInMinutesOptions):
`durations` on event types (duration_minutes, the default, always among them), the slots'
`?duration=`, the booking's `duration_minutes`, and changes judged at the booking's own length."""

import datetime as dt

from accounts_util import call
from booking_util import Host, assert_no_double_booking, day_at, env, iso, parse_iso  # noqa: F401 (env: the fixture)


def slots(h, et, day, **q):
    extra = "".join(f"&{k}={v}" for k, v in q.items())
    r = call(h.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={day}&end={day}&format=range{extra}")
    return r


def test_durations_field(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, durations=[60, 30, 90])
    assert et["durations"] == [30, 60, 90]
    plain = h.et(duration_minutes=45)
    assert plain["durations"] == [45]
    assert h.et_put(et["id"], durations=None)["durations"] == [30]
    for bad in ([], [0], [2000], ["30"], [30] * 13, "30", {"a": 1}):
        r = h.call("PUT", f"/api/event-types/{et['id']}", {"durations": bad})
        assert r.status == 400 and r.json()["field"] == "durations", (bad, r)
    r = h.call("PUT", f"/api/event-types/{et['id']}", {"durations": [60, 90]})  # the default is missing
    assert r.status == 400 and r.json()["field"] == "durations", r
    r = h.call("PUT", f"/api/event-types/{et['id']}", {"duration_minutes": 60, "durations": [60, 90]})
    assert r.status == 200 and r.json()["durations"] == [60, 90], r


def test_slots_and_bookings_pick_a_length(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, durations=[30, 60])
    day = day_at(4).date().isoformat()
    r30, r60 = slots(h, et, day), slots(h, et, day, duration=60)
    assert r30.status == 200 and r60.status == 200
    s30, s60 = r30.json()["slots"][day], r60.json()["slots"][day]
    assert all(parse_iso(s["end"]) - parse_iso(s["start"]) == dt.timedelta(minutes=30) for s in s30)
    assert all(parse_iso(s["end"]) - parse_iso(s["start"]) == dt.timedelta(minutes=60) for s in s60)
    assert s60[-1]["start"] != s30[-1]["start"]  # the last 60-minute slot starts earlier
    r = slots(h, et, day, duration=45)
    assert r.status == 400 and r.json()["field"] == "duration", r
    r = slots(h, et, day, duration="x")
    assert r.status == 400 and r.json()["field"] == "duration", r

    b = h.book(et, day_at(4, 10), duration_minutes=60)
    assert b["duration_minutes"] == 60 and b["end"] == iso(day_at(4, 11))
    before = env.db.sql("SELECT count(*) FROM bookings")
    r = h.book_req(et, day_at(4, 13), duration_minutes=45)
    assert r.status == 400 and r.json()["field"] == "duration_minutes", r
    assert env.db.sql("SELECT count(*) FROM bookings") == before
    r = h.book_req(et, day_at(4, 10, 30))  # inside the 60-minute booking
    assert r.status == 409, r
    # moved, in place or as a new booking: still 60 minutes
    m = h.act(b["id"], "reschedule", {"start_time": iso(day_at(5, 9))})
    assert m.status == 200 and m.json()["booking"]["end"] == iso(day_at(5, 10)), m
    n = h.act(b["id"], "reschedule", {"start_time": iso(day_at(5, 14)), "new_booking": True})
    assert n.status == 200 and n.json()["booking"]["end"] == iso(day_at(5, 15)), n
    assert_no_double_booking(env.db)


def test_org_types_take_lengths(env):
    from team_util import Org
    org = Org(env.s)
    et = org.event_type(name="Consult", duration_minutes=30, durations=[30, 45])
    assert et["durations"] == [30, 45]
    day = day_at(7).date()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    s = org.slots(et, day.isoformat(), duration=45)
    starts = s[day.isoformat()]
    assert starts and all(parse_iso(x["end"]) - parse_iso(x["start"]) == dt.timedelta(minutes=45) for x in starts)
    r = org.book(et, starts[0]["start"], duration_minutes=45)
    assert r.status == 201 and r.json()["booking"]["duration_minutes"] == 45, r
