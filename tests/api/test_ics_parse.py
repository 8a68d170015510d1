"""slotd's calendar files and add-to-calendar links read by implementations nobody here wrote
(issue 14): tests/unit/icsdump renders an event through src/mail/ics.c (libical) or
src/mail/links.c, and Debian's python3-icalendar (icalendar.Calendar.from_ical) and urllib parse
the output. Checks the values as data: UID, SEQUENCE, UTC DTSTART/DTEND, METHOD, STATUS,
ORGANIZER/ATTENDEE, text with the characters RFC 5545 escapes, folded UTF-8, and names built to
break out of their CN parameter.
"""

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ROOT, SLOTD_BIN

icalendar = pytest.importorskip("icalendar")  # python3-icalendar (tests/run installs it)

ICSDUMP = os.environ.get("SLOTD_ICSDUMP") or str(Path(SLOTD_BIN).parent / "tests" / "unit" / "icsdump")
if not os.access(ICSDUMP, os.X_OK):
    ICSDUMP = str(ROOT / "build" / "test" / "tests" / "unit" / "icsdump")

T0 = 1772600000  # 2026-03-04T04:53:20Z
UTC = dt.timezone.utc


def utc(t):
    return dt.datetime.fromtimestamp(t, UTC)


BASE = {
    "uid": "b-7f3a@slotd.example",
    "sequence": 0,
    "method": "REQUEST",
    "start": T0,
    "end": T0 + 1800,
    "stamp": T0 - 3600,
    "summary": "Intro call between Ann and Bob",
    "description": "Reschedule: https://slotd.example/r?t=abc&x=1\nCancel: https://slotd.example/c?t=abc",
    "location": "Main St. 1, Floor 2; Room \"A\"",
    "url": "https://slotd.example/bookings/b-7f3a",
    "organizer_name": "Ann Host",
    "organizer_email": "ann@slotd.example",
    "attendee_name": "Bob Guest",
    "attendee_email": "bob@example.org",
    "cancelled": 0,
}


@pytest.fixture(scope="module")
def icsdump():
    if not os.access(ICSDUMP, os.X_OK):
        pytest.fail(f"icsdump helper not found at {ICSDUMP} (build with unit tests)")
    return ICSDUMP


def run(icsdump, fields, *prefix):
    args = [icsdump, *prefix] + [f"{k}={v}" for k, v in fields.items() if v is not None]
    return subprocess.run(args, capture_output=True, timeout=30)


def render(icsdump, **changes):
    """The raw bytes and the parsed calendar of BASE with changes (None drops a field)."""
    fields = {**BASE, **changes}
    p = run(icsdump, fields)
    assert p.returncode == 0, p.stderr
    return p.stdout, icalendar.Calendar.from_ical(p.stdout)


