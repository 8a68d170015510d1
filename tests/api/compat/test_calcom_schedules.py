"""Cal.com API v2 schedules (cal-api-version 2024-06-11) on the native availability schedules
(issue 16): every operation through V2 (bodies validated against Cal.com's document), round
trips, the default schedule, refusals naming the field with nothing changed, other users' ids,
missing credentials and the version header."""

import copy

from booking_util import Host, env  # noqa: F401 (fixture)
from accounts_util import call
from calcom_util import DEFINITIONS, V2, err, ok, override, validate

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-4]):[0-5]\d$"}


def _schedule_output():
    s = copy.deepcopy(DEFINITIONS["ScheduleOutput_2024_06_11"])
    s["properties"]["availability"] = {"type": "array", "items": {
        "type": "object", "required": ["days", "startTime", "endTime"],
        "properties": {"days": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": DAYS}},
                       "startTime": HHMM, "endTime": HHMM}}}
    s["properties"]["overrides"] = {"type": "array", "items": {
        "type": "object", "required": ["date", "startTime", "endTime"],
        "properties": {"date": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"}, "startTime": HHMM,
                       "endTime": HHMM}}}
    return s


SCHEDULE = _schedule_output()
REASON = ("ScheduleAvailabilityInput_2024_06_11 / ScheduleOverrideInput_2024_06_11 (the outputs' items) give "
          "startTime/endTime the literal pattern 'TIME_FORMAT_HH_MM' (a constant's name, not a regex) and put the "
          "day-name enum on the days array itself, so no real schedule conforms; repaired to HH:MM and an enum "
          "per day")


def _envelope(data):
    return {"type": "object", "required": ["status", "data"],
            "properties": {"status": {"const": "success"}, "data": data, "error": {"type": "object"}}}


for _t, _m, _st, _data in [("/v2/schedules", "get", 200, {"type": "array", "items": SCHEDULE}),
                           ("/v2/schedules", "post", 201, SCHEDULE),
                           ("/v2/schedules/default", "get", 200, SCHEDULE),
                           ("/v2/schedules/{scheduleId}", "get", 200, SCHEDULE),
                           ("/v2/schedules/{scheduleId}", "patch", 200, SCHEDULE)]:
    override(_t, _m, _st, _envelope(_data), REASON)


def host_v2(env):  # noqa: F811
    h = Host(env.s, env.db, open_all_week=False)
    return h, V2(env.s, h.user.key)


def count(env, h):  # noqa: F811
    return env.db.sql(f"SELECT count(*), coalesce(max(updated_at)::text, '') FROM availability_schedules "
                      f"WHERE user_id = {h.id}")[0]


def test_create_get_patch_delete_round_trip(env):  # noqa: F811
    h, v2 = host_v2(env)
    default = ok(v2.get("/v2/schedules/default"))
    assert default["isDefault"] is True and default["ownerId"] == h.id
    body = {"name": "Rome mornings", "timeZone": "Europe/Rome", "isDefault": False,
            "availability": [{"days": ["Tuesday", "Monday"], "startTime": "09:00", "endTime": "12:00"},
                             {"days": ["Monday"], "startTime": "13:00", "endTime": "17:00"}],
            "overrides": [{"date": "2050-01-10", "startTime": "10:00", "endTime": "11:00"},
                          {"date": "2050-01-11", "startTime": "00:00", "endTime": "00:00"}]}
    s = ok(v2.post("/v2/schedules", body), 201)
    assert s["name"] == "Rome mornings" and s["timeZone"] == "Europe/Rome" and s["isDefault"] is False
    assert s["ownerId"] == h.id
    assert s["availability"] == [{"days": ["Monday", "Tuesday"], "startTime": "09:00", "endTime": "12:00"},
                                 {"days": ["Monday"], "startTime": "13:00", "endTime": "17:00"}]
    assert s["overrides"] == body["overrides"]
    # stored as native rules the engine reads (Monday = 1, Tuesday = 2) and an unavailable date
    rules = env.db.sql(f"SELECT rules::text, overrides::text FROM availability_schedules WHERE id = {s['id']}")[0]
    assert '"day": 1' in rules[0] and '"day": 2' in rules[0] and '"unavailable": true' in rules[1]
    assert ok(v2.get(f"/v2/schedules/{s['id']}")) == s
    assert [x["id"] for x in ok(v2.get("/v2/schedules"))] == [default["id"], s["id"]]

    p = ok(v2.patch(f"/v2/schedules/{s['id']}", {"name": "Rome", "availability": [
        {"days": ["Friday"], "startTime": "08:00", "endTime": "10:30"}]}))
    assert p["name"] == "Rome" and p["availability"] == [{"days": ["Friday"], "startTime": "08:00",
                                                          "endTime": "10:30"}]
    assert p["overrides"] == body["overrides"] and p["timeZone"] == "Europe/Rome"
    assert ok(v2.get(f"/v2/schedules/{s['id']}")) == p

    # making it the default moves the default
    d = ok(v2.patch(f"/v2/schedules/{s['id']}", {"isDefault": True}))
    assert d["isDefault"] is True
    assert ok(v2.get("/v2/schedules/default"))["id"] == s["id"]
    assert ok(v2.get(f"/v2/schedules/{default['id']}"))["isDefault"] is False

    r = v2.delete(f"/v2/schedules/{default['id']}")
    assert r.status == 200 and r.json() == {"status": "success"}
    err(v2.get(f"/v2/schedules/{default['id']}"), 404)
    err(v2.delete(f"/v2/schedules/{default['id']}"), 404)


