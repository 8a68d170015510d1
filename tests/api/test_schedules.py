"""Availability schedules (issue 4): CRUD, validation naming the field, rules merged and
normalised, overrides, exactly one default, the only schedule cannot be deleted, cross-user."""

import pytest

from sched_util import Host, assert_error, call, env  # noqa: F401 (env is a fixture)

WEEKDAYS_9_17 = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]


@pytest.fixture
def host(env):
    return Host(env.s, env.db, timezone="Asia/Kathmandu")


def n_sched(db, host):
    return int(db.sql(f"SELECT count(*) FROM availability_schedules WHERE user_id = {host.id}")[0][0])


def defaults(host):
    return [x["id"] for x in host.schedules() if x["is_default"] in (1, True)]


def test_registration_creates_working_hours(env, host):
    lst = host.schedules()
    assert len(lst) == 1, lst
    s = lst[0]
    assert s["name"] == "Working Hours"
    assert s["timezone"] == "Asia/Kathmandu"
    assert s["is_default"] in (1, True)
    assert s["rules"] == WEEKDAYS_9_17
    assert s["overrides"] == []
    g = host.call("GET", f"/api/availability-schedules/{s['id']}")
    assert g.status == 200 and g.json() == s


def test_create_get_list(env, host):
    r = host.sched_post(name="Evening Hours", timezone="America/New_York",
                        rules=[{"day": 1, "start": "18:00", "end": "21:00"}, {"day": 3, "start": "18:00", "end": "21:00"}])
    assert r.status == 201, r
    j = r.json()
    assert j["name"] == "Evening Hours" and j["timezone"] == "America/New_York"
    assert j["rules"] == [{"day": 1, "start": "18:00", "end": "21:00"}, {"day": 3, "start": "18:00", "end": "21:00"}]
    assert isinstance(j["rules"], list) and isinstance(j["overrides"], list)
    assert j["is_default"] in (0, False)
    assert host.call("GET", f"/api/availability-schedules/{j['id']}").json() == j
    assert [x["id"] for x in host.schedules()][-1] == j["id"]


def test_create_minimal_defaults(env, host):
    j = host.sched(name="Bare")
    assert j["timezone"] == "America/Los_Angeles"  # the seed's default
    assert j["rules"] == [] and j["overrides"] == []
    assert j["is_default"] in (0, False)


def test_rules_merged_and_normalised(env, host):
    rules = [
        {"day": 3, "start": "13:00", "end": "14:00"},
        {"day": 1, "start": "10:00", "end": "12:00"},
        {"day": 1, "start": "09:00", "end": "10:30"},   # overlaps -> 09:00-12:00
        {"day": 1, "start": "13:00", "end": "14:00"},
        {"day": 1, "start": "14:00", "end": "15:00"},   # touches -> 13:00-15:00
        {"day": 1, "start": "09:30", "end": "11:00"},   # inside
        {"day": 0, "start": "22:00", "end": "24:00"},
        {"day": 6, "start": "00:00", "end": "24:00"},
        {"day": 3, "start": "08:00", "end": "09:00"},
        {"day": 3, "start": "13:00", "end": "14:00"},   # duplicate
    ]
    j = host.sched(name="Messy", timezone="UTC", rules=rules)
    assert j["rules"] == [
        {"day": 0, "start": "22:00", "end": "24:00"},
        {"day": 1, "start": "09:00", "end": "12:00"},
        {"day": 1, "start": "13:00", "end": "15:00"},
        {"day": 3, "start": "08:00", "end": "09:00"},
        {"day": 3, "start": "13:00", "end": "14:00"},
        {"day": 6, "start": "00:00", "end": "24:00"},
    ]
    assert host.call("GET", f"/api/availability-schedules/{j['id']}").json()["rules"] == j["rules"]


def test_overrides_normalised(env, host):
    ov = [
        {"date": "2027-05-04", "start": "12:00", "end": "13:00"},
        {"date": "2027-05-03", "unavailable": True},
        {"date": "2027-05-04", "start": "09:00", "end": "12:00"},  # touches -> 09:00-13:00
        {"date": "2027-05-04", "start": "15:00", "end": "16:00"},
        {"date": "2027-05-01", "start": "10:00", "end": "24:00"},
    ]
    j = host.sched(name="Ov", timezone="UTC", overrides=ov)
    assert j["overrides"] == [
        {"date": "2027-05-01", "start": "10:00", "end": "24:00"},
        {"date": "2027-05-03", "unavailable": True},
        {"date": "2027-05-04", "start": "09:00", "end": "13:00"},
        {"date": "2027-05-04", "start": "15:00", "end": "16:00"},
    ]
    # unavailable: false with a span is a normal span
    k = host.sched(name="Ov2", overrides=[{"date": "2027-06-01", "unavailable": False, "start": "09:00", "end": "10:00"}])
    assert k["overrides"] == [{"date": "2027-06-01", "start": "09:00", "end": "10:00"}]


