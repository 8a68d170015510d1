"""E-mail notifications through the outbox (issue 14): a real slotd on a real PostgreSQL sends to
a real SMTP server (Debian's python3-aiosmtpd, tests/api/smtp_util.py); every message is parsed
by Python's email package and every invitation by python3-icalendar.

- booked: the invitee's mail with the invitation (METHOD:REQUEST, a UID stable per booking) and
  the host's "new booking" mail; no mail at all while SLOTD_SMTP_URL is unset;
- the pending flow end to end: booking -> the host's mail -> its decline link -> the invitee's
  "declined" mail;
- cancel (METHOD:CANCEL, SEQUENCE+1) and reschedule (same UID, SEQUENCE+1);
- notify: false (only the host may ask) sends the invitee nothing;
- delivery: 451 twice then accepted -> delivered once; 550 -> failed with the reply kept;
  kill -9 with a mail queued -> sent once after the restart; the sealed tokens are gone once sent;
- reminders at their time (a shortened clock: the rows fall due at once behind the API's back),
  dropped when the booking is cancelled;
- the invitee's cancel and reschedule links from the mail, followed as a browser would (a page
  and a button; a GET changes nothing); STARTTLS with AUTH through the outbox.
"""

import datetime as dt
import re
import signal
import time
from zoneinfo import ZoneInfo

import pytest

from conftest import wait_until
from smtp_util import Pki, SmtpServer
from webhook_util import LOCAL_ENV, WEnv, WHost, call, count, iso, next_slot

icalendar = pytest.importorskip("icalendar")

SECRET = "ab" * 32


@pytest.fixture(scope="module")
def smtp():
    srv = SmtpServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory, smtp):
    e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_mail",
             {**LOCAL_ENV, "SLOTD_SMTP_URL": smtp.url(host="127.0.0.1"), "SLOTD_MAIL_FROM": "Slotd <slotd@example.com>",
              "SLOTD_SECRET_KEY": SECRET, "SLOTD_MAIL_RETRY_SCHEDULE": "1,1,1",
              "SLOTD_SMTP_TIMEOUT_MS": "1000",  # a claim's lease: 12 phases x 1 s + 10 s
              "SLOTD_PUBLIC_URL": "http://127.0.0.1:9"})
    try:
        yield e
    finally:
        e.close()


def ok(r, status=200):
    assert r.status == status, r
    return r.json()


def messages_to(smtp, addr, n, timeout=15):
    """The first n messages whose envelope goes to addr (waits for them)."""
    def got():
        m = [x for x in list(smtp.messages) if addr in x.rcpt_tos]
        return m if len(m) >= n else None
    return wait_until(got, timeout, what=f"{n} mail(s) to {addr}")


def calendar_of(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_content())
    return None


def event_of(cal):
    return [c for c in cal.walk() if c.name == "VEVENT"][0]


def text_of(msg):
    return msg.get_body(preferencelist=("plain",)).get_content()


def addr(tag):
    return f"{tag}-{int(time.time() * 1000) % 10**8}@example.com"


def test_booked_sends_invitation_and_host_mail(env, smtp):
    host = WHost(env.s)
    et = host.et(name="Intro Call", location_type="in_person", location_value="Room 5")
    who = addr("ada")
    start = next_slot()
    b = host.book(et, start, name="Ada Lovelace", email=who)
    inv = messages_to(smtp, who, 1)[0]
    msg = inv.message
    assert msg["To"].addresses[0].addr_spec == who
    assert msg["From"].addresses[0].addr_spec == "slotd@example.com"
    assert "Intro Call" in msg["Subject"]
    assert msg["Message-ID"] and msg["Date"]
    ev = event_of(calendar_of(msg))
    assert str(ev["UID"]).startswith(b["uid"])
    assert ev.decoded("DTSTART") == start and int(ev["SEQUENCE"]) == 0
    assert str(calendar_of(msg)["METHOD"]) == "REQUEST"
    host_mail = messages_to(smtp, host.email, 1)[0]
    assert "Ada Lovelace" in text_of(host_mail.message)
    rows = env.db.sql(f"SELECT kind, status, coalesce(secrets, '') FROM mail_outbox WHERE booking_id = {b['id']} "
                      f"ORDER BY id")
    wait_until(lambda: all(r[1] == "delivered" for r in env.db.sql(
        f"SELECT kind, status FROM mail_outbox WHERE booking_id = {b['id']}")), 10, what="rows delivered")
    assert {r[0] for r in rows} == {"booked", "host_new"}
    # the sealed tokens are gone once sent
    assert env.db.sql(f"SELECT count(*) FROM mail_outbox WHERE booking_id = {b['id']} AND secrets IS NOT NULL")[0][0] == "0"


