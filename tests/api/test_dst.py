"""Slots at DST edges and odd offsets (issue 4, "Correctness across time zones").

Dates are the next real transitions after today (found with zoneinfo), so the tests keep
working as time passes. Each case is checked twice: against instants written out from the
transition instant T by hand, and against the zoneinfo-based oracle in sched_util.
"""

import datetime as dt
import time

import pytest

from sched_util import (Host, check_range_offsets, env, expected, next_transition, next_weekday,  # noqa: F401
                        sun0, times_format, today_utc, window)

H = 3600
M = 60
DAY = dt.timedelta(days=1)


def make(env, zone, rules=None, overrides=None, dur=60, interval=None, host_tz=None):
    h = Host(env.s, env.db, timezone=host_tz or zone)
    sched = h.set_default_schedule(timezone=zone, rules=rules or [], overrides=overrides or [])
    body = {"duration_minutes": dur, "min_notice_hours": 0, "max_future_days": 3650}
    if interval:
        body["slot_interval_minutes"] = interval
    et = h.et(**body)
    return h, sched, et


def oracle(sched, et, inv_tz, start, end):
    f, t = window(inv_tz, start, end)
    ev = {"id": et["id"], "duration": et["duration_minutes"], "interval": et["slot_interval_minutes"],
          "min_notice_hours": 0, "max_future_days": 3650}
    return [x[0] for x in expected(sched["timezone"], sched["rules"], sched["overrides"], ev, [], time.time(), f, t)]


def check(h, sched, et, inv_tz, start, end, want_instants, want_times=None):
    """slotd == hand-computed instants == oracle; the plain format matches the instants."""
    got = h.instants(et["slug"], start, end, inv_tz)
    starts = [a for a, _ in got]
    assert all(b - a == et["duration_minutes"] * M for a, b in got)
    orc = oracle(sched, et, inv_tz, start, end)
    assert orc == sorted(want_instants), "test's own expectation disagrees with the oracle"
    assert starts == sorted(want_instants), (fmt(starts), fmt(want_instants))
    rng = h.slots(et["slug"], start, end, inv_tz, "range")
    check_range_offsets(rng, inv_tz)
    plain = h.slots(et["slug"], start, end, inv_tz)
    assert plain == times_format(starts, inv_tz)
    if want_times is not None:
        assert plain == want_times, plain
    return plain


def fmt(xs):
    return [dt.datetime.fromtimestamp(x, dt.timezone.utc).strftime("%m-%d %H:%MZ") for x in xs]


def rule(date, start, end):
    return [{"day": sun0(date), "start": start, "end": end}]


# ----------------------------------------------------------------------------
# America/New_York


def test_new_york_spring_forward_rule_across_gap(env):
    z = "America/New_York"
    date, o1, o2, T = next_transition(z, True)
    assert o2 - o1 == dt.timedelta(hours=1)
    # 01:00-04:00 on the spring-forward night: 01:00 EST .. 04:00 EDT = 2 real hours
    h, s, et = make(env, z, rule(date, "01:00", "04:00"))
    d = date.isoformat()
    check(h, s, et, z, date, date, [T - H, T], {d: ["01:00", "03:00"]})
    h, s, et = make(env, z, rule(date, "01:00", "04:00"), dur=30)
    check(h, s, et, z, date, date, [T - H, T - 30 * M, T, T + 30 * M], {d: ["01:00", "01:30", "03:00", "03:30"]})
    check(h, s, et, "UTC", date, date, [T - H, T - 30 * M, T, T + 30 * M])


def test_new_york_fall_back_rule_across_ambiguous_hour(env):
    z = "America/New_York"
    date, o1, o2, T = next_transition(z, False)
    # 01:00-04:00 on the fall-back night: 01:00 EDT (first) .. 04:00 EST = 4 real hours
    h, s, et = make(env, z, rule(date, "01:00", "04:00"))
    d = date.isoformat()
    check(h, s, et, z, date, date, [T - H, T, T + H, T + 2 * H], {d: ["01:00", "01:00", "02:00", "03:00"]})
    rng = h.slots(et["slug"], date, date, z, "range")[d]
    assert [x["start"][11:] for x in rng] == ["01:00:00-04:00", "01:00:00-05:00", "02:00:00-05:00", "03:00:00-05:00"]
    # a rule starting inside the repeated hour starts at its first occurrence
    h, s, et = make(env, z, rule(date, "01:30", "02:30"), dur=30)
    check(h, s, et, z, date, date, [T - 30 * M, T, T + 30 * M, T + H], {d: ["01:30", "01:00", "01:30", "02:00"]})
    # ... and one ending inside it ends at the first occurrence too
    h, s, et = make(env, z, rule(date, "00:00", "01:30"), dur=30)
    check(h, s, et, z, date, date, [T - 2 * H, T - 90 * M, T - H], {d: ["00:00", "00:30", "01:00"]})