R = {"day": 1, "start": "09:00", "end": "17:00"}
INVALID = [
    ("name", ["", "n" * 201, 5, True]),
    ("timezone", ["Mars/Base", "", "utc ", "../etc/passwd", "/etc/localtime", "posix/CET", "right/UTC", "Factory",
                  "localtime", "posixrules", "America/New_York/", 5, "America//New_York", "x" * 65]),
    ("is_default", ["yes", 1, None]),
    ("rules", ["x", {}, 5, [5], [{**R, "day": 7}], [{**R, "day": -1}], [{**R, "day": "1"}], [{**R, "day": 1.5}],
               [{"start": "09:00", "end": "10:00"}], [{**R, "start": "9:00"}], [{**R, "start": "25:00"}],
               [{**R, "start": "24:00", "end": "24:00"}], [{**R, "end": "24:30"}], [{**R, "start": "10:00", "end": "10:00"}],
               [{**R, "start": "11:00", "end": "10:00"}], [{**R, "start": "09:60"}], [{"day": 1, "start": "09:00"}],
               [{**R, "start": 900}], [{**R, "end": "17:00:00"}], [R] * 337]),
    ("overrides", ["x", {}, [5], [{"date": "2027-02-30", "start": "09:00", "end": "10:00"}],
                   [{"date": "2027-13-01", "unavailable": True}], [{"date": "27-01-01", "unavailable": True}],
                   [{"start": "09:00", "end": "10:00"}], [{"date": "2027-01-01"}], [{"date": "2027-01-01", "unavailable": "yes"}],
                   [{"date": "2027-01-01", "start": "10:00", "end": "09:00"}],
                   [{"date": "2027-01-01", "unavailable": True}, {"date": "2027-01-01", "start": "09:00", "end": "10:00"}],
                   [{"date": "2027-01-01", "start": "09:00", "end": "10:00"}, {"date": "2027-01-01", "unavailable": True}],
                   [{"date": 20270101, "unavailable": True}]]),
]
CASES = [(f, v) for f, vs in INVALID for v in vs]


def test_invalid_fields_create_and_update(env, host):
    base = host.sched(name="Base", timezone="UTC", rules=[R])
    before = n_sched(env.db, host)
    failures = []
    for field, value in CASES:
        r = host.sched_post(**{"name": "Valid", field: value})
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            failures.append(f"POST {field}={str(value)[:60]}: {e}")
        r = host.call("PUT", f"/api/availability-schedules/{base['id']}", {field: value})
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            failures.append(f"PUT {field}={str(value)[:60]}: {e}")
    assert not failures, "\n".join(failures[:40])
    assert n_sched(env.db, host) == before
    assert host.call("GET", f"/api/availability-schedules/{base['id']}").json() == base


def test_create_requires_name(env, host):
    assert_error(host.sched_post(timezone="UTC"), 400, "VALIDATION_FAILED", "name")


@pytest.mark.parametrize("tz", ["UTC", "Etc/GMT+12", "Etc/GMT-14", "Asia/Kathmandu", "America/Argentina/Buenos_Aires",
                                "America/Port-au-Prince", "Pacific/Chatham", "Europe/Kyiv"])
def test_timezones_accepted(env, host, tz):
    assert host.sched(name="tz", timezone=tz)["timezone"] == tz


def test_partial_update(env, host):
    j = host.sched(name="Part", timezone="Europe/Warsaw", rules=[R], overrides=[{"date": "2027-01-01", "unavailable": True}])
    u = host.sched_put(j["id"], name="Renamed")
    assert u["name"] == "Renamed"
    assert (u["timezone"], u["rules"], u["overrides"]) == (j["timezone"], j["rules"], j["overrides"])
    u = host.sched_put(j["id"], rules=[])
    assert u["rules"] == [] and u["overrides"] == j["overrides"]
    u = host.sched_put(j["id"], timezone="Asia/Tokyo")
    assert u["timezone"] == "Asia/Tokyo" and u["name"] == "Renamed"
    u = host.sched_put(j["id"], overrides=[])
    assert u["overrides"] == []


