"""Issue 5: public booking (create, validation, questions, seats, pending holds), the host's
side (list with pagination and filters, get, cancel, confirm, decline, reschedule, no-show,
illegal transitions) and the cross-user 404 matrix.

One slotd and database for the module; every test uses hosts of its own, whose calendars are
open around the clock in UTC (so any future half hour is a slot), unless it says otherwise.
"""

import datetime as dt
import hashlib
import json

import pytest

from accounts_util import all_db_text, call
from booking_util import (CONF_RE, HEX64, SEED_TS, UTC, UUID_RE, Host, assert_error,
                          assert_no_double_booking, count_rows, day_at, env, iso, parse_iso,  # noqa: F401
                          status_of, unique)

BOOKING_KEYS = {"id", "uid", "event_name", "invitee_name", "invitee_email", "start_time", "end_time", "status",
                "timezone", "start", "end", "confirmation_number"}


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


def conflict(r, status=None):
    """409 {"error", "code": "CONFLICT", ...}; with status: an illegal transition naming it."""
    assert r.status == 409, r
    j = r.json()
    assert j.get("code") == "CONFLICT" and isinstance(j.get("error"), str) and j["error"], j
    if status is not None:
        assert j.get("status") == status, j
    return j


def taken(r):
    j = conflict(r)
    assert j["error"] == "time slot taken", j
    assert isinstance(j.get("next_slots"), list) and len(j["next_slots"]) <= 3, j
    return j


