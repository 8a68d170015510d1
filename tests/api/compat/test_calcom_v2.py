"""Cal.com API v2 dialect (issue 16), what every group shares: the cal-api-version rule (absent
= the operation's own version, anything else 400 naming it; groups without a version header
ignore it), Cal.com's error envelope (timestamp, the request's path, the Nest exception name),
401 without credentials, and a request that is not in the dialect staying native. Every body is
validated by calcom_util.V2."""

import datetime as dt
import re

import pytest

from accounts_util import call, new_user
from booking_util import Host, env, unique  # noqa: F401 (env: module fixture)
from calcom_util import V2, err, ok
# the areas' repairs of Cal.com's document (each registered with its reason where it was found)
import test_calcom_bookings  # noqa: F401,E402
import test_calcom_event_types  # noqa: F401,E402
import test_calcom_schedules  # noqa: F401,E402

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def host(env):
    return Host(env.s, env.db)


def test_version_header_per_group(env, host):
    v2 = V2(env.s, key=host.user.key)
    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    et = host.et(duration_minutes=30)
    ops = [  # (path, query, the group's version)
        ("/v2/slots", {"eventTypeId": et["id"], "start": day, "end": day}, "2024-09-04"),
        ("/v2/bookings", {}, "2024-08-13"),
        ("/v2/event-types", {}, "2024-06-14"),
        ("/v2/schedules", {}, "2024-06-11"),
    ]
    for path, q, version in ops:
        ok(v2.get(path, **q))                       # the client sends the group's own version
        ok(v2.get(path, version=None, **q))         # absent: that version
        e = err(v2.get(path, version="2024-01-01", **q), 400)
        assert version in e["message"], (path, e)
        e = err(v2.get(path, version="2024-09-04" if version != "2024-09-04" else "2024-08-13", **q), 400)
        assert version in e["message"], (path, e)
    # groups without a version header do not read it
    for path in ("/v2/webhooks", "/v2/me", "/v2/teams"):
        ok(v2.get(path, version="1999-01-01"))


def test_error_envelope(env, host):
    v2 = V2(env.s)
    r = v2.get("/v2/bookings")  # needs a key
    e = err(r, 401)
    j = r.json()
    assert j["path"] == "/v2/bookings" and ISO_MS.fullmatch(j["timestamp"]), j
    assert e["code"] == "UnauthorizedException" and e["details"]["statusCode"] == 401, e
    r = V2(env.s, key=host.user.key).get("/v2/event-types/999999999")
    e = err(r, 404)
    assert e["code"] == "NotFoundException" and r.json()["path"] == "/v2/event-types/999999999"
    r = V2(env.s, key=host.user.key).post("/v2/event-types", {"title": "x"})
    e = err(r, 400)
    assert e["code"] == "BadRequestException" and e["details"]["statusCode"] == 400
    r = V2(env.s, key="cal_" + "0" * 40).get("/v2/me")
    err(r, 401)
    # a malformed body is Cal.com's 400 too, and slotd stays up
    r = call(env.s, "POST", "/v2/event-types", raw=b"{oops", headers={"Authorization": f"Bearer {host.user.key}",
                                                                       "Content-Type": "application/json"})
    assert r.status == 400 and r.json()["status"] == "error", r


def test_native_paths_stay_native(env, host):
    """The dialect's routes live under /v2: the native API answers as before."""
    r = call(env.s, "GET", "/api/event-types", auth=host.auth)
    assert r.status == 200 and isinstance(r.json(), list), r
    r = call(env.s, "GET", "/v2/nowhere")  # unrouted under /v2: Cal.com's envelope
    assert r.status == 404 and r.json()["status"] == "error" and r.json()["path"] == "/v2/nowhere", r
    assert r.json()["error"]["code"] == "NotFoundException"
    r = call(env.s, "PUT", "/v2/bookings")  # a route without that method: 405, Cal.com's words
    assert r.status == 405 and r.json()["error"]["code"] == "MethodNotAllowedException", r
    r = call(env.s, "GET", "/v1/nowhere")  # SchedKit's {"error": ...}
    assert r.status == 404 and set(r.json()) == {"error"}, r
    r = call(env.s, "GET", "/api/calendar/v1/public/nowhere")  # Kordless's {detail, status, type}
    assert r.status == 404 and r.json()["type"] == "not_found" and r.json()["status"] == 404, r
    r = call(env.s, "GET", "/api/nowhere")  # native
    assert r.status == 404 and r.json()["code"] == "NOT_FOUND", r
