"""Multi-host scheduling (issue 12): round robin (a slot is offered when any host is free; a
booking goes to one) and collective (every host free; a booking occupies all), through the
public availability and booking paths with an org slug; host choice, party size, time off,
the assignment rules, and never a double booking."""

import concurrent.futures as cf

import pytest

from accounts_util import NO_LIMITS, assert_error, call
from org_util import add_time_off, ok
from team_util import Org, at, next_monday


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


def conflict(r):
    """A 409 of the native booking path: error, code and the next free slots."""
    assert r.status == 409, r
    j = r.json()
    assert j["code"] == "CONFLICT" and isinstance(j.get("next_slots"), list), j
    return j


def overlapping_hosts(db):
    """Hosts with two active bookings that overlap (what must never exist)."""
    return db.sql("SELECT a.host_id FROM bookings a JOIN bookings b ON a.host_id = b.host_id AND a.id < b.id "
                  "AND a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed') "
                  "AND NOT a.seated AND NOT b.seated AND a.start_at < b.end_at AND b.start_at < a.end_at")


def test_round_robin_offers_union_and_books_each_host_once(s, db):
    o = Org(s, zones=("UTC", "UTC", "UTC"))
    et = o.event_type(duration_minutes=60)
    mon = next_monday()
    slots = o.slots(et, mon.isoformat())[mon.isoformat()]
    assert len(slots) == 8 and slots[0]["start"].endswith("09:00:00Z"), slots
    assert all(x["hosts"] == sorted(o.ids) and x["seats_remaining"] == 3 for x in slots), slots
    got = []
    for _ in range(3):
        r = o.book(et, at(mon, "10:00"))
        assert r.status == 201, r
        got.append(r.json()["booking"]["host"]["id"])
    assert sorted(got) == sorted(o.ids)
    assert conflict(o.book(et, at(mon, "10:00")))["next_slots"]
    ten = [x for x in o.slots(et, mon.isoformat())[mon.isoformat()] if x["start"].endswith("T10:00:00Z")]
    assert ten == []
    assert overlapping_hosts(db) == []


def test_round_robin_requested_host_and_host_filter(s, db):
    o = Org(s)
    et = o.event_type()
    mon = next_monday()
    a, b = o.ids[0], o.ids[1]
    r = o.book(et, at(mon, "09:00"), host_id=a)
    assert r.status == 201 and r.json()["booking"]["host"]["id"] == a, r
    conflict(o.book(et, at(mon, "09:00"), host_id=a))
    mine = o.slots(et, mon.isoformat(), host_id=a)[mon.isoformat()]
    assert all(x["hosts"] == [a] for x in mine) and not any(x["start"].endswith("T09:00:00Z") for x in mine)
    theirs = o.slots(et, mon.isoformat(), host_id=b)[mon.isoformat()]
    assert any(x["start"].endswith("T09:00:00Z") for x in theirs)
    outsider = Org(s).ids[0]
    assert_error(o.book(et, at(mon, "11:00"), host_id=outsider), 400, field="host_id")
    assert call(s, "GET", f"/api/availability/{o.slug}/{et['slug']}?start={mon}&end={mon}&host_id=x").status == 400


def test_collective_needs_every_host_and_occupies_all(s, db):
    o = Org(s, zones=("UTC", "Europe/London", "UTC"))
    et = o.event_type(name="Panel", scheduling="collective", duration_minutes=30)
    mon = next_monday()
    # one host busy at 10:00 with a personal booking: no collective slot then
    add_time_off(s, _member_auth(s, db, o, 2), at(mon, "10:00"), at(mon, "10:30"))
    day = o.slots(et, mon.isoformat())[mon.isoformat()]
    starts = [x["start"][11:16] for x in day]
    assert "10:00" not in starts and "09:30" in starts, starts
    assert all(x["hosts"] == sorted(o.ids) for x in day)
    r = o.book(et, at(mon, "11:00"))
    assert r.status == 201, r
    j = r.json()["booking"]
    assert [h["id"] for h in j["hosts"]] == sorted(o.ids)
    conflict(o.book(et, at(mon, "11:00")))
    # every host is busy then, also for their other event types
    rr = o.event_type(name="Single", hosts=[{"user_id": o.ids[1]}])
    assert not [x for x in o.slots(rr, mon.isoformat())[mon.isoformat()] if x["start"].endswith("T11:00:00Z")]
    # each host sees it in their list, once, as the primary
    for m in range(3):
        lst = ok(call(s, "GET", "/api/bookings", auth=_member_auth(s, db, o, m)))
        items = lst if isinstance(lst, list) else lst.get("bookings", lst.get("items"))
        assert [x["id"] for x in items] == [j["id"]], items
    # cancelling the primary frees every host
    ok(call(s, "POST", f"/api/bookings/{j['id']}/cancel", {"reason": "x"}, auth=_member_auth(s, db, o, 1)))
    assert any(x["start"].endswith("T11:00:00Z") for x in o.slots(et, mon.isoformat())[mon.isoformat()])
    assert db.sql(f"SELECT DISTINCT status FROM bookings WHERE id = {j['id']} OR parent_id = {j['id']}") == \
        [["cancelled"]]
    assert overlapping_hosts(db) == []