def test_create_defaults_to_weekdays_nine_to_five(env):  # noqa: F811
    h, v2 = host_v2(env)
    s = ok(v2.post("/v2/schedules", {"name": "Office", "timeZone": "America/New_York", "isDefault": True}), 201)
    assert s["availability"] == [{"days": DAYS[:5], "startTime": "09:00", "endTime": "17:00"}]
    assert s["overrides"] == [] and s["isDefault"] is True
    assert ok(v2.get("/v2/schedules/default"))["id"] == s["id"]


def test_a_native_schedule_reads_as_cal_com(env):  # noqa: F811
    h, v2 = host_v2(env)
    r = h.call("POST", "/api/availability-schedules", {
        "name": "Native", "timezone": "UTC",
        "rules": [{"day": 0, "start": "10:00", "end": "24:00"}, {"day": 6, "start": "10:00", "end": "24:00"}],
        "overrides": [{"date": "2050-03-01", "unavailable": True}]})
    assert r.status == 201, r
    s = ok(v2.get(f"/v2/schedules/{r.json()['id']}"))
    assert s["availability"] == [{"days": ["Saturday", "Sunday"], "startTime": "10:00", "endTime": "24:00"}]
    assert s["overrides"] == [{"date": "2050-03-01", "startTime": "00:00", "endTime": "00:00"}]


def test_refusals_name_the_field_and_change_nothing(env):  # noqa: F811
    h, v2 = host_v2(env)
    sid = ok(v2.get("/v2/schedules/default"))["id"]
    before = count(env, h)
    good = {"name": "X", "timeZone": "UTC", "isDefault": False}
    cases = [
        ({"timeZone": "UTC", "isDefault": False}, "name"),
        ({"name": "X", "isDefault": False}, "timeZone"),
        ({"name": "X", "timeZone": "UTC"}, "isDefault"),
        ({**good, "timeZone": "Mars/Olympus"}, "timeZone"),
        ({**good, "isDefault": "yes"}, "isDefault"),
        ({**good, "name": 5}, "name"),
        ({**good, "name": " "}, "name"),
        ({**good, "availability": [{"days": ["Funday"], "startTime": "09:00", "endTime": "10:00"}]}, "availability"),
        ({**good, "availability": [{"days": [], "startTime": "09:00", "endTime": "10:00"}]}, "availability"),
        ({**good, "availability": [{"days": ["Monday"], "startTime": "9:00", "endTime": "10:00"}]}, "availability"),
        ({**good, "availability": [{"days": ["Monday"], "startTime": "11:00", "endTime": "10:00"}]}, "availability"),
        ({**good, "availability": [{"days": ["Monday"], "startTime": "25:00", "endTime": "26:00"}]}, "availability"),
        ({**good, "availability": {"days": ["Monday"]}}, "availability"),
        ({**good, "overrides": [{"date": "2050-02-30", "startTime": "09:00", "endTime": "10:00"}]}, "overrides"),
        ({**good, "overrides": [{"date": "2050-02-03", "startTime": "10:00", "endTime": "09:00"}]}, "overrides"),
        ({**good, "overrides": [{"date": "2050-02-03"}]}, "overrides"),
    ]
    for i, (body, field) in enumerate(cases):
        e = err(v2.post("/v2/schedules", body), 400)
        assert e["details"].get("field") == field, (body, e)
        if i >= 3:  # the same value in an update (where nothing is required)
            e = err(v2.patch(f"/v2/schedules/{sid}", {field: body[field]}), 400)
            assert e["details"].get("field") == field, (body, e)
    # the only default cannot stop being one, and the only schedule cannot go
    e = err(v2.patch(f"/v2/schedules/{sid}", {"isDefault": False}), 409)
    assert e["details"].get("field") == "isDefault"
    err(v2.delete(f"/v2/schedules/{sid}"), 409)
    # malformed JSON and a body that is not an object
    for raw in (b"{bad", b"[]"):
        r = call(env.s, "POST", "/v2/schedules", raw=raw,
                 headers={"cal-api-version": "2024-06-11", "Authorization": f"Bearer {h.user.key}"})
        assert r.status == 400, r
        validate("POST", "/v2/schedules", 400, r.json())
    assert count(env, h) == before


def test_other_users_ids_are_not_found(env):  # noqa: F811
    a, va = host_v2(env)
    b, vb = host_v2(env)
    sid = ok(va.get("/v2/schedules/default"))["id"]
    before = count(env, a)
    err(vb.get(f"/v2/schedules/{sid}"), 404)
    err(vb.patch(f"/v2/schedules/{sid}", {"name": "mine now"}), 404)
    err(vb.delete(f"/v2/schedules/{sid}"), 404)
    err(vb.get("/v2/schedules/999999999"), 404)
    err(vb.get("/v2/schedules/abc"), 404)
    assert count(env, a) == before
    assert sid not in [x["id"] for x in ok(vb.get("/v2/schedules"))]


def test_credentials_and_version_header(env):  # noqa: F811
    h, v2 = host_v2(env)
    sid = ok(v2.get("/v2/schedules/default"))["id"]
    anon = V2(env.s)
    for method, path, body in [("GET", "/v2/schedules", None), ("POST", "/v2/schedules", {"name": "x"}),
                               ("GET", "/v2/schedules/default", None), ("GET", f"/v2/schedules/{sid}", None),
                               ("PATCH", f"/v2/schedules/{sid}", {"name": "x"}),
                               ("DELETE", f"/v2/schedules/{sid}", None)]:
        err(anon.request(method, path, body), 401)
        err(V2(env.s, "cal_not_a_key").request(method, path, body), 401)
        e = err(v2.request(method, path, body, version="2024-06-14"), 400, "2024-06-11")
        assert e["details"]["field"] == "cal-api-version"
    # absent is the operation's own version
    assert ok(v2.get("/v2/schedules", version=None))[0]["id"] == sid
    assert ok(v2.get("/v2/schedules/default"))["name"]
