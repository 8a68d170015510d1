"""GET /api/availability/:slug/:event_slug (issue 4): shape, zones, format=range, seats,
buffers, notice, horizon, limits, reservations, booking states, secret/inactive types,
parameter errors, ETag/304, cache invalidation, explain=1 and its access control."""

import datetime as dt
import time

import pytest

from sched_util import (Host, assert_error, call, check_range_offsets, env, expected, next_weekday,  # noqa: F401
                        parse_rfc3339, times_format, today_utc, window)

DAY = dt.timedelta(days=1)
ALL_DAYS_9_17 = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(7)]
ALL_DAY = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]


def at(d, h, m=0, zone=dt.timezone.utc):
    return int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=zone).timestamp())


def hhmm_utc(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%H:%M")


@pytest.fixture
def work_day():
    """A Tuesday at least 3 days ahead (min notice and the default 60-day horizon are no issue)."""
    return next_weekday(today_utc(), 2, min_days=3)


@pytest.fixture
def utc_host(env):
    h = Host(env.s, env.db, timezone="UTC")
    h.set_default_schedule(timezone="UTC", rules=ALL_DAYS_9_17)
    return h


def grid(d, start_h, end_h, step_min, dur_min):
    out = []
    t = at(d, start_h)
    while t + dur_min * 60 <= at(d, end_h):
        out.append(t)
        t += step_min * 60
    return out


# ----------------------------------------------------------------------------
# shape and zones


def test_shape_dates_omitted_and_zone_conversion(env):
    h = Host(env.s, env.db, timezone="Europe/Warsaw")  # default schedule: Mon-Fri 09:00-17:00 Warsaw
    et = h.et(name="30 Minute Call", min_notice_hours=0)
    sat = next_weekday(today_utc(), 6, min_days=3)
    start, end = sat, sat + 3 * DAY  # Sat, Sun, Mon, Tue
    sched = h.default_schedule()
    for tz in ("UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati", "Europe/Warsaw"):
        r = h.avail(et["slug"], start, end, tz)
        assert r.status == 200, r
        assert (r.header("Content-Type") or "").startswith("application/json")
        assert r.header("ETag"), r
        j = r.json()
        assert set(j) == {"slots"}
        f, t = window(tz, start, end)
        exp = expected(sched["timezone"], sched["rules"], sched["overrides"],
                       {"id": et["id"], "duration": 30, "min_notice_hours": 0}, [], time.time(), f, t)
        assert exp, "the window should hold slots"
        assert j["slots"] == times_format([x[0] for x in exp], tz), tz
        for date, times in j["slots"].items():
            assert times, f"empty date {date} listed"
            assert start.isoformat() <= date <= end.isoformat()
    # in UTC and Warsaw the weekend is simply absent
    j = h.slots(et["slug"], start, end, "Europe/Warsaw")
    assert sorted(j) == [(sat + 2 * DAY).isoformat(), (sat + 3 * DAY).isoformat()]
    assert j[(sat + 2 * DAY).isoformat()][0] == "09:00" and j[(sat + 2 * DAY).isoformat()][-1] == "16:30"
    assert len(j[(sat + 2 * DAY).isoformat()]) == 16


def test_default_timezone_is_utc(env, utc_host, work_day):
    et = utc_host.et(min_notice_hours=0)
    a = utc_host.slots(et["slug"], work_day, work_day)
    b = utc_host.slots(et["slug"], work_day, work_day, "UTC")
    assert a == b == {work_day.isoformat(): [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]}


def test_no_slots_gives_empty_object(env, utc_host, work_day):
    utc_host.set_default_schedule(rules=[])
    et = utc_host.et(min_notice_hours=0)
    assert utc_host.slots(et["slug"], work_day, work_day + 6 * DAY) == {}
    r = utc_host.avail(et["slug"], work_day, work_day, fmt="range")
    assert r.json() == {"slots": {}}


def test_format_range(env, work_day):
    h = Host(env.s, env.db, timezone="America/New_York")
    et = h.et(duration_minutes=45, slot_interval_minutes=60, min_notice_hours=0)
    for tz in ("America/New_York", "Asia/Kathmandu", "UTC", "Australia/Lord_Howe"):
        sl = h.slots(et["slug"], work_day, work_day + DAY, tz, "range")
        check_range_offsets(sl, tz)
        items = [it for v in sl.values() for it in v]
        assert items
        for it in items:
            assert set(it) == {"start", "end", "seats_remaining"}, it
            assert it["seats_remaining"] == 1
            a, b = parse_rfc3339(it["start"]), parse_rfc3339(it["end"])
            assert (b - a) == dt.timedelta(minutes=45)
        if tz == "UTC":
            assert items[0]["start"].endswith("Z"), items[0]
    nyd = h.slots(et["slug"], work_day, work_day, "America/New_York", "range")[work_day.isoformat()]
    assert [it["start"][11:16] for it in nyd] == [f"{x:02d}:00" for x in range(9, 17)]
    assert nyd[0]["start"][-6:] in ("-05:00", "-04:00")


def test_schedule_id_selects_the_schedule(env, utc_host, work_day):
    nights = utc_host.sched(name="Nights", timezone="Asia/Tokyo",
                            rules=[{"day": d, "start": "20:00", "end": "22:00"} for d in range(7)])
    a = utc_host.et(duration_minutes=60, min_notice_hours=0, schedule_id=nights["id"])
    b = utc_host.et(duration_minutes=60, min_notice_hours=0)
    assert utc_host.slots(a["slug"], work_day, work_day, "Asia/Tokyo") == {work_day.isoformat(): ["20:00", "21:00"]}
    assert utc_host.slots(b["slug"], work_day, work_day) == {work_day.isoformat(): [f"{x:02d}:00" for x in range(9, 17)]}


def test_overrides(env, utc_host, work_day):
    utc_host.set_default_schedule(overrides=[
        {"date": work_day.isoformat(), "start": "13:00", "end": "14:30"},
        {"date": work_day.isoformat(), "start": "20:00", "end": "21:00"},
        {"date": (work_day + DAY).isoformat(), "unavailable": True},
    ])
    et = utc_host.et(duration_minutes=30, min_notice_hours=0)
    sl = utc_host.slots(et["slug"], work_day, work_day + 2 * DAY)
    assert sl == {
        work_day.isoformat(): ["13:00", "13:30", "14:00", "20:00", "20:30"],
        (work_day + 2 * DAY).isoformat(): [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)],
    }