def slots_of(h, et, day):
    r = call(h.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={day}&end={day}")
    assert r.status == 200, r
    return r.json()["slots"].get(day, [])


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


# ----------------------------------------------------------------------------
# create


def test_create_shape_tokens_and_event(env, host):
    et = host.et(name="Intro Call", duration_minutes=45, slot_interval_minutes=15)
    t = day_at(3, 14)  # 14:00Z = 09:00 in New York (EST in late autumn / EDT otherwise)
    r = host.book_req(et, t, name="Bob Johnson", email="Bob@Example.com", timezone="America/New_York",
                      notes="Looking to discuss", phone="+1 (555) 123-4567")
    assert r.status == 201, r
    assert r.header("Content-Type").startswith("application/json")
    j = r.json()
    assert set(j) == {"booking"}, j
    b = j["booking"]
    assert BOOKING_KEYS | {"cancel_token", "reschedule_token"} <= set(b), b
    assert isinstance(b["id"], int) and b["id"] > 0
    assert UUID_RE.fullmatch(b["uid"]), b
    assert b["event_name"] == "Intro Call"
    assert b["invitee_name"] == "Bob Johnson"
    assert b["invitee_email"] == "bob@example.com"
    assert b["status"] == "confirmed"
    assert b["timezone"] == "America/New_York"
    assert b["notes"] == "Looking to discuss" and b["phone"] == "+1 (555) 123-4567"
    # seed shape: the invitee's wall clock; plus RFC 3339 instants
    from zoneinfo import ZoneInfo
    ny = t.astimezone(ZoneInfo("America/New_York"))
    assert SEED_TS.fullmatch(b["start_time"]) and SEED_TS.fullmatch(b["end_time"]), b
    assert b["start_time"] == ny.strftime("%Y-%m-%d %H:%M:%S"), b
    assert b["end_time"] == (ny + dt.timedelta(minutes=45)).strftime("%Y-%m-%d %H:%M:%S"), b
    assert parse_iso(b["start"]) == t and parse_iso(b["end"]) == t + dt.timedelta(minutes=45), b
    assert CONF_RE.fullmatch(b["confirmation_number"]), b
    assert HEX64.fullmatch(b["cancel_token"]) and HEX64.fullmatch(b["reschedule_token"]), b
    assert b["cancel_token"] != b["reschedule_token"]

    # the row: hashes only, never the tokens themselves
    row = env.db.sql(f"SELECT cancel_token_hash, reschedule_token_hash, confirmation_number, status, host_id, "
                     f"extract(epoch FROM start_at)::bigint FROM bookings WHERE uid = '{b['uid']}'")
    assert row == [[sha(b["cancel_token"]), sha(b["reschedule_token"]), b["confirmation_number"], "confirmed",
                    str(host.id), str(int(t.timestamp()))]], row
    everything = all_db_text(env.db)
    assert b["cancel_token"] not in everything and b["reschedule_token"] not in everything

    # its event row, written with it
    ev = env.db.sql(f"SELECT type, payload->'data'->'booking'->>'uid' FROM events WHERE booking_id = {b['id']}")
    assert ev == [["booking.created", b["uid"]]], ev

    # the host sees it, without the invitee's tokens
    g = host.booking(b["id"])
    assert "cancel_token" not in g and "reschedule_token" not in g, g
    for k in BOOKING_KEYS:
        assert g[k] == b[k], k


def test_defaults_utc_and_any_offset(host):
    et = host.et()
    t = day_at(4, 15)
    # the same instant written with an offset
    local = t.astimezone(dt.timezone(dt.timedelta(hours=-5))).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    r = host.book_req(et, None, start_time=local)
    assert r.status == 201, r
    b = r.json()["booking"]
    assert b["timezone"] == "UTC"
    assert parse_iso(b["start"]) == t
    assert b["start_time"] == t.strftime("%Y-%m-%d %H:%M:%S")
    assert b["seats"] == 1


def test_confirmation_numbers_are_distinct(host):
    et = host.et(duration_minutes=15)
    nums = {host.book(et, day_at(5, 8, 15 * i), email=f"p{i}@example.com")["confirmation_number"] for i in range(12)}
    assert len(nums) == 12
    assert all(CONF_RE.fullmatch(n) for n in nums)


def test_taken_slot_409_with_next_slots(env, host):
    et = host.et()
    t = day_at(3, 10)
    host.book(et, t)
    host.book(et, t + dt.timedelta(minutes=30), email="c@example.com")
    r = host.book_req(et, t, email="late@example.com", timezone="Europe/Berlin")
    j = taken(r)
    assert set(j) == {"error", "code", "next_slots"}, j
    assert len(j["next_slots"]) == 3, j
    starts = [parse_iso(x["start"]) for x in j["next_slots"]]
    assert starts == sorted(starts) and starts[0] == t + dt.timedelta(minutes=60), j
    for x in j["next_slots"]:
        assert parse_iso(x["end"]) - parse_iso(x["start"]) == dt.timedelta(minutes=30)
        assert not x["start"].endswith("Z"), x  # in the invitee's zone (Berlin is never UTC+0)
    # the slots offered really are free
    assert host.book_req(et, starts[0], email="next@example.com").status == 201
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 3


def test_not_bookable_times_400(env):
    h = Host(env.s, env.db, open_all_week=False)  # Mon-Fri 09:00-17:00 UTC
    et = h.et(max_future_days=20)
    d = dt.datetime.now(UTC).date() + dt.timedelta(days=2)
    while d.weekday() != 5:  # Saturday
        d += dt.timedelta(days=1)
    sat = dt.datetime(d.year, d.month, d.day, 10, tzinfo=UTC)
    mon = sat + dt.timedelta(days=2)
    for start in (sat, mon.replace(hour=8), mon.replace(hour=16, minute=45), mon.replace(hour=17),
                  mon.replace(hour=10, minute=10), mon.replace(hour=10, second=1),
                  mon + dt.timedelta(days=28),  # beyond max_future_days
                  day_at(-2, 10)):  # the past
        r = h.book_req(et, start)
        assert_error(r, 400, "VALIDATION_FAILED", "start_time")
    assert h.book_req(et, mon.replace(hour=9)).status == 201
    assert h.book_req(et, mon.replace(hour=16, minute=30)).status == 201
    assert count_rows(env.db, "bookings", f"host_id = {h.id}") == 2
    # minimum notice
    h2 = Host(env.s, env.db)
    et2 = h2.et(min_notice_hours=72)
    soon = (dt.datetime.now(UTC) + dt.timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    assert_error(h2.book_req(et2, soon), 400, "VALIDATION_FAILED", "start_time")
    assert h2.book_req(et2, soon + dt.timedelta(days=3)).status == 201


@pytest.mark.parametrize("change,field", [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"email": None}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"start_time": None}, "start_time"),
    ({"start_time": "tomorrow at ten"}, "start_time"),
    ({"start_time": "2026-13-01T10:00:00Z"}, "start_time"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"seats": 0}, "seats"),
    ({"seats": 2}, "seats"),  # beyond the event type's capacity (1)
    ({"seats": "2"}, "seats"),
    ({"answers": ["a"]}, "answers"),
    ({"phone": "call me"}, "phone"),
    ({"reservation_uid": "nope"}, "reservation_uid"),
])
def test_validation_400(env, host, change, field):
    et = host.et()
    body = {"name": "Bob", "email": "bob@example.com", "start_time": iso(day_at(3, 11))}
    for k, v in change.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    r = call(env.s, "POST", host.book_path(et), body)
    assert_error(r, 400, "VALIDATION_FAILED", field)
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0


