"""slotd's notification e-mails read by implementations nobody here wrote (issue 14):
tests/unit/maildump composes one message per kind through src/mail/compose.c, Python's email
package (BytesParser, policy=default) parses it and python3-icalendar reads its invitation.
Checks what a mail client would see: decoded UTF-8 names and subjects, no header smuggled in
through a name with CR/LF, the MIME tree and its types, line lengths, the times in the
recipient's zone, HTML escaping of a hostile name, links left out when not given.
"""

import datetime as dt
import os
import re
import subprocess
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path

import pytest

from conftest import ROOT, SLOTD_BIN

icalendar = pytest.importorskip("icalendar")  # python3-icalendar (tests/run installs it)

MAILDUMP = os.environ.get("SLOTD_MAILDUMP") or str(Path(SLOTD_BIN).parent / "tests" / "unit" / "maildump")
if not os.access(MAILDUMP, os.X_OK):
    MAILDUMP = str(ROOT / "build" / "test" / "tests" / "unit" / "maildump")

INVITEE_KINDS = ["booked", "pending", "pending_payment", "confirmed", "declined", "cancelled", "rescheduled",
                 "reminder"]
HOST_KINDS = ["host_new", "host_pending", "host_cancelled", "host_rescheduled"]
WITH_ICS = {"booked", "confirmed", "cancelled", "rescheduled", "host_new", "host_cancelled", "host_rescheduled"}
START = dt.datetime(2026, 12, 3, 14, 30, tzinfo=dt.timezone.utc)  # maildump's sample booking
HOSTILE = "<script>\"&'"


@pytest.fixture(scope="module")
def maildump():
    if not os.access(MAILDUMP, os.X_OK):
        pytest.fail(f"maildump helper not found at {MAILDUMP} (build with unit tests)")
    return MAILDUMP


def dump(maildump, kind, **fields):
    args = [maildump, kind] + [f"{k}={v}" for k, v in fields.items()]
    p = subprocess.run(args, capture_output=True, timeout=30)
    return p


def compose(maildump, kind, **fields):
    """The raw bytes and the parsed message."""
    p = dump(maildump, kind, **fields)
    assert p.returncode == 0, p.stderr
    return p.stdout, BytesParser(policy=policy.default).parsebytes(p.stdout)


def structure(msg):
    return [(part.get_content_type(), part.get_filename()) for part in msg.walk()]


def no_defects(msg):
    for part in msg.walk():
        assert not part.defects, (part.get_content_type(), part.defects)


@pytest.mark.parametrize("kind", INVITEE_KINDS + HOST_KINDS)
def test_every_kind_parses(maildump, kind):
    raw, msg = compose(maildump, kind)
    no_defects(msg)
    # CRLF everywhere, no line near SMTP's 998-octet limit (RFC 5322 2.1.1: 78 recommended).
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    host = kind.startswith("host_")
    assert msg["From"].addresses[0].display_name == "Acme Bookings"
    assert msg["From"].addresses[0].addr_spec == "bookings@slotd.example"
    assert msg["To"].addresses[0].addr_spec == ("ann@slotd.example" if host else "bob@example.org")
    if host:
        assert msg["Reply-To"] is None
    else:
        assert msg["Reply-To"].addresses[0].addr_spec == "ann@slotd.example"
    assert "Intro call" in msg["Subject"]
    assert msg["Date"].datetime == START - dt.timedelta(days=7)
    assert re.fullmatch(r"<[0-9a-f]{32}@slotd\.example>", msg["Message-ID"])
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"

    want = [("multipart/mixed", None), ("multipart/alternative", None), ("text/plain", None), ("text/html", None)]
    if kind in WITH_ICS:
        want += [("text/calendar", None), ("application/ics", "invite.ics")]
    assert structure(msg) == want
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in (None, "quoted-printable", "base64")

    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Thursday, 3 December 2026, 14:30\u201315:00 (Europe/London, GMT)" in text
    assert "Thursday, 3 December 2026, 14:30\u201315:00 (Europe/London, GMT)" in html
    assert "#0a7d3b" in html and ">Acme</td>" in html  # the brand
    assert "{{" not in text + html

    if kind in WITH_ICS:
        cal_part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
        attachment = next(p for p in msg.walk() if p.get_filename() == "invite.ics")
        assert attachment.get_content_disposition() == "attachment"
        assert attachment["Content-Transfer-Encoding"] == "base64"
        ics = cal_part.get_content()
        assert attachment.get_content() == ics.encode()  # application/*: bytes
        cal = icalendar.Calendar.from_ical(ics)
        method = "CANCEL" if "cancelled" in kind else "REQUEST"
        assert str(cal["METHOD"]) == method
        assert cal_part.get_param("method") == method
        ev = cal.walk("VEVENT")[0]
        assert str(ev["UID"]) == "b-7f3a@slotd.example"
        assert ev.decoded("DTSTART") == START