def test_slot_interval_grid(env, utc_host, work_day):
    utc_host.set_default_schedule(rules=[{"day": d, "start": "09:10", "end": "11:00"} for d in range(7)])
    et = utc_host.et(duration_minutes=30, slot_interval_minutes=20, min_notice_hours=0)
    assert utc_host.slots(et["slug"], work_day, work_day)[work_day.isoformat()] == \
        ["09:10", "09:30", "09:50", "10:10", "10:30"]
    et2 = utc_host.et(duration_minutes=60, slot_interval_minutes=45, min_notice_hours=0)
    assert utc_host.slots(et2["slug"], work_day, work_day)[work_day.isoformat()] == ["09:10", "09:55"]


# ----------------------------------------------------------------------------
# seats, buffers, booking states, reservations


def test_seats(env, utc_host, work_day):
    utc_host.set_default_schedule(rules=[{"day": d, "start": "09:00", "end": "13:00"} for d in range(7)])
    et = utc_host.et(duration_minutes=60, seats=3, min_notice_hours=0)
    other = utc_host.et(duration_minutes=60)
    d = work_day
    utc_host.book(et["id"], at(d, 9), at(d, 10), seats=2, seated=True)
    utc_host.book(et["id"], at(d, 10), at(d, 11), seats=1, seated=True)
    utc_host.reserve(et["id"], at(d, 10), at(d, 11), time.time() + 600)
    utc_host.book(et["id"], at(d, 11), at(d, 12), seats=2, seated=True)
    utc_host.book(et["id"], at(d, 11), at(d, 12), seats=1, seated=True)
    utc_host.book(et["id"], at(d, 11), at(d, 12), "cancelled", seats=1, seated=True)
    utc_host.book(other["id"], at(d, 12), at(d, 12, 15))  # another type overlapping: the slot is gone
    sl = utc_host.slots(et["slug"], d, d, fmt="range")[d.isoformat()]
    got = {it["start"][11:16]: it["seats_remaining"] for it in sl}
    assert got == {"09:00": 1, "10:00": 1}, got
    # a booking of the seated type at an off-grid start blocks like any booking
    utc_host.book(et["id"], at(d + DAY, 9, 30), at(d + DAY, 10, 30), seats=1, seated=True)
    sl = utc_host.slots(et["slug"], d + DAY, d + DAY, fmt="range")[(d + DAY).isoformat()]
    assert {it["start"][11:16]: it["seats_remaining"] for it in sl} == {"11:00": 3, "12:00": 3}
    ex = utc_host.avail(et["slug"], d, d, explain=True, auth="host").json()["explain"]
    by = {e["start"][11:16]: e for e in ex}
    assert by["11:00"]["reason"] == "no_seats" and by["11:00"]["offered"] is False
    assert by["09:00"]["reason"] == "free" and by["09:00"]["seats_remaining"] == 1