def _member_auth(s, db, o, i):
    """A session of member i (member accounts have no password: the owner's org key cannot act
    for them, so give the account one directly in the database for the test, as an admin would
    reset it)."""
    uid = o.ids[i]
    cache = s.__dict__.setdefault("team_member_auth", {})  # per server: ids repeat across databases
    if uid not in cache:
        from accounts_util import PASSWORD, cookie, login, set_cookie_parts
        h = db.sql("SELECT password_hash FROM users WHERE id = (SELECT min(id) FROM users WHERE password_hash IS NOT NULL)")[0][0]
        db.sql(f"UPDATE users SET password_hash = '{h}' WHERE id = {uid}")
        email = db.sql(f"SELECT email FROM users WHERE id = {uid}")[0][0]
        r = login(s, email, PASSWORD)
        assert r.status == 200, r
        cache[uid] = cookie(set_cookie_parts(r)[0])
    return cache[uid]


def test_time_off_and_party_size(s, db):
    o = Org(s, zones=("UTC", "UTC"))
    et = o.event_type(name="Class", seats=3, duration_minutes=60)
    mon = next_monday()
    add_time_off(s, _member_auth(s, db, o, 0), at(mon, "00:00"), at(mon, "23:59"), reason="holiday")
    day = o.slots(et, mon.isoformat())[mon.isoformat()]
    assert all(x["hosts"] == [o.ids[1]] and x["seats_remaining"] == 3 for x in day), day
    r = o.book(et, at(mon, "09:00"), seats=2)
    assert r.status == 201 and r.json()["booking"]["host"]["id"] == o.ids[1], r
    assert o.slots(et, mon.isoformat(), seats=2)[mon.isoformat()][0]["start"].endswith("T10:00:00Z")
    nine = o.slots(et, mon.isoformat())[mon.isoformat()][0]
    assert nine["start"].endswith("T09:00:00Z") and nine["seats_remaining"] == 1
    conflict(o.book(et, at(mon, "09:00"), seats=2))


