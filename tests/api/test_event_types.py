"""Event types (issue 4): CRUD, validation naming every field, partial update, soft delete,
slugs, schedule_id ownership, and the cross-user matrix."""

import datetime as dt

import pytest

from sched_util import Host, assert_error, call, env, today_utc, unique, utc  # noqa: F401 (env is a fixture)

DEFAULTS = {
    "duration_minutes": 30, "description": None, "color": "#0069ff", "location_type": None,
    "location_value": None, "questions": [], "is_secret": False, "requires_confirmation": False,
    "buffer_before": 0, "buffer_after": 0, "min_notice_hours": 4, "max_future_days": 60,
    "slot_interval_minutes": 30, "schedule_id": None, "price": None, "currency": None, "seats": 1,
    "requires_payment": False, "payment_window_minutes": 15,
    "limit_per_day": None, "limit_per_week": None, "is_active": 1,
}


@pytest.fixture
def host(env):
    return Host(env.s, env.db, timezone="Europe/Warsaw")


def n_types(db, host):
    return int(db.sql(f"SELECT count(*) FROM event_types WHERE user_id = {host.id}")[0][0])


# ----------------------------------------------------------------------------
# create / read / list


def test_create_defaults_and_get(env, host):
    r = host.et_post(name="30 Minute Call")
    assert r.status == 201, r
    j = r.json()
    assert isinstance(j["id"], int)
    assert j["name"] == "30 Minute Call"
    assert j["slug"] == "30-minute-call"
    for k, v in DEFAULTS.items():
        assert j[k] == v, (k, j[k])
    g = host.et_get(j["id"])
    assert g.status == 200, g
    assert g.json() == j
    lst = host.call("GET", "/api/event-types")
    assert lst.status == 200
    assert [x["id"] for x in lst.json()] == [j["id"]]
    assert lst.json()[0] == j


def test_create_all_fields_roundtrip(env, host):
    sched = host.sched(name="Evenings", timezone="America/New_York", rules=[{"day": 1, "start": "18:00", "end": "21:00"}])
    body = {
        "name": "Deep Dive", "slug": "deep-dive", "duration_minutes": 45, "description": "Long talk",
        "color": "#A1b2C3", "location_type": "zoom", "location_value": "https://zoom.example/j/1",
        "questions": [
            {"id": "topic", "label": "Topic", "type": "text", "required": True},
            {"id": "size", "label": "Team size", "type": "select", "options": ["1-5", "6+"]},
            {"id": "ok", "label": "Agree?", "type": "checkbox"},
        ],
        "is_secret": True, "requires_confirmation": True, "buffer_before": 10, "buffer_after": 720,
        "min_notice_hours": 0, "max_future_days": 3650, "slot_interval_minutes": 15, "schedule_id": sched["id"],
        "price": 49.5, "currency": "EUR", "seats": 1000, "limit_per_day": 3, "limit_per_week": 10,
    }
    r = host.et_post(**body)
    assert r.status == 201, r
    j = r.json()
    for k, v in body.items():
        if k == "questions":
            continue
        assert j[k] == v, (k, j[k], v)
    qs = j["questions"]
    assert [q["id"] for q in qs] == ["topic", "size", "ok"]
    assert qs[0]["required"] is True and qs[2]["required"] is False
    assert qs[1]["options"] == ["1-5", "6+"]
    assert host.et_get(j["id"]).json() == j


@pytest.mark.parametrize("loc", ["google_meet", "zoom", "phone", "in_person", "custom"])
def test_location_types_accepted(env, host, loc):
    j = host.et(location_type=loc, location_value="somewhere")
    assert j["location_type"] == loc and j["location_value"] == "somewhere"


@pytest.mark.parametrize("qtype", ["text", "textarea", "email", "phone", "checkbox"])
def test_question_types_accepted(env, host, qtype):
    j = host.et(questions=[{"id": "q1", "label": "Q", "type": qtype, "required": False}])
    assert j["questions"][0]["type"] == qtype


def test_bounds_accepted(env, host):
    j = host.et(duration_minutes=5, buffer_before=0, buffer_after=0, min_notice_hours=0, max_future_days=1,
                slot_interval_minutes=5, seats=1, price=0, limit_per_day=1, limit_per_week=1)
    assert (j["duration_minutes"], j["max_future_days"], j["slot_interval_minutes"], j["price"]) == (5, 1, 5, 0)
    j = host.et(duration_minutes=720, buffer_before=720, buffer_after=720, min_notice_hours=8760,
                max_future_days=3650, slot_interval_minutes=720, seats=1000)
    assert (j["duration_minutes"], j["min_notice_hours"], j["seats"]) == (720, 8760, 1000)