def test_new_york_rule_inside_skipped_hour(env):
    z = "America/New_York"
    date, _, _, T = next_transition(z, True)
    d = date.isoformat()
    # 02:15 and 02:45 do not exist: both read with EST, i.e. 03:15 and 03:45 EDT
    h, s, et = make(env, z, rule(date, "02:15", "02:45"), dur=30)
    check(h, s, et, z, date, date, [T + 15 * M], {d: ["03:15"]})
    # 02:30 -> 03:30 EDT, which is also where 03:30 lies: an empty interval
    h, s, et = make(env, z, rule(date, "02:30", "03:30"), dur=30)
    check(h, s, et, z, date, date, [], {})
    # 02:00 -> T; 04:00 EDT = T + 1 h
    h, s, et = make(env, z, rule(date, "02:00", "04:00"), dur=30)
    check(h, s, et, z, date, date, [T, T + 30 * M], {d: ["03:00", "03:30"]})


def test_two_rules_meeting_at_the_gap(env):
    """01:00-02:45 and 03:00-05:00 on the spring-forward night: 02:45 does not exist and is
    read as 03:45 EDT, so the first interval is [T-1h, T+45m) and the second [T, T+2h). They
    overlap in real time: every instant is one slot, listed once, in order -- and a booking at
    03:05-03:10 EDT blocks the 03:00 slot whichever interval it comes from."""
    z = "America/New_York"
    date, _, _, T = next_transition(z, True)
    rules = [{"day": sun0(date), "start": "01:00", "end": "02:45"}, {"day": sun0(date), "start": "03:00", "end": "05:00"}]
    h, s, et = make(env, z, rules, dur=15)
    want = [T + k * 15 * M for k in range(-4, 8)]
    times = ["01:00", "01:15", "01:30", "01:45"] + [f"{hh:02d}:{mm:02d}" for hh in (3, 4) for mm in (0, 15, 30, 45)]
    check(h, s, et, z, date, date, want, {date.isoformat(): times})
    other = h.et(duration_minutes=5)
    h.book(other["id"], T + 5 * M, T + 10 * M)
    want.remove(T)
    times.remove("03:00")
    h2 = h.instants(et["slug"], date, date + DAY, z)  # another window: not served from the cache
    assert [a for a, _ in h2] == want, fmt([a for a, _ in h2])
    assert h.slots(et["slug"], date, date + DAY, z)[date.isoformat()] == times


def test_invitee_in_new_york_across_its_transitions(env):
    """Host in UTC open around the clock; the invitee's DST dates hold 23 and 25 hours."""
    all_day = [{"day": x, "start": "00:00", "end": "24:00"} for x in range(7)]
    z = "America/New_York"
    for forward, n in ((True, 23), (False, 25)):
        date, _, _, T = next_transition(z, forward)
        h, s, et = make(env, "UTC", all_day)
        f, t = window(z, date, date)
        assert t - f == n * H
        plain = check(h, s, et, z, date, date, list(range(f, t, H)))
        times = plain[date.isoformat()]
        assert len(times) == n
        if forward:
            assert "02:00" not in times
        else:
            assert times.count("01:00") == 2


# ----------------------------------------------------------------------------
# Europe/Warsaw