def test_fairness_equal_hosts_weights_and_priority(s, db):
    o = Org(s)
    et = o.event_type(name="Rotation", duration_minutes=30)
    mon = next_monday()
    counts = {}
    n = 0
    for day in range(5):
        for k in range(6):
            if n == 30:
                break
            d = mon.fromordinal(mon.toordinal() + day)
            r = o.book(et, at(d, f"{9 + k:02d}:00"), email=f"f{n}@example.com")
            assert r.status == 201, r
            counts[r.json()["booking"]["host"]["id"]] = counts.get(r.json()["booking"]["host"]["id"], 0) + 1
            n += 1
    assert sorted(counts.values()) == [10, 10, 10], counts

    o2 = Org(s, zones=("UTC", "UTC"))
    w = o2.event_type(name="Weighted", hosts=[{"user_id": o2.ids[0], "weight": 100},
                                             {"user_id": o2.ids[1], "weight": 200}])
    c2 = {}
    for k in range(30):
        d = mon.fromordinal(mon.toordinal() + k // 8)
        r = o2.book(w, at(d, f"{9 + k % 8:02d}:00"), email=f"w{k}@example.com")
        assert r.status == 201, r
        c2[r.json()["booking"]["host"]["id"]] = c2.get(r.json()["booking"]["host"]["id"], 0) + 1
    assert (c2[o2.ids[0]], c2[o2.ids[1]]) == (10, 20), c2

    o3 = Org(s, zones=("UTC", "UTC"))
    p = o3.event_type(name="Prio", hosts=[{"user_id": o3.ids[0], "priority": 1},
                                         {"user_id": o3.ids[1], "priority": 3}])
    for k in range(4):
        r = o3.book(p, at(mon, f"{9 + k:02d}:00"), email=f"p{k}@example.com")
        assert r.status == 201 and r.json()["booking"]["host"]["id"] == o3.ids[1], r


def test_race_round_robin_three_hosts(s, db):
    o = Org(s)
    et = o.event_type(name="Race")
    mon = next_monday(2)

    def one(i):
        return o.book(et, at(mon, "13:00"), email=f"r{i}@example.com")

    with cf.ThreadPoolExecutor(40) as ex:
        rs = list(ex.map(one, range(40)))
    codes = sorted(r.status for r in rs)
    assert codes.count(201) == 3 and codes.count(409) == 37, codes
    assert sorted(r.json()["booking"]["host"]["id"] for r in rs if r.status == 201) == sorted(o.ids)
    assert overlapping_hosts(db) == []


def test_race_collective_and_personal_against_org(s, db):
    o = Org(s)
    et = o.event_type(name="Crowd", scheduling="collective")
    mon = next_monday(2)
    with cf.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda i: o.book(et, at(mon, "14:00"), email=f"c{i}@example.com"), range(20)))
    codes = sorted(r.status for r in rs)
    assert codes.count(201) == 1 and codes.count(409) == 19, codes
    # a round-robin booking of one member racing a collective booking of all
    single = o.event_type(name="Solo", hosts=[{"user_id": o.ids[0]}])
    with cf.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda i: o.book(et if i % 2 else single, at(mon, "15:00"), email=f"x{i}@example.com"),
                         range(20)))
    codes = sorted(r.status for r in rs)
    assert codes.count(201) == 1 and all(c in (201, 409) for c in codes), codes
    assert overlapping_hosts(db) == []


def test_public_org_page_and_org_bookings_list(s, db):
    o = Org(s)
    et = o.event_type(name="Intro Call", description="hello")
    secret = o.event_type(name="Hidden", is_secret=True)
    page = ok(call(s, "GET", f"/api/public/{o.slug}"))
    assert page["kind"] == "org" and [e["slug"] for e in page["event_types"]] == [et["slug"]], page
    assert page["event_types"][0]["hosts"] == [{"id": i, "name": m["name"]} for i, m in zip(o.ids, o.members)]
    assert call(s, "GET", f"/api/public/{o.slug}x").status == 404
    mon = next_monday()
    b1 = o.book(et, at(mon, "09:00")).json()["booking"]
    b2 = o.book(secret, at(mon, "10:00")).json()["booking"]
    lst = call(s, "GET", f"/api/orgs/{o.id}/bookings", auth=o.owner.session)
    assert lst.status == 200 and lst.header("X-Total-Count") in (None, "2"), lst
    assert sorted(x["id"] for x in lst.json()) == sorted([b1["id"], b2["id"]])
    mine = ok(call(s, "GET", f"/api/orgs/{o.id}/bookings?host_id={b1['host']['id']}", auth=o.owner.session))
    assert b1["id"] in [x["id"] for x in mine]
    assert call(s, "GET", f"/api/orgs/{o.id}/bookings?host_id=x", auth=o.owner.session).status == 400
    # another org's owner: 404; a plain member: 403
    other = Org(s)
    assert call(s, "GET", f"/api/orgs/{o.id}/bookings", auth=other.owner.session).status == 404
    assert call(s, "GET", f"/api/orgs/{o.id}/bookings", auth=_member_auth(s, db, o, 0)).status == 403