def test_pending_flow_end_to_end(env, smtp):
    host = WHost(env.s)
    et = host.et(requires_confirmation=True)
    who = addr("pat")
    b = host.book(et, next_slot(), name="Pat Pending", email=who)
    assert b["status"] == "pending"
    first = messages_to(smtp, who, 1)[0]
    assert "confirm" in text_of(first.message).lower() or "wait" in text_of(first.message).lower()
    host_mail = messages_to(smtp, host.email, 1)[0]
    body = text_of(host_mail.message)
    links = re.findall(r"http://127\.0\.0\.1:9(/api/bookings/[0-9a-f]{64}/(?:confirm|decline))", body)
    decline = [l for l in links if l.endswith("/decline")]
    assert decline, body
    r = call(env.s, "GET", decline[0], headers={"Accept": "application/json"})
    assert r.status == 200, r
    second = messages_to(smtp, who, 2)[1]
    assert "declin" in (second.message["Subject"] + text_of(second.message)).lower()


def test_cancel_and_reschedule_keep_the_uid(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("rex")
    b = host.book(et, next_slot(), email=who)
    first = event_of(calendar_of(messages_to(smtp, who, 1)[0].message))
    new_start = next_slot()
    ok(host.act(b["id"], "reschedule", {"start_time": iso(new_start)}))
    moved = messages_to(smtp, who, 2)[1].message
    ev = event_of(calendar_of(moved))
    assert ev["UID"] == first["UID"] and int(ev["SEQUENCE"]) == 1 and ev.decoded("DTSTART") == new_start
    ok(host.act(b["id"], "cancel", {"reason": "sick"}))
    gone = messages_to(smtp, who, 3)[2].message
    cal = calendar_of(gone)
    assert str(cal["METHOD"]) == "CANCEL"
    ev = event_of(cal)
    assert ev["UID"] == first["UID"] and int(ev["SEQUENCE"]) == 2 and str(ev["STATUS"]) == "CANCELLED"
    kinds = [r[0] for r in env.db.sql(f"SELECT kind FROM mail_outbox WHERE booking_id = {b['id']} ORDER BY id")]
    assert kinds == ["booked", "host_new", "rescheduled", "host_rescheduled", "cancelled", "host_cancelled"]


def test_notify_false_is_the_hosts(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("quiet")
    body = {"name": "Quiet", "email": who, "start_time": iso(next_slot()), "notify": False}
    r = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}", body)
    assert r.status == 401, r                           # the public cannot silence the host's mails
    stranger = WHost(env.s)
    r = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}", body, auth=stranger.auth)
    assert r.status == 403 and r.json().get("field") == "notify", r
    r = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}", body, auth=host.auth)
    b = ok(r, 201)["booking"]
    messages_to(smtp, host.email, 1)
    time.sleep(0.5)
    assert not [m for m in smtp.messages if who in m.rcpt_tos]
    assert [r[0] for r in env.db.sql(f"SELECT kind FROM mail_outbox WHERE booking_id = {b['id']}")] == ["host_new"]