def test_wording(maildump):
    text = lambda kind, **kw: compose(maildump, kind, **kw)[1].get_body(("plain",)).get_content()
    assert "waiting for the host to confirm" in text("pending")
    assert "complete the payment to keep the slot" in text("pending_payment")
    assert "Reason given: Something came up" in text("declined")
    assert "Reason given: Something came up" in text("cancelled")
    t = text("rescheduled")
    assert "Previously: Wednesday, 2 December 2026, 14:30 (Europe/London, GMT)" in t
    assert "When: Thursday, 3 December 2026, 14:30\u201315:00" in t
    assert "Google Calendar: https://calendar.google.com/" in text("booked")
    assert "Cancel: https://slotd.example/b/7f3a/cancel?token=abc&x=1" in text("booked")

    raw, msg = compose(maildump, "host_pending")
    t = msg.get_body(("plain",)).get_content()
    assert "Confirm: https://slotd.example/api/bookings/confirm?token=c0ff33" in t
    assert "Decline: https://slotd.example/api/bookings/decline?token=dec1" in t
    assert t.index("Confirm:") < t.index("What:")  # prominent: before the details
    html = msg.get_body(("html",)).get_content()
    assert re.search(r'<a href="https://slotd.example/api/bookings/confirm\?token=c0ff33" style="[^"]*background:#0a7d3b',
                     html)


def test_missing_links_are_left_out(maildump):
    _, msg = compose(maildump, "booked", cancel_url="", reschedule_url="", manage_url="", google_url="",
                     outlook_url="", ics_url="")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Cancel" not in text and "Reschedule" not in text and "calendar:" not in text
    assert "<a " not in html
    _, msg = compose(maildump, "host_pending", confirm_url="", decline_url="")
    assert "Confirm:" not in msg.get_body(("plain",)).get_content()


NAMES = [
    "Zoë Ünal-Straßenbahn",
    "東京都千代田区の山田太郎さんとその長い名前がまだまだ続く",
    "👩‍💻 Ada",
    'Guest, Bob ("B")',
    "=?UTF-8?B?SGk=?=",
    "O'Brien <ob@example.org>",
]