def test_reassign(s, db):
    o = Org(s)
    et = o.event_type(name="Handover")
    mon = next_monday()
    b = o.book(et, at(mon, "09:00"), host_id=o.ids[0]).json()["booking"]
    # to a named host
    r = call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": o.ids[1]}, auth=o.owner.session)
    assert r.status == 200 and r.json()["booking"]["host"]["id"] == o.ids[1], r
    assert db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id DESC LIMIT 1") == \
        [["booking.reassigned"]]
    # the old host is free again, the new one is not
    day = o.slots(et, mon.isoformat())[mon.isoformat()]
    assert [x["hosts"] for x in day if x["start"].endswith("T09:00:00Z")] == [[o.ids[0], o.ids[2]]]
    # by the rules: to a host other than the current one
    r = call(s, "POST", f"/api/bookings/{b['id']}/reassign", None, auth=o.owner.session)
    assert r.status == 200 and r.json()["booking"]["host"]["id"] != o.ids[1], r
    cur = r.json()["booking"]["host"]["id"]
    # a busy host: 409; not a host: 400; the current host: 400; others' bookings: 404
    o.book(et, at(mon, "09:00"))  # takes one of the two free hosts
    busy = [i for i in o.ids if i != cur and db.sql(
        f"SELECT count(*) FROM bookings WHERE host_id = {i} AND status = 'confirmed'")[0][0] != "0"]
    assert call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": busy[0]}, auth=o.owner.session).status == 409
    assert_error(call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": cur}, auth=o.owner.session), 400,
                 field="host_id")
    assert_error(call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": 999999}, auth=o.owner.session), 400,
                 field="host_id")
    other = Org(s)
    assert call(s, "POST", f"/api/bookings/{b['id']}/reassign", None, auth=other.owner.session).status == 404
    coll = o.event_type(name="Together", scheduling="collective")
    c = o.book(coll, at(mon, "15:00")).json()["booking"]
    assert call(s, "POST", f"/api/bookings/{c['id']}/reassign", None, auth=o.owner.session).status == 409
    assert overlapping_hosts(db) == []


def test_cross_org_matrix(s, db):
    """Every endpoint of org event types and their bookings, with another org's owner's
    cookie, personal key and org key: 404 and nothing changed."""
    from org_util import org_key
    o = Org(s)
    et = o.event_type(name="Guarded")
    mon = next_monday()
    b = o.book(et, at(mon, "09:00")).json()["booking"]
    other = Org(s)
    other.owner.make_key()
    _, other_org_key = org_key(s, other.id, other.owner.session)
    before = db.sql("SELECT row_to_json(x)::text FROM (SELECT id, host_id, status, updated_at FROM bookings ORDER BY id) x")
    ets = db.sql("SELECT row_to_json(x)::text FROM (SELECT * FROM event_types ORDER BY id) x")
    hosts = db.sql("SELECT row_to_json(x)::text FROM (SELECT * FROM event_type_hosts ORDER BY 1, 2) x")
    p = f"/api/orgs/{o.id}/event-types"
    calls = [("GET", p, None), ("POST", p, {"name": "X", "hosts": [{"user_id": o.ids[0]}]}),
             ("GET", f"{p}/{et['id']}", None), ("PUT", f"{p}/{et['id']}", {"name": "Y"}),
             ("DELETE", f"{p}/{et['id']}", None), ("GET", f"/api/orgs/{o.id}/bookings", None),
             ("POST", f"/api/bookings/{b['id']}/reassign", None),
             ("POST", f"/api/bookings/{b['id']}/reassign", {"host_id": o.ids[1]})]
    for auth in (other.owner.session, other.owner.api_key, other_org_key):
        for method, path, body in calls:
            r = call(s, method, path, body, auth=auth)
            assert r.status == 404, (method, path, auth, r)
            assert b["invitee_email"] not in r.body.decode(), r
    # an org key of this org may not act on anyone's personal bookings
    _, our_key = org_key(s, o.id, o.owner.session)
    assert call(s, "GET", "/api/bookings", auth=our_key).status == 403
    assert call(s, "POST", f"/api/bookings/{b['id']}/cancel", None, auth=our_key).status == 403
    assert db.sql("SELECT row_to_json(x)::text FROM (SELECT id, host_id, status, updated_at FROM bookings ORDER BY id) x") == before
    assert db.sql("SELECT row_to_json(x)::text FROM (SELECT * FROM event_types ORDER BY id) x") == ets
    assert db.sql("SELECT row_to_json(x)::text FROM (SELECT * FROM event_type_hosts ORDER BY 1, 2) x") == hosts