def test_price_is_exact_cents(env, host):
    # Money is exact: more than two decimals is refused rather than rounded; a decimal string is
    # taken as written.
    r = host.et_post(name=unique("Paid "), price=12.345, currency="USD")
    assert r.status == 400 and r.json()["field"] == "price", r
    assert host.et(price="12.34", currency="JPY")["price"] == 12.34
    assert host.et(price=7, currency="EUR").get("price") == 7


# ----------------------------------------------------------------------------
# validation: every field, on create and on update, 400 naming it, nothing written

LONG = "x" * 5001
Q = {"id": "q", "label": "Q", "type": "text"}

INVALID = [
    ("name", ["", "n" * 201, 5, True, ["a"]]),
    ("slug", ["Bad Slug", "-lead", "trail-", "UPPER", "s" * 61, "", 5, "a/b", "a_b"]),
    ("duration_minutes", [4, 721, 0, -30, "30", 30.5, None, True]),
    ("description", [LONG, 5, ["x"]]),
    ("color", ["#12345", "red", "#GGGGGG", "0069ff", "#0069ff0", 5]),
    ("location_type", ["skype", "", "ZOOM", 1, True]),
    ("location_value", ["v" * 501, 5]),
    ("questions", [
        "x", {}, [1], [{**Q, "type": "bogus"}], [{"label": "L", "type": "text"}], [{"id": "a", "type": "text"}],
        [{"id": "a", "label": "L"}], [{"id": "", "label": "L", "type": "text"}], [{"id": "a b", "label": "L", "type": "text"}],
        [{"id": "s", "label": "S", "type": "select"}], [{"id": "s", "label": "S", "type": "select", "options": []}],
        [{"id": "s", "label": "S", "type": "select", "options": [""]}], [{"id": "s", "label": "S", "type": "select", "options": [1]}],
        [{**Q, "options": ["a"]}], [Q, Q], [{**Q, "required": "yes"}], [{**Q, "id": f"q{i}"} for i in range(51)],
    ]),
    ("is_secret", ["yes", 1, None]),
    ("requires_confirmation", ["no", 0, None]),
    ("buffer_before", [-1, 721, "5", 1.5, None]),
    ("buffer_after", [-1, 721, "5", 2.5, None]),
    ("min_notice_hours", [-1, 8761, "4", 1.5, None]),
    ("max_future_days", [0, 3651, -5, "60", None]),
    ("slot_interval_minutes", [4, 0, 721, "15", 7.5]),
    ("schedule_id", [0, -1, "1", 1.5, 999999999, True]),
    ("price", [-1, -0.01, "ten", "1.234", 1e10, True, [1]]),
    ("currency", ["usd", "US", "USDX", "U1D", 5, ""]),
    ("seats", [0, 1001, -1, 2.5, "2", None]),
    ("limit_per_day", [0, -1, 1001, "1", 1.5]),
    ("limit_per_week", [0, -1, 5001, "1", 1.5]),
]
CASES = [(f, v) for f, vs in INVALID for v in vs]


def _ids(c):
    return f"{c[0]}={str(c[1])[:20]}"


def test_create_requires_name(env, host):
    before = n_types(env.db, host)
    assert_error(host.et_post(duration_minutes=30), 400, "VALIDATION_FAILED", "name")
    assert_error(host.et_post(name=None), 400, "VALIDATION_FAILED", "name")
    assert n_types(env.db, host) == before


def test_null_for_non_nullable_string_fields_rejected(env, host):
    """null is not a value of name, slug or color (integers and booleans already reject null
    with a 400 naming the field); a PUT must not silently ignore it."""
    base = host.et(name="Nulls")
    failures = []
    for field in ("name", "slug", "color"):
        r = host.call("PUT", f"/api/event-types/{base['id']}", {field: None})
        if r.status != 400 or r.json().get("field") != field:
            failures.append(f"PUT {{{field!r}: null}} -> {r.status} {r.body[:80]!r}")
    assert not failures, "\n".join(failures)


def test_invalid_fields_create_and_update(env, host):
    """Table-driven: each bad value -> 400 naming the field, on POST and on PUT; nothing written."""
    base = host.et(name="Base")
    before = n_types(env.db, host)
    failures = []
    for field, value in CASES:
        body = {"name": "Valid name", field: value}
        r = host.et_post(**body)
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            failures.append(f"POST {field}={value!r}: {e}")
        r = host.call("PUT", f"/api/event-types/{base['id']}", {field: value})
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            failures.append(f"PUT {field}={value!r}: {e}")
    assert not failures, "\n".join(failures[:40])
    assert n_types(env.db, host) == before
    assert host.et_get(base["id"]).json() == base  # no PUT changed anything


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b'"x"', b'{"name": "a", "name": "b"}'])
def test_bad_bodies(env, host, raw):
    r = call(env.s, "POST", "/api/event-types", raw=raw, auth=host.auth)
    assert r.status == 400, r


