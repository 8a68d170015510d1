"""The invitation served (issue 14): GET /api/bookings/:ref/ics and /calendar-links, for the
invitee by their cancel or reschedule token and for the booking's hosts by credentials; anyone
else 404. Parsed with python3-icalendar; the links decoded with urllib."""

import urllib.parse

import pytest

from webhook_util import LOCAL_ENV, WEnv, WHost, call, iso, next_slot

icalendar = pytest.importorskip("icalendar")


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_calendar",
             {**LOCAL_ENV, "SLOTD_PUBLIC_URL": "https://book.example.com"})
    try:
        yield e
    finally:
        e.close()


def vevent(body):
    cal = icalendar.Calendar.from_ical(body)
    return cal, [c for c in cal.walk() if c.name == "VEVENT"][0]


def booked(host, **kw):
    et = host.et(name="Design Review", location_type="in_person", location_value="Room 4, Main St")
    start = next_slot()
    r = host.book_req(et, start, name="Ada Lovelace", email="ada@example.com", **kw)
    assert r.status == 201, r
    return et, start, r.json()["booking"]


def test_invitee_token_serves_the_invitation(env):
    host = WHost(env.s)
    _, start, b = booked(host)
    for tok in (b["cancel_token"], b["reschedule_token"]):
        r = call(env.s, "GET", f"/api/bookings/{b['uid']}/ics?token={tok}")
        assert r.status == 200, r
        assert r.header("Content-Type").startswith("text/calendar")
        assert "attachment" in r.header("Content-Disposition")
        cal, ev = vevent(r.body)
        assert str(cal["METHOD"]) == "PUBLISH"
        assert str(ev["UID"]) == f"{b['uid']}@book.example.com"
        assert int(ev["SEQUENCE"]) == 0 and ev.decoded("DTSTART") == start
        assert str(ev["SUMMARY"]).startswith("Design Review") and "Room 4" in str(ev["LOCATION"])
        assert "ada@example.com" in str(ev["ATTENDEE"]).lower()
    j = call(env.s, "GET", f"/api/bookings/{b['uid']}/calendar-links?token={b['cancel_token']}").json()
    assert set(j) >= {"google", "outlook", "office365", "yahoo", "ics"}
    g = urllib.parse.urlparse(j["google"])
    q = urllib.parse.parse_qs(g.query)
    assert g.netloc == "calendar.google.com" and q["text"][0].startswith("Design Review")
    assert q["dates"][0].startswith(start.strftime("%Y%m%dT%H%M%SZ"))
    assert j["ics"].startswith(f"https://book.example.com/api/bookings/{b['uid']}/ics?token=")


def test_sequence_follows_moves_and_cancellation(env):
    host = WHost(env.s)
    _, _, b = booked(host)
    new = next_slot()
    assert host.act(b["id"], "reschedule", {"start_time": iso(new)}).status == 200
    _, ev = vevent(call(env.s, "GET", f"/api/bookings/{b['uid']}/ics?token={b['cancel_token']}").body)
    assert int(ev["SEQUENCE"]) == 1 and ev.decoded("DTSTART") == new
    assert host.act(b["id"], "cancel").status == 200
    _, ev = vevent(call(env.s, "GET", f"/api/bookings/{b['id']}/ics", auth=host.auth).body)
    assert int(ev["SEQUENCE"]) == 2 and str(ev["STATUS"]) == "CANCELLED"


def test_hosts_by_credentials_and_everyone_else_404(env):
    host, other = WHost(env.s), WHost(env.s)
    _, _, b = booked(host)
    _, _, b2 = booked(other)
    for ref in (b["id"], b["uid"]):
        assert call(env.s, "GET", f"/api/bookings/{ref}/ics", auth=host.auth).status == 200
        assert call(env.s, "GET", f"/api/bookings/{ref}/calendar-links", auth=host.auth).status == 200
        assert call(env.s, "GET", f"/api/bookings/{ref}/ics", auth=other.auth).status == 404
    assert call(env.s, "GET", f"/api/bookings/{b['uid']}/ics").status == 401
    bad = [f"/api/bookings/{b['uid']}/ics?token={'0' * 64}",            # no such token
           f"/api/bookings/{b['uid']}/ics?token=short",
           f"/api/bookings/{b2['uid']}/ics?token={b['cancel_token']}",   # another booking's uid
           f"/api/bookings/{b['id']}/ics?token={b['cancel_token']}",     # tokens go with the uid
           f"/api/bookings/999999/ics"]
    for path in bad:
        r = call(env.s, "GET", path, auth=other.auth if path.endswith("999999/ics") else None)
        assert r.status == 404, (path, r)