def test_buffers_of_both_event_types(env, utc_host, work_day):
    a = utc_host.et(duration_minutes=30, slot_interval_minutes=15, buffer_before=15, buffer_after=10,
                    min_notice_hours=0)
    b = utc_host.et(duration_minutes=30, buffer_before=5, buffer_after=20)
    d = work_day
    bid = utc_host.book(b["id"], at(d, 12), at(d, 12, 30))
    # [t-15, t+40) must miss [11:55, 12:50): blocked for 11:15 < t < 13:05
    blocked = {"11:30", "11:45", "12:00", "12:15", "12:30", "12:45", "13:00"}
    all_ = [hhmm_utc(t) for t in grid(d, 9, 17, 15, 30)]
    assert utc_host.slots(a["slug"], d, d)[d.isoformat()] == [x for x in all_ if x not in blocked]
    ex = utc_host.avail(a["slug"], d, d, explain=True, auth="host").json()["explain"]
    by = {e["start"][11:16]: e for e in ex}
    for x in ("11:45", "12:00", "12:15"):
        assert (by[x]["reason"], by[x].get("booking_id")) == ("booking", bid), by[x]
    for x in ("11:30", "12:30", "12:45", "13:00"):
        assert (by[x]["reason"], by[x].get("booking_id")) == ("buffer", bid), by[x]
    assert by["11:15"]["reason"] == "free" and by["13:15"]["reason"] == "free"
    # the other type sees a's buffers the same way: a booking of a at 15:00 with b's 30-min slots
    utc_host.book(a["id"], at(d, 15), at(d, 15, 30))
    # b: [t-5, t+50) vs [14:45, 15:40): blocked for 13:55 < t < 15:45 on b's 30-min grid
    got = utc_host.slots(b["slug"], d, d)  # b has 4 h notice but the day is far enough
    assert got[d.isoformat()] == [x for x in (hhmm_utc(t) for t in grid(d, 9, 17, 30, 30))
                                  if not ("11:00" < x < "13:00" or "13:55" < x < "15:45")], got
    # (b around its own booking at 12:00: [t-5, t+50) vs [11:55, 12:50) -> 11:05 < t < 12:55)


def test_booking_states(env, utc_host, work_day):
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    d = work_day
    utc_host.book(et["id"], at(d, 9), at(d, 10), "pending")
    utc_host.book(et["id"], at(d, 10), at(d, 11), "confirmed")
    utc_host.book(et["id"], at(d, 11), at(d, 12), "cancelled")
    utc_host.book(et["id"], at(d, 12), at(d, 13), "declined")
    assert utc_host.slots(et["slug"], d, d)[d.isoformat()] == [f"{x:02d}:00" for x in range(11, 17)]


def test_other_hosts_bookings_do_not_count(env, utc_host, work_day):
    other = Host(env.s, env.db, timezone="UTC")
    oet = other.et()
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    other.book(oet["id"], at(work_day, 9), at(work_day, 17))
    assert len(utc_host.slots(et["slug"], work_day, work_day)[work_day.isoformat()]) == 8


