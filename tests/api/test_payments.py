"""Payments and the booking side of customers (issue 13), through the real API of a running
slotd on a real PostgreSQL, with webhooks to a real receiver:

- event types: exact price, ISO 4217 currency, requires_payment and its window, and the rules
  tying them together;
- the ledger: POST/GET /api/bookings/:id/payments (payments and refunds, idempotent by
  external_id, every refusal writing nothing), payment_status and its events;
- requires_payment: pending_payment holds the slot, paid in full confirms, the window's end
  expires it (booking.expired, the slot free again) by a timer that survives a restart, and a
  payment racing the timer ends in exactly one of paid/expired;
- bookings link to customers (one per e-mail, case-insensitive, per owner), customer.created,
  a blocked customer is refused 403 with nothing written;
- the 404 matrix across users and orgs.

The database is used to look, to move a window's deadline closer (the window's minimum is a
minute), and to block a customer behind the API's back.
"""

import datetime as dt
import json
import threading
import time

import pytest

from conftest import wait_until
from org_util import add_member, make_org, org_key
from webhook_util import LOCAL_ENV, Receiver, WEnv, WHost, assert_error, call, count, next_slot, unique, iso


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_payments", dict(LOCAL_ENV))
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def host(env):
    return WHost(env.s)


def ok(r, status=200):
    assert r.status == status, r
    return r.json()


def pay(host, bid, amount, currency="EUR", **extra):
    return host.call("POST", f"/api/bookings/{bid}/payments", {"amount": amount, "currency": currency, **extra})


def booking_row(db, bid):
    cols = "status, payment_status, amount_paid::text, amount_refunded::text, coalesce(customer_id::text, '')"
    r = db.sql(f"SELECT {cols} FROM bookings WHERE id = {int(bid)}")[0]
    return {"status": r[0], "payment_status": r[1], "amount_paid": r[2], "amount_refunded": r[3],
            "customer_id": int(r[4]) if r[4] else None}


def move_deadline(db, bid, seconds):
    """Bring the payment window's end to `seconds` from now and tell the timers (as a new booking would)."""
    db.sql(f"UPDATE bookings SET payment_expires_at = clock_timestamp() + interval '{seconds} seconds' "
           f"WHERE id = {int(bid)}; NOTIFY slotd_payments")


def slot_listed(host, et, start):
    day = start.strftime("%Y-%m-%d")
    r = call(host.s, "GET", f"/api/availability/{host.slug}/{et['slug']}?start={day}&end={day}&timezone=UTC")
    assert r.status == 200, r
    return start.strftime("%H:%M") in r.json()["slots"].get(day, [])


# ----------------------------------------------------------------------------- event types


def test_event_type_payment_fields(env, host):
    et = host.et()
    assert (et["requires_payment"], et["payment_window_minutes"], et["price"], et["currency"]) == (False, 15, None, None)
    et = host.et(price="49.99", currency="EUR", requires_payment=True, payment_window_minutes=30)
    assert (et["price"], et["currency"], et["requires_payment"], et["payment_window_minutes"]) == (49.99, "EUR", True, 30)
    bad = [
        ({"requires_payment": True}, "requires_payment"),                       # nothing to pay
        ({"price": 0, "requires_payment": True}, "requires_payment"),
        ({"price": 10, "currency": "EUR", "requires_payment": True, "requires_confirmation": True}, "requires_payment"),
        ({"price": 10}, "currency"),                                            # a price needs its currency
        ({"price": 10, "currency": "EURO"}, "currency"),
        ({"price": 10, "currency": "ABC"}, "currency"),                         # not an ISO 4217 code
        ({"price": 10.001, "currency": "EUR"}, "price"),                        # exact: no rounding
        ({"price": -1, "currency": "EUR"}, "price"),
        ({"payment_window_minutes": 0}, "payment_window_minutes"),
        ({"payment_window_minutes": 10081}, "payment_window_minutes"),
        ({"requires_payment": "yes"}, "requires_payment"),
    ]
    for body, field in bad:
        r = host.call("POST", "/api/event-types", {"name": unique("Paid "), **body})
        assert r.status == 400 and r.json().get("field") == field, (body, r)
    # the rules hold whichever field an update touches
    r = host.call("PUT", f"/api/event-types/{et['id']}", {"price": None})
    assert r.status == 400 and r.json()["field"] == "requires_payment", r
    r = host.call("PUT", f"/api/event-types/{et['id']}", {"requires_confirmation": True})
    assert r.status == 400, r
    r = host.call("PUT", f"/api/event-types/{et['id']}", {"currency": None})
    assert r.status == 400 and r.json()["field"] == "currency", r
    assert ok(host.call("GET", f"/api/event-types/{et['id']}"))["price"] == 49.99


