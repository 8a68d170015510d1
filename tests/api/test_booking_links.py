"""Issue 5, invitee side (no login): SchedKit's host links GET /api/bookings/:token/confirm and
/decline (HTML for browsers, JSON for Accept: application/json), the invitee's cancel and
reschedule tokens, and Kordless's self-service by confirmation number + contact (404 for a
wrong contact exactly like an unknown number; 10 attempts a minute per IP).

Tokens are single-purpose and stop working once the booking is cancelled/declined or has ended.
"""

import datetime as dt
import secrets
from urllib.parse import quote

import pytest

from accounts_util import call_from, ensure_window
from booking_util import (UTC, Host, assert_error, assert_no_double_booking, call, day_at,  # noqa: F401
                          env, iso, next_ip, parse_iso, status_of)

JSON = {"Accept": "application/json"}


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def is_html(r):
    return (r.header("Content-Type") or "").startswith("text/html")


def link(s, token, which, accept=None):
    return call(s, "GET", f"/api/bookings/{token}/{which}", headers=accept)


def past(hours=3):
    t = dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=hours)
    return t, t + dt.timedelta(minutes=30)


# ----------------------------------------------------------------------------
# the host's confirm / decline links


def test_confirm_link_html_then_json(env, host):
    et = host.et(name="Tea & <b>Talk</b>", requires_confirmation=True)
    b = host.book(et, day_at(3, 10))
    tok = host.confirm_token(b["id"])
    r = link(env.s, tok, "confirm", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status == 200, r
    assert is_html(r), r
    page = r.body.decode()
    assert "<html" in page.lower() and "confirmed" in page.lower(), page
    assert "<b>Talk</b>" not in page and "&lt;b&gt;Talk&lt;/b&gt;" in page, page  # escaped
    assert status_of(env.db, b["id"]) == "confirmed"
    assert env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id DESC LIMIT 1") == \
        [["booking.confirmed"]]
    # clicking again: the booking is no longer pending
    r = link(env.s, tok, "confirm", JSON)
    assert r.status == 409 and r.header("Content-Type").startswith("application/json"), r
    assert r.json()["code"] == "CONFLICT" and r.json().get("status") == "confirmed", r.json()
    r = link(env.s, tok, "confirm")
    assert r.status == 409 and is_html(r), r
    # and the decline link cannot undo a confirmation
    r = link(env.s, tok, "decline", JSON)
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    assert status_of(env.db, b["id"]) == "confirmed"


def test_decline_link_on_a_confirmed_booking_names_the_status(env, host):
    """Illegal transitions -> 409 with the current status, through the links as well."""
    et = host.et(requires_confirmation=True)
    b = host.book(et, day_at(3, 17))
    tok = host.confirm_token(b["id"])
    assert host.act(b["id"], "confirm").status == 200
    r = link(env.s, tok, "decline", JSON)
    assert r.status == 409, r
    assert r.json().get("status") == "confirmed", r.json()


def test_confirm_link_json(env, host):
    et = host.et(requires_confirmation=True)
    b = host.book(et, day_at(3, 11))
    r = link(env.s, host.confirm_token(b["id"]), "confirm", JSON)
    assert r.status == 200, r
    j = r.json()["booking"]
    assert j["uid"] == b["uid"] and j["status"] == "confirmed", j
    assert "cancel_token" not in j


def test_decline_link(env, host):
    et = host.et(requires_confirmation=True)
    t = day_at(3, 12)
    b = host.book(et, t)
    tok = host.confirm_token(b["id"])
    r = link(env.s, tok, "decline", JSON)
    assert r.status == 200, r
    assert r.json()["booking"]["status"] == "declined"
    assert status_of(env.db, b["id"]) == "declined"
    # the token died with the request; the slot is free again
    for which in ("confirm", "decline"):
        assert_error(link(env.s, tok, which, JSON), 404, "NOT_FOUND")
        r = link(env.s, tok, which)
        assert r.status == 404 and is_html(r), r
    assert host.book_req(et, t, email="next@example.com").status == 201
    # declining in a browser gives a page
    b2 = host.book(et, day_at(3, 13))
    r = link(env.s, host.confirm_token(b2["id"]), "decline")
    assert r.status == 200 and is_html(r) and "declined" in r.body.decode().lower(), r


def test_links_of_ended_or_cancelled_requests_are_dead(env, host):
    et = host.et(requires_confirmation=True)
    old = host.book(et, day_at(3, 14))
    host.move(old["id"], *past())
    tok = host.confirm_token(old["id"])
    for which in ("confirm", "decline"):
        assert_error(link(env.s, tok, which, JSON), 404, "NOT_FOUND")
    assert status_of(env.db, old["id"]) == "pending"
    c = host.book(et, day_at(3, 15))
    tok = host.confirm_token(c["id"])
    assert host.act(c["id"], "cancel").status == 200
    for which in ("confirm", "decline"):
        assert_error(link(env.s, tok, which, JSON), 404, "NOT_FOUND")
    assert status_of(env.db, c["id"]) == "cancelled"


def test_unknown_and_malformed_tokens(env, host):
    et = host.et(requires_confirmation=True)
    b = host.book(et, day_at(3, 16))
    good = host.confirm_token(b["id"])
    bad = [secrets.token_hex(32), good[:-1], good + "0", good.upper(), "x" * 64, "1"]
    for tok in bad:
        for which in ("confirm", "decline"):
            assert_error(link(env.s, tok, which, JSON), 404, "NOT_FOUND")
            r = link(env.s, tok, which)
            assert r.status == 404 and is_html(r), (tok, r)
        assert_error(call(env.s, "POST", f"/api/cancel/{tok}/confirm"), 404, "NOT_FOUND")
        assert_error(call(env.s, "POST", f"/api/reschedule/{tok}", {"start_time": iso(day_at(3, 17))}), 404,
                     "NOT_FOUND")
    assert status_of(env.db, b["id"]) == "pending"


def test_tokens_are_single_purpose(env, host):
    et = host.et(requires_confirmation=True)
    t = day_at(4, 10)
    r = host.book_req(et, t)
    b = r.json()["booking"]
    ct, rt, ft = b["cancel_token"], b["reschedule_token"], host.confirm_token(b["id"])
    assert len({ct, rt, ft}) == 3
    new = {"start_time": iso(day_at(4, 12))}
    # the invitee's tokens do not confirm; the host's token does not cancel or reschedule
    for tok in (ct, rt):
        for which in ("confirm", "decline"):
            assert_error(link(env.s, tok, which, JSON), 404, "NOT_FOUND")
    for tok in (ft, rt):
        assert_error(call(env.s, "POST", f"/api/cancel/{tok}/confirm"), 404, "NOT_FOUND")
    for tok in (ft, ct):
        assert_error(call(env.s, "POST", f"/api/reschedule/{tok}", new), 404, "NOT_FOUND")
    g = host.booking(b["id"])
    assert g["status"] == "pending" and parse_iso(g["start"]) == t
    # ... and each one does its own job
    assert call(env.s, "POST", f"/api/reschedule/{rt}", new).status == 200
    assert link(env.s, ft, "confirm", JSON).status == 200
    assert call(env.s, "POST", f"/api/cancel/{ct}/confirm").status == 200
    assert status_of(env.db, b["id"]) == "cancelled"


# ----------------------------------------------------------------------------
# the invitee's cancel and reschedule tokens


def test_invitee_cancel(env, host):
    et = host.et()
    t = day_at(5, 10)
    b = host.book(et, t)
    r = call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm", {"reason": "Sick"})
    assert r.status == 200 and r.json() == {"ok": True}, r
    g = host.booking(b["id"])
    assert g["status"] == "cancelled" and g["cancelled_by"] == "invitee" and g["reason"] == "Sick", g
    assert env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id DESC LIMIT 1") == \
        [["booking.cancelled"]]
    # tokens stop working once the booking is cancelled
    assert_error(call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm"), 404, "NOT_FOUND")
    assert_error(call(env.s, "POST", f"/api/reschedule/{b['reschedule_token']}", {"start_time": iso(day_at(5, 12))}),
                 404, "NOT_FOUND")
    assert host.book_req(et, t, email="next@example.com").status == 201
    # without a body too
    b2 = host.book(et, day_at(5, 11))
    r = call(env.s, "POST", f"/api/cancel/{b2['cancel_token']}/confirm")
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert status_of(env.db, b2["id"]) == "cancelled"


def test_invitee_reschedule(env, host):
    et = host.et()
    t0, t1, t2 = day_at(5, 13), day_at(6, 9), day_at(6, 10)
    b = host.book(et, t0)
    other = host.book(et, day_at(6, 11), email="other@example.com")
    rt = b["reschedule_token"]
    r = call(env.s, "POST", f"/api/reschedule/{rt}", {"start_time": iso(t1), "timezone": "America/Chicago"})
    assert r.status == 200, r
    j = r.json()["booking"]
    assert j["uid"] == b["uid"] and j["id"] == b["id"], j
    assert parse_iso(j["start"]) == t1 and parse_iso(j["previous_start"]) == t0, j
    assert j["timezone"] == "America/Chicago"
    assert "cancel_token" not in j and "reschedule_token" not in j
    # the token keeps working while the booking is live
    r = call(env.s, "POST", f"/api/reschedule/{rt}", {"start_time": iso(t2)})
    assert r.status == 200, r
    assert parse_iso(r.json()["booking"]["previous_start"]) == t1
    # refused moves leave it alone
    r = call(env.s, "POST", f"/api/reschedule/{rt}", {"start_time": other["start"]})
    assert r.status == 409 and r.json()["code"] == "CONFLICT", r
    assert_error(call(env.s, "POST", f"/api/reschedule/{rt}", {"start_time": iso(day_at(6, 12, 5))}), 400,
                 "VALIDATION_FAILED", "start_time")
    assert_error(call(env.s, "POST", f"/api/reschedule/{rt}", {}), 400, "VALIDATION_FAILED", "start_time")
    assert_error(call(env.s, "POST", f"/api/reschedule/{rt}", {"start_time": iso(t0), "timezone": "Not/AZone"}), 400,
                 "VALIDATION_FAILED", "timezone")
    assert parse_iso(host.booking(b["id"])["start"]) == t2
    # both earlier times are free
    assert host.book_req(et, t0, email="n0@example.com").status == 201
    assert host.book_req(et, t1, email="n1@example.com").status == 201
    # the cancel token still cancels the moved booking
    assert call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm").status == 200
    assert_no_double_booking(env.db)


def test_tokens_stop_after_the_booking_ended(env, host):
    et = host.et()
    b = host.book(et, day_at(5, 14))
    host.move(b["id"], *past())
    assert_error(call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm"), 404, "NOT_FOUND")
    assert_error(call(env.s, "POST", f"/api/reschedule/{b['reschedule_token']}", {"start_time": iso(day_at(5, 16))}),
                 404, "NOT_FOUND")
    assert status_of(env.db, b["id"]) == "confirmed"
    # one that has started but not ended is still live
    b2 = host.book(et, day_at(5, 15))
    now = dt.datetime.now(UTC).replace(microsecond=0)
    host.move(b2["id"], now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=20))
    r = call(env.s, "POST", f"/api/cancel/{b2['cancel_token']}/confirm")
    assert r.status == 200, r


def test_host_cancel_kills_invitee_tokens(env, host):
    b = host.book(host.et(), day_at(5, 17))
    assert host.act(b["id"], "cancel").status == 200
    assert_error(call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm"), 404, "NOT_FOUND")
    assert_error(call(env.s, "POST", f"/api/reschedule/{b['reschedule_token']}", {"start_time": iso(day_at(5, 18))}),
                 404, "NOT_FOUND")
    g = host.booking(b["id"])
    assert g["cancelled_by"] == "host"


# ----------------------------------------------------------------------------
# confirmation number + contact


def num_path(number, contact, action=None):
    p = f"/api/bookings/confirmation/{number}"
    if action:
        p += f"/{action}"
    if contact is not None:
        p += f"?contact={quote(contact, safe='')}"
    return p


def test_number_lookup(env, host):
    et = host.et()
    b = host.book(et, day_at(6, 14), email="Carol@Example.com", phone="+1 (555) 010-9999")
    num = b["confirmation_number"]
    ip = next_ip()

    def get(number, contact):
        return call_from(env.s, ip, "GET", num_path(number, contact))

    for contact in ("carol@example.com", "CAROL@example.COM", "+1 (555) 010-9999", "15550109999"):
        r = get(num, contact)
        assert r.status == 200, (contact, r)
        j = r.json()
        assert j["uid"] == b["uid"] and j["confirmation_number"] == num and j["status"] == "confirmed", j
        assert "cancel_token" not in j and "reschedule_token" not in j
    r = get(num.lower(), "carol@example.com")
    assert r.status == 200, r

    ip = next_ip()
    unknown = call_from(env.s, ip, "GET", num_path("22222222", "carol@example.com"))
    assert_error(unknown, 404, "NOT_FOUND")
    for contact in ("mallory@example.com", "carol@example.co", "5550109998", "555", "carol"):
        r = call_from(env.s, ip, "GET", num_path(num, contact))
        assert r.status == 404, (contact, r)
        assert r.body == unknown.body, (contact, r.body)
    ip = next_ip()
    assert_error(call_from(env.s, ip, "GET", num_path(num, None)), 400, "VALIDATION_FAILED", "contact")
    assert_error(call_from(env.s, ip, "GET", num_path(num, "")), 400, "VALIDATION_FAILED", "contact")
    assert_error(call_from(env.s, ip, "GET", num_path(num[:7], "carol@example.com")), 404, "NOT_FOUND")
    assert_error(call_from(env.s, ip, "GET", num_path(num + "A", "carol@example.com")), 404, "NOT_FOUND")


def test_number_cancel(env, host):
    et = host.et()
    t = day_at(6, 15)
    b = host.book(et, t, email="dave@example.com")
    num = b["confirmation_number"]
    ip = next_ip()
    r = call_from(env.s, ip, "POST", num_path(num, "eve@example.com", "cancel"))
    assert_error(r, 404, "NOT_FOUND")
    assert status_of(env.db, b["id"]) == "confirmed"
    r = call_from(env.s, ip, "POST", num_path(num, "dave@example.com", "cancel"), {"reason": "Changed plans"})
    assert r.status == 200 and r.json() == {"ok": True}, r
    g = host.booking(b["id"])
    assert g["status"] == "cancelled" and g["cancelled_by"] == "invitee" and g["reason"] == "Changed plans", g
    r = call_from(env.s, ip, "POST", num_path(num, "dave@example.com", "cancel"))
    assert r.status == 409 and r.json().get("status") == "cancelled", r
    # the lookup still shows it, cancelled
    r = call_from(env.s, ip, "GET", num_path(num, "dave@example.com"))
    assert r.status == 200 and r.json()["status"] == "cancelled", r
    assert host.book_req(et, t, email="n@example.com").status == 201


def test_number_reschedule(env, host):
    et = host.et()
    t0, t1 = day_at(6, 16), day_at(7, 9)
    b = host.book(et, t0, email="frank@example.com", phone="+44 20 7946 0000")
    num = b["confirmation_number"]
    ip = next_ip()
    r = call_from(env.s, ip, "POST", num_path(num, "grace@example.com", "reschedule"), {"start_time": iso(t1)})
    assert_error(r, 404, "NOT_FOUND")
    r = call_from(env.s, ip, "POST", num_path(num, "+442079460000", "reschedule"), {"start_time": iso(t1)})
    assert r.status == 200, r
    j = r.json()["booking"]
    assert j["uid"] == b["uid"] and parse_iso(j["start"]) == t1 and parse_iso(j["previous_start"]) == t0, j
    r = call_from(env.s, ip, "POST", num_path(num, "frank@example.com", "reschedule"),
                  {"start_time": iso(day_at(7, 9, 20))})
    assert_error(r, 400, "VALIDATION_FAILED", "start_time")
    assert parse_iso(host.booking(b["id"])["start"]) == t1


def test_number_self_service_refuses_ended_bookings(env, host):
    """Like the tokens, contact-verified self-service cannot move or cancel a meeting that has
    already taken place (the lookup still shows it)."""
    et = host.et()
    b = host.book(et, day_at(7, 10), email="ivy@example.com")
    host.move(b["id"], *past())
    num = b["confirmation_number"]
    ip = next_ip()
    r = call_from(env.s, ip, "GET", num_path(num, "ivy@example.com"))
    assert r.status == 200, r
    r = call_from(env.s, ip, "POST", num_path(num, "ivy@example.com", "reschedule"), {"start_time": iso(day_at(7, 12))})
    assert r.status in (404, 409), r
    r = call_from(env.s, ip, "POST", num_path(num, "ivy@example.com", "cancel"))
    assert r.status in (404, 409), r
    g = host.booking(b["id"])
    assert g["status"] == "confirmed" and parse_iso(g["start"]) < dt.datetime.now(UTC), g


def test_number_attempts_are_rate_limited(env, host):
    b = host.book(host.et(), day_at(7, 14), email="henry@example.com")
    num = b["confirmation_number"]
    ip = next_ip()
    ensure_window(min_left=15)
    codes = []
    for i in range(10):
        contact = "henry@example.com" if i % 3 == 0 else f"guess{i}@example.com"
        codes.append(call_from(env.s, ip, "GET", num_path(num, contact)).status)
    assert all(c in (200, 404) for c in codes), codes
    assert codes.count(200) == 4, codes
    # the 11th attempt in the minute is refused, even with the right contact, on every route
    r = call_from(env.s, ip, "GET", num_path(num, "henry@example.com"))
    assert r.status == 429, r
    assert int(r.header("Retry-After")) >= 1, r
    r = call_from(env.s, ip, "POST", num_path(num, "henry@example.com", "cancel"))
    assert r.status == 429, r
    r = call_from(env.s, ip, "POST", num_path(num, "henry@example.com", "reschedule"),
                  {"start_time": iso(day_at(7, 15))})
    assert r.status == 429, r
    assert status_of(env.db, b["id"]) == "confirmed"
    # another address is not affected
    assert call_from(env.s, next_ip(), "GET", num_path(num, "henry@example.com")).status == 200