def raw_header(raw, name):
    """The unfolded raw value of a header (before any decoding)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    m = re.search(rf"^{name}: (.*?)\r\n(?! )", head + "\r\n", re.M | re.S)
    return m.group(1).replace("\r\n", "")


def display_name(raw, msg, header):
    """The display name as RFC 2047 6.2 reads it. Python 3.11's structured-header parser keeps
    the folding white space between two adjacent encoded-words of a display name as a space
    (cpython gh-128110, fixed in later releases): a long name comes back with an extra space at
    each word boundary, so that parser is only trusted up to white space, and the exact value
    is checked with the email.header decoder, which drops it as the RFC says."""
    parsed = msg[header].addresses[0].display_name
    phrase = raw_header(raw, header).rsplit(" <", 1)[0]
    exact = str(make_header(decode_header(phrase)))
    if exact.startswith('"'):  # a quoted string: decode_header leaves it as it is
        exact = re.sub(r'\\(.)', r"\1", exact[1:-1])
    assert re.sub(r"\s", "", parsed) == re.sub(r"\s", "", exact)
    if phrase.count("=?") <= 1:
        assert parsed == exact
    return exact


@pytest.mark.parametrize("name", NAMES)
def test_names_decode_to_utf8(maildump, name):
    raw, msg = compose(maildump, "booked", to_name=name, from_name=name, host_name=name, event_name=name)
    no_defects(msg)
    assert display_name(raw, msg, "To") == name
    assert msg["To"].addresses[0].addr_spec == "bob@example.org"
    assert display_name(raw, msg, "From") == name
    assert msg["Subject"] == f"Confirmed: {name} with {name} on Thu 3 Dec 2026, 14:30 GMT"
    head = raw.split(b"\r\n\r\n", 1)[0]
    for word in re.findall(rb"=\?[^?]*\?[BbQq]\?[^?]*\?=", head):
        assert len(word) <= 75
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert all(b < 0x80 for b in head)  # 7-bit headers: no SMTPUTF8 needed for names


INJECTIONS = ["Eve\r\nBcc: victim@example.org", "Eve\nX-Injected: 1", "Eve\rCc: x@example.org",
              "Eve\r\n\r\n<html>body</html>", "Eve\x07\x1b[31m\x7f\u0085\u2028"]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_no_header_injection(maildump, evil):
    raw, msg = compose(maildump, "host_new", to_name=evil, from_name=evil, invitee_name=evil, event_name=evil,
                       brand_name=evil)
    no_defects(msg)
    assert sorted(msg.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
                                         "Auto-Submitted", "Content-Type"])
    assert structure(msg)[0] == ("multipart/mixed", None)
    name = msg["To"].addresses[0].display_name
    assert name.startswith("Eve") and not re.search(r"[\x00-\x1f\x7f\x80-\x9f]", name)
    assert not re.search(r"[\x00-\x1f\x7f]", str(msg["Subject"]))
    assert msg["To"].addresses[0].addr_spec == "ann@slotd.example"


def test_bad_addresses_are_refused(maildump):
    for fields in ({"to_email": ""}, {"to_email": "bob@example.org\r\nBcc: x@y"}, {"to_email": "Bob <b@x>"},
                   {"reply_to": "a@b\nc"}, {"from_email": "nobody"}, {"cancel_url": "javascript:alert(1)"},
                   {"cancel_url": 'https://x.example/"><script>'}):
        assert dump(maildump, "booked", **fields).returncode == 1, fields


def test_html_escaping(maildump):
    raw, msg = compose(maildump, "host_new", invitee_name=HOSTILE, notes=HOSTILE, brand_name=HOSTILE,
                       location=HOSTILE, event_name=HOSTILE)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;&quot;&amp;&#39;" in html
    assert html.count("&lt;script&gt;&quot;&amp;&#39;") >= 6  # title, brand, greeting, details, notes
    assert f"Invitee: {HOSTILE} <bob@example.org>" in text  # the text part is plain text
    assert msg["Subject"] == f"New booking: {HOSTILE} with {HOSTILE} on Thu 3 Dec 2026, 14:30 GMT"
    assert msg["From"].addresses[0].display_name == "Acme Bookings"


def test_hrefs_are_escaped(maildump):
    _, msg = compose(maildump, "booked", cancel_url="https://slotd.example/c?a=1&b='x'")
    html = msg.get_body(("html",)).get_content()
    assert 'href="https://slotd.example/c?a=1&amp;b=&#39;x&#39;"' in html


def test_times_in_the_recipients_zone(maildump):
    text = lambda **kw: compose(maildump, "reminder", **kw)[1].get_body(("plain",)).get_content()
    assert "Thursday, 3 December 2026, 09:30\u201310:00 (America/New_York, GMT-5)" in text(to_tz="America/New_York")
    assert "Thursday, 3 December 2026, 20:00\u201320:30 (Asia/Kolkata, GMT+5:30)" in text(to_tz="Asia/Kolkata")
    assert "Friday, 4 December 2026, 03:30\u201304:00 (Pacific/Auckland, GMT+13)" in text(to_tz="Pacific/Auckland")
    assert "Thursday, 3 December 2026, 14:30\u201315:00 (UTC)" in text(to_tz="")
    assert "Thursday, 3 December 2026, 14:30\u201315:00 (UTC)" in text(to_tz="Not/AZone")
    _, msg = compose(maildump, "reminder", to_tz="Asia/Tokyo")
    assert msg["Subject"].endswith("Thu 3 Dec 2026, 23:30 GMT+9")
