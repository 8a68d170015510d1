"""Issue 5, "Proof": race tests with real concurrency. Every request runs on its own
connection, opened before a barrier that lets them all go at once; after every race a SQL check
finds no two overlapping active (pending/confirmed) non-seated bookings for any host.
"""

import datetime as dt

import pytest

from booking_util import (NO_LIMITS, Host, HostLock, assert_no_double_booking, concurrently, count_rows,  # noqa
                          day_at, env, in_thread, iso, statuses)


@pytest.fixture(autouse=True)
def _invariant(request):
    """The check after every race, on whichever database the test used."""
    yield
    if "env" in request.fixturenames:  # (tests on a database of their own check it themselves)
        assert_no_double_booking(request.getfixturevalue("env").db)


def book_body(t, i, **extra):
    return {"name": f"Racer {i}", "email": f"racer{i}@example.com", "start_time": iso(t), **extra}


def check_one_winner(rs, what="booking"):
    st = statuses(rs)
    assert not [s for s in st if s >= 500], f"5xx in {st}"
    assert st.get(201, 0) == 1, f"expected exactly one 201 for the {what}: {st}"
    assert st.get(409, 0) == len(rs) - 1, f"expected {len(rs) - 1} x 409: {st}"
    for r in rs:
        if r.status == 409:
            j = r.json()
            assert j["code"] == "CONFLICT", j
    return [r for r in rs if r.status == 201][0]


def test_fifty_concurrent_bookings_of_one_slot(env):
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(3, 10)
    rs = concurrently(env.s, [("POST", h.book_path(et), book_body(t, i), None) for i in range(50)])
    win = check_one_winner(rs)
    for r in rs:
        if r.status == 409:
            j = r.json()
            assert j["error"] == "time slot taken", j
            assert all(x["start"] != iso(t) for x in j["next_slots"]), j
    b = win.json()["booking"]
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 1
    assert env.db.sql(f"SELECT invitee_email, start_at = '{iso(t)}' FROM bookings WHERE host_id = {h.id}") == \
        [[b["invitee_email"], "t"]]
    assert count_rows(env.db, "events", f"host_id = {h.id}") == 1


def test_fifty_concurrent_overlapping_bookings_across_event_types(env):
    """Different event types and start times that all overlap 10:00-11:00: one wins."""
    h = Host(env.s, env.db)
    hour = h.et(duration_minutes=60, slot_interval_minutes=30)
    half = h.et(duration_minutes=30)
    t = day_at(3, 10)
    reqs = []
    for i in range(50):
        et, start = [(hour, t), (half, t), (half, t + dt.timedelta(minutes=30)), (hour, t - dt.timedelta(minutes=30)),
                     (hour, t + dt.timedelta(minutes=30))][i % 5]
        reqs.append(("POST", h.book_path(et), book_body(start, i), None))
    rs = concurrently(env.s, reqs)
    st = statuses(rs)
    assert not [s for s in st if s >= 500], st
    assert set(st) <= {201, 409}, st
    # 10:00-11:00 overlaps everything else, and the others overlap each other pairwise except
    # (09:30-10:30, 10:30-11:30)-like pairs: at most two can win, and never overlapping ones
    assert 1 <= st.get(201, 0) <= 2, st
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == st[201]


def test_concurrent_seats_never_oversold(env):
    h = Host(env.s, env.db)
    et = h.et(seats=4)
    t = day_at(3, 10)
    rs = concurrently(env.s, [("POST", h.book_path(et), book_body(t, i), None) for i in range(24)])
    st = statuses(rs)
    assert st == {201: 4, 409: 20}, st
    assert env.db.sql(f"SELECT count(*), sum(seats) FROM bookings WHERE host_id = {h.id} AND status = 'confirmed'") \
        == [["4", "4"]]