def test_warsaw_both_transitions(env):
    z = "Europe/Warsaw"
    date, _, _, T = next_transition(z, True)  # 02:00 CET -> 03:00 CEST at 01:00Z
    h, s, et = make(env, z, rule(date, "00:00", "06:00"))
    check(h, s, et, z, date, date, [T - 2 * H, T - H, T, T + H, T + 2 * H],
          {date.isoformat(): ["00:00", "01:00", "03:00", "04:00", "05:00"]})
    date, _, _, T = next_transition(z, False)  # 03:00 CEST -> 02:00 CET at 01:00Z
    h, s, et = make(env, z, rule(date, "02:00", "05:00"))
    check(h, s, et, z, date, date, [T - H, T, T + H, T + 2 * H],
          {date.isoformat(): ["02:00", "02:00", "03:00", "04:00"]})
    # seen from New York (not yet/no longer on DST at the same dates in some years): instants agree
    check(h, s, et, "America/New_York", date - DAY, date, [T - H, T, T + H, T + 2 * H])


# ----------------------------------------------------------------------------
# Australia/Lord_Howe: a 30-minute shift


def test_lord_howe_half_hour_shift(env):
    z = "Australia/Lord_Howe"
    date, o1, o2, T = next_transition(z, False)  # 02:00 +11 -> 01:30 +10:30
    assert o1 - o2 == dt.timedelta(minutes=30)
    h, s, et = make(env, z, rule(date, "01:00", "03:00"), dur=30)
    check(h, s, et, z, date, date, [T - H, T - 30 * M, T, T + 30 * M, T + H],
          {date.isoformat(): ["01:00", "01:30", "01:30", "02:00", "02:30"]})
    date, o1, o2, T = next_transition(z, True)  # 02:00 +10:30 -> 02:30 +11
    assert o2 - o1 == dt.timedelta(minutes=30)
    h, s, et = make(env, z, rule(date, "01:00", "03:00"), dur=30)
    check(h, s, et, z, date, date, [T - H, T - 30 * M, T], {date.isoformat(): ["01:00", "01:30", "02:30"]})
    # a rule wholly inside the skipped half hour is empty; one starting in it begins at T
    h, s, et = make(env, z, rule(date, "02:10", "02:25"), dur=5)
    check(h, s, et, z, date, date, [T + 10 * M, T + 15 * M, T + 20 * M], {date.isoformat(): ["02:40", "02:45", "02:50"]})
    h, s, et = make(env, z, rule(date, "02:00", "03:00"), dur=15)
    check(h, s, et, "UTC", date - DAY, date, [T, T + 15 * M])


# ----------------------------------------------------------------------------
# odd offsets: Asia/Kathmandu (+05:45), Pacific/Chatham (+12:45 / +13:45)


def test_kathmandu(env):
    z = "Asia/Kathmandu"
    date = next_weekday(today_utc(), 3, min_days=2)
    h, s, et = make(env, z, rule(date, "09:00", "10:00"), dur=30)
    t0 = int(dt.datetime(date.year, date.month, date.day, 3, 15, tzinfo=dt.timezone.utc).timestamp())
    want = [t0, t0 + 30 * M]
    d = date.isoformat()
    check(h, s, et, z, date, date, want, {d: ["09:00", "09:30"]})
    check(h, s, et, "UTC", date, date, want, {d: ["03:15", "03:45"]})
    check(h, s, et, "Asia/Kolkata", date, date, want, {d: ["08:45", "09:15"]})
    check(h, s, et, "Pacific/Chatham", date, date, want)
    rng = h.slots(et["slug"], date, date, z, "range")[d]
    assert rng[0]["start"] == f"{d}T09:00:00+05:45" and rng[0]["end"] == f"{d}T09:30:00+05:45"


def test_chatham_both_transitions(env):
    z = "Pacific/Chatham"
    date, o1, o2, T = next_transition(z, False)  # 03:45 +13:45 -> 02:45 +12:45
    h, s, et = make(env, z, rule(date, "02:00", "05:00"))
    want = [T - 105 * M, T - 45 * M, T + 15 * M, T + 75 * M]
    check(h, s, et, z, date, date, want, {date.isoformat(): ["02:00", "03:00", "03:00", "04:00"]})
    check(h, s, et, "UTC", date - DAY, date, want)
    rng = h.slots(et["slug"], date, date, z, "range")[date.isoformat()]
    assert [x["start"][11:] for x in rng] == ["02:00:00+13:45", "03:00:00+13:45", "03:00:00+12:45", "04:00:00+12:45"]
    date, o1, o2, T = next_transition(z, True)  # 02:45 +12:45 -> 03:45 +13:45
    h, s, et = make(env, z, rule(date, "02:00", "05:00"))
    check(h, s, et, z, date, date, [T - 45 * M, T + 15 * M], {date.isoformat(): ["02:00", "04:00"]})