def test_unauthenticated(env, host):
    j = host.et()
    for method, path in [("GET", "/api/event-types"), ("POST", "/api/event-types"),
                         ("GET", f"/api/event-types/{j['id']}"), ("PUT", f"/api/event-types/{j['id']}"),
                         ("DELETE", f"/api/event-types/{j['id']}")]:
        r = call(env.s, method, path, {"name": "x"} if method in ("POST", "PUT") else None)
        assert_error(r, 401, "UNAUTHORIZED")
    assert host.et_get(j["id"]).json() == j


# ----------------------------------------------------------------------------
# update


def test_partial_update(env, host):
    j = host.et(name="Partial", duration_minutes=60, description="d", buffer_before=5, seats=3, price=10,
                currency="USD", limit_per_day=2)
    u = host.et_put(j["id"], description="new", buffer_after=15)
    exp = dict(j, description="new", buffer_after=15)
    for k in exp:
        if k not in ("updated_at",):
            assert u[k] == exp[k], k
    # slot interval follows the duration until set; null resets it
    u = host.et_put(j["id"], duration_minutes=20)
    assert u["slot_interval_minutes"] == 20
    u = host.et_put(j["id"], slot_interval_minutes=15)
    assert u["slot_interval_minutes"] == 15
    u = host.et_put(j["id"], duration_minutes=45)
    assert u["slot_interval_minutes"] == 15
    u = host.et_put(j["id"], slot_interval_minutes=None)
    assert u["slot_interval_minutes"] == 45
    # nullable fields clear
    u = host.et_put(j["id"], description=None, price=None, currency=None, limit_per_day=None, location_type=None)
    assert (u["description"], u["price"], u["currency"], u["limit_per_day"], u["location_type"]) == (None,) * 5
    # empty patch changes nothing
    before = host.et_get(j["id"]).json()
    assert host.et_put(j["id"]) == before
    assert host.et_get(j["id"]).json() == before


def test_update_name_keeps_slug_and_slug_change(env, host):
    j = host.et(name="Original Name")
    u = host.et_put(j["id"], name="Renamed")
    assert u["name"] == "Renamed" and u["slug"] == "original-name"
    u = host.et_put(j["id"], slug="custom-slug")
    assert u["slug"] == "custom-slug"
    assert host.avail("custom-slug", "2030-01-01", "2030-01-01").status == 200
    assert host.avail("original-name", "2030-01-01", "2030-01-01").status == 404


def test_update_unknown_ids(env, host):
    for bad in ("999999999", "0", "-1", "abc", "1.5", "99999999999999999999999"):
        for method in ("GET", "PUT", "DELETE"):
            r = host.call(method, f"/api/event-types/{bad}", {"name": "x"} if method == "PUT" else None)
            assert_error(r, 404, "NOT_FOUND")


# ----------------------------------------------------------------------------
# slugs


def test_slug_suffixing_and_conflicts(env, host):
    a = host.et(name="Intro Call")
    b = host.et(name="Intro Call")
    c = host.et(name="intro   call!!")
    assert (a["slug"], b["slug"], c["slug"]) == ("intro-call", "intro-call-2", "intro-call-3")
    assert host.et(name="  Hello, World!  ")["slug"] == "hello-world"
    # an explicit slug that is taken -> 409 naming slug
    before = n_types(env.db, host)
    assert_error(host.et_post(name="X", slug="intro-call"), 409, field="slug")
    assert n_types(env.db, host) == before
    # PUT onto a taken slug -> 409, unchanged
    assert_error(host.call("PUT", f"/api/event-types/{c['id']}", {"slug": "intro-call-2"}), 409, field="slug")
    assert host.et_get(c["id"]).json()["slug"] == "intro-call-3"
    # PUT a type to its own slug is fine
    assert host.et_put(a["id"], slug="intro-call")["slug"] == "intro-call"


def test_slug_free_again_after_delete(env, host):
    a = host.et(name="Reusable")
    assert host.et_delete(a["id"]).status == 200
    b = host.et(name="Reusable")
    assert b["slug"] == "reusable" and b["id"] != a["id"]
    c = host.et(name="Other", slug="reusable-x")
    assert host.et_delete(c["id"]).status == 200
    assert host.et(name="Again", slug="reusable-x")["slug"] == "reusable-x"


def test_same_slug_for_two_hosts(env, host):
    other = Host(env.s, env.db)
    assert host.et(name="Shared Name")["slug"] == "shared-name"
    assert other.et(name="Shared Name")["slug"] == "shared-name"