def test_reservations_live_and_expired(env, utc_host, work_day):
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    other = utc_host.et(duration_minutes=60, buffer_after=60)
    d = work_day
    live = utc_host.reserve(et["id"], at(d, 9), at(d, 10), time.time() + 900)
    utc_host.reserve(et["id"], at(d, 11), at(d, 12), time.time() - 60)  # expired
    live2 = utc_host.reserve(other["id"], at(d, 13), at(d, 14), time.time() + 900)  # another type, with its buffer
    assert utc_host.slots(et["slug"], d, d)[d.isoformat()] == ["10:00", "11:00", "12:00", "15:00", "16:00"]
    ex = utc_host.avail(et["slug"], d, d, explain=True, auth="host").json()["explain"]
    by = {e["start"][11:16]: e for e in ex}
    assert (by["09:00"]["reason"], by["09:00"].get("reservation_id")) == ("reservation", live)
    assert (by["13:00"]["reason"], by["13:00"].get("reservation_id")) == ("reservation", live2)
    assert by["14:00"]["reason"] == "buffer"


def test_reservation_expiry_is_honoured_by_the_cache(env, utc_host, work_day):
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    d = work_day
    utc_host.reserve(et["id"], at(d, 9), at(d, 10), time.time() + 2)
    assert "09:00" not in utc_host.slots(et["slug"], d, d)[d.isoformat()]
    time.sleep(3.2)
    assert "09:00" in utc_host.slots(et["slug"], d, d)[d.isoformat()]


# ----------------------------------------------------------------------------
# notice, horizon, limits


def _compare_now_sensitive(h, et, ev, start, end, tz="UTC"):
    sched = h.default_schedule()
    f, t = window(tz, start, end)
    before = time.time()
    got = h.instants(et["slug"], start, end, tz)
    after = time.time()
    opts = [[(a, b) for a, b, _ in expected(sched["timezone"], sched["rules"], sched["overrides"], ev, [], now, f, t)]
            for now in (before, after)]
    assert got in opts, (got[:3], opts[0][:3])
    return got


def test_min_notice(env, utc_host):
    utc_host.set_default_schedule(rules=ALL_DAY)
    et = utc_host.et(duration_minutes=60, min_notice_hours=5)
    today = today_utc()
    got = _compare_now_sensitive(utc_host, et, {"id": et["id"], "duration": 60, "min_notice_hours": 5},
                                 today, today + DAY)
    assert got and got[0][0] >= time.time() + 5 * 3600 - 5
    assert got[0][0] < time.time() + 6 * 3600
    assert utc_host.et(name="Defaults")["min_notice_hours"] == 4


def test_horizon(env, utc_host):
    utc_host.set_default_schedule(rules=ALL_DAY)
    et = utc_host.et(duration_minutes=60, min_notice_hours=0, max_future_days=2)
    today = today_utc()
    got = _compare_now_sensitive(utc_host, et, {"id": et["id"], "duration": 60, "max_future_days": 2},
                                 today, today + 4 * DAY)
    assert got[-1][0] < time.time() + 2 * 86400
    assert got[-1][0] >= time.time() + 2 * 86400 - 3600 - 5
    later = utc_host.slots(et["slug"], today + 3 * DAY, today + 5 * DAY)
    assert later == {}