@pytest.fixture
def hs(slotd_factory):
    from webhook_util import LOCAL_ENV
    return slotd_factory(env={**NO_LIMITS, **LOCAL_ENV})


def test_org_webhooks(hs, db):
    """An org's webhooks hear its event types' bookings (once, also for collective ones), are
    managed under the org (its owners, admins and keys), and are none of a person's."""
    from webhook_util import Receiver
    s = hs
    rcv = Receiver()
    try:
        o = Org(s)
        p = f"/api/orgs/{o.id}/webhooks"
        hook = ok(call(s, "POST", p, {"url": rcv.url(), "events": ["booking.created", "booking.reassigned"]},
                       auth=o.owner.session), 201)
        assert hook["secret"] and ok(call(s, "GET", p, auth=o.owner.session))[0]["id"] == hook["id"]
        assert ok(call(s, "GET", "/api/webhooks", auth=o.owner.session)) == []  # not the owner's own
        assert call(s, "PUT", f"/api/webhooks/{hook['id']}", {"is_active": True}, auth=o.owner.session).status == 404
        other = Org(s)
        assert call(s, "GET", p, auth=other.owner.session).status == 404
        assert call(s, "DELETE", f"{p}/{hook['id']}", auth=other.owner.session).status == 404
        assert call(s, "DELETE", f"/api/orgs/{other.id}/webhooks/{hook['id']}", auth=other.owner.session).status == 404
        assert call(s, "GET", p, auth=_member_auth(s, db, o, 0)).status == 403

        rr = o.event_type(name="Hooked")
        coll = o.event_type(name="Hooked together", scheduling="collective")
        mon = next_monday()
        b = o.book(rr, at(mon, "09:00")).json()["booking"]
        c = o.book(coll, at(mon, "11:00")).json()["booking"]
        assert call(s, "POST", f"/api/bookings/{b['id']}/reassign", None, auth=o.owner.session).status == 200
        from conftest import wait_until
        wait_until(lambda: rcv.count() >= 3, 15, what="three org deliveries")
        got = sorted((r.json()["event"], r.json()["data"]["booking"]["id"]) for r in rcv.snapshot())
        assert got == sorted([("booking.created", b["id"]), ("booking.created", c["id"]),
                              ("booking.reassigned", b["id"])]), got
        dl = call(s, "GET", f"{p}/{hook['id']}/deliveries", auth=o.owner.session)
        assert dl.status == 200 and len(dl.json()) == 3, dl
        assert call(s, "POST", f"{p}/{hook['id']}/ping", None, auth=o.owner.session).status == 202
        assert ok(call(s, "DELETE", f"{p}/{hook['id']}", auth=o.owner.session)) == {"ok": True}
    finally:
        rcv.close()


def test_race_personal_booking_against_org_booking(s, db):
    """A member with a personal booking page: a personal booking and an org booking of the same
    member at the same time, racing: exactly one wins."""
    from accounts_util import new_user
    o = Org(s, zones=("UTC",))
    person = new_user(s, "solo-host@example.com", name="Solo Host")
    ok(call(s, "POST", f"/api/orgs/{o.id}/members", {"email": person.email, "name": "Solo Host"},
            auth=o.owner.session), 201)
    sched = ok(call(s, "GET", "/api/availability-schedules", auth=person.session))
    ok(call(s, "PUT", f"/api/availability-schedules/{sched[0]['id']}",
            {"timezone": "UTC", "rules": [{"day": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]},
            auth=person.session))
    mine = ok(call(s, "POST", "/api/event-types", {"name": "Mine", "min_notice_hours": 0}, auth=person.session), 201)
    org_et = o.event_type(name="Theirs", hosts=[{"user_id": person.id}])
    page = ok(call(s, "GET", "/api/booking-page", auth=person.session))["slug"]
    mon = next_monday(3)

    def one(i):
        if i % 2:
            return o.book(org_et, at(mon, "10:00"), email=f"o{i}@example.com")
        return call(s, "POST", f"/api/book/{page}/{mine['slug']}",
                    {"name": "P", "email": f"p{i}@example.com", "start_time": at(mon, "10:00")})

    with cf.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(one, range(20)))
    codes = sorted(r.status for r in rs)
    assert codes.count(201) == 1 and codes.count(409) == 19, codes
    assert overlapping_hosts(db) == []