def test_non_ascii_name_gets_a_usable_slug(env, host):
    j = host.et(name="日本語")
    assert j["slug"] and all(ch.isascii() for ch in j["slug"])
    assert host.avail(j["slug"], "2030-01-01", "2030-01-01").status == 200
    k = host.et(name="Ünïcödé Çall")
    assert k["slug"] and all(ch.isascii() for ch in k["slug"]), k["slug"]


# ----------------------------------------------------------------------------
# soft delete


def test_soft_delete(env, host):
    a = host.et(name="Going Away", min_notice_hours=0)
    keep = host.et(name="Staying")
    d = today_utc() + dt.timedelta(days=10)
    bid = host.book(a["id"], utc(d.year, d.month, d.day, 10), utc(d.year, d.month, d.day, 10, 30))
    before_booking = env.db.sql(f"SELECT b::text FROM bookings b WHERE id = {bid}")
    assert host.avail(a["slug"], d, d).status == 200
    r = host.et_delete(a["id"])
    assert r.status == 200 and r.json() == {"ok": True}, r
    # not listed, not readable, not updatable, not deletable again
    assert [x["id"] for x in host.call("GET", "/api/event-types").json()] == [keep["id"]]
    assert_error(host.et_get(a["id"]), 404, "NOT_FOUND")
    assert_error(host.call("PUT", f"/api/event-types/{a['id']}", {"name": "z"}), 404, "NOT_FOUND")
    assert_error(host.et_delete(a["id"]), 404, "NOT_FOUND")
    # no longer bookable: availability 404, not on the public page
    assert_error(host.avail(a["slug"], d, d), 404, "NOT_FOUND")
    pub = call(env.s, "GET", f"/api/public/{host.slug}").json()
    assert [e["slug"] for e in pub["event_types"]] == [keep["slug"]]
    # the row is kept (soft), inactive; existing bookings untouched
    assert env.db.sql(f"SELECT is_active FROM event_types WHERE id = {a['id']}") == [["f"]]
    assert env.db.sql(f"SELECT b::text FROM bookings b WHERE id = {bid}") == before_booking


# ----------------------------------------------------------------------------
# schedule_id


def test_schedule_id_own_and_foreign(env, host):
    mine = host.sched(name="Mine", timezone="UTC")
    j = host.et(schedule_id=mine["id"])
    assert j["schedule_id"] == mine["id"]
    assert host.et_put(j["id"], schedule_id=None)["schedule_id"] is None
    other = Host(env.s, env.db)
    theirs = other.default_schedule()["id"]
    before = n_types(env.db, host)
    assert_error(host.et_post(name="Foreign", schedule_id=theirs), 400, "VALIDATION_FAILED", "schedule_id")
    assert n_types(env.db, host) == before
    assert_error(host.call("PUT", f"/api/event-types/{j['id']}", {"schedule_id": theirs}), 400,
                 "VALIDATION_FAILED", "schedule_id")
    assert host.et_get(j["id"]).json()["schedule_id"] is None


# ----------------------------------------------------------------------------
# cross-user matrix


def test_cross_user_matrix(env, host):
    a_types = [host.et(name=f"A type {i}") for i in range(3)]
    host.et_delete(a_types[2]["id"])  # a deleted one too
    b = Host(env.s, env.db)
    b_type = b.et(name="B type")
    for t in a_types:
        for method in ("GET", "PUT", "DELETE"):
            r = b.call(method, f"/api/event-types/{t['id']}", {"name": "hijack", "seats": 5} if method == "PUT" else None)
            assert_error(r, 404, "NOT_FOUND")
    assert [x["id"] for x in b.call("GET", "/api/event-types").json()] == [b_type["id"]]
    for t in a_types[:2]:
        assert host.et_get(t["id"]).json() == t
    assert env.db.sql(f"SELECT count(*) FROM event_types WHERE user_id = {host.id} AND is_active") == [["2"]]
    # and A cannot reach B's
    for method in ("GET", "PUT", "DELETE"):
        r = host.call(method, f"/api/event-types/{b_type['id']}", {"name": "x"} if method == "PUT" else None)
        assert_error(r, 404, "NOT_FOUND")
    assert b.et_get(b_type["id"]).json() == b_type


def test_session_auth_works_too(env, host):
    host.user.login()
    r = call(env.s, "POST", "/api/event-types", {"name": "By Cookie"}, auth=host.user.session)
    assert r.status == 201, r
    r = call(env.s, "GET", "/api/event-types", auth=host.user.session)
    assert "By Cookie" in [x["name"] for x in r.json()]
