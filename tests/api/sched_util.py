"""Helpers shared by the scheduling tests (issue 4): event types, availability schedules,
availability queries, bookings/reservations written straight into the database, and an
independent slot calculator (the "oracle") built on Python's zoneinfo.

The oracle follows the rule of the issue (RFC 5545): a rule's local start/end become
instants with fold=0 (an ambiguous time is its first occurrence; a nonexistent one is read
with the offset before the gap, i.e. shifted forward by the gap); slots step in real time
from the start instant by the slot interval and must end by the end instant.
"""

import datetime as dt
import itertools
import json
import time
from zoneinfo import ZoneInfo

import pytest

from accounts_util import NO_LIMITS, assert_error, call, new_user  # noqa: F401 (re-exported)
from conftest import Slotd

UTC = dt.timezone.utc
_seq = itertools.count(1)


# ----------------------------------------------------------------------------
# a slotd + database shared by the tests of one module (fast), checked at the end


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory, request):
    """One slotd (no rate limits) on a fresh database for the whole module: .s, .db."""
    db = pg.create_db(request.module.__name__.split(".")[-1])
    s = Slotd(tmp_path_factory.mktemp("slotd"), db.url, env=NO_LIMITS, name="sched")
    s.start()

    class Env:
        pass

    e = Env()
    e.s, e.db = s, db
    try:
        yield e
    finally:
        try:
            s.check_clean_exit()
        finally:
            s.kill()
            db.drop()


def unique(prefix="u"):
    return f"{prefix}{next(_seq)}x{int(time.time() * 1000) % 100000000}"


# ----------------------------------------------------------------------------
# hosts


class Host:
    """A registered user with an API key; thin wrappers over the scheduling routes."""

    def __init__(self, s, db, timezone="UTC", name=None):
        self.s = s
        self.db = db
        tag = unique("h")
        self.user = new_user(s, f"{tag}@example.com", name=name or f"Host {tag}", timezone=timezone, key=True)
        self.auth = self.user.api_key
        self.id = self.user.id
        self.slug = self.user.slug

    # -- raw calls --
    def call(self, method, path, body=None, **kw):
        return call(self.s, method, path, body, auth=self.auth, **kw)

    # -- event types --
    def et_post(self, **fields):
        return self.call("POST", "/api/event-types", fields)

    def et(self, **fields):
        """Create an event type (name defaults to a unique one); returns its JSON."""
        fields.setdefault("name", unique("Meeting "))
        r = self.et_post(**fields)
        assert r.status == 201, r
        return r.json()

    def et_put(self, et_id, **fields):
        r = self.call("PUT", f"/api/event-types/{et_id}", fields)
        assert r.status == 200, r
        return r.json()

    def et_get(self, et_id):
        return self.call("GET", f"/api/event-types/{et_id}")

    def et_delete(self, et_id):
        return self.call("DELETE", f"/api/event-types/{et_id}")

    # -- schedules --
    def schedules(self):
        r = self.call("GET", "/api/availability-schedules")
        assert r.status == 200, r
        return r.json()

    def default_schedule(self):
        d = [x for x in self.schedules() if x["is_default"] in (1, True)]
        assert len(d) == 1, d
        return d[0]

    def sched_post(self, **fields):
        return self.call("POST", "/api/availability-schedules", fields)

    def sched(self, **fields):
        fields.setdefault("name", unique("Sched "))
        r = self.sched_post(**fields)
        assert r.status == 201, r
        return r.json()

    def sched_put(self, sid, **fields):
        r = self.call("PUT", f"/api/availability-schedules/{sid}", fields)
        assert r.status == 200, r
        return r.json()

    def set_default_schedule(self, **fields):
        """Replace the default schedule's fields (timezone, rules, overrides)."""
        return self.sched_put(self.default_schedule()["id"], **fields)

    # -- availability --
    def avail_path(self, event_slug, start, end, tz=None, fmt=None, explain=False, slug=None):
        q = f"start={start}&end={end}"
        if tz is not None:
            q += f"&timezone={tz}"
        if fmt:
            q += f"&format={fmt}"
        if explain:
            q += "&explain=1"
        return f"/api/availability/{slug or self.slug}/{event_slug}?{q}"

    def avail(self, event_slug, start, end, tz=None, fmt=None, explain=False, auth="public", headers=None, slug=None):
        path = self.avail_path(event_slug, start, end, tz, fmt, explain, slug)
        a = self.auth if auth == "host" else (None if auth == "public" else auth)
        return call(self.s, "GET", path, auth=a, headers=headers)

    def slots(self, event_slug, start, end, tz=None, fmt=None, **kw):
        r = self.avail(event_slug, start, end, tz, fmt, **kw)
        assert r.status == 200, r
        j = r.json()
        assert set(j) == {"slots"}, j
        return j["slots"]

    def instants(self, event_slug, start, end, tz=None, **kw):
        """format=range -> sorted list of (start, end) Unix seconds."""
        sl = self.slots(event_slug, start, end, tz, "range", **kw)
        return sorted(range_instants(sl))

    # -- busy time, written with SQL (bookings cannot be created over HTTP yet) --
    def book(self, et_id, start, end, status="confirmed", seats=1, seated=False):
        return insert_booking(self.db, self.id, et_id, start, end, status, seats, seated)

    def reserve(self, et_id, start, end, expires):
        return insert_reservation(self.db, self.id, et_id, start, end, expires)