def test_malformed_body_and_unknown_targets(env, host):
    et = host.et()
    body = {"name": "Bob", "email": "bob@example.com", "start_time": iso(day_at(3, 11))}
    assert call(env.s, "POST", host.book_path(et), raw=b"{not json").status == 400
    assert call(env.s, "POST", host.book_path(et), raw=b"[1,2]").status == 400
    assert_error(call(env.s, "POST", f"/api/book/{host.slug}/no-such-type", body), 404, "NOT_FOUND")
    assert_error(call(env.s, "POST", f"/api/book/no-such-host-{unique()}/{et['slug']}", body), 404, "NOT_FOUND")
    # a deleted event type can no longer be booked
    assert host.call("DELETE", f"/api/event-types/{et['id']}").status == 200
    assert_error(call(env.s, "POST", host.book_path(et), body), 404, "NOT_FOUND")
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0


def test_questions(env, host):
    qs = [
        {"id": "company", "label": "Company", "type": "text", "required": True},
        {"id": "size", "label": "Team size", "type": "select", "options": ["1-10", "11-50", "51+"], "required": True},
        {"id": "cc", "label": "CC", "type": "email"},
        {"id": "tel", "label": "Phone", "type": "phone"},
        {"id": "agree", "label": "I agree", "type": "checkbox", "required": True},
        {"id": "more", "label": "Anything else", "type": "textarea"},
    ]
    et = host.et(questions=qs)
    t = day_at(3, 9)
    good = {"company": "Acme", "size": "11-50", "agree": True}

    def bad(answers, field):
        r = host.book_req(et, t, answers=answers)
        assert_error(r, 400, "VALIDATION_FAILED", field)

    bad({"size": "11-50", "agree": True}, "answers.company")             # required missing
    bad({**good, "company": ""}, "answers.company")                       # required empty
    bad({**good, "size": "12"}, "answers.size")                           # not an option
    bad({**good, "size": "11-50 "}, "answers.size")
    bad({**good, "agree": False}, "answers.agree")                        # required checkbox unticked
    bad({**good, "agree": "yes"}, "answers.agree")
    bad({**good, "cc": "nobody"}, "answers.cc")                           # email question
    bad({**good, "tel": "abc"}, "answers.tel")                            # phone question
    bad({**good, "company": 42}, "answers.company")
    bad({**good, "nosuch": "x"}, "answers.nosuch")                        # unknown question
    r = host.book_req(et, t)                                              # no answers at all
    assert_error(r, 400, "VALIDATION_FAILED", "answers.company")
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0

    b = host.book(et, t, answers={**good, "cc": "boss@example.com", "more": "see you"})
    assert b["answers"] == {**good, "cc": "boss@example.com", "more": "see you"}, b
    stored = json.loads(env.db.sql(f"SELECT answers FROM bookings WHERE id = {b['id']}")[0][0])
    assert stored == b["answers"]


def test_booked_slot_leaves_availability_and_cancel_frees_it(env, host):
    et = host.et()
    t = day_at(6, 13)
    day, hm = t.strftime("%Y-%m-%d"), t.strftime("%H:%M")
    assert hm in slots_of(host, et, day)
    b = host.book(et, t)
    assert hm not in slots_of(host, et, day)
    assert host.act(b["id"], "cancel").status == 200
    assert hm in slots_of(host, et, day)
    b2 = host.book(et, t, email="again@example.com")
    assert b2["uid"] != b["uid"]
    assert_no_double_booking(env.db)


def test_other_event_types_of_the_host_are_blocked(env, host):
    a = host.et(duration_minutes=60)
    b = host.et(duration_minutes=30)
    t = day_at(3, 10)
    host.book(a, t)
    taken(host.book_req(b, t + dt.timedelta(minutes=30)))
    taken(host.book_req(b, t))
    assert host.book_req(b, t + dt.timedelta(minutes=60)).status == 201
    # another host's calendar is independent
    other = Host(env.s, env.db)
    assert other.book_req(other.et(), t).status == 201