def test_seated_round_robin_fills_one_host_first_and_reschedule_keeps_the_host(s, db):
    o = Org(s, zones=("UTC", "UTC"))
    et = o.event_type(name="Workshop", seats=3)
    mon = next_monday()
    first = o.book(et, at(mon, "09:00"), email="a@example.com").json()["booking"]["host"]["id"]
    for i in range(2):  # the same host's seats fill before the other host's open
        r = o.book(et, at(mon, "09:00"), email=f"b{i}@example.com")
        assert r.status == 201 and r.json()["booking"]["host"]["id"] == first, r
    r = o.book(et, at(mon, "09:00"), email="c@example.com")
    assert r.status == 201 and r.json()["booking"]["host"]["id"] != first, r
    nine = [x for x in o.slots(et, mon.isoformat())[mon.isoformat()] if x["start"].endswith("T09:00:00Z")]
    assert nine and nine[0]["seats_remaining"] == 2 and nine[0]["hosts"] == [r.json()["booking"]["host"]["id"]]
    # the host reschedules it: it stays theirs
    b = r.json()["booking"]
    host = b["host"]["id"]
    auth = _member_auth(s, db, o, o.ids.index(host))
    moved = call(s, "POST", f"/api/bookings/{b['id']}/reschedule", {"start_time": at(mon, "14:00")}, auth=auth)
    assert moved.status == 200 and moved.json()["booking"]["host"]["id"] == host, moved
    assert moved.json()["booking"]["start"] == at(mon, "14:00")


def test_review_fixes_collective_moves_scheduling_changes_and_leavers(s, db):
    """A collective booking is not moved (409; cancel and book again); every host's webhooks-side
    events are written for a status change; scheduling does not change under live bookings; a
    member who left cannot reassign; a reassignment is refused once the booking moved."""
    o = Org(s)
    coll = o.event_type(name="Both of us", scheduling="collective")
    mon = next_monday()
    c = o.book(coll, at(mon, "10:00")).json()["booking"]
    a0 = _member_auth(s, db, o, 0)
    r = call(s, "POST", f"/api/bookings/{c['id']}/reschedule", {"start_time": at(mon, "14:00")}, auth=a0)
    assert r.status == 409 and "cannot be moved" in r.json()["error"], r
    assert db.sql(f"SELECT DISTINCT start_at::text FROM bookings WHERE id = {c['id']} OR parent_id = {c['id']}") == \
        [[db.sql(f"SELECT start_at::text FROM bookings WHERE id = {c['id']}")[0][0]]]
    # scheduling cannot flip under live bookings
    r = call(s, "PUT", f"/api/orgs/{o.id}/event-types/{coll['id']}", {"scheduling": "round_robin"}, auth=o.owner.session)
    assert_error(r, 409, field="scheduling")
    # a cancel by any host: one event per host
    ok(call(s, "POST", f"/api/bookings/{c['id']}/cancel", None, auth=_member_auth(s, db, o, 2)))
    hosts = sorted(int(h) for (h,) in db.sql(
        f"SELECT host_id FROM events WHERE booking_id = {c['id']} AND type = 'booking.cancelled'"))
    assert hosts == sorted(o.ids), hosts
    # now it may change
    ok(call(s, "PUT", f"/api/orgs/{o.id}/event-types/{coll['id']}", {"scheduling": "round_robin"}, auth=o.owner.session))
    # a leaver cannot reassign what they host
    rr = o.event_type(name="Leaving")
    b = o.book(rr, at(mon, "11:00"), host_id=o.ids[1]).json()["booking"]
    a1 = _member_auth(s, db, o, 1)
    ok(call(s, "DELETE", f"/api/orgs/{o.id}/members/{o.ids[1]}", auth=o.owner.session))
    assert call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": o.ids[0]}, auth=a1).status == 404
    assert ok(call(s, "POST", f"/api/bookings/{b['id']}/reassign", {"host_id": o.ids[0]},
                   auth=o.owner.session))["booking"]["host"]["id"] == o.ids[0]