def ts(x):
    """datetime (aware) or Unix seconds -> Unix seconds (int)."""
    if isinstance(x, dt.datetime):
        assert x.tzinfo is not None, x
        return int(x.timestamp())
    return int(x)


def insert_booking(db, host_id, et_id, start, end, status="confirmed", seats=1, seated=False):
    """seated: a booking of a seated event type (seats > 1); the bookings migration (issue 5)
    exempts those from its no-overlap constraint."""
    rows = db.sql(
        "INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name, "
        f"invitee_email) VALUES ({host_id}, {et_id}, to_timestamp({ts(start)}), to_timestamp({ts(end)}), '{status}', "
        f"{seats}, {'true' if seated else 'false'}, 'Bob', 'bob@example.com') RETURNING id")
    return int(rows[0][0])


def insert_reservation(db, host_id, et_id, start, end, expires):
    rows = db.sql(
        "INSERT INTO reservations (host_id, event_type_id, start_at, end_at, expires_at) "
        f"VALUES ({host_id}, {et_id}, to_timestamp({ts(start)}), to_timestamp({ts(end)}), to_timestamp({ts(expires)})) "
        "RETURNING id")
    return int(rows[0][0])


# ----------------------------------------------------------------------------
# parsing responses


def parse_rfc3339(s):
    """'2026-03-10T09:00:00-05:00' or '...Z' -> aware datetime (exact format checked)."""
    import re
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", s), s
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def range_instants(slots):
    out = []
    for date, items in slots.items():
        for it in items:
            a, b = parse_rfc3339(it["start"]), parse_rfc3339(it["end"])
            assert a.strftime("%Y-%m-%d") == date, (date, it)
            out.append((int(a.timestamp()), int(b.timestamp())))
    return out


def check_range_offsets(slots, zone):
    """Every start/end carries the invitee zone's offset at that instant and its date key."""
    z = ZoneInfo(zone)
    for date, items in slots.items():
        for it in items:
            for k in ("start", "end"):
                d = parse_rfc3339(it[k])
                local = dt.datetime.fromtimestamp(d.timestamp(), z)
                assert d.utcoffset() == local.utcoffset(), (zone, it)
                assert d.replace(tzinfo=None) == local.replace(tzinfo=None), (zone, it)
            assert parse_rfc3339(it["start"]).strftime("%Y-%m-%d") == date


def times_format(instants, zone):
    """The plain format slotd should give for these start instants in zone."""
    z = ZoneInfo(zone)
    out = {}
    for t in sorted(instants):
        d = dt.datetime.fromtimestamp(t, z)
        out.setdefault(d.strftime("%Y-%m-%d"), []).append(d.strftime("%H:%M"))
    return out


# ----------------------------------------------------------------------------
# dates


def today_utc():
    return dt.datetime.now(UTC).date()


def next_weekday(d, weekday_sun0, min_days=1):
    """First date >= d + min_days whose weekday (0 = Sunday .. 6) is weekday_sun0."""
    d = d + dt.timedelta(days=min_days)
    while (d.weekday() + 1) % 7 != weekday_sun0:
        d += dt.timedelta(days=1)
    return d


def sun0(d):
    return (d.weekday() + 1) % 7


def transitions(zone, start, days):
    """[(local date, offset before, offset after, UTC instant)] of offset changes in
    [start, start + days) (dates as local dates of the instant just after the change)."""
    z = ZoneInfo(zone)
    out = []
    t0 = int(dt.datetime.combine(start, dt.time(0), UTC).timestamp())
    step = 3600
    prev = dt.datetime.fromtimestamp(t0, z).utcoffset()
    t = t0
    end = t0 + days * 86400
    while t < end:
        n = t + step
        off = dt.datetime.fromtimestamp(n, z).utcoffset()
        if off != prev:
            lo, hi = t, n  # offset(lo) == prev, offset(hi) == off
            while hi - lo > 1:
                m = (lo + hi) // 2
                if dt.datetime.fromtimestamp(m, z).utcoffset() == prev:
                    lo = m
                else:
                    hi = m
            out.append((dt.datetime.fromtimestamp(hi, z).date(), prev, off, hi))
            prev = off
        t = n
    return out


def next_transition(zone, forward, after=None, days=800):
    """The next transition in zone where the clock goes forward (True) or back (False)."""
    for tr in transitions(zone, after or today_utc() + dt.timedelta(days=2), days):
        if (tr[2] > tr[1]) == forward:
            return tr
    raise AssertionError(f"no {'forward' if forward else 'backward'} transition in {zone}")