# ----------------------------------------------------------------------------
# the date line; invitee dates that start a day before the host's


def test_date_line_host_kiritimati_invitee_pago_pago(env):
    host_z, inv_z = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # +14 and -11: 25 hours apart
    monday = next_weekday(today_utc(), 1, min_days=3)
    h, s, et = make(env, host_z, [{"day": 1, "start": "09:00", "end": "12:00"}])
    t0 = int(dt.datetime(monday.year, monday.month, monday.day, 9, tzinfo=dt.timezone(dt.timedelta(hours=14))).timestamp())
    want = [t0, t0 + H, t0 + 2 * H]
    sunday = monday - DAY
    # the host's Monday morning is the invitee's Sunday morning
    check(h, s, et, inv_z, sunday, sunday, want, {sunday.isoformat(): ["08:00", "09:00", "10:00"]})
    check(h, s, et, inv_z, monday, monday, [], {})
    check(h, s, et, inv_z, sunday - DAY, monday, want)
    check(h, s, et, host_z, monday, monday, want, {monday.isoformat(): ["09:00", "10:00", "11:00"]})


def test_date_line_host_pago_pago_invitee_kiritimati(env):
    host_z, inv_z = "Pacific/Pago_Pago", "Pacific/Kiritimati"
    sunday = next_weekday(today_utc(), 0, min_days=3)
    h, s, et = make(env, host_z, [{"day": 0, "start": "20:00", "end": "24:00"}])
    t0 = int(dt.datetime(sunday.year, sunday.month, sunday.day, 20, tzinfo=dt.timezone(dt.timedelta(hours=-11))).timestamp())
    want = [t0 + k * H for k in range(4)]
    monday, tuesday = sunday + DAY, sunday + 2 * DAY
    # the host's Sunday evening is the invitee's Monday 21:00 .. Tuesday 00:00
    check(h, s, et, inv_z, monday, tuesday, want, {monday.isoformat(): ["21:00", "22:00", "23:00"],
                                                    tuesday.isoformat(): ["00:00"]})
    check(h, s, et, inv_z, monday, monday, want[:3])
    check(h, s, et, inv_z, sunday, sunday, [], {})


def test_invitee_dates_start_a_day_before_the_hosts(env):
    """Tokyo host, Tuesday 08:00-10:00; a New York invitee asking for Monday gets them."""
    tuesday = next_weekday(today_utc(), 2, min_days=3)
    h, s, et = make(env, "Asia/Tokyo", [{"day": 2, "start": "08:00", "end": "10:00"}], dur=30)
    t0 = int(dt.datetime(tuesday.year, tuesday.month, tuesday.day, 8, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp())
    want = [t0 + k * 30 * M for k in range(4)]
    monday = tuesday - DAY
    plain = check(h, s, et, "America/New_York", monday, monday, want)
    assert list(plain) == [monday.isoformat()]
    check(h, s, et, "America/New_York", tuesday, tuesday, [], {})


@pytest.mark.parametrize("host_z,inv_z", [
    ("America/New_York", "Asia/Kathmandu"), ("Europe/Warsaw", "Pacific/Chatham"),
    ("Australia/Lord_Howe", "America/Los_Angeles"), ("Pacific/Chatham", "America/St_Johns"),
    ("Pacific/Kiritimati", "Pacific/Niue"), ("America/Santiago", "Asia/Tehran"),
])
def test_whole_weeks_around_transitions_match_the_oracle(env, host_z, inv_z):
    """Working hours including night hours, every day, through both transitions of the host."""
    rules = [{"day": x, "start": "00:30", "end": "03:30"} for x in range(7)] + \
            [{"day": x, "start": "22:00", "end": "24:00"} for x in range(7)]
    h, s, et = make(env, host_z, rules, dur=45, interval=30)
    for forward in (True, False):
        try:
            date = next_transition(host_z, forward)[0]
        except AssertionError:
            date = today_utc() + 40 * DAY
        start, end = date - 3 * DAY, date + 3 * DAY
        check(h, s, et, inv_z, start, end, oracle(s, et, inv_z, start, end))