def test_limit_per_day(env, work_day):
    h = Host(env.s, env.db, timezone="America/New_York")
    h.set_default_schedule(timezone="America/New_York", rules=ALL_DAYS_9_17)
    et = h.et(duration_minutes=60, min_notice_hours=0, limit_per_day=2)
    other = h.et(duration_minutes=60)
    d = work_day
    # two of this type on d (in the schedule's zone: 23:30 NY on d is still d); one on d+1
    from zoneinfo import ZoneInfo
    z = ZoneInfo("America/New_York")
    t1 = int(dt.datetime(d.year, d.month, d.day, 10, tzinfo=z).timestamp())
    t2 = int(dt.datetime(d.year, d.month, d.day, 23, 30, tzinfo=z).timestamp())
    h.book(et["id"], t1, t1 + 3600)
    h.book(et["id"], t2, t2 + 3600)
    t3 = t1 + 86400
    h.book(et["id"], t3, t3 + 3600)
    h.book(other["id"], t3 + 3600, t3 + 7200)  # other types do not count
    h.book(et["id"], t3 + 4 * 3600, t3 + 5 * 3600, "cancelled")  # nor cancelled ones
    sl = h.slots(et["slug"], d, d + 2 * DAY, "America/New_York")
    assert d.isoformat() not in sl
    assert sl[(d + DAY).isoformat()] == [f"{x:02d}:00" for x in range(9, 17) if x not in (10, 11)]
    assert len(sl[(d + 2 * DAY).isoformat()]) == 8
    ex = h.avail(et["slug"], d, d, "America/New_York", explain=True, auth="host").json()["explain"]
    reasons = {e["start"][11:16]: e["reason"] for e in ex if e["start"][11:16] >= "09:00" and e["start"][11:16] < "17:00"}
    assert reasons["10:00"] == "booking" and reasons["09:00"] == "limit_day" and reasons["16:00"] == "limit_day"


def test_limit_per_week(env, work_day):
    h = Host(env.s, env.db, timezone="UTC")
    h.set_default_schedule(timezone="UTC", rules=ALL_DAYS_9_17)
    et = h.et(duration_minutes=60, min_notice_hours=0, limit_per_week=2, max_future_days=90)
    mon = work_day - DAY  # ISO weeks start on Monday
    h.book(et["id"], at(work_day, 10), at(work_day, 11))
    h.book(et["id"], at(work_day + DAY, 10), at(work_day + DAY, 11), "pending")
    sl = h.slots(et["slug"], mon, mon + 8 * DAY)
    assert sorted(sl) == [(mon + 7 * DAY).isoformat(), (mon + 8 * DAY).isoformat()], sorted(sl)
    ex = h.avail(et["slug"], mon, mon, explain=True, auth="host").json()["explain"]
    assert {e["reason"] for e in ex if e["start"][11:16] == "12:00"} == {"limit_week"}


# ----------------------------------------------------------------------------
# secret, inactive, unknown


def test_secret_bookable_by_link_not_listed(env, utc_host, work_day):
    pub = utc_host.et(name="Public One", min_notice_hours=0)
    sec = utc_host.et(name="Hidden One", is_secret=True, min_notice_hours=0)
    assert utc_host.slots(sec["slug"], work_day, work_day)[work_day.isoformat()]
    page = call(env.s, "GET", f"/api/public/{utc_host.slug}")
    assert page.status == 200
    assert [e["slug"] for e in page.json()["event_types"]] == [pub["slug"]]
    utc_host.et_put(sec["id"], is_secret=False)
    page = call(env.s, "GET", f"/api/public/{utc_host.slug}")
    assert [e["slug"] for e in page.json()["event_types"]] == [pub["slug"], sec["slug"]]


def test_not_found(env, utc_host, work_day):
    et = utc_host.et(min_notice_hours=0)
    gone = utc_host.et(min_notice_hours=0)
    utc_host.et_delete(gone["id"])
    other = Host(env.s, env.db)
    oet = other.et()
    for slug, ev in [(utc_host.slug, gone["slug"]), (utc_host.slug, "nope"), ("no-such-host", et["slug"]),
                     (utc_host.slug, oet["slug"]), ("x" * 61, et["slug"]), (utc_host.slug, "y" * 61)]:
        r = call(env.s, "GET", f"/api/availability/{slug}/{ev}?start={work_day}&end={work_day}")
        assert_error(r, 404, "NOT_FOUND")


BAD = [
    ("start=&end=2027-01-01", "start"), ("end=2027-01-01", "start"), ("start=2027-01-01", "end"),
    ("start=2027-13-01&end=2027-12-01", "start"), ("start=2027-02-29&end=2027-03-01", "start"),
    ("start=20270101&end=2027-01-02", "start"), ("start=2027-1-01&end=2027-01-02", "start"),
    ("start=2027-01-01T00:00&end=2027-01-02", "start"), ("start=2027-01-01&end=2027-02-30", "end"),
    ("start=2027-01-02&end=2027-01-01", "end"), ("start=2027-01-01&end=2027-03-04", "end"),
    ("start=2027-01-01&end=2027-01-01&timezone=Mars/Olympus", "timezone"),
    ("start=2027-01-01&end=2027-01-01&timezone=..%2Fetc%2Fpasswd", "timezone"),
    ("start=2027-01-01&end=2027-01-01&timezone=posix/CET", "timezone"),
    ("start=2027-01-01&end=2027-01-01&timezone=Factory", "timezone"),
    ("start=2027-01-01&end=2027-01-01&format=list", "format"),
    ("start=2027-01-01&end=2027-01-01&explain=maybe", "explain"),
    ("start=1969-12-31&end=1970-01-01", "start"),
]