# ----------------------------------------------------------------------------
# the oracle


def l2u(zone, date, minutes):
    """Local date + minutes after midnight in zone -> Unix seconds, fold=0."""
    z = ZoneInfo(zone) if isinstance(zone, str) else zone
    naive = dt.datetime.combine(date, dt.time(0)) + dt.timedelta(minutes=minutes)
    return int(naive.replace(tzinfo=z, fold=0).timestamp())


def hm(s):
    if s == "24:00":
        return 1440
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def merge(spans):
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(x) for x in out]


def day_spans(rules, overrides, date):
    """Merged (start, end) minute spans of a local date: the override if any, else the weekday's rules."""
    iso = date.isoformat()
    ov = [o for o in overrides if o["date"] == iso]
    if ov:
        if any(o.get("unavailable") for o in ov):
            return []
        return merge([(hm(o["start"]), hm(o["end"])) for o in ov])
    return merge([(hm(r["start"]), hm(r["end"])) for r in rules if r["day"] == sun0(date)])


def iso_week_key(d):
    y, w, _ = d.isocalendar()
    return (y, w)


def expected(schedule_tz, rules, overrides, ev, busy, now, from_ts, to_ts):
    """Free slots [(start, end, seats_remaining)] starting in [from_ts, to_ts).

    ev: dict id, duration, interval, buffer_before, buffer_after (minutes), min_notice_hours,
        max_future_days, seats, limit_per_day, limit_per_week (None = no limit).
    busy: dicts start, end (Unix s), bb, ba (minutes, of its own event type), et (event type
        id), seats, kind ('booking' | 'reservation'); only live ones (pending/confirmed
        bookings, unexpired reservations).
    """
    z = ZoneInfo(schedule_tz)
    dur = ev["duration"] * 60
    step = (ev.get("interval") or ev["duration"]) * 60
    bb, ba = ev.get("buffer_before", 0) * 60, ev.get("buffer_after", 0) * 60
    seats = ev.get("seats", 1)
    lim_d, lim_w = ev.get("limit_per_day"), ev.get("limit_per_week")

    def local_date(t):
        return dt.datetime.fromtimestamp(t, z).date()

    per_day, per_week = {}, {}
    for b in busy:
        if b["kind"] == "booking" and b["et"] == ev["id"]:
            d = local_date(b["start"])
            per_day[d] = per_day.get(d, 0) + 1
            per_week[iso_week_key(d)] = per_week.get(iso_week_key(d), 0) + 1

    out = {}  # start -> (start, end, seats): an instant two spans reach (a span ending in a DST gap) is one slot
    d0 = dt.datetime.fromtimestamp(from_ts, z).date() - dt.timedelta(days=2)
    d1 = dt.datetime.fromtimestamp(to_ts, z).date() + dt.timedelta(days=2)
    d = d0
    while d <= d1:
        for a, b in day_spans(rules, overrides, d):
            s, e = l2u(z, d, a), l2u(z, d, b)
            t = s
            while t + dur <= e:
                if from_ts <= t < to_ts:
                    r = judge(t, dur, bb, ba, seats, ev, busy, now, per_day, per_week, local_date, lim_d, lim_w)
                    if r is not None:
                        out[t] = (t, t + dur, r)
                t += step
        d += dt.timedelta(days=1)
    return sorted(out.values())


def judge(t, dur, bb, ba, seats, ev, busy, now, per_day, per_week, local_date, lim_d, lim_w):
    if t < now + ev.get("min_notice_hours", 0) * 3600:
        return None
    if t >= now + ev.get("max_future_days", 60) * 86400:
        return None
    used = 0
    for b in busy:
        if seats > 1 and b["et"] == ev["id"] and b["start"] == t:
            used += b.get("seats", 1) if b["kind"] == "booking" else 1
            continue
        # the slot widened by its buffers vs the busy interval widened by its own buffers
        if t - bb < b["end"] + b["ba"] * 60 and b["start"] - b["bb"] * 60 < t + dur + ba:
            return None
    if used >= seats:
        return None
    d = local_date(t)
    if lim_d and per_day.get(d, 0) >= lim_d:
        return None
    if lim_w and per_week.get(iso_week_key(d), 0) >= lim_w:
        return None
    return seats - used


def window(zone, start_date, end_date):
    """The instants [from, to) of the invitee's dates start..end in zone (midnights, fold=0)."""
    return l2u(zone, start_date, 0), l2u(zone, end_date + dt.timedelta(days=1), 0)


def utc(y, mo, d, h=0, mi=0):
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp())


def fmt_instants(xs):
    return [dt.datetime.fromtimestamp(x[0] if isinstance(x, tuple) else x, UTC).strftime("%Y-%m-%dT%H:%MZ")
            for x in xs]


def dumps(x):
    return json.dumps(x, sort_keys=True)
