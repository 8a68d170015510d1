"""Erasure of a customer (issue 13), seen from everything a booking leaves behind: the booking
rows keep their times (the slot stays taken) but lose every personal field; the invitee's links,
the confirmation number and the stored Idempotency-Key response stop giving anything back; the
event log and the stored webhook payloads lose the person; and a scan of every table of the
database finds none of the customer's strings afterwards. Through the real API of a running
slotd, with webhooks delivered to a real receiver before the erasure.
"""

import time
from urllib.parse import quote

import pytest

from org_util import make_org
from webhook_util import LOCAL_ENV, Receiver, WEnv, WHost, assert_error, call, count, iso, next_slot, unique


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_customer_erasure", dict(LOCAL_ENV))
    try:
        yield e
    finally:
        e.close()


def ok(r, status=200):
    assert r.status == status, r
    return r.json()


def tables(db):
    return [r[0] for r in db.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def occurrences(db, needle):
    """Every table (of the public schema) with a row whose text mentions needle."""
    found = []
    for t in tables(db):
        n = int(db.sql(f"SELECT count(*) FROM \"{t}\" x WHERE x::text ILIKE '%{needle}%'")[0][0])
        if n:
            found.append((t, n))
    return found


def slot_listed(host, et, start):
    day = start.strftime("%Y-%m-%d")
    r = call(host.s, "GET", f"/api/availability/{host.slug}/{et['slug']}?start={day}&end={day}&timezone=UTC")
    assert r.status == 200, r
    return start.strftime("%H:%M") in r.json()["slots"].get(day, [])


QUESTIONS = [{"id": "company", "label": "Company", "type": "text", "required": True}]


def test_erasure_leaves_no_personal_data_anywhere(env):
    host = WHost(env.s)
    tag = unique("zq")
    name, email, phone = f"Zebulon {tag}", f"{tag}@example.com", "+1 555 010 7788"
    note, answer, reason = f"note-{tag}", f"company-{tag}", f"reason-{tag}"
    rec = Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["booking.created", "booking.cancelled", "customer.created",
                                             "booking.paid"]), 201)
        et = host.et(questions=QUESTIONS, price="20", currency="EUR")
        s1, s2 = next_slot(), next_slot()
        body = {"name": name, "email": email, "phone": phone, "notes": note, "answers": {"company": answer},
                "start_time": iso(s1)}
        key = {"Idempotency-Key": f"idem-{tag}"}
        r1 = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}", body, headers=key)
        b1 = ok(r1, 201)["booking"]
        assert name.encode() in r1.body
        b2 = host.book(et, s2, name=name, email=email.upper(), phone=phone, answers={"company": answer})
        assert b1["customer_id"] == b2["customer_id"]
        cid = b1["customer_id"]
        ok(host.call("POST", f"/api/bookings/{b1['id']}/payments", {"amount": 20, "currency": "EUR",
                                                                     "external_id": unique("pay")}), 201)
        r = call(env.s, "POST", f"/api/cancel/{b2['cancel_token']}/confirm", {"reason": reason})
        assert r.status == 200, r
        rec.wait(lambda items: len(items) >= 5,
                 what="booking.created x2, customer.created, booking.paid, booking.cancelled")
        time.sleep(0.3)
        for needle in (tag,):
            assert occurrences(env.db, needle), "the strings must be stored before erasure"
        before = {b: env.db.sql(f"SELECT start_at, end_at, status FROM bookings WHERE id = {b}")[0]
                  for b in (b1["id"], b2["id"])}
        number = b1["confirmation_number"]

        # another customer of the same host is untouched
        other = host.book(et, next_slot(), name="Other Person", email=f"{unique('other')}@example.net",
                          answers={"company": "Other Co"})

        ok(host.call("DELETE", f"/api/customers/{cid}"))

        assert_error(host.call("GET", f"/api/customers/{cid}"), 404)
        assert_error(host.call("DELETE", f"/api/customers/{cid}"), 404)
        # nothing of the person anywhere in the database
        assert occurrences(env.db, tag) == []
        assert occurrences(env.db, "555010") == [] and occurrences(env.db, "5550107788") == []
        # the bookings keep their times and status: the slot stays taken
        for b in (b1["id"], b2["id"]):
            assert env.db.sql(f"SELECT start_at, end_at, status FROM bookings WHERE id = {b}")[0] == before[b]
        j = ok(host.call("GET", f"/api/bookings/{b1['id']}"))
        assert (j["invitee_name"], j["invitee_email"], j["phone"], j["notes"], j["answers"], j["customer_id"]) == \
            (None, None, None, None, {}, None)
        assert j["start"] == iso(s1) and j["status"] == "confirmed" and j["amount_paid"] == 20
        assert not slot_listed(host, et, s1)
        assert call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}",
                    {"name": "New", "email": "new@example.com", "start_time": iso(s1),
                     "answers": {"company": "New Co"}}).status == 409
        # the invitee's ways back in are closed
        assert_error(call(env.s, "POST", f"/api/cancel/{b1['cancel_token']}/confirm"), 404)
        assert_error(call(env.s, "POST", f"/api/reschedule/{b1['reschedule_token']}",
                          {"start_time": iso(next_slot())}), 404)
        assert_error(call(env.s, "GET", f"/api/bookings/confirmation/{number}?contact={quote(email, safe='')}"), 404)
        # the stored response of the Idempotency-Key is gone: the same key no longer replays the person
        r = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}", body, headers=key)
        assert r.header("Idempotent-Replayed") is None and name.encode() not in r.body, r
        assert count(env.db, "idempotency_keys", f"booking_id = {b1['id']}") == 0
        # the ledger (money, not the person) stays
        assert count(env.db, "payments", f"booking_id = {b1['id']}") == 1
        # the other customer keeps everything
        assert ok(host.call("GET", f"/api/bookings/{other['id']}"))["invitee_name"] == "Other Person"
        assert ok(host.call("GET", f"/api/customers/{other['customer_id']}"))["name"] == "Other"
        # the payloads the receiver already has are the receiver's; what slotd keeps is scrubbed
        for row in env.db.sql(f"SELECT d.payload FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
                              f"WHERE e.booking_id IN ({b1['id']}, {b2['id']}) OR e.customer_id IS NULL AND "
                              f"e.type = 'customer.created'"):
            assert tag not in row[0]
        # a new booking by the same e-mail makes a new customer
        b3 = host.book(et, next_slot(), name=name, email=email, answers={"company": "Again"})
        assert b3["customer_id"] not in (None, cid)
    finally:
        rec.close()


def test_erasure_of_an_org_customer(env):
    admin = WHost(env.s)
    org = make_org(env.s, admin.auth, name="Erase Org", slug=unique("eraseorg"))
    et = ok(admin.call("POST", f"/api/orgs/{org['id']}/event-types",
                       {"name": "Org call", "min_notice_hours": 0, "hosts": [{"user_id": admin.id}]}), 201)
    tag = unique("oq")
    start = next_slot()
    b = ok(call(env.s, "POST", f"/api/book/{org['slug']}/{et['slug']}",
                {"name": f"Olga {tag}", "email": f"{tag}@example.org", "start_time": iso(start)}), 201)["booking"]
    cid = b["customer_id"]
    assert cid
    # the org's customer, not the host's personal one
    assert_error(admin.call("DELETE", f"/api/customers/{cid}"), 404)
    ok(admin.call("DELETE", f"/api/orgs/{org['id']}/customers/{cid}"))
    assert occurrences(env.db, tag) == []
    assert env.db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "confirmed"