def test_bad_parameters(env, utc_host):
    et = utc_host.et()
    failures = []
    for q, field in BAD:
        r = call(env.s, "GET", f"/api/availability/{utc_host.slug}/{et['slug']}?{q}")
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            failures.append(f"{q}: {e}")
    assert not failures, "\n".join(failures)
    # 62 days is the maximum (both ends inclusive); the leap day of a leap year is a date
    assert utc_host.avail(et["slug"], "2027-01-01", "2027-03-03").status == 200
    assert utc_host.avail(et["slug"], "2028-02-29", "2028-02-29").status == 200
    assert utc_host.avail(et["slug"], "2027-01-01", "2027-01-01", "Etc/GMT-14").status == 200


# ----------------------------------------------------------------------------
# ETag, cache


def test_etag_and_304(env, utc_host, work_day):
    et = utc_host.et(min_notice_hours=0)
    r = utc_host.avail(et["slug"], work_day, work_day)
    tag = r.header("ETag")
    assert r.status == 200 and tag and tag.startswith('"') and tag.endswith('"'), r
    r2 = utc_host.avail(et["slug"], work_day, work_day, headers={"If-None-Match": tag})
    assert r2.status == 304 and r2.body == b"" and r2.header("ETag") == tag, r2
    r3 = utc_host.avail(et["slug"], work_day, work_day, headers={"If-None-Match": f'"nope", {tag}'})
    assert r3.status == 304
    r4 = utc_host.avail(et["slug"], work_day, work_day, headers={"If-None-Match": '"other"'})
    assert r4.status == 200 and r4.body == r.body and r4.header("ETag") == tag
    head = env.s.request("HEAD", utc_host.avail_path(et["slug"], work_day, work_day))
    assert head.status == 200 and head.body == b"" and head.header("ETag") == tag, head
    assert int(head.header("Content-Length")) == len(r.body)
    r5 = utc_host.avail(et["slug"], work_day, work_day, "Asia/Tokyo", headers={"If-None-Match": tag})
    assert r5.status == 200 and r5.header("ETag") != tag
    # same content -> same ETag (computed again after the cache is dropped)
    utc_host.et_put(et["id"], description="unrelated change")
    time.sleep(0.5)
    r6 = utc_host.avail(et["slug"], work_day, work_day, headers={"If-None-Match": tag})
    assert r6.status == 304


def _ensure_seconds_left_in_minute(n):
    left = 60 - time.time() % 60
    if left < n:
        time.sleep(left + 0.1)


def test_cache_dropped_after_sql_insert(env, utc_host, work_day):
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    d = work_day
    _ensure_seconds_left_in_minute(8)  # the minute-boundary expiry must not be what refreshes it
    r1 = utc_host.avail(et["slug"], d, d)
    assert "10:00" in r1.json()["slots"][d.isoformat()]
    assert utc_host.avail(et["slug"], d, d).body == r1.body
    utc_host.book(et["id"], at(d, 10), at(d, 11))
    t0 = time.time()
    while True:
        r = utc_host.avail(et["slug"], d, d)
        if "10:00" not in r.json()["slots"].get(d.isoformat(), []):
            break
        assert time.time() - t0 < 2.0, "booking inserted with SQL still not reflected after 2 s"
        time.sleep(0.05)
    assert r.header("ETag") != r1.header("ETag")
    # cancelling it (an UPDATE) brings the slot back
    utc_host.db.sql(f"UPDATE bookings SET status = 'cancelled' WHERE host_id = {utc_host.id}")
    t0 = time.time()
    while "10:00" not in utc_host.slots(et["slug"], d, d).get(d.isoformat(), []):
        assert time.time() - t0 < 2.0, "cancellation not reflected after 2 s"
        time.sleep(0.05)