def test_retries_then_delivered_once_and_550_fails(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("retry")
    smtp.script("RCPT", "451 4.3.0 try again later", times=2)
    b = host.book(et, next_slot(), email=who)
    wait_until(lambda: env.db.sql(f"SELECT status FROM mail_outbox WHERE booking_id = {b['id']} AND kind = 'booked'")
               [0][0] == "delivered", 20, what="delivered after retries")
    time.sleep(1)
    assert len([m for m in smtp.messages if who in m.rcpt_tos]) == 1
    att = env.db.sql(f"SELECT attempts FROM mail_outbox WHERE booking_id = {b['id']} AND kind IN ('booked', 'host_new')")
    assert sorted(int(a[0]) for a in att)[-1] >= 2
    who2 = addr("reject")
    # the next RCPT is refused: the booking's two mails (invitee and host) race for it, so
    # exactly one of them fails, with the reply kept and its seal gone, and the other goes
    smtp.script("RCPT", "550 5.1.1 no such user here", times=1)
    b2 = host.book(et, next_slot(), email=who2)

    def settled():
        rows = env.db.sql(f"SELECT status, coalesce(last_code::text, ''), coalesce(last_reply, ''), "
                          f"coalesce(secrets, '') FROM mail_outbox WHERE booking_id = {b2['id']} ORDER BY status")
        return rows if len(rows) == 2 and all(r[0] in ("delivered", "failed") for r in rows) else None
    rows = wait_until(settled, 15, what="both mails delivered or failed")
    assert [r[0] for r in rows] == ["delivered", "failed"], rows
    failed = rows[1]
    assert failed[1] == "550" and "no such user" in failed[2] and failed[3] == "", failed


def test_kill_9_with_a_mail_queued(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("crash")
    smtp.script("MAIL", 3)            # the server stalls: the mail is in flight when slotd dies
    b = host.book(et, next_slot(), email=who)
    time.sleep(0.5)
    env.s.proc.send_signal(signal.SIGKILL)
    env.s.proc.wait()
    env.s.start()
    msgs = messages_to(smtp, who, 1, timeout=45)  # after the lease of the killed claim runs out (22 s)
    time.sleep(1)
    assert len([m for m in smtp.messages if who in m.rcpt_tos]) == 1
    assert env.db.sql(f"SELECT status FROM mail_outbox WHERE booking_id = {b['id']} AND kind = 'booked'")[0][0] == "delivered"
    assert msgs


def test_reminders_at_their_time_and_dropped_on_cancel(env, smtp):
    host = WHost(env.s)
    et = host.et(reminders=[1440, 60])
    assert et["reminders"] == [1440, 60]
    who = addr("remind")
    b = host.book(et, next_slot(), email=who)
    due = env.db.sql(f"SELECT count(*) FROM mail_outbox WHERE booking_id = {b['id']} AND kind = 'reminder' "
                     f"AND status = 'pending'")[0][0]
    assert due == "2"
    # a shortened clock: the reminders fall due in a moment
    env.db.sql(f"UPDATE mail_outbox SET next_attempt_at = clock_timestamp() + interval '1 second' "
               f"WHERE booking_id = {b['id']} AND kind = 'reminder'; NOTIFY slotd_mail")
    got = messages_to(smtp, who, 3)
    assert sum(1 for m in got if "remind" in m.message["Subject"].lower()) == 2
    # cancelled: pending reminders go
    b2 = host.book(et, next_slot(), email=addr("remind2"))
    ok(host.act(b2["id"], "cancel"))
    assert env.db.sql(f"SELECT count(*) FROM mail_outbox WHERE booking_id = {b2['id']} AND kind = 'reminder'")[0][0] == "0"


def test_no_mail_queued_when_smtp_is_off(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_mail_off", dict(LOCAL_ENV))
    try:
        host = WHost(e.s)
        host.book(host.et(), next_slot())
        assert count(e.db, "mail_outbox") == 0
    finally:
        e.close()


def test_the_invitees_cancel_link_from_the_mail(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("link")
    b = host.book(et, next_slot(), email=who)
    body = text_of(messages_to(smtp, who, 1)[0].message)
    m = re.search(r"http://127\.0\.0\.1:9(/api/cancel/[0-9a-f]{64})\b", body)
    assert m, body
    ics = re.search(r"http://127\.0\.0\.1:9(/api/bookings/[0-9a-f-]{36}/ics\?token=[0-9a-f]{64})", body)
    assert ics, body
    r = call(env.s, "GET", ics.group(1))
    assert r.status == 200 and b"BEGIN:VCALENDAR" in r.body
    # the hosted manage page (issue 19), with both of the invitee's tokens
    manage = re.search(r"http://127\.0\.0\.1:9(/booking/([0-9a-f-]{36})\?token=([0-9a-f]{64})&reschedule_token=([0-9a-f]{64}))",
                       body)
    assert manage and manage.group(2) == b["uid"] and manage.group(3) == m.group(1).rsplit("/", 1)[1], body
    resched = re.search(r"/api/reschedule/([0-9a-f]{64})", body)
    assert resched and manage.group(4) == resched.group(1)
    page = call(env.s, "GET", manage.group(1))
    assert page.status == 200 and b'data-view="manage"' in page.body
    # following the link shows the booking and a button; it cancels nothing by itself
    page = call(env.s, "GET", m.group(1), headers={"Accept": "text/html"})
    assert page.status == 200 and b"<form method=\"post\"" in page.body, page
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "confirmed"
    # the button: an empty form post
    done = call(env.s, "POST", m.group(1) + "/confirm", raw=b"",
                headers={"Accept": "text/html,application/xhtml+xml", "Content-Type": "application/x-www-form-urlencoded"})
    assert done.status == 200 and b"cancelled" in done.body.lower(), done
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "cancelled"
    gone = messages_to(smtp, who, 2)[1].message
    assert str(calendar_of(gone)["METHOD"]) == "CANCEL"
    # API clients keep JSON
    assert call(env.s, "GET", m.group(1), headers={"Accept": "application/json"}).status == 404  # no longer live


def test_starttls_with_auth_through_the_outbox(pg, tmp_path_factory):
    """The channel against a server that offers STARTTLS with a certificate from a test CA and
    requires AUTH: the mail arrives over TLS, authenticated."""
    pki = Pki(tmp_path_factory.mktemp("mail-pki"))
    with SmtpServer(starttls=pki.good, users={"mailer": "pa ss"}) as srv:
        e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_mail_tls",
                 {**LOCAL_ENV, "SLOTD_SMTP_URL": srv.url(user="mailer", password="pa ss"),
                  "SLOTD_MAIL_FROM": "slotd@example.com", "SLOTD_SECRET_KEY": SECRET, "SLOTD_SMTP_CA_FILE": pki.ca})
        try:
            host = WHost(e.s)
            who = addr("tls")
            host.book(host.et(), next_slot(), email=who)
            got = messages_to(srv, who, 1)[0]
            assert got.tls and got.auth_user == "mailer"
            assert calendar_of(got.message) is not None
        finally:
            e.close()


def test_secret_key_required_with_smtp(pg, tmp_path_factory, smtp):
    from conftest import Slotd
    db = pg.create_db("test_mail_nokey")
    s = Slotd(tmp_path_factory.mktemp("slotd"), db.url, env={**LOCAL_ENV, "SLOTD_SMTP_URL": smtp.url(host="127.0.0.1"),
                                                             "SLOTD_MAIL_FROM": "slotd@example.com"})
    try:
        s.start(wait=False)
        assert s.wait(15) not in (None, 0)
        assert "SLOTD_SECRET_KEY" in s.stderr()
    finally:
        s.kill()
        db.drop()


def test_the_invitees_reschedule_link_from_the_mail(env, smtp):
    host = WHost(env.s)
    et = host.et()
    who = addr("move")
    b = host.book(et, next_slot(), email=who, timezone="Europe/Berlin")
    body = text_of(messages_to(smtp, who, 1)[0].message)
    m = re.search(r"http://127\.0\.0\.1:9(/api/reschedule/[0-9a-f]{64})\b", body)
    assert m, body
    browser = {"Accept": "text/html,application/xhtml+xml"}
    page = call(env.s, "GET", m.group(1), headers=browser)
    assert page.status == 200 and b'type="datetime-local"' in page.body and b"Europe/Berlin" in page.body, page
    new = next_slot()
    local = new.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")  # the wall clock the page asks for
    step = call(env.s, "GET", f"{m.group(1)}?start={local}", headers=browser)
    assert step.status == 200, step
    action = re.search(rb'action="([^"]+)"', step.body).group(1).decode().replace("&amp;", "&")
    assert action.endswith("start_time=" + iso(new)), action
    assert env.db.sql(f"SELECT start_at = '{iso(new)}' FROM bookings WHERE id = {b['id']}")[0][0] == "f"
    done = call(env.s, "POST", action, raw=b"", headers={**browser, "Content-Type": "application/x-www-form-urlencoded"})
    assert done.status == 200 and b"moved" in done.body.lower(), done
    assert env.db.sql(f"SELECT start_at = '{iso(new)}' FROM bookings WHERE id = {b['id']}")[0][0] == "t"
    moved = messages_to(smtp, who, 2)[1].message
    ev = event_of(calendar_of(moved))
    assert int(ev["SEQUENCE"]) == 1 and ev.decoded("DTSTART") == new
    # a time that is taken answers a page saying so, and moves nothing
    other = host.book(et, next_slot(), email=addr("other"))
    taken = dt.datetime.fromisoformat(other["start"].replace("Z", "+00:00"))
    r = call(env.s, "POST", f"{m.group(1)}?start_time={iso(taken)}", raw=b"",
             headers={**browser, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 409 and b"<h1>" in r.body, r
    assert env.db.sql(f"SELECT start_at = '{iso(new)}' FROM bookings WHERE id = {b['id']}")[0][0] == "t"


def test_moves_remake_reminders_and_erasure_forgets_the_invitees_mail(env, smtp):
    host = WHost(env.s)
    et = host.et(reminders=[30])
    who = addr("forget")
    b = host.book(et, next_slot(), email=who)
    ok(host.act(b["id"], "reschedule", {"start_time": iso(next_slot())}))
    rows = env.db.sql(f"SELECT next_attempt_at = (SELECT start_at FROM bookings WHERE id = {b['id']}) "
                      f"- interval '30 minutes' FROM mail_outbox WHERE booking_id = {b['id']} AND kind = 'reminder'")
    assert rows == [["t"]], rows               # the old reminder went, one for the new time came
    messages_to(smtp, who, 2)
    ok(host.call("DELETE", f"/api/customers/{b['customer_id']}"))
    kinds = {r[0] for r in env.db.sql(f"SELECT kind FROM mail_outbox WHERE booking_id = {b['id']}")}
    assert kinds and all(k.startswith("host_") for k in kinds), kinds
    assert count(env.db, "mail_outbox", f"booking_id = {b['id']} AND secrets IS NOT NULL") == 0