def event(cal):
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def cn(prop):
    """The CN parameter with RFC 6868's ^-encoding undone (python3-icalendar 4.0 does not)."""
    out, s, i = [], prop.params["CN"], 0
    while i < len(s):
        if s[i] == "^" and i + 1 < len(s) and s[i + 1] in "n'^":
            out.append({"n": "\n", "'": '"', "^": "^"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def test_request_fields(icsdump):
    raw, cal = render(icsdump)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert str(cal["PRODID"]) == "-//slotd//slotd//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "REQUEST"
    e = event(cal)
    assert str(e["UID"]) == BASE["uid"]
    assert e["SEQUENCE"] == 0
    assert e["DTSTART"].dt == utc(T0) and e["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert e["DTEND"].dt == utc(T0 + 1800) and e["DTEND"].dt.utcoffset() == dt.timedelta(0)
    assert e["DTSTAMP"].dt == utc(T0 - 3600)
    assert str(e["SUMMARY"]) == BASE["summary"]
    assert str(e["DESCRIPTION"]) == BASE["description"]
    assert str(e["LOCATION"]) == BASE["location"]
    assert str(e["URL"]) == BASE["url"]
    assert str(e["STATUS"]) == "CONFIRMED"
    org, att = e["ORGANIZER"], e["ATTENDEE"]
    assert str(org) == "mailto:ann@slotd.example" and cn(org) == "Ann Host"
    assert str(att) == "mailto:bob@example.org" and cn(att) == "Bob Guest"
    assert att.params["ROLE"] == "REQ-PARTICIPANT"
    assert att.params["PARTSTAT"] == "ACCEPTED"
    assert att.params["RSVP"] == "FALSE"


def test_reschedule_and_cancel_keep_the_uid(icsdump):
    _, first = render(icsdump)
    _, moved = render(icsdump, sequence=1, start=T0 + 86400, end=T0 + 86400 + 1800, stamp=T0)
    _, gone = render(icsdump, sequence=2, method="CANCEL", cancelled=1, stamp=T0 + 60)
    a, b, c = event(first), event(moved), event(gone)
    assert str(a["UID"]) == str(b["UID"]) == str(c["UID"]) == BASE["uid"]
    assert (a["SEQUENCE"], b["SEQUENCE"], c["SEQUENCE"]) == (0, 1, 2)
    assert b["DTSTART"].dt == utc(T0 + 86400) and b["DTEND"].dt == utc(T0 + 86400 + 1800)
    assert str(moved["METHOD"]) == "REQUEST" and str(b["STATUS"]) == "CONFIRMED"
    assert str(gone["METHOD"]) == "CANCEL" and str(c["STATUS"]) == "CANCELLED"


def test_publish_without_people(icsdump):
    _, cal = render(icsdump, method="PUBLISH", organizer_name=None, organizer_email=None, attendee_name=None,
                    attendee_email=None, description=None, location=None, url=None)
    e = event(cal)
    assert str(cal["METHOD"]) == "PUBLISH"
    for name in ("ORGANIZER", "ATTENDEE", "DESCRIPTION", "LOCATION", "URL"):
        assert name not in e


def test_escaped_text_and_folded_utf8_round_trip(icsdump):
    summary = "a,b;c\\d\ne:f " + "é" * 60 + " \U0001F4C5" * 10
    description = "x" * 300 + "\n\n" + "ż" * 100
    raw, cal = render(icsdump, summary=summary, description=description)
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # no line break inside a UTF-8 sequence
    e = event(cal)
    assert str(e["SUMMARY"]) == summary
    assert str(e["DESCRIPTION"]) == description


@pytest.mark.parametrize("name", [
    'Evil"\r\nX-INJ:1\r\nATTENDEE:mailto:x@evil.example',
    'Bob "the" Builder; ROLE=CHAIR:mailto:x@evil.example,\\',
    '"\nBEGIN:VALARM\nACTION:DISPLAY\nEND:VALARM',
    "Zoë Ünal 张伟",
])
def test_hostile_names_stay_data(icsdump, name):
    _, cal = render(icsdump, organizer_name=name, attendee_name=name)
    e = event(cal)
    assert set(k for k in cal.keys()) == {"PRODID", "VERSION", "CALSCALE", "METHOD"}
    assert set(e.keys()) == {"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION",
                             "URL", "ORGANIZER", "ATTENDEE", "STATUS"}
    assert not e.walk("VALARM")
    org, att = e["ORGANIZER"], e["ATTENDEE"]
    assert not isinstance(att, list), "one attendee only"
    assert str(org) == "mailto:ann@slotd.example" and str(att) == "mailto:bob@example.org"
    # RFC 6868 has no code for CR: libical writes it as a space. The words survive as data.
    assert cn(org).split() == name.split() and cn(att).split() == name.split()
    assert att.params["ROLE"] == "REQ-PARTICIPANT"


@pytest.mark.parametrize("field,value", [
    ("url", "https://slotd.example/\r\nX-INJ:1"),
    ("organizer_email", "ann@slotd.example\nX-INJ:1"),
    ("attendee_email", "bob@example.org\r\nATTENDEE:mailto:x@evil"),
    ("method", "REPLY"),
    ("end", T0 - 1),
])
def test_unusable_events_are_refused(icsdump, field, value):
    p = run(icsdump, {**BASE, field: value})
    assert p.returncode == 1 and p.stdout == b""


def test_links_decode_to_the_event(icsdump):
    summary = "Intro & Q#1 = 100% ☕"
    description = "Notes: ż?\nhttps://slotd.example/c?t=1&x=2#frag"
    location = "Room +1 / west"
    ics_url = "https://slotd.example/api/bookings/b-7f3a/ics?token=abc"
    p = run(icsdump, {**BASE, "summary": summary, "description": description, "location": location},
            "links", ics_url)
    assert p.returncode == 0, p.stderr
    links = json.loads(p.stdout)
    assert set(links) == {"google", "outlook", "office365", "yahoo", "ics"}
    assert links["ics"] == ics_url

    def query(url, scheme_host_path):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == scheme_host_path
        assert not parts.fragment and " " not in url
        q = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
        assert all(len(v) == 1 for v in q.values())
        return {k: v[0] for k, v in q.items()}

    g = query(links["google"], "https://calendar.google.com/calendar/render")
    assert g == {"action": "TEMPLATE", "text": summary, "dates": "20260304T045320Z/20260304T052320Z",
                 "details": description, "location": location}
    for key, host in (("outlook", "outlook.live.com"), ("office365", "outlook.office.com")):
        o = query(links[key], f"https://{host}/calendar/0/deeplink/compose")
        assert o == {"path": "/calendar/action/compose", "rru": "addevent", "subject": summary,
                     "startdt": "2026-03-04T04:53:20Z", "enddt": "2026-03-04T05:23:20Z", "body": description,
                     "location": location}
    y = query(links["yahoo"], "https://calendar.yahoo.com/")
    assert y == {"v": "60", "title": summary, "st": "20260304T045320Z", "et": "20260304T052320Z",
                 "desc": description, "in_loc": location}