def test_booking_limits_apply(env, host):
    """The engine's rules decide bookings, limits included (one code path with availability)."""
    et = host.et(limit_per_day=2)
    t = day_at(3, 9)
    host.book(et, t, email="l1@example.com")
    host.book(et, t + dt.timedelta(hours=1), email="l2@example.com")
    r = host.book_req(et, t + dt.timedelta(hours=2), email="l3@example.com")
    j = conflict(r)
    assert "limit" in j["error"], j
    assert slots_of(host, et, t.strftime("%Y-%m-%d")) == []
    assert host.book_req(et, t + dt.timedelta(days=1), email="l4@example.com").status == 201
    # every slot availability offers is bookable, and nothing else is
    et2 = host.et(duration_minutes=20, slot_interval_minutes=25, buffer_before=10)
    day = (t + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    offered = slots_of(host, et2, day)[:6]
    assert offered, "no slots offered"
    for i, hm in enumerate(offered):
        start = dt.datetime.fromisoformat(f"{day}T{hm}:00+00:00")
        if i % 2:
            assert host.book_req(et2, start, email=f"o{i}@example.com").status == 201, hm
        else:
            assert host.book_req(et2, start + dt.timedelta(minutes=5), email=f"x{i}@example.com").status == 400, hm


def test_buffers_apply_to_bookings(host):
    et = host.et(buffer_after=30)
    t = day_at(3, 10)
    host.book(et, t)
    taken(host.book_req(et, t + dt.timedelta(minutes=30)))
    assert host.book_req(et, t + dt.timedelta(minutes=60)).status == 201


def test_pending_booking_holds_its_slot(env, host):
    et = host.et(requires_confirmation=True)
    plain = host.et()
    t = day_at(3, 11)
    r = host.book_req(et, t)
    assert r.status == 201, r
    b = r.json()["booking"]
    assert b["status"] == "pending"
    ev = env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']}")
    assert ev == [["booking.requested"]], ev
    assert HEX64.fullmatch(host.confirm_token(b["id"]))
    # nobody else gets the slot while the host decides, by any event type
    taken(host.book_req(et, t, email="x@example.com"))
    taken(host.book_req(plain, t, email="y@example.com"))
    assert t.strftime("%H:%M") not in slots_of(host, plain, t.strftime("%Y-%m-%d"))
    # a decline frees it
    r = host.act(b["id"], "decline", {"reason": "busy"})
    assert r.status == 200, r
    assert host.book_req(plain, t, email="y@example.com").status == 201


def test_seats(env, host):
    et = host.et(seats=3, duration_minutes=60, slot_interval_minutes=30)
    t = day_at(3, 10)
    day, hm = t.strftime("%Y-%m-%d"), t.strftime("%H:%M")
    b1 = host.book(et, t, email="s1@example.com")
    b2 = host.book(et, t, email="s2@example.com")
    assert b1["status"] == b2["status"] == "confirmed"
    assert hm in slots_of(host, et, day)
    # two seats asked, one left
    r = host.book_req(et, t, email="pair@example.com", seats=2)
    j = conflict(r)
    assert "seat" in j["error"], j
    b3 = host.book(et, t, email="s3@example.com")
    assert hm not in slots_of(host, et, day)
    taken(host.book_req(et, t, email="s4@example.com"))
    # a group booking takes several seats at once
    t2 = t + dt.timedelta(hours=2)
    g = host.book(et, t2, email="group@example.com", seats=2)
    assert g["seats"] == 2
    assert host.book_req(et, t2, email="one@example.com", seats=1).status == 201
    conflict(host.book_req(et, t2, email="one-more@example.com"))
    # seats are per start time: an overlapping but different start is not a seat of it
    taken(host.book_req(et, t + dt.timedelta(minutes=30), email="off@example.com"))
    # cancelling a seat frees one seat
    assert host.act(b2["id"], "cancel").status == 200
    assert host.book_req(et, t, email="s5@example.com").status == 201
    rows = env.db.sql(f"SELECT count(*), sum(seats) FROM bookings WHERE event_type_id = {et['id']} "
                      f"AND status = 'confirmed' AND start_at = '{iso(t)}'")
    assert rows == [["3", "3"]], rows
    assert {b1["id"], b3["id"]} <= {int(x[0]) for x in env.db.sql(
        f"SELECT id FROM bookings WHERE event_type_id = {et['id']} AND seated")}
    assert_no_double_booking(env.db)


# ----------------------------------------------------------------------------
# host: get, list, pagination, filters


def test_get_and_auth(env, host):
    et = host.et()
    b = host.book(et, day_at(3, 12))
    g = host.booking(b["id"])
    assert g["uid"] == b["uid"] and g["status"] == "confirmed"
    # session works as well as the key
    r = call(env.s, "GET", f"/api/bookings/{b['id']}", auth=host.session)
    assert r.status == 200 and r.json()["uid"] == b["uid"]
    for path in (f"/api/bookings/{b['id']}", "/api/bookings"):
        assert call(env.s, "GET", path).status == 401
    for action in ("cancel", "confirm", "decline", "no-show", "reschedule"):
        r = call(env.s, "POST", f"/api/bookings/{b['id']}/{action}", {})
        assert r.status == 401, (action, r)
    assert_error(host.get(999999999), 404, "NOT_FOUND")
    assert_error(host.get("abc"), 404, "NOT_FOUND")
    assert status_of(env.db, b["id"]) == "confirmed"


def test_list_order_shape_and_pagination(env, host):
    et = host.et()
    ids = []
    for i in range(7):
        ids.append(host.book(et, day_at(3 + i % 3, 9 + i), email=f"p{i}@example.com")["id"])
    r = host.list()
    assert r.status == 200, r
    items = r.json()
    assert isinstance(items, list) and len(items) == 7
    assert r.header("X-Total-Count") == "7"
    starts = [parse_iso(x["start"]) for x in items]
    assert starts == sorted(starts, reverse=True), "newest start first"
    assert {x["id"] for x in items} == set(ids)
    for x in items:
        assert {"id", "event_type_name", "invitee_name", "invitee_email", "start_time", "end_time", "status",
                "duration_minutes"} <= set(x), x
        assert "cancel_token" not in x and "reschedule_token" not in x
        assert x["duration_minutes"] == 30 and x["event_type_name"] == et["name"]

    pages = []
    for p in (1, 2, 3):
        r = host.list(f"limit=3&page={p}")
        assert r.status == 200, r
        assert r.header("X-Total-Count") == "7"
        pages.append(r)
    assert [len(p.json()) for p in pages] == [3, 3, 1]
    assert [x["id"] for p in pages for x in p.json()] == [x["id"] for x in items]
    links = [link_rels(p.header("Link")) for p in pages]
    assert set(links[0]) == {"first", "next", "last"}, links[0]
    assert set(links[1]) == {"first", "prev", "next", "last"}, links[1]
    assert set(links[2]) == {"first", "prev", "last"}, links[2]
    assert "page=2" in links[0]["next"] and "page=3" in links[0]["last"] and "page=1" in links[1]["prev"]
    for rels in links:
        for url in rels.values():
            assert "/api/bookings?" in url and "limit=3" in url, url
    # following the Link headers visits the same pages
    nxt = links[0]["next"]
    path = nxt[nxt.index("/api/bookings"):]
    assert [x["id"] for x in host.call("GET", path).json()] == [x["id"] for x in pages[1].json()]
    # past the end: empty, total still known
    r = host.list("limit=3&page=9")
    assert r.status == 200 and r.json() == [] and r.header("X-Total-Count") == "7"


def link_rels(value):
    assert value, "no Link header"
    out = {}
    for part in value.split(","):
        url, rel = part.split(";", 1)
        url = url.strip()
        assert url.startswith("<") and url.endswith(">"), value
        out[rel.strip().split("=", 1)[1].strip('"')] = url[1:-1]
    return out


def test_list_default_and_max_limit(env, host):
    et = host.et()
    base = int(day_at(10, 0).timestamp())
    env.db.sql(
        "INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, invitee_name, invitee_email) "
        f"SELECT {host.id}, {et['id']}, to_timestamp({base} + i * 1800), to_timestamp({base} + i * 1800 + 1800), "
        "'confirmed', 'Bulk', 'bulk@example.com' FROM generate_series(0, 204) i")
    r = host.list()
    assert r.status == 200 and len(r.json()) == 50 and r.header("X-Total-Count") == "205"
    r = host.list("limit=200")
    assert r.status == 200 and len(r.json()) == 200
    r = host.list("limit=200&page=2")
    assert r.status == 200 and len(r.json()) == 5
    for q, field in (("limit=201", "limit"), ("limit=0", "limit"), ("limit=x", "limit"), ("page=0", "page"),
                     ("page=-1", "page"), ("status=done", "status"), ("from=yesterday", "from"),
                     ("to=2026-02-30", "to"), ("event_type_id=abc", "event_type_id")):
        assert_error(host.list(q), 400, "VALIDATION_FAILED", field)


def test_list_filters(env, host):
    et1 = host.et()
    et2 = host.et(requires_confirmation=True)
    d3, d4, d5 = day_at(3, 10), day_at(4, 10), day_at(5, 10)
    a = host.book(et1, d3)                               # confirmed
    b = host.book(et2, d4)                               # pending
    c = host.book(et1, d5)                               # cancelled below
    d = host.book(et2, d5 + dt.timedelta(hours=2))       # declined below
    assert host.act(c["id"], "cancel").status == 200
    assert host.act(d["id"], "decline").status == 200

    def ids(q):
        r = host.list(q)
        assert r.status == 200, (q, r)
        got = [x["id"] for x in r.json()]
        assert r.header("X-Total-Count") == str(len(got)), (q, r.headers)
        return set(got)

    assert ids("") == {a["id"], b["id"], c["id"], d["id"]}
    assert ids("status=confirmed") == {a["id"]}
    assert ids("status=pending") == {b["id"]}
    assert ids("status=cancelled") == {c["id"]}
    assert ids("status=declined") == {d["id"]}
    assert ids(f"event_type_id={et1['id']}") == {a["id"], c["id"]}
    assert ids(f"event_type_id={et2['id']}&status=pending") == {b["id"]}
    day4 = d4.strftime("%Y-%m-%d")
    assert ids(f"from={day4}") == {b["id"], c["id"], d["id"]}
    assert ids(f"to={day4}") == {a["id"], b["id"]}               # a date: through the end of that day
    assert ids(f"from={day4}&to={day4}") == {b["id"]}
    assert ids(f"from={iso(d4)}&to={iso(d5)}") == {b["id"]}      # instants: [from, to)
    assert ids(f"from={iso(d4 + dt.timedelta(seconds=1))}") == {c["id"], d["id"]}
    plus1 = d4.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert ids("from=" + plus1.strftime("%Y-%m-%dT%H:%M:%S").replace(":", "%3A") + "%2B01:00") == \
        {b["id"], c["id"], d["id"]}  # an offset (its + percent-encoded) is the same instant
    assert ids(f"from={day4}&status=cancelled&event_type_id={et1['id']}") == {c["id"]}
    assert ids("event_type_id=999999999") == set()
    # Link keeps the filters
    r = host.list(f"status=confirmed&limit=1&event_type_id={et1['id']}")
    rels = link_rels(r.header("Link"))
    assert "status=confirmed" in rels["first"] and f"event_type_id={et1['id']}" in rels["first"], rels


# ----------------------------------------------------------------------------
# host: transitions


def test_cancel(env, host):
    et = host.et()
    b = host.book(et, day_at(3, 10))
    r = host.act(b["id"], "cancel", {"reason": "Something came up"})
    assert r.status == 200 and r.json() == {"ok": True}, r
    g = host.booking(b["id"])
    assert g["status"] == "cancelled" and g["reason"] == "Something came up" and g["cancelled_by"] == "host", g
    assert [x[0] for x in env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id")] == \
        ["booking.created", "booking.cancelled"]
    # illegal now: cancel, confirm, decline, reschedule, no-show of a cancelled booking
    conflict(host.act(b["id"], "cancel"), "cancelled")
    conflict(host.act(b["id"], "confirm"), "cancelled")
    conflict(host.act(b["id"], "decline"), "cancelled")
    conflict(host.act(b["id"], "reschedule", {"start_time": iso(day_at(3, 15))}), "cancelled")
    conflict(host.act(b["id"], "no-show"), "cancelled")
    assert status_of(env.db, b["id"]) == "cancelled"
    # without a body (the seed's form) as well
    b2 = host.book(et, day_at(3, 11))
    r = host.call("POST", f"/api/bookings/{b2['id']}/cancel")
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert host.booking(b2["id"])["reason"] is None


def test_confirm_and_decline_pending(env, host):
    et = host.et(requires_confirmation=True)
    a = host.book(et, day_at(3, 10))
    b = host.book(et, day_at(3, 11))
    r = host.act(a["id"], "confirm")
    assert r.status == 200, r
    ja = r.json()["booking"]
    assert ja["status"] == "confirmed" and ja["uid"] == a["uid"], ja
    conflict(host.act(a["id"], "confirm"), "confirmed")
    conflict(host.act(a["id"], "decline"), "confirmed")
    r = host.act(b["id"], "decline", {"reason": "Fully booked"})
    assert r.status == 200, r
    jb = r.json()["booking"]
    assert jb["status"] == "declined" and jb["reason"] == "Fully booked", jb
    conflict(host.act(b["id"], "decline"), "declined")
    conflict(host.act(b["id"], "confirm"), "declined")
    conflict(host.act(b["id"], "cancel"), "declined")
    conflict(host.act(b["id"], "reschedule", {"start_time": iso(day_at(3, 15))}), "declined")
    types = [x[0] for x in env.db.sql(f"SELECT type FROM events WHERE booking_id IN ({a['id']}, {b['id']}) ORDER BY id")]
    assert types == ["booking.requested", "booking.requested", "booking.confirmed", "booking.declined"], types
    # a confirmed (not pending) booking of an ordinary event type cannot be confirmed or declined
    c = host.book(host.et(), day_at(3, 12))
    conflict(host.act(c["id"], "confirm"), "confirmed")
    conflict(host.act(c["id"], "decline"), "confirmed")
    # a pending booking may be cancelled
    d = host.book(et, day_at(3, 13))
    assert host.act(d["id"], "cancel").status == 200
    assert status_of(env.db, d["id"]) == "cancelled"


def test_confirm_rechecks_the_slot(env, host):
    """A request that conflicts with the calendar as it is now cannot be confirmed."""
    x = host.et(requires_confirmation=True)
    y = host.et()
    t = day_at(3, 10)
    a = host.book(x, t)
    host.book(y, t + dt.timedelta(minutes=30))
    host.et_put(x["id"], buffer_after=15)  # now a's buffer runs into the other booking
    conflict(host.act(a["id"], "confirm"))
    assert status_of(env.db, a["id"]) == "pending"
    host.et_put(x["id"], buffer_after=0)
    assert host.act(a["id"], "confirm").status == 200


def test_reschedule(env, host):
    et = host.et()
    t0, t1 = day_at(3, 10), day_at(4, 15)
    b = host.book(et, t0, timezone="Asia/Tokyo")
    blocker = host.book(et, day_at(4, 16), email="other@example.com")
    r = host.act(b["id"], "reschedule", {"start_time": iso(t1), "timezone": "Europe/London"})
    assert r.status == 200, r
    nb = r.json()["booking"]
    assert nb["id"] == b["id"] and nb["uid"] == b["uid"], nb
    assert nb["confirmation_number"] == b["confirmation_number"]
    assert parse_iso(nb["start"]) == t1 and parse_iso(nb["end"]) == t1 + dt.timedelta(minutes=30), nb
    assert parse_iso(nb["previous_start"]) == t0 and parse_iso(nb["previous_end"]) == t0 + dt.timedelta(minutes=30)
    assert nb["timezone"] == "Europe/London" and nb["status"] == "confirmed"
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 2
    assert env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id DESC LIMIT 1") == \
        [["booking.rescheduled"]]
    # the old time is free again, the new one is taken
    assert host.book_req(et, t0, email="new@example.com").status == 201
    taken(host.book_req(et, t1, email="new2@example.com"))
    # into a taken or unbookable time: refused, nothing moves
    j = conflict(host.act(b["id"], "reschedule", {"start_time": iso(day_at(4, 16))}))
    assert "next_slots" in j, j
    assert_error(host.act(b["id"], "reschedule", {"start_time": iso(day_at(4, 15, 10))}), 400, "VALIDATION_FAILED",
                 "start_time")
    assert_error(host.act(b["id"], "reschedule", {}), 400, "VALIDATION_FAILED", "start_time")
    assert_error(host.act(b["id"], "reschedule"), 400, "VALIDATION_FAILED", "start_time")
    assert_error(host.act(b["id"], "reschedule", {"start_time": "soon"}), 400, "VALIDATION_FAILED", "start_time")
    assert_error(host.act(b["id"], "reschedule", {"start_time": iso(t0), "timezone": "Nowhere/Town"}), 400,
                 "VALIDATION_FAILED", "timezone")
    g = host.booking(b["id"])
    assert parse_iso(g["start"]) == t1 and g["timezone"] == "Europe/London"
    # the zone is kept when not given
    r = host.act(b["id"], "reschedule", {"start_time": iso(t1 - dt.timedelta(minutes=60))})
    assert r.status == 200, r
    assert parse_iso(r.json()["booking"]["previous_start"]) == t1
    assert r.json()["booking"]["timezone"] == "Europe/London"
    assert status_of(env.db, blocker["id"]) == "confirmed"
    assert_no_double_booking(env.db)


def test_reschedule_onto_a_time_overlapping_its_own(env, host):
    """A booking does not block itself: moving an hour-long meeting by half an hour works."""
    et = host.et(duration_minutes=60, slot_interval_minutes=30)
    t = day_at(3, 10)
    b = host.book(et, t)
    r = host.act(b["id"], "reschedule", {"start_time": iso(t + dt.timedelta(minutes=30))})
    assert r.status == 200, r
    assert parse_iso(r.json()["booking"]["start"]) == t + dt.timedelta(minutes=30)
    taken(host.book_req(et, t + dt.timedelta(minutes=60), email="x@example.com"))
    assert host.book_req(et, t - dt.timedelta(minutes=30), email="y@example.com").status == 201
    assert_no_double_booking(env.db)


def test_reschedule_pending_stays_pending(env, host):
    et = host.et(requires_confirmation=True)
    b = host.book(et, day_at(3, 10))
    r = host.act(b["id"], "reschedule", {"start_time": iso(day_at(3, 14))})
    assert r.status == 200, r
    assert r.json()["booking"]["status"] == "pending"
    assert host.act(b["id"], "confirm").status == 200


def test_no_show(env, host):
    et = host.et()
    b = host.book(et, day_at(3, 10))
    # not started yet
    conflict(host.act(b["id"], "no-show"))
    assert host.booking(b["id"])["no_show"] is False
    # it took place (moved into the past behind the API's back)
    past = dt.datetime.now(UTC).replace(microsecond=0, second=0) - dt.timedelta(hours=3)
    host.move(b["id"], past, past + dt.timedelta(minutes=30))
    r = host.act(b["id"], "no-show")
    assert r.status == 200, r
    assert r.json()["booking"]["no_show"] is True and r.json()["booking"]["status"] == "confirmed"
    assert host.booking(b["id"])["no_show"] is True
    assert env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id DESC LIMIT 1") == \
        [["booking.no_show"]]
    # pending, cancelled and declined bookings cannot be marked
    p = host.book(host.et(requires_confirmation=True), day_at(3, 12))
    host.move(p["id"], past - dt.timedelta(hours=2), past - dt.timedelta(hours=1, minutes=30))
    conflict(host.act(p["id"], "no-show"), "pending")
    c = host.book(et, day_at(3, 13))
    host.act(c["id"], "cancel")
    host.move(c["id"], past - dt.timedelta(hours=4), past - dt.timedelta(hours=3, minutes=30))
    conflict(host.act(c["id"], "no-show"), "cancelled")


# ----------------------------------------------------------------------------
# another user's bookings: 404, exactly like ids that do not exist


def test_cross_user_404_matrix(env):
    a = Host(env.s, env.db)
    b = Host(env.s, env.db)
    et = a.et()
    pet = a.et(requires_confirmation=True)
    conf = a.book(et, day_at(3, 10))
    pend = a.book(pet, day_at(3, 11))
    past = a.book(et, day_at(3, 12))
    t = dt.datetime.now(UTC).replace(microsecond=0, second=0) - dt.timedelta(hours=2)
    a.move(past["id"], t, t + dt.timedelta(minutes=30))
    before = env.db.sql(f"SELECT row_to_json(x)::text FROM bookings x WHERE host_id = {a.id} ORDER BY id")
    events_before = count_rows(env.db, "events", f"host_id = {a.id}")

    routes = [
        ("GET", "/api/bookings/{id}", None),
        ("POST", "/api/bookings/{id}/cancel", {"reason": "mine now"}),
        ("POST", "/api/bookings/{id}/cancel", None),
        ("POST", "/api/bookings/{id}/confirm", None),
        ("POST", "/api/bookings/{id}/decline", {"reason": "no"}),
        ("POST", "/api/bookings/{id}/no-show", None),
        ("POST", "/api/bookings/{id}/reschedule", {"start_time": iso(day_at(3, 15))}),
    ]
    for cred in (b.auth, b.session):
        for method, path, body in routes:
            missing = call(env.s, method, path.format(id=999999999), body, auth=cred)
            assert_error(missing, 404, "NOT_FOUND")
            for bk in (conf, pend, past):
                r = call(env.s, method, path.format(id=bk["id"]), body, auth=cred)
                assert r.status == 404, (method, path, bk["status"], r)
                assert r.body == missing.body, (method, path, r.body, missing.body)
                assert bk["uid"] not in r.body.decode() and "Bob" not in r.body.decode()
        # the list shows only the caller's own bookings, even filtered by the other's event type
        r = call(env.s, "GET", "/api/bookings", auth=cred)
        assert r.status == 200 and r.json() == [] and r.header("X-Total-Count") == "0", r
        r = call(env.s, "GET", f"/api/bookings?event_type_id={et['id']}", auth=cred)
        assert r.status == 200 and r.json() == [], r
    after = env.db.sql(f"SELECT row_to_json(x)::text FROM bookings x WHERE host_id = {a.id} ORDER BY id")
    assert after == before
    assert count_rows(env.db, "events", f"host_id = {a.id}") == events_before
    # and the owner still can
    assert a.act(pend["id"], "confirm").status == 200
    assert a.act(conf["id"], "cancel").status == 200
    # B's own booking is invisible to A in the same way
    mine = b.book(b.et(), day_at(3, 10))
    assert a.get(mine["id"]).status == 404
    assert a.act(mine["id"], "cancel").status == 404
    assert status_of(env.db, mine["id"]) == "confirmed"