# ----------------------------------------------------------------------------- the ledger


def test_priced_booking_ledger_and_events(env, host):
    rec = Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["booking.paid", "booking.refunded"]), 201)
        et = host.et(price="100.00", currency="EUR")
        b = host.book(et, next_slot())
        assert (b["status"], b["payment_status"], b["amount_due"], b["amount_paid"], b["currency"]) == \
            ("confirmed", "unpaid", 100, 0, "EUR")
        r = pay(host, b["id"], "40.50", method="card", external_id="ch_1")
        j = ok(r, 201)
        assert j["payment"]["amount"] == 40.5 and j["payment"]["kind"] == "payment" and j["payment"]["method"] == "card"
        assert (j["booking"]["payment_status"], j["booking"]["amount_paid"]) == ("unpaid", 40.5)
        j = ok(pay(host, b["id"], 59.5, external_id="ch_2"), 201)
        assert (j["booking"]["payment_status"], j["booking"]["amount_paid"], j["booking"]["status"]) == \
            ("paid", 100, "confirmed")
        # partial refund, then the rest
        j = ok(pay(host, b["id"], 30, kind="refund", external_id="re_1"), 201)
        assert (j["booking"]["payment_status"], j["booking"]["amount_paid"], j["booking"]["amount_refunded"]) == \
            ("partially_refunded", 70, 30)
        j = ok(pay(host, b["id"], 70, kind="refund", external_id="re_2"), 201)
        assert (j["booking"]["payment_status"], j["booking"]["amount_paid"]) == ("refunded", 0)
        ledger = ok(host.call("GET", f"/api/bookings/{b['id']}/payments"))
        assert [(p["kind"], p["amount"], p["external_id"]) for p in ledger["payments"]] == [
            ("payment", 40.5, "ch_1"), ("payment", 59.5, "ch_2"), ("refund", 30, "re_1"), ("refund", 70, "re_2")]
        assert (ledger["payment_status"], ledger["amount_due"], ledger["amount_paid"]) == ("refunded", 100, 0)
        # the booking itself shows it
        assert ok(host.call("GET", f"/api/bookings/{b['id']}"))["payment_status"] == "refunded"
        # events: one booking.paid (when the total reached the price), one booking.refunded per refund
        rec.wait_count(3)
        time.sleep(0.3)
        seen = sorted(rec.snapshot(), key=lambda x: x.delivery_id)   # deliveries may arrive in any order
        got = [(x.header("X-Slotd-Event"), x.json()["data"]["booking"]["payment_status"]) for x in seen]
        assert got == [("booking.paid", "paid"), ("booking.refunded", "partially_refunded"),
                       ("booking.refunded", "refunded")], got
        paid = seen[0].json()["data"]
        assert paid["booking"]["id"] == b["id"] and paid["booking"]["payment"]["external_id"] == "ch_2"
    finally:
        rec.close()