def test_cache_dropped_after_schedule_and_event_type_changes(env, utc_host, work_day):
    et = utc_host.et(duration_minutes=60, min_notice_hours=0)
    d = work_day
    _ensure_seconds_left_in_minute(8)
    assert len(utc_host.slots(et["slug"], d, d)[d.isoformat()]) == 8
    utc_host.set_default_schedule(rules=[{"day": x, "start": "10:00", "end": "12:00"} for x in range(7)])
    t0 = time.time()
    while utc_host.slots(et["slug"], d, d).get(d.isoformat()) != ["10:00", "11:00"]:
        assert time.time() - t0 < 2.0, "schedule change not reflected"
        time.sleep(0.05)
    utc_host.et_put(et["id"], slot_interval_minutes=30)
    t0 = time.time()
    while utc_host.slots(et["slug"], d, d).get(d.isoformat()) != ["10:00", "10:30", "11:00"]:
        assert time.time() - t0 < 2.0, "event type change not reflected"
        time.sleep(0.05)
    utc_host.et_delete(et["id"])
    t0 = time.time()
    while utc_host.avail(et["slug"], d, d).status != 404:
        assert time.time() - t0 < 2.0, "deleted event type still served"
        time.sleep(0.05)


# ----------------------------------------------------------------------------
# explain


def test_explain_access_control(env, utc_host, work_day):
    et = utc_host.et(min_notice_hours=0)
    d = work_day
    assert_error(utc_host.avail(et["slug"], d, d, explain=True), 401, "UNAUTHORIZED")
    other = Host(env.s, env.db)
    assert_error(utc_host.avail(et["slug"], d, d, explain=True, auth=other.auth), 403, "FORBIDDEN")
    assert_error(utc_host.avail(et["slug"], d, d, explain=True, auth={"X-API-Key": "cal_" + "0" * 64}), 401)
    r = utc_host.avail(et["slug"], d, d, explain=True, auth="host")
    assert r.status == 200 and "explain" in r.json()
    utc_host.user.login()
    r = utc_host.avail(et["slug"], d, d, explain=True, auth=utc_host.user.session)
    assert r.status == 200 and "explain" in r.json()
    # explain=0 is the public answer; the explained one never leaks into the public cache
    pub = utc_host.avail(et["slug"], d, d)
    assert set(pub.json()) == {"slots"}
    assert set(utc_host.avail(et["slug"], d, d, explain=False).json()) == {"slots"}
    r = call(env.s, "GET", utc_host.avail_path(et["slug"], d, d) + "&explain=0")
    assert r.status == 200 and set(r.json()) == {"slots"}


