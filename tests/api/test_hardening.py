"""Hardening (issue 10), the findings in the API and the database:

- #4 nobody can hold all of a host's slots: live holds per client and host, per client in all,
  a per-IP limit on creating holds; the host sees its holds and can release them;
- #10 webhook URLs naming private addresses in a resolver's other spellings are refused;
- #11 the password-hashing queue is bounded (503 with Retry-After, never minutes of waiting),
  and failed logins are limited per account as well as per IP;
- #12 per-user caps hold under concurrency (the count is taken under the owner's lock).
Each test is the attack turned into an assertion.
"""

import concurrent.futures as cf
import time

from accounts_util import NO_LIMITS, PASSWORD, assert_error, call, call_from, new_user
from booking_util import Host, day_at, iso, unique


def hold(s, et_id, start, ip="127.0.0.1", auth=None):
    body = {"event_type_id": et_id, "start_time": iso(start)}
    if ip == "127.0.0.1":
        return call(s, "POST", "/api/reservations", body, auth=auth)
    return call_from(s, ip, "POST", "/api/reservations", body, auth=auth)


# ----------------------------------------------------------------------------- #4 holds


def test_one_client_cannot_hold_every_slot(db, slotd_factory):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "1000000", "SLOTD_RATE_LIMIT_AUTH": "1000000"})
    h = Host(s, db)
    et = h.et(name=unique("Hold "))
    starts = [day_at(3, 9, 30 * k) for k in range(8)]
    assert hold(s, et["id"], starts[0]).status == 201
    assert hold(s, et["id"], starts[1]).status == 201
    r = hold(s, et["id"], starts[2])
    assert_error(r, 409)
    assert "book or release one first" in r.json()["error"], r
    # another client is not blocked by the first one's holds
    assert hold(s, et["id"], starts[2], ip="127.0.0.9").status == 201
    # the host sees the live holds on its calendar and can release one
    r = h.call("GET", "/api/reservations")
    assert r.status == 200, r
    held = r.json()
    assert len(held) == 3 and all(x["event_type_id"] == et["id"] for x in held), held
    assert "client" not in held[0]  # who asked stays private
    assert call(s, "DELETE", f"/api/reservations/{held[0]['reservation_uid']}").status == 200
    assert hold(s, et["id"], starts[3]).status == 201  # the first client has room again
    # another host's list does not show them
    other = Host(s, db)
    r = other.call("GET", "/api/reservations")
    assert r.status == 200 and r.json() == [], r
    # the host holding its own calendar is not capped
    for k in range(4, 8):
        r = call(s, "POST", "/api/reservations", {"event_type_id": et["id"], "start_time": iso(starts[k]),
                                                  "minutes": 10}, auth=h.auth)
        assert r.status == 201, r


def test_holds_in_all_and_per_minute_are_capped(db, slotd_factory):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "1000000", "SLOTD_RATE_LIMIT_AUTH": "1000000",
                           "SLOTD_HOLDS_PER_CLIENT": "3", "SLOTD_RATE_LIMIT_HOLDS": "5"})
    ets = [Host(s, db).et(name=unique("H ")) for _ in range(4)]
    start = day_at(4, 10)
    assert [hold(s, et["id"], start).status for et in ets] == [201, 201, 201, 409]
    # the per-minute limit: 5 attempts per IP (the 409 above counted), then 429
    codes = [hold(s, ets[k % 4]["id"], day_at(5, 10 + k), ip="127.0.0.7").status for k in range(7)]
    assert codes[:2] == [201, 201] and 429 in codes, codes
    r = hold(s, ets[0]["id"], day_at(5, 11), ip="127.0.0.7")
    assert r.status == 429 and r.header("Retry-After"), r


# ----------------------------------------------------------------------------- #10 webhook URLs


def test_private_targets_in_other_spellings_are_refused(db, slotd_factory):
    s = slotd_factory(env={**NO_LIMITS, "SLOTD_WEBHOOK_ALLOW_HTTP": "1"})
    u = new_user(s, f"{unique('w')}@example.com", key=True)
    for host in ("2852039166", "127.1", "0x7f.1", "017700000001", "0", "127.0.0.1.", "10.1", "192.168.1.1.",
                 "0xa9fea9fe"):
        r = call(s, "POST", "/api/webhooks", {"url": f"http://{host}/hook", "events": ["booking.created"]},
                 auth=u.api_key)
        assert_error(r, 400, field="url")
    # a public name and a public address are still fine
    for host in ("hooks.example.com", "93.184.216.34"):
        r = call(s, "POST", "/api/webhooks", {"url": f"http://{host}/hook", "events": ["booking.created"]},
                 auth=u.api_key)
        assert r.status == 201, r


