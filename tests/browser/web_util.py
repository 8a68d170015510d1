"""Helpers of the browser tests: hosts whose calendar is open around the clock (so the coming days
always have free slots, whatever today is), the expected wall-clock labels of slots computed here
from the instants (zoneinfo), and the database/API checks of what the browser did."""

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from accounts_util import call
from booking_util import Host, unique

UTC = dt.timezone.utc
# user strings that would run or inject markup if a page used innerHTML with them
XSS_NAME = '<img src=x onerror="window.__xss=1">Jane & "Co"'
XSS_LABEL = '<img src=x onerror="window.__xss=2">Company'


def web_host(site, display_name=None, **page):
    """A host (UTC, open 00:00-24:00 every day, API key) with its booking page's fields set."""
    h = Host(site.s, site.db)
    body = dict(page)
    if display_name is not None:
        body["display_name"] = display_name
    if body:
        r = call(site.s, "PUT", "/api/booking-page", body, auth=h.auth)
        assert r.status == 200, r
    return h


def event_type(h, **fields):
    fields.setdefault("name", unique("Intro call "))
    fields.setdefault("duration_minutes", 30)
    fields.setdefault("min_notice_hours", 0)
    return h.et(**fields)


def day_in(zone, days):
    """The date `days` days after today in `zone` (ISO string)."""
    return (dt.datetime.now(ZoneInfo(zone)).date() + dt.timedelta(days=days)).isoformat()


def instant(date, hhmm, zone):
    """A wall-clock time of a date in a zone -> aware UTC datetime."""
    d = dt.date.fromisoformat(date)
    h, m = map(int, hhmm.split(":"))
    return dt.datetime(d.year, d.month, d.day, h, m, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def label_matches(label, t, zone):
    """Whether a slot's label shows the wall-clock time of instant t in zone, in 24-hour ("09:30")
    or 12-hour ("9:30 AM") form."""
    w = t.astimezone(ZoneInfo(zone))
    if re.search(r"\b[AaPp]\.?[Mm]\b", label):
        h12 = w.hour % 12 or 12
        half = "[Aa]" if w.hour < 12 else "[Pp]"
        return re.search(rf"(?<!\d){h12}:{w.minute:02d}\s*{half}\.?[Mm]", label) is not None
    return re.search(rf"(?<!\d)0?{w.hour}:{w.minute:02d}(?!\d)", label) is not None


def day_instants(date, zone, step_minutes=30, duration=30):
    """Every slot start of a date in zone for a host open around the clock in UTC (no bookings)."""
    start = instant(date, "00:00", zone)
    end = instant((dt.date.fromisoformat(date) + dt.timedelta(days=1)).isoformat(), "00:00", zone)
    out, t = [], start
    while t + dt.timedelta(minutes=duration) <= end:
        out.append(t)
        t += dt.timedelta(minutes=step_minutes)
    return out


def host_bookings(h):
    r = h.list()
    assert r.status == 200, r
    return r.json()


def booking_by_uid(h, uid):
    found = [b for b in host_bookings(h) if b["uid"] == uid]
    assert len(found) == 1, (uid, host_bookings(h))
    return found[0]


def uid_of_manage_link(href):
    m = re.fullmatch(r"/booking/([0-9a-f-]{36})\?token=([0-9a-f]{64})&reschedule_token=([0-9a-f]{64})", href or "")
    assert m, f"manage link {href!r} is not /booking/<uid>?token=<cancel>&reschedule_token=<reschedule>"
    return m.group(1), m.group(2), m.group(3)


def check_manage_link(site, href, uid):
    """The manage link names the booking and its tokens work (the invitee's own JSON views)."""
    luid, cancel, resched = uid_of_manage_link(href)
    assert luid == uid, (href, uid)
    r = call(site.s, "GET", f"/api/cancel/{cancel}", headers={"Accept": "application/json"})
    assert r.status == 200 and r.json()["uid"] == uid, r
    r = call(site.s, "GET", f"/api/reschedule/{resched}", headers={"Accept": "application/json"})
    assert r.status == 200 and r.json()["uid"] == uid, r


def dumps(x):
    return json.dumps(x, indent=1, default=str)