def test_ledger_refusals_write_nothing(env, host):
    et = host.et(price="20", currency="USD")
    b = host.book(et, next_slot())
    ok(pay(host, b["id"], 5, currency="USD", external_id="p1"), 201)
    before = count(env.db, "payments", f"booking_id = {b['id']}")
    cases = [
        ({"amount": -5, "currency": "USD"}, "amount"),
        ({"amount": 0, "currency": "USD"}, "amount"),
        ({"amount": "1.234", "currency": "USD"}, "amount"),
        ({"amount": 1e12, "currency": "USD"}, "amount"),
        ({"amount": True, "currency": "USD"}, "amount"),
        ({"currency": "USD"}, "amount"),
        ({"amount": 5}, "currency"),
        ({"amount": 5, "currency": "EUR"}, "currency"),          # not the booking's currency
        ({"amount": 5, "currency": "usd"}, "currency"),
        ({"amount": 5, "currency": "USD", "kind": "gift"}, "kind"),
        ({"amount": 6, "currency": "USD", "kind": "refund"}, "amount"),  # more than was paid
        ({"amount": 5, "currency": "USD", "method": 7}, "method"),
        ({"amount": 5, "currency": "USD", "external_id": "x" * 201}, "external_id"),
    ]
    for body, field in cases:
        r = host.call("POST", f"/api/bookings/{b['id']}/payments", body)
        assert r.status == 400 and r.json().get("field") == field, (body, r)
    r = host.call("POST", f"/api/bookings/{b['id']}/payments", raw=b'{"amount": 5,')
    assert r.status == 400, r
    r = host.call("POST", f"/api/bookings/{b['id']}/payments", [5])
    assert r.status == 400, r
    # a booking without a price has nothing to pay
    free = host.book(host.et(), next_slot())
    assert free["payment_status"] is None and free["amount_due"] is None
    r = pay(host, free["id"], 5, currency="USD")
    assert r.status == 400, r
    assert count(env.db, "payments", f"booking_id IN ({b['id']}, {free['id']})") == before
    assert booking_row(env.db, b["id"])["amount_paid"] == "5.00"


def test_external_id_makes_it_idempotent(env, host):
    et = host.et(price="20", currency="USD")
    b = host.book(et, next_slot())
    first = ok(pay(host, b["id"], 20, currency="USD", external_id="pi_42"), 201)
    again = ok(pay(host, b["id"], 20, currency="USD", external_id="pi_42"), 200)
    assert again["payment"] == first["payment"]
    assert count(env.db, "payments", f"booking_id = {b['id']}") == 1
    assert booking_row(env.db, b["id"])["amount_paid"] == "20.00"
    assert_error(pay(host, b["id"], 19, currency="USD", external_id="pi_42"), 409)
    assert count(env.db, "payments", f"booking_id = {b['id']}") == 1
    # without external_id every call is a new record
    ok(pay(host, b["id"], 1, currency="USD", kind="refund"), 201)
    ok(pay(host, b["id"], 1, currency="USD", kind="refund"), 201)
    assert count(env.db, "payments", f"booking_id = {b['id']}") == 3


def test_payment_on_a_cancelled_booking(env, host):
    et = host.et(price="20", currency="USD")
    b = host.book(et, next_slot())
    ok(pay(host, b["id"], 20, currency="USD"), 201)
    ok(host.act(b["id"], "cancel"))
    assert_error(pay(host, b["id"], 5, currency="USD"), 409)
    ok(pay(host, b["id"], 20, currency="USD", kind="refund"), 201)   # money back after a cancellation
    assert booking_row(env.db, b["id"])["payment_status"] == "refunded"


# ----------------------------------------------------------------------------- requires_payment


def test_pending_payment_holds_the_slot_until_paid(env, host):
    et = host.et(price="25", currency="GBP", requires_payment=True, payment_window_minutes=20)
    start = next_slot()
    assert slot_listed(host, et, start)
    t0 = time.time()
    b = host.book(et, start)
    assert (b["status"], b["payment_status"], b["amount_due"]) == ("pending_payment", "unpaid", 25)
    exp = dt.datetime.fromisoformat(b["payment_expires_at"].replace("Z", "+00:00")).timestamp()
    assert t0 + 20 * 60 - 5 <= exp <= time.time() + 20 * 60 + 5
    assert not slot_listed(host, et, start)
    assert_error(host.book_req(et, start, email="other@example.com"), 409)
    # the host cannot confirm it: only the money does
    assert host.act(b["id"], "confirm").status == 409
    j = ok(pay(host, b["id"], 25, currency="GBP"), 201)
    assert (j["booking"]["status"], j["booking"]["payment_status"], j["booking"]["payment_expires_at"]) == \
        ("confirmed", "paid", None)
    assert not slot_listed(host, et, start)
    assert count(env.db, "events", f"booking_id = {b['id']} AND type = 'booking.paid'") == 1
    # listed by status
    items = ok(host.call("GET", "/api/bookings?status=pending_payment"))
    items = items if isinstance(items, list) else items.get("bookings", items.get("data", []))
    assert all(x["status"] == "pending_payment" for x in items)