def test_two_instances_sharing_the_database(slotd_factory, db):
    a = slotd_factory(env=NO_LIMITS)
    b = slotd_factory(env=NO_LIMITS)
    h = Host(a, db)
    et = h.et()
    for round_, t in enumerate((day_at(3, 10), day_at(3, 14))):
        reqs = [("POST", h.book_path(et), book_body(t, i), None, a if i % 2 else b) for i in range(50)]
        rs = concurrently(a, reqs)
        check_one_winner(rs)
        assert count_rows(db, "bookings", f"host_id = {h.id}") == round_ + 1
        # both instances know about it at once
        for s in (a, b):
            r = s.request("POST", h.book_path(et), body=(b'{"name":"x","email":"x@example.com","start_time":"%s"}'
                                                         % iso(t).encode()),
                          headers={"Content-Type": "application/json"})
            assert r.status == 409, r
    assert_no_double_booking(db)


def test_idempotency_key_race(env):
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(3, 11)
    body = book_body(t, 0)
    rs = concurrently(env.s, [("POST", h.book_path(et), body, {"Idempotency-Key": "race-key-1"}) for _ in range(20)])
    st = statuses(rs)
    assert st == {201: 20}, st
    bodies = {r.body for r in rs}
    assert len(bodies) == 1, f"{len(bodies)} different bodies"
    replayed = [r for r in rs if r.header("Idempotent-Replayed") == "true"]
    assert len(replayed) == 19, [r.headers for r in rs]
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 1
    assert count_rows(env.db, "events", f"host_id = {h.id}") == 1


def test_idempotency_key_race_with_other_bookers(env):
    """Ten requests share one key, ten others have keys of their own: still one booking; the
    ten sharing a key all get the same answer."""
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(3, 12)
    shared = book_body(t, 0)
    reqs = [("POST", h.book_path(et), shared, {"Idempotency-Key": "shared"}) for _ in range(10)]
    reqs += [("POST", h.book_path(et), book_body(t, i), {"Idempotency-Key": f"own-{i}"}) for i in range(1, 11)]
    rs = concurrently(env.s, reqs)
    st = statuses(rs)
    assert set(st) <= {201, 409}, st
    assert len({r.body for r in rs[:10]}) == 1 and len({r.status for r in rs[:10]}) == 1
    assert st.get(201, 0) in (1, 10), st  # either the shared key won (10 x the same 201) or one other did
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 1


def test_reservation_vs_concurrent_booking(env):
    h = Host(env.s, env.db)
    et = h.et()
    outcomes = []
    for i in range(8):
        t = day_at(4, 8 + i)
        rs = concurrently(env.s, [
            ("POST", "/api/reservations", {"slug": h.slug, "event_slug": et["slug"], "start_time": iso(t)}, None),
            ("POST", h.book_path(et), book_body(t, i), None),
        ])
        hold, book = rs
        assert (hold.status, book.status) in ((201, 409), (409, 201)), (hold, book)
        outcomes.append(hold.status == 201)
        live_holds = count_rows(env.db, "reservations", f"host_id = {h.id} AND start_at = '{iso(t)}'")
        bookings = count_rows(env.db, "bookings", f"host_id = {h.id} AND start_at = '{iso(t)}'")
        assert live_holds + bookings == 1, (live_holds, bookings)
        if hold.status == 201:
            uid = hold.json()["reservation_uid"]
            # the holder books with its uid; nobody else can
            r = h.book_req(et, t, email="other@example.com")
            assert r.status == 409, r
            r = h.book_req(et, t, email="holder@example.com", reservation_uid=uid)
            assert r.status == 201, r
            assert count_rows(env.db, "reservations", f"host_id = {h.id} AND start_at = '{iso(t)}'") == 0
    # a held slot and an active booking never overlap
    assert env.db.sql(
        f"SELECT r.id FROM reservations r JOIN bookings b ON b.host_id = r.host_id AND b.status IN ('pending', "
        f"'confirmed') AND b.start_at < r.end_at AND r.start_at < b.end_at WHERE r.host_id = {h.id} "
        "AND r.expires_at > now()") == []


def test_concurrent_reservations_of_one_slot(env):
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(4, 20)
    body = {"slug": h.slug, "event_slug": et["slug"], "start_time": iso(t)}
    rs = concurrently(env.s, [("POST", "/api/reservations", body, None) for _ in range(20)])
    check_one_winner(rs, "reservation")
    assert count_rows(env.db, "reservations", f"host_id = {h.id}") == 1