# ----------------------------------------------------------------------------- #11 logins


def test_failed_logins_are_limited_per_account(db, slotd_factory):
    s = slotd_factory(env=NO_LIMITS)
    victim = new_user(s, f"{unique('v')}@example.com", session=False)
    bystander = new_user(s, f"{unique('b')}@example.com", session=False)
    # ten wrong guesses from ten addresses (each well inside its own per-IP budget)
    for k in range(10):
        r = call_from(s, f"127.0.1.{k + 1}", "POST", "/api/auth/login", {"email": victim.email, "password": "wrong-guess!"})
        assert r.status == 401, r
    r = call_from(s, "127.0.1.50", "POST", "/api/auth/login", {"email": victim.email, "password": "wrong-guess!"})
    assert r.status == 429 and r.header("Retry-After"), r
    # the account is protected for the rest of the minute, whoever asks; other accounts are not
    r = call(s, "POST", "/api/auth/login", {"email": bystander.email, "password": PASSWORD})
    assert r.status == 200, r
    r = call(s, "POST", "/api/auth/login", {"email": victim.email.upper(), "password": PASSWORD})
    assert r.status == 429, r


def test_password_queue_is_bounded(db, slotd_factory):
    s = slotd_factory(env={**NO_LIMITS, "SLOTD_PASSWORD_CONCURRENCY": "1"})
    real = new_user(s, f"{unique('r')}@example.com", session=False)
    emails = [f"{unique('x')}@example.com" for _ in range(60)]

    def attempt(e):
        t0 = time.monotonic()
        r = call(s, "POST", "/api/auth/login", {"email": e, "password": "not-the-password"}, timeout=60)
        return r, time.monotonic() - t0

    with cf.ThreadPoolExecutor(60) as ex:
        futs = [ex.submit(attempt, e) for e in emails]
        time.sleep(0.2)
        t0 = time.monotonic()
        mine = call(s, "POST", "/api/auth/login", {"email": real.email, "password": PASSWORD}, timeout=60)
        my_wait = time.monotonic() - t0
        results = [f.result() for f in futs]
    statuses = sorted({r.status for r, _ in results})
    assert set(statuses) <= {401, 503}, statuses
    busy = [r for r, _ in results if r.status == 503]
    assert busy and all(r.header("Retry-After") == "1" for r in busy), statuses
    assert busy[0].json()["code"] == "SERVICE_UNAVAILABLE"
    # nobody waits long: the queue holds at most 8 hashes per slot
    assert max(t for _, t in results) < 10, max(t for _, t in results)
    assert mine.status in (200, 503) and my_wait < 10, (mine, my_wait)


# ----------------------------------------------------------------------------- #12 caps


def test_caps_hold_under_concurrency(db, slotd_factory):
    s = slotd_factory(env=NO_LIMITS)
    u = new_user(s, f"{unique('c')}@example.com", key=True)
    auth = u.api_key
    for k in range(45):
        r = call(s, "POST", "/api/webhooks", {"url": f"https://h{k}.example.com/x", "events": ["booking.created"]},
                 auth=auth)
        assert r.status == 201, r
    with cf.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda k: call(s, "POST", "/api/webhooks", {"url": f"https://c{k}.example.com/x",
                                                                      "events": ["booking.created"]}, auth=auth),
                         range(20)))
    assert sorted(r.status for r in rs) == [201] * 5 + [409] * 15, [r.status for r in rs]
    assert int(db.sql(f"SELECT count(*) FROM webhooks WHERE user_id = {u.id}")[0][0]) == 50
    # event types: 500 active, whatever the concurrency
    db.sql(f"""INSERT INTO event_types (user_id, name, slug)
               SELECT {u.id}, 'T' || g, 't-' || g FROM generate_series(1, 490) g""")
    with cf.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda k: call(s, "POST", "/api/event-types", {"name": f"Race {k}"}, auth=auth), range(20)))
    assert sorted(r.status for r in rs) == [201] * 10 + [409] * 10, [r.status for r in rs]
    assert int(db.sql(f"SELECT count(*) FROM event_types WHERE user_id = {u.id} AND is_active")[0][0]) == 500