def test_window_end_expires_and_frees_the_slot(env, host):
    rec = Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["booking.expired"]), 201)
        et = host.et(price="25", currency="EUR", requires_payment=True)
        start = next_slot()
        b = host.book(et, start)
        ok(pay(host, b["id"], 10), 201)                  # part of it: not enough
        move_deadline(env.db, b["id"], 1)
        wait_until(lambda: booking_row(env.db, b["id"])["status"] == "expired", 10, what="expiry")
        got = ok(host.call("GET", f"/api/bookings/{b['id']}"))
        assert (got["status"], got["payment_status"], got["amount_paid"]) == ("expired", "unpaid", 10)
        assert slot_listed(host, et, start)
        rec.wait_count(1)
        assert rec.snapshot()[0].json()["data"]["booking"]["status"] == "expired"
        # paying after the end is refused and writes nothing; a refund of what came in is not
        assert_error(pay(host, b["id"], 15), 409)
        assert count(env.db, "payments", f"booking_id = {b['id']}") == 1
        ok(pay(host, b["id"], 10, kind="refund"), 201)
        # the invitee cannot act on it; the slot can be booked again
        assert host.act(b["id"], "cancel").status == 409
        host.book(et, start, email="next@example.com")
    finally:
        rec.close()


def test_cancelled_while_waiting_is_left_alone(env, host):
    et = host.et(price="25", currency="EUR", requires_payment=True)
    r = host.book_req(et, next_slot())
    assert r.status == 201, r
    b = r.json()["booking"]
    r = call(env.s, "POST", f"/api/cancel/{r.json()['booking']['cancel_token']}/confirm", {"reason": "changed plans"})
    assert r.status == 200, r
    move_deadline(env.db, b["id"], 0.2)
    time.sleep(1.5)
    assert booking_row(env.db, b["id"])["status"] == "cancelled"
    assert count(env.db, "events", f"booking_id = {b['id']} AND type = 'booking.expired'") == 0


def test_expiry_survives_a_restart(env, host):
    et = host.et(price="25", currency="EUR", requires_payment=True)
    start = next_slot()
    b = host.book(et, start)
    env.s.check_clean_exit()
    try:
        # while no slotd runs, the deadline comes close; nothing notifies the next process
        env.db.sql(f"UPDATE bookings SET payment_expires_at = clock_timestamp() + interval '3 seconds' "
                   f"WHERE id = {b['id']}")
    finally:
        env.s.start()
    t0 = time.monotonic()
    assert booking_row(env.db, b["id"])["status"] == "pending_payment"
    wait_until(lambda: booking_row(env.db, b["id"])["status"] == "expired", 10, what="expiry after restart")
    assert time.monotonic() - t0 < 5.5   # on time: the first look arms the timer from the persisted deadline
    assert slot_listed(host, et, start)