def conflicting_pending_pair(h, t):
    """Two adjacent pending requests of two event types, made to conflict afterwards by raising
    one type's buffer (nothing else can put two conflicting active bookings on a calendar)."""
    x = h.et(requires_confirmation=True)
    y = h.et(requires_confirmation=True)
    a = h.book(x, t, email="a@example.com")
    b = h.book(y, t + dt.timedelta(minutes=30), email="b@example.com")
    h.et_put(x["id"], buffer_after=15)
    return a, b


def check_at_most_one_confirmed(env, rs, a, b):
    st = statuses(rs)
    assert not [s for s in st if s >= 500], st
    assert set(st) <= {200, 409}, st
    assert st.get(200, 0) <= 1, f"both conflicting requests were confirmed: {st}"
    got = env.db.sql(f"SELECT status FROM bookings WHERE id IN ({a['id']}, {b['id']}) ORDER BY id")
    assert [x[0] for x in got].count("confirmed") == st.get(200, 0), (got, st)
    assert [x[0] for x in got].count("confirmed") <= 1, got


def test_conflicting_pending_bookings_confirmed_concurrently(env):
    h = Host(env.s, env.db)
    for i in range(5):
        a, b = conflicting_pending_pair(h, day_at(5, 8 + 2 * i))
        rs = concurrently(env.s, [("POST", f"/api/bookings/{a['id']}/confirm", None, h.auth),
                                  ("POST", f"/api/bookings/{b['id']}/confirm", None, h.auth)])
        check_at_most_one_confirmed(env, rs, a, b)


def test_conflicting_pending_bookings_confirmed_concurrently_by_link(env):
    h = Host(env.s, env.db)
    for i in range(3):
        a, b = conflicting_pending_pair(h, day_at(6, 8 + 2 * i))
        ta, tb = h.confirm_token(a["id"]), h.confirm_token(b["id"])
        j = {"Accept": "application/json"}
        rs = concurrently(env.s, [("GET", f"/api/bookings/{ta}/confirm", None, j),
                                  ("GET", f"/api/bookings/{tb}/confirm", None, j),
                                  ("POST", f"/api/bookings/{a['id']}/confirm", None, h.auth)])
        st = statuses(rs)
        assert not [s for s in st if s >= 500], st
        got = [x[0] for x in env.db.sql(f"SELECT status FROM bookings WHERE id IN ({a['id']}, {b['id']})")]
        assert got.count("confirmed") <= 1, (got, st)


def test_concurrent_reschedules_into_one_slot(env):
    h = Host(env.s, env.db)
    et = h.et()
    target = day_at(7, 12)
    bs = [h.book(et, day_at(7, 8) + dt.timedelta(minutes=30 * i), email=f"m{i}@example.com") for i in range(6)]
    reqs = [("POST", f"/api/bookings/{b['id']}/reschedule", {"start_time": iso(target)}, h.auth) for b in bs]
    reqs.append(("POST", h.book_path(et), book_body(target, 99), None))  # and a newcomer
    rs = concurrently(env.s, reqs)
    st = statuses(rs)
    assert not [s for s in st if s >= 500], st
    assert st.get(200, 0) + st.get(201, 0) == 1, st
    assert count_rows(env.db, "bookings", f"host_id = {h.id} AND start_at = '{iso(target)}'") == 1
    # whoever lost still has its old time
    for b, r in zip(bs, rs):
        row = env.db.sql(f"SELECT start_at = '{b['start']}' FROM bookings WHERE id = {b['id']}")[0][0]
        assert row == ("f" if r.status == 200 else "t"), (b, r)


def test_cancel_and_rebook_race(env):
    """Cancelling frees the slot; bookers racing the cancel either lose cleanly or win once."""
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(7, 16)
    b = h.book(et, t, email="first@example.com")
    reqs = [("POST", f"/api/bookings/{b['id']}/cancel", None, h.auth)]
    reqs += [("POST", h.book_path(et), book_body(t, i), None) for i in range(15)]
    rs = concurrently(env.s, reqs)
    assert rs[0].status == 200, rs[0]
    st = statuses(rs[1:])
    assert set(st) <= {201, 409}, st
    assert st.get(201, 0) <= 1, st
    assert count_rows(env.db, "bookings", f"host_id = {h.id} AND status = 'confirmed'") == st.get(201, 0)


