"""Time off (issue 12): one's own under /api/time-off, a member's under
/api/orgs/:id/members/:user_id/time-off -- shapes, validation naming the field, pagination,
deletion, and every write bumping the user's version (the engine reads time off as busy)."""

import pytest

from accounts_util import NO_LIMITS, RFC3339_Z, assert_error, call, new_user
from org_util import add_member, add_time_off, make_org, ok, org_key, user_version


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


@pytest.fixture
def alice(s):
    return new_user(s, "alice@example.com", name="Alice")


def test_create_list_delete(s, db, alice):
    v0 = user_version(db, alice.id)
    t = add_time_off(s, alice.session, "2030-07-01T09:00:00+02:00", "2030-07-08T17:00:00+02:00", reason="Holiday")
    assert set(t) == {"id", "user_id", "start", "end", "reason", "created_at"}, t
    assert (t["user_id"], t["start"], t["end"], t["reason"]) == (
        alice.id, "2030-07-01T07:00:00Z", "2030-07-08T15:00:00Z", "Holiday")
    assert RFC3339_Z.fullmatch(t["created_at"])
    assert user_version(db, alice.id) > v0
    assert db.sql(f"SELECT created_by FROM time_off WHERE id = {t['id']}") == [[str(alice.id)]]
    past = add_time_off(s, alice.session, "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z")
    assert past["reason"] is None
    mid = add_time_off(s, alice.session, "2025-05-05T00:00:00Z", "2025-05-05T12:00:00Z", reason=None)
    r = call(s, "GET", "/api/time-off", auth=alice.session)
    assert r.status == 200 and r.header("X-Total-Count") == "3", r
    assert [x["id"] for x in r.json()] == [t["id"], mid["id"], past["id"]]  # latest first
    r = call(s, "GET", "/api/time-off?limit=1&page=2", auth=alice.session)
    assert [x["id"] for x in r.json()] == [mid["id"]] and 'rel="next"' in (r.header("Link") or ""), r
    assert_error(call(s, "GET", "/api/time-off?limit=500", auth=alice.session), 400, "VALIDATION_FAILED", "limit")
    v1 = user_version(db, alice.id)
    assert ok(call(s, "DELETE", f"/api/time-off/{mid['id']}", auth=alice.session)) == {"ok": True}
    assert user_version(db, alice.id) > v1
    assert_error(call(s, "DELETE", f"/api/time-off/{mid['id']}", auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", "/api/time-off/abc", auth=alice.session), 404, "NOT_FOUND")
    # another user's entry is not found, and stays
    bob = new_user(s, "bob@example.com", name="Bob")
    assert_error(call(s, "DELETE", f"/api/time-off/{t['id']}", auth=bob.session), 404, "NOT_FOUND")
    assert ok(call(s, "GET", "/api/time-off", auth=bob.session)) == []
    assert db.sql("SELECT count(*) FROM time_off") == [["2"]]
    assert_error(call(s, "GET", "/api/time-off", auth={}), 401)


@pytest.mark.parametrize("body,field", [
    ({"end": "2030-01-02T00:00:00Z"}, "start"),
    ({"start": "2030-01-01T00:00:00Z"}, "end"),
    ({"start": "2030-01-01", "end": "2030-01-02T00:00:00Z"}, "start"),
    ({"start": "2030-01-01T00:00:00", "end": "2030-01-02T00:00:00Z"}, "start"),
    ({"start": "2030-01-01T00:00:00Z", "end": "tomorrow"}, "end"),
    ({"start": 1893456000, "end": "2030-01-02T00:00:00Z"}, "start"),
    ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-02T00:00:00Z"}, "end"),
    ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "end"),
    ({"start": "2030-01-01T00:00:00Z", "end": "2031-01-03T00:00:00Z"}, "end"),
    ({"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "reason": "x" * 501}, "reason"),
    ({"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "reason": 5}, "reason"),
])
def test_validation(s, db, alice, body, field):
    assert_error(call(s, "POST", "/api/time-off", body, auth=alice.session), 400, "VALIDATION_FAILED", field)
    assert db.sql("SELECT count(*) FROM time_off") == [["0"]]


def test_limits_of_length(s, db, alice):
    # exactly 366 days (a leap year) is allowed; the reason may be 500 characters
    t = add_time_off(s, alice.session, "2032-01-01T00:00:00Z", "2033-01-01T00:00:00Z", reason="é" * 500)
    assert t["end"] == "2033-01-01T00:00:00Z" and len(t["reason"]) == 500


def test_admins_keep_members_time_off(s, db, alice):
    o = make_org(s, alice.session)
    oid = o["id"]
    pl = add_member(s, oid, alice.session, "pl@example.com", name="Pass Less")["user_id"]
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, oid, alice.session, mem.email)
    base = f"/api/orgs/{oid}/members/{pl}/time-off"
    v0 = user_version(db, pl)
    t = add_time_off(s, alice.session, "2030-03-01T00:00:00Z", "2030-03-03T00:00:00Z", path=base, reason="Leave")
    assert t["user_id"] == pl and user_version(db, pl) > v0
    assert db.sql(f"SELECT created_by FROM time_off WHERE id = {t['id']}") == [[str(alice.id)]]
    _, key = org_key(s, oid, alice.session)
    t2 = add_time_off(s, key, "2030-04-01T00:00:00Z", "2030-04-02T00:00:00Z", path=base)
    r = call(s, "GET", base, auth=key)
    assert r.status == 200 and [x["id"] for x in r.json()] == [t2["id"], t["id"]] and r.header("X-Total-Count") == "2"
    assert_error(call(s, "POST", base, {"start": "2030-01-01T00:00:00Z", "end": "2029-01-01T00:00:00Z"},
                      auth=alice.session), 400, "VALIDATION_FAILED", "end")
    # a member keeps their own here too, and nobody else's
    own = add_time_off(s, mem.session, "2030-05-01T00:00:00Z", "2030-05-02T00:00:00Z",
                       path=f"/api/orgs/{oid}/members/{mem.id}/time-off")
    assert [x["id"] for x in ok(call(s, "GET", "/api/time-off", auth=mem.session))] == [own["id"]]
    before = db.sql("SELECT row_to_json(x)::text FROM time_off x ORDER BY id")
    assert_error(call(s, "GET", base, auth=mem.session), 403, "FORBIDDEN")
    assert_error(call(s, "POST", base, {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"},
                      auth=mem.session), 403, "FORBIDDEN")
    assert_error(call(s, "DELETE", f"{base}/{t['id']}", auth=mem.session), 403, "FORBIDDEN")
    assert db.sql("SELECT row_to_json(x)::text FROM time_off x ORDER BY id") == before
    # an entry of another member under this one's path: not found
    assert_error(call(s, "DELETE", f"{base}/{own['id']}", auth=alice.session), 404, "NOT_FOUND")
    assert ok(call(s, "DELETE", f"{base}/{t['id']}", auth=key)) == {"ok": True}
    assert_error(call(s, "DELETE", f"{base}/{t['id']}", auth=alice.session), 404, "NOT_FOUND")
    # someone outside the org
    bob = new_user(s, "bob@example.com", name="Bob")
    j = assert_error(call(s, "GET", f"/api/orgs/{oid}/members/{bob.id}/time-off", auth=alice.session), 404)
    assert j["error"] == "member not found"
    # the org key cannot use the personal routes
    assert_error(call(s, "GET", "/api/time-off", auth=key), 403, "FORBIDDEN")