def test_payment_racing_the_expiry_timer(env, host):
    """Deadlines a moment away and full payments sent around them: each booking ends paid (the
    payment answered 201) or expired (the payment answered 409, nothing recorded), never both."""
    et = host.et(price="30", currency="EUR", requires_payment=True)
    bookings = [host.book(et, next_slot(), email=f"race{i}@example.com") for i in range(16)]
    for i, b in enumerate(bookings):
        env.db.sql(f"UPDATE bookings SET payment_expires_at = clock_timestamp() + interval '{1000 + 40 * i} ms' "
                   f"WHERE id = {b['id']}")
    env.db.sql("NOTIFY slotd_payments")
    answers = {}

    def payer(b, delay):
        time.sleep(delay)
        answers[b["id"]] = pay(host, b["id"], 30)
    threads = [threading.Thread(target=payer, args=(b, 0.9 + 0.045 * i)) for i, b in enumerate(bookings)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wait_until(lambda: all(booking_row(env.db, b["id"])["status"] in ("confirmed", "expired") for b in bookings), 10,
               what="every booking settled")
    outcomes = set()
    for b in bookings:
        row, r = booking_row(env.db, b["id"]), answers[b["id"]]
        n = count(env.db, "payments", f"booking_id = {b['id']}")
        if row["status"] == "confirmed":
            assert r.status == 201 and row["payment_status"] == "paid" and n == 1, (row, r)
            assert count(env.db, "events", f"booking_id = {b['id']} AND type = 'booking.expired'") == 0
        else:
            assert r.status == 409 and row["payment_status"] == "unpaid" and n == 0, (row, r)
            assert count(env.db, "events", f"booking_id = {b['id']} AND type = 'booking.paid'") == 0
        outcomes.add(row["status"])
    print("race outcomes:", sorted(booking_row(env.db, b["id"])["status"] for b in bookings))


# ----------------------------------------------------------------------------- customers on the booking path


def customer_rows(db, where):
    return db.sql(f"SELECT id, coalesce(user_id::text, ''), coalesce(org_id::text, ''), name, coalesce(surname, ''), "
                  f"email, status FROM customers WHERE {where} ORDER BY id")


def test_bookings_link_to_one_customer_per_email(env, host):
    rec = Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["customer.created"]), 201)
        et = host.et()
        a = host.book(et, next_slot(), name="Ada Lovelace King", email="Ada@Example.com")
        b = host.book(et, next_slot(), name="Ada L.", email="ada@example.COM")
        c = host.book(et, next_slot(), name="Grace", email="grace@example.com")
        assert a["customer_id"] and a["customer_id"] == b["customer_id"] != c["customer_id"]
        rows = customer_rows(env.db, f"user_id = {host.id}")
        assert [(r[3], r[4], r[5]) for r in rows] == [("Ada", "Lovelace King", "ada@example.com"), ("Grace", "", "grace@example.com")]
        rec.wait_count(2)
        time.sleep(0.3)
        made = [x.json()["data"]["customer"]["email"] for x in rec.snapshot()]
        assert made == ["ada@example.com", "grace@example.com"]     # once per customer, on first booking
        # another host's customers are their own
        other = WHost(env.s)
        d = other.book(other.et(), next_slot(), email="ada@example.com")
        assert d["customer_id"] not in (a["customer_id"], c["customer_id"])
    finally:
        rec.close()


def test_phone_only_customer_by_e164(env, host):
    # the native booking needs an e-mail; dialects (Kordless) book by phone: the SQL the booking
    # path calls links by E.164 phone when there is no e-mail
    et_id = host.et()["id"]
    sql = (f"SELECT coalesce(api.booking_customer(e, {host.id}, 'Pat Doe', NULL, '{{p}}', 'UTC')::text, 'none') "
           f"FROM event_types e "
           f"WHERE e.id = {et_id}")
    one = env.db.sql(sql.replace("{p}", "+44 20 7946 0958"))[0][0]
    two = env.db.sql(sql.replace("{p}", "0044 (20) 7946-0958"))[0][0]
    none = env.db.sql(sql.replace("{p}", "12"))[0][0]
    assert one != "none" and one == two and none == "none"
    assert env.db.sql(f"SELECT phone FROM customers WHERE id = {one}")[0][0] == "+442079460958"