def test_conflicting_requests_one_of_them_confirmed(env):
    """The issue's proof: "two conflicting pending bookings confirmed concurrently -> one
    confirmed". The host picks one of two competing requests; the other one then loses."""
    h = Host(env.s, env.db)
    a, b = conflicting_pending_pair(h, day_at(8, 10))
    rs = concurrently(env.s, [("POST", f"/api/bookings/{a['id']}/confirm", None, h.auth),
                              ("POST", f"/api/bookings/{b['id']}/confirm", None, h.auth)])
    check_at_most_one_confirmed(env, rs, a, b)
    assert statuses(rs) == {200: 1, 409: 1}, [r.body for r in rs]


# ----------------------------------------------------------------------------
# between the decision and the write: the host's lock is held from outside while the server's
# SQL function waits for it, and the calendar changes meanwhile


def insert_sql(h, et, start, end, bump_version):
    ins = ("INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, invitee_name, invitee_email) "
           f"VALUES ({h.id}, {et['id']}, '{iso(start)}', '{iso(end)}', 'confirmed', 'Sneaky', 'sneaky@example.com');")
    if bump_version:
        return ins
    # no trigger: the version stays what the server decided on, so only the constraint can stop it
    return f"SET session_replication_role = replica; {ins} SET session_replication_role = origin;"


def race_write(env, h, request, change_sql):
    lock = HostLock(env.db, h.id)
    try:
        join = in_thread(request)
        lock.wait_for_waiter()
        lock.release(change_sql)
        return join()
    finally:
        lock.close()


def test_exclusion_constraint_violation_is_409_not_500(env):
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(9, 10)
    v0 = env.db.sql(f"SELECT version FROM users WHERE id = {h.id}")
    r = race_write(env, h, lambda: h.book_req(et, t), insert_sql(h, et, t, t + dt.timedelta(minutes=30), False))
    assert env.db.sql(f"SELECT version FROM users WHERE id = {h.id}") == v0  # the trick worked
    assert r.status == 409, r
    assert r.json()["code"] == "CONFLICT", r
    # the engine's 409 names next slots; this one came from the constraint (the engine saw a free slot)
    assert "next_slots" not in r.json(), r.json()
    assert [x[0] for x in env.db.sql(f"SELECT invitee_name FROM bookings WHERE host_id = {h.id}")] == ["Sneaky"]


def test_reschedule_exclusion_violation_is_409_not_500(env):
    h = Host(env.s, env.db)
    et = h.et()
    t0, t1 = day_at(9, 12), day_at(9, 14)
    b = h.book(et, t0)
    r = race_write(env, h, lambda: h.act(b["id"], "reschedule", {"start_time": iso(t1)}),
                   insert_sql(h, et, t1, t1 + dt.timedelta(minutes=30), False))
    assert r.status == 409, r
    assert r.json()["code"] == "CONFLICT", r
    assert "next_slots" not in r.json(), r.json()
    assert env.db.sql(f"SELECT start_at = '{iso(t0)}' FROM bookings WHERE id = {b['id']}") == [["t"]]


def test_stale_version_decides_again(env):
    h = Host(env.s, env.db)
    et = h.et()
    t = day_at(9, 16)
    # a conflicting change meanwhile: decided again, now taken (with next slots: the engine said so)
    r = race_write(env, h, lambda: h.book_req(et, t), insert_sql(h, et, t, t + dt.timedelta(minutes=30), True))
    assert r.status == 409, r
    assert r.json()["error"] == "time slot taken" and isinstance(r.json().get("next_slots"), list), r.json()
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 1
    # an unrelated change meanwhile: decided again, still free, booked
    t2 = day_at(9, 18)
    r = race_write(env, h, lambda: h.book_req(et, t2),
                   insert_sql(h, et, t2 + dt.timedelta(hours=2), t2 + dt.timedelta(hours=2, minutes=30), True))
    assert r.status == 201, r
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 3