def test_explain_reasons(env, utc_host):
    today = today_utc()
    d1 = today + DAY
    et = utc_host.et(duration_minutes=60, min_notice_hours=0, max_future_days=3)
    buf = utc_host.et(duration_minutes=60, buffer_after=30)
    bid = utc_host.book(buf["id"], at(d1, 10), at(d1, 11))
    rid = utc_host.reserve(et["id"], at(d1, 14), at(d1, 15), time.time() + 600)
    r = utc_host.avail(et["slug"], today, today + 4 * DAY, explain=True, auth="host")
    assert r.status == 200, r
    j = r.json()
    assert set(j) == {"slots", "explain"}
    ex = j["explain"]
    now = time.time()
    free = set()
    for e in ex:
        assert set(e) >= {"start", "end", "offered", "reason"}, e
        a, b = parse_rfc3339(e["start"]).timestamp(), parse_rfc3339(e["end"]).timestamp()
        assert b - a == 3600
        assert e["offered"] == (e["reason"] == "free"), e
        hh = e["start"][11:16]
        if e["reason"] == "outside_hours":
            assert not ("09:00" <= hh <= "16:00"), e
        elif e["reason"] == "notice":
            assert a < now + 5, e
        elif e["reason"] == "horizon":
            assert a >= now + 3 * 86400 - 5, e
        if e["offered"]:
            free.add(int(a))
            assert e["seats_remaining"] == 1
    reasons = {e["reason"] for e in ex}
    assert {"outside_hours", "horizon", "booking", "buffer", "reservation", "free"} <= reasons, reasons
    by = {e["start"]: e for e in ex}
    k = dt.datetime.fromtimestamp(at(d1, 10), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (by[k]["reason"], by[k]["booking_id"]) == ("booking", bid)
    k = k.replace("T10:", "T11:")
    assert (by[k]["reason"], by[k]["booking_id"]) == ("buffer", bid)
    k = k.replace("T11:", "T14:")
    assert (by[k]["reason"], by[k]["reservation_id"]) == ("reservation", rid)
    # today's past working hours, if any, are "notice"
    if dt.datetime.now(dt.timezone.utc).hour >= 10:
        assert "notice" in reasons
    # the offered ones are exactly the slots
    got = {int(parse_rfc3339(it["start"]).timestamp())
           for v in utc_host.slots(et["slug"], today, today + 4 * DAY, fmt="range").values() for it in v}
    assert free == got


# ----------------------------------------------------------------------------
# busy time just outside the window still matters (buffers reach up to 12 h each side)


def test_far_buffers_at_the_window_end(env):
    """Host in UTC open all day; the invitee (UTC+14) asks for one date, so the window ends at
    10:00Z. A 12-hour slot at 09:00Z with a 12-hour buffer after reaches 09:00Z next day;
    a booking of a type with a 12-hour buffer before, starting 34 h after the window end,
    reaches back to 08:00Z of that day: the slot must not be offered -- whatever window it
    is asked through."""
    h = Host(env.s, env.db, timezone="UTC")
    h.set_default_schedule(timezone="UTC", rules=ALL_DAY)
    a = h.et(duration_minutes=720, slot_interval_minutes=60, buffer_after=720, min_notice_hours=0, max_future_days=3650)
    b = h.et(duration_minutes=30, buffer_before=720)
    d = today_utc() + 10 * DAY
    to = at(d, 10)
    h.book(b["id"], to + 34 * 3600, to + 34 * 3600 + 1800)
    wide = h.slots(a["slug"], d, d + DAY, "Pacific/Kiritimati")
    assert "23:00" not in wide[d.isoformat()]  # 09:00Z
    assert "22:00" in wide[d.isoformat()]      # 08:00Z: the buffers just touch
    narrow = h.slots(a["slug"], d, d, "Pacific/Kiritimati")
    assert narrow[d.isoformat()] == wide[d.isoformat()], "the slot depends on the window it is asked through"


def test_cache_does_not_outlive_a_booking_page_slug_change(env, work_day):
    """Cached answers are keyed by the page slug; after the host renames the page the old
    address must stop answering (404), and whoever takes the freed slug must get their own
    slots -- not the previous owner's cached ones."""
    a = Host(env.s, env.db, timezone="UTC")
    a.set_default_schedule(timezone="UTC", rules=ALL_DAYS_9_17)
    et = a.et(name="Shared Call", min_notice_hours=0)
    old = a.slug
    d = work_day
    _ensure_seconds_left_in_minute(10)
    assert a.slots(et["slug"], d, d)  # cached now
    r = a.call("PUT", "/api/booking-page", {"slug": old + "-moved"})
    assert r.status == 200, r
    time.sleep(1.0)
    r = call(env.s, "GET", a.avail_path(et["slug"], d, d, slug=old))
    assert_error(r, 404, "NOT_FOUND")
    assert a.slots(et["slug"], d, d, slug=old + "-moved")
    # another host takes the old slug and the same event slug, with other hours
    b = Host(env.s, env.db, timezone="UTC")
    r = b.call("PUT", "/api/booking-page", {"slug": old})
    assert r.status == 200, r
    b.set_default_schedule(timezone="UTC", rules=[{"day": x, "start": "20:00", "end": "21:00"} for x in range(7)])
    b.et(name="Shared Call", min_notice_hours=0, duration_minutes=60)
    time.sleep(0.5)
    assert b.slots(et["slug"], d, d, slug=old) == {d.isoformat(): ["20:00"]}