def test_blocked_customer_cannot_book(env, host):
    et = host.et(price="10", currency="EUR", requires_payment=True)
    first = host.book(et, next_slot(), email="mallory@example.com")
    env.db.sql(f"UPDATE customers SET status = 'blocked' WHERE id = {first['customer_id']}")
    counts = lambda: (count(env.db, "bookings", f"host_id = {host.id}"), count(env.db, "events", "true"),  # noqa: E731
                      count(env.db, "customers", "true"), count(env.db, "reservations", f"host_id = {host.id}"))
    before = counts()
    start = next_slot()
    r = host.book_req(et, start, email="MALLORY@example.com")
    assert_error(r, 403)
    assert counts() == before
    assert slot_listed(host, et, start)          # no hold left behind
    # with a hold of their own: refused, and the hold is not turned into a booking
    r = call(env.s, "POST", "/api/reservations", {"event_type_id": et["id"], "start_time": iso(start)})
    assert r.status == 201, r
    uid = r.json()["reservation_uid"]
    r = host.book_req(et, start, email="mallory@example.com", reservation_uid=uid)
    assert_error(r, 403)
    assert count(env.db, "bookings", f"host_id = {host.id}") == before[0]
    # someone else books fine
    host.book(et, next_slot(), email="alice@example.com")


def test_org_bookings_link_to_the_org_customers(env, host):
    org = make_org(env.s, host.auth, name="Paid Org", slug=unique("paidorg"))
    r = host.call("POST", f"/api/orgs/{org['id']}/event-types",
                  {"name": "Org paid", "min_notice_hours": 0, "price": "15", "currency": "EUR",
                   "requires_payment": True, "hosts": [{"user_id": host.id}]})
    et = ok(r, 201)
    r = call(env.s, "POST", f"/api/book/{org['slug']}/{et['slug']}",
             {"name": "Org Client", "email": "client@example.com", "start_time": iso(next_slot())})
    b = ok(r, 201)["booking"]
    assert b["status"] == "pending_payment"
    rows = customer_rows(env.db, f"id = {b['customer_id']}")
    assert rows[0][1] == "" and rows[0][2] == str(org["id"])
    # the org's key may keep its ledger; a key of another org may not see it
    _, key = org_key(env.s, org["id"], host.auth)
    j = ok(call(env.s, "POST", f"/api/bookings/{b['id']}/payments", {"amount": 15, "currency": "EUR"}, auth=key), 201)
    assert j["booking"]["status"] == "confirmed"
    stranger = WHost(env.s)
    org2 = make_org(env.s, stranger.auth, name="Other Org", slug=unique("otherorg"))
    _, key2 = org_key(env.s, org2["id"], stranger.auth)
    for auth in (key2, stranger.auth):
        assert_error(call(env.s, "GET", f"/api/bookings/{b['id']}/payments", auth=auth), 404)
        assert_error(call(env.s, "POST", f"/api/bookings/{b['id']}/payments", {"amount": 1, "currency": "EUR"},
                          auth=auth), 404)
    # a member who is not an admin and not the host does not see it either
    member = WHost(env.s)
    add_member(env.s, org["id"], host.auth, member.email, role="member")
    assert_error(call(env.s, "GET", f"/api/bookings/{b['id']}/payments", auth=member.auth), 404)


def test_ledger_404_matrix(env, host):
    et = host.et(price="10", currency="EUR")
    b = host.book(et, next_slot())
    other = WHost(env.s)
    for path in (f"/api/bookings/{b['id']}/payments", "/api/bookings/999999999/payments"):
        assert_error(other.call("GET", path), 404)
        assert_error(other.call("POST", path, {"amount": 1, "currency": "EUR"}), 404)
    assert_error(host.call("GET", "/api/bookings/abc/payments"), 404)
    assert_error(call(env.s, "GET", f"/api/bookings/{b['id']}/payments"), 401)
    assert count(env.db, "payments", f"booking_id = {b['id']}") == 0
    # the host's ledger stays readable
    assert ok(host.call("GET", f"/api/bookings/{b['id']}/payments"))["payments"] == []


def test_booking_json_carries_customer_and_money(env, host):
    et = host.et(price="12.5", currency="CHF")
    b = host.book(et, next_slot())
    full = ok(host.call("GET", f"/api/bookings/{b['id']}"))
    for k in ("customer_id", "payment_status", "amount_due", "amount_paid", "amount_refunded", "currency",
              "payment_expires_at"):
        assert k in full, k
    assert json.dumps(full["amount_due"]) == "12.5"