def test_exactly_one_default(env, host):
    first = host.default_schedule()
    a = host.sched(name="A")
    assert defaults(host) == [first["id"]]
    b = host.sched(name="B", is_default=True)
    assert b["is_default"] in (1, True)
    assert defaults(host) == [b["id"]]
    # is_default true on another moves it
    u = host.sched_put(a["id"], is_default=True)
    assert u["is_default"] in (1, True)
    assert defaults(host) == [a["id"]]
    # re-asserting the current default is fine
    assert host.sched_put(a["id"], is_default=True)["is_default"] in (1, True)
    assert defaults(host) == [a["id"]]
    # turning the default off is refused (409 naming is_default); nothing changes
    r = host.call("PUT", f"/api/availability-schedules/{a['id']}", {"is_default": False, "name": "changed?"})
    assert_error(r, 409, field="is_default")
    assert defaults(host) == [a["id"]]
    assert host.call("GET", f"/api/availability-schedules/{a['id']}").json()["name"] == "A"
    # is_default false on a non-default is a no-op
    assert host.sched_put(b["id"], is_default=False)["is_default"] in (0, False)
    assert defaults(host) == [a["id"]]
    # creating with is_default false leaves it alone
    host.sched(name="C", is_default=False)
    assert defaults(host) == [a["id"]]


def test_delete_rules(env, host):
    only = host.default_schedule()
    r = host.call("DELETE", f"/api/availability-schedules/{only['id']}")
    assert_error(r, 409)
    assert n_sched(env.db, host) == 1 and defaults(host) == [only["id"]]
    a = host.sched(name="A")
    b = host.sched(name="B")
    # deleting a non-default
    r = host.call("DELETE", f"/api/availability-schedules/{b['id']}")
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert_error(host.call("GET", f"/api/availability-schedules/{b['id']}"), 404, "NOT_FOUND")
    assert_error(host.call("DELETE", f"/api/availability-schedules/{b['id']}"), 404, "NOT_FOUND")
    assert_error(host.call("PUT", f"/api/availability-schedules/{b['id']}", {"name": "x"}), 404, "NOT_FOUND")
    # deleting the default when another exists: one default remains
    assert host.call("DELETE", f"/api/availability-schedules/{only['id']}").status == 200
    assert defaults(host) == [a["id"]]
    # now a is the only one again
    assert_error(host.call("DELETE", f"/api/availability-schedules/{a['id']}"), 409)
    assert [x["id"] for x in host.schedules()] == [a["id"]]


def test_deleting_an_event_types_schedule_falls_back_to_default(env, host):
    host.set_default_schedule(timezone="UTC", rules=[{"day": d, "start": "09:00", "end": "10:00"} for d in range(7)])
    s = host.sched(name="Nights", timezone="UTC", rules=[{"day": d, "start": "20:00", "end": "21:00"} for d in range(7)])
    et = host.et(schedule_id=s["id"], duration_minutes=60, min_notice_hours=0, max_future_days=3650)
    assert host.slots(et["slug"], "2030-01-07", "2030-01-07") == {"2030-01-07": ["20:00"]}
    assert host.call("DELETE", f"/api/availability-schedules/{s['id']}").status == 200
    assert host.et_get(et["id"]).json()["schedule_id"] is None
    assert host.slots(et["slug"], "2030-01-08", "2030-01-08") == {"2030-01-08": ["09:00"]}


def test_cross_user_matrix(env, host):
    a_ids = [host.default_schedule()["id"], host.sched(name="A2")["id"]]
    b = Host(env.s, env.db)
    b_ids = [x["id"] for x in b.schedules()]
    snapshot = host.schedules()
    for sid in a_ids:
        for method in ("GET", "PUT", "DELETE"):
            body = {"name": "hijack", "is_default": True, "rules": []} if method == "PUT" else None
            assert_error(b.call(method, f"/api/availability-schedules/{sid}", body), 404, "NOT_FOUND")
    assert [x["id"] for x in b.schedules()] == b_ids
    assert host.schedules() == snapshot
    # B cannot point an event type at A's schedule
    assert_error(b.et_post(name="x", schedule_id=a_ids[1]), 400, "VALIDATION_FAILED", "schedule_id")


def test_unauthenticated(env, host):
    sid = host.default_schedule()["id"]
    for method, path in [("GET", "/api/availability-schedules"), ("POST", "/api/availability-schedules"),
                         ("GET", f"/api/availability-schedules/{sid}"), ("PUT", f"/api/availability-schedules/{sid}"),
                         ("DELETE", f"/api/availability-schedules/{sid}")]:
        r = call(env.s, method, path, {"name": "x"} if method in ("POST", "PUT") else None)
        assert_error(r, 401, "UNAUTHORIZED")


def test_unknown_ids(env, host):
    for bad in ("999999999", "0", "abc", "-3"):
        for method in ("GET", "PUT", "DELETE"):
            r = host.call(method, f"/api/availability-schedules/{bad}", {"name": "x"} if method == "PUT" else None)
            assert_error(r, 404, "NOT_FOUND")
