"""Organisations (issue 12): orgs, members, members' schedules and org API keys through the
native API -- shapes, validation naming the field, the shared slug namespace, the last-owner
rule, password-less member accounts, and what an org key may and may not do."""

import json
import re

import pytest

from accounts_util import (NO_LIMITS, RFC3339_Z, assert_error, call, login, new_user, register, xkey)
from org_util import WEEKDAYS_9_17, add_member, make_org, ok, org_key


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


@pytest.fixture
def alice(s):
    return new_user(s, "alice@example.com", name="Alice Owner")


# ---------------------------------------------------------------------------- orgs


def test_create_get_list_update_delete(s, db, alice):
    o = make_org(s, alice.session, name="Acme Inc", slug="acme", timezone="Europe/Berlin")
    assert set(o) >= {"id", "name", "slug", "timezone", "created_at"}, o
    assert (o["name"], o["slug"], o["timezone"], o["role"]) == ("Acme Inc", "acme", "Europe/Berlin", "owner")
    assert RFC3339_Z.fullmatch(o["created_at"]), o
    assert db.sql(f"SELECT role FROM org_members WHERE org_id = {o['id']} AND user_id = {alice.id}") == [["owner"]]

    o2 = make_org(s, alice.session, name="Second", slug="second")
    assert o2["timezone"] == "UTC"  # the default

    lst = ok(call(s, "GET", "/api/orgs", auth=alice.session))
    assert [x["id"] for x in lst] == [o["id"], o2["id"]] and all(x["role"] == "owner" for x in lst)
    assert ok(call(s, "GET", f"/api/orgs/{o['id']}", auth=alice.session)) == o

    u = ok(call(s, "PUT", f"/api/orgs/{o['id']}", {"name": "Acme GmbH", "timezone": "Asia/Tokyo"}, auth=alice.session))
    assert (u["name"], u["slug"], u["timezone"]) == ("Acme GmbH", "acme", "Asia/Tokyo")
    u = ok(call(s, "PUT", f"/api/orgs/{o['id']}", {"slug": "acme-gmbh"}, auth=alice.session))
    assert u["slug"] == "acme-gmbh" and u["name"] == "Acme GmbH"

    assert ok(call(s, "DELETE", f"/api/orgs/{o['id']}", auth=alice.session)) == {"ok": True}
    assert_error(call(s, "GET", f"/api/orgs/{o['id']}", auth=alice.session), 404, "NOT_FOUND")
    assert [x["id"] for x in ok(call(s, "GET", "/api/orgs", auth=alice.session))] == [o2["id"]]
    # the owner's account stays
    assert ok(call(s, "GET", "/api/auth/me", auth=alice.session))["id"] == alice.id


@pytest.mark.parametrize("body,field", [
    ({"slug": "x"}, "name"),
    ({"name": "", "slug": "x"}, "name"),
    ({"name": "a\nb", "slug": "x"}, "name"),
    ({"name": "A" * 201, "slug": "x"}, "name"),
    ({"name": "A"}, "slug"),
    ({"name": "A", "slug": "Has Space"}, "slug"),
    ({"name": "A", "slug": "-x"}, "slug"),
    ({"name": "A", "slug": 5}, "slug"),
    ({"name": "A", "slug": "x", "timezone": "Mars/Olympus"}, "timezone"),
    ({"name": "A", "slug": "x", "timezone": None}, "timezone"),
])
def test_create_validation(s, db, alice, body, field):
    assert_error(call(s, "POST", "/api/orgs", body, auth=alice.session), 400, "VALIDATION_FAILED", field)
    assert db.sql("SELECT count(*) FROM orgs") == [["0"]]


def test_malformed_bodies_and_unknown_ids(s, db, alice):
    o = make_org(s, alice.session)
    for path, method in (("/api/orgs", "POST"), (f"/api/orgs/{o['id']}", "PUT"),
                         (f"/api/orgs/{o['id']}/members", "POST"), (f"/api/orgs/{o['id']}/teams", "POST"),
                         (f"/api/orgs/{o['id']}/api-keys", "POST"), ("/api/time-off", "POST")):
        for raw in (b"{", b"[]", b'{"name": "x", "name": "y"}', b""):
            assert_error(call(s, method, path, raw=raw, auth=alice.session), 400, ("BAD_REQUEST", "VALIDATION_FAILED"))
    for path in ("/api/orgs/999999", "/api/orgs/abc", "/api/orgs/0", "/api/orgs/-1", "/api/orgs/999999/members",
                 "/api/orgs/999999/teams", "/api/orgs/999999/api-keys"):
        r = call(s, "GET", path, auth=alice.session)
        j = assert_error(r, 404, "NOT_FOUND")
        assert j["error"] == "organisation not found", (path, j)
    assert_error(call(s, "PUT", "/api/orgs/999999", {"name": "x"}, auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", "/api/orgs/999999", auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "PUT", f"/api/orgs/{o['id']}/members/999999", {"role": "admin"}, auth=alice.session),
                 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", f"/api/orgs/{o['id']}/members/abc", auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "GET", "/api/orgs", auth={}), 401)


def test_slug_namespace_shared_with_booking_pages(s, db, alice):
    # alice's booking page is "alice-owner": no org may take it, in any case
    assert alice.slug == "alice-owner"
    for slug in ("alice-owner",):
        assert_error(call(s, "POST", "/api/orgs", {"name": "X", "slug": slug}, auth=alice.session), 409, "CONFLICT",
                     "slug")
    assert_error(call(s, "POST", "/api/orgs", {"name": "X", "slug": "ALICE-OWNER"}, auth=alice.session), 400,
                 "VALIDATION_FAILED", "slug")
    o = make_org(s, alice.session, slug="acme")
    # and the other way: a booking page cannot move onto an org's slug
    assert_error(call(s, "PUT", "/api/booking-page", {"slug": "acme"}, auth=alice.session), 409, "CONFLICT", "slug")
    # two orgs cannot share one either, nor can an org move onto a page's slug
    assert_error(call(s, "POST", "/api/orgs", {"name": "Y", "slug": "acme"}, auth=alice.session), 409, "CONFLICT",
                 "slug")
    assert_error(call(s, "PUT", f"/api/orgs/{o['id']}", {"slug": "alice-owner"}, auth=alice.session), 409,
                 "CONFLICT", "slug")
    # a new account whose name makes the org's slug gets the next free one
    r = register(s, "acme@example.com", name="Acme")
    assert r.status == 201, r
    assert r.json()["bookingSlug"] == "acme-2"
    # a page that moves away frees its slug for an org
    ok(call(s, "PUT", "/api/booking-page", {"slug": "alice-elsewhere"}, auth=alice.session))
    make_org(s, alice.session, name="Z", slug="alice-owner")
    assert db.sql("SELECT count(*) FROM orgs o JOIN booking_pages b ON b.slug = o.slug") == [["0"]]


def test_slug_race_org_against_page(s, db, alice):
    """Concurrent claims of one slug by an org and by a booking page: exactly one wins."""
    import threading
    bob = new_user(s, "bob@example.com", name="Bob")
    for i in range(6):
        slug = f"contested-{i}"
        results = {}

        def org():
            results["org"] = call(s, "POST", "/api/orgs", {"name": "C", "slug": slug}, auth=alice.session).status

        def page():
            results["page"] = call(s, "PUT", "/api/booking-page", {"slug": slug}, auth=bob.session).status

        ts = [threading.Thread(target=org), threading.Thread(target=page)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(results.values()) == [200, 409] or sorted(results.values()) == [201, 409], results
        ok(call(s, "PUT", "/api/booking-page", {"slug": f"bob-{i}"}, auth=bob.session))
    assert db.sql("SELECT count(*) FROM orgs o JOIN booking_pages b ON b.slug = o.slug") == [["0"]]


def test_only_owners_delete_admins_update(s, db, alice):
    o = make_org(s, alice.session)
    adm = new_user(s, "adm@example.com", name="Adm")
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, o["id"], alice.session, adm.email, role="admin")
    add_member(s, o["id"], alice.session, mem.email)
    assert ok(call(s, "GET", f"/api/orgs/{o['id']}", auth=mem.session))["role"] == "member"
    assert_error(call(s, "PUT", f"/api/orgs/{o['id']}", {"name": "M"}, auth=mem.session), 403, "FORBIDDEN")
    assert ok(call(s, "PUT", f"/api/orgs/{o['id']}", {"name": "By Admin"}, auth=adm.session))["role"] == "admin"
    assert_error(call(s, "DELETE", f"/api/orgs/{o['id']}", auth=adm.session), 403, "FORBIDDEN")
    assert_error(call(s, "DELETE", f"/api/orgs/{o['id']}", auth=mem.session), 403, "FORBIDDEN")
    _, key = org_key(s, o["id"], alice.session)
    assert_error(call(s, "DELETE", f"/api/orgs/{o['id']}", auth=key), 403, "FORBIDDEN")
    assert db.sql("SELECT name FROM orgs") == [["By Admin"]]
    ok(call(s, "DELETE", f"/api/orgs/{o['id']}", auth=alice.session))
    assert db.sql("SELECT count(*) FROM org_members") == [["0"]]
    assert_error(call(s, "GET", "/api/orgs", auth=key), 401)  # its keys went with it


# ---------------------------------------------------------------------------- members


def test_new_member_account_without_password(s, db, alice):
    o = make_org(s, alice.session, timezone="Europe/Berlin")
    m = add_member(s, o["id"], alice.session, "New.Member@Example.com", name="New Member",
                   timezone="America/New_York")
    assert set(m) == {"user_id", "name", "email", "role", "timezone"}, m
    assert (m["name"], m["email"], m["role"], m["timezone"]) == (
        "New Member", "new.member@example.com", "member", "America/New_York")
    assert db.sql(f"SELECT password_hash IS NULL FROM users WHERE id = {m['user_id']}") == [["t"]]
    # the default schedule, in the member's zone
    rows = db.sql(f"SELECT name, timezone, rules::text, is_default FROM availability_schedules "
                  f"WHERE user_id = {m['user_id']}")
    assert len(rows) == 1 and rows[0][0] == "Working Hours" and rows[0][1] == "America/New_York", rows
    assert json.loads(rows[0][2]) == WEEKDAYS_9_17 and rows[0][3] == "t"
    # no zone given: the org's
    m2 = add_member(s, o["id"], alice.session, "second@example.com", name="Second")
    assert m2["timezone"] == "Europe/Berlin"
    assert db.sql(f"SELECT timezone FROM availability_schedules WHERE user_id = {m2['user_id']}") == [["Europe/Berlin"]]
    # such an account cannot log in: exactly the answer of a wrong password
    for pw in ("", "whatever password", "correct horse battery"):
        r = login(s, "new.member@example.com", pw or "x")
        j = assert_error(r, 401, "UNAUTHORIZED")
        assert j["error"] == "invalid email or password"
        assert not r.header_all("Set-Cookie")
    wrong = assert_error(login(s, alice.email, "not her password"), 401)
    assert wrong == assert_error(login(s, "new.member@example.com", "not her password"), 401)
    # nor register over it
    assert_error(register(s, "new.member@example.com"), 409, "CONFLICT", "email")
    # a new account needs a name
    assert_error(call(s, "POST", f"/api/orgs/{o['id']}/members", {"email": "noname@example.com"}, auth=alice.session),
                 400, "VALIDATION_FAILED", "name")


def test_existing_account_attached(s, db, alice):
    o = make_org(s, alice.session)
    bob = new_user(s, "bob@example.com", name="Bob Real", timezone="Asia/Tokyo")
    m = add_member(s, o["id"], alice.session, "BOB@EXAMPLE.COM", name="Ignored Name", role="admin")
    assert (m["user_id"], m["name"], m["email"], m["role"], m["timezone"]) == (
        bob.id, "Bob Real", "bob@example.com", "admin", "Asia/Tokyo")
    assert db.sql(f"SELECT count(*) FROM availability_schedules WHERE user_id = {bob.id}") == [["1"]]
    # once only
    assert_error(call(s, "POST", f"/api/orgs/{o['id']}/members", {"email": "bob@example.com"}, auth=alice.session),
                 409, "CONFLICT", "email")
    # name (existing account) not needed
    carol = new_user(s, "carol@example.com", name="Carol")
    m = ok(call(s, "POST", f"/api/orgs/{o['id']}/members", {"email": "carol@example.com"}, auth=alice.session), 201)
    assert m["user_id"] == carol.id and m["role"] == "member"
    # bob sees the org with his role
    assert [(x["id"], x["role"]) for x in ok(call(s, "GET", "/api/orgs", auth=bob.session))] == [(o["id"], "admin")]
    # bob can still log in
    assert login(s, "bob@example.com").status == 200


@pytest.mark.parametrize("body,field", [
    ({"name": "X"}, "email"),
    ({"email": "not-an-email", "name": "X"}, "email"),
    ({"email": "a@example.com", "name": "X", "role": "boss"}, "role"),
    ({"email": "a@example.com", "name": "X", "role": None}, "role"),
    ({"email": "a@example.com", "name": "X", "timezone": "Nowhere/City"}, "timezone"),
    ({"email": "a@example.com", "name": " "}, "name"),
    ({"email": "a@example.com", "name": "N" * 101}, "name"),
])
def test_member_validation(s, db, alice, body, field):
    o = make_org(s, alice.session)
    assert_error(call(s, "POST", f"/api/orgs/{o['id']}/members", body, auth=alice.session), 400, "VALIDATION_FAILED",
                 field)
    assert db.sql("SELECT count(*) FROM org_members") == [["1"]]
    assert db.sql("SELECT count(*) FROM users") == [["1"]]


def test_member_list_pagination(s, db, alice):
    o = make_org(s, alice.session)
    ids = [add_member(s, o["id"], alice.session, f"m{i}@example.com", name=f"M {i}")["user_id"] for i in range(5)]
    r = call(s, "GET", f"/api/orgs/{o['id']}/members?limit=2&page=2", auth=alice.session)
    assert r.status == 200 and r.header("X-Total-Count") == "6", r
    assert [m["user_id"] for m in r.json()] == sorted([alice.id] + ids)[2:4]
    full = ok(call(s, "GET", f"/api/orgs/{o['id']}/members", auth=alice.session))
    assert full[0] == {"user_id": alice.id, "name": "Alice Owner", "email": "alice@example.com", "role": "owner",
                       "timezone": "America/Los_Angeles"}
    assert_error(call(s, "GET", f"/api/orgs/{o['id']}/members?limit=0", auth=alice.session), 400,
                 "VALIDATION_FAILED", "limit")


def test_roles_and_last_owner(s, db, alice):
    o = make_org(s, alice.session)
    oid = o["id"]
    adm = new_user(s, "adm@example.com", name="Adm")
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, oid, alice.session, adm.email, role="admin")
    add_member(s, oid, alice.session, mem.email)
    # the only owner can neither step down nor leave
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/members/{alice.id}", {"role": "admin"}, auth=alice.session), 409,
                 "CONFLICT")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/members/{alice.id}", auth=alice.session), 409, "CONFLICT")
    # admins manage members but not owners
    assert_error(call(s, "POST", f"/api/orgs/{oid}/members", {"email": "o2@example.com", "name": "O", "role": "owner"},
                      auth=adm.session), 403, "FORBIDDEN")
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/members/{mem.id}", {"role": "owner"}, auth=adm.session), 403,
                 "FORBIDDEN")
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/members/{alice.id}", {"role": "member"}, auth=adm.session), 403,
                 "FORBIDDEN")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/members/{alice.id}", auth=adm.session), 403, "FORBIDDEN")
    assert ok(call(s, "PUT", f"/api/orgs/{oid}/members/{mem.id}", {"role": "admin"}, auth=adm.session))["role"] == "admin"
    assert ok(call(s, "PUT", f"/api/orgs/{oid}/members/{mem.id}", {"role": "member"}, auth=adm.session))["role"] == \
        "member"
    # members manage nobody
    assert_error(call(s, "POST", f"/api/orgs/{oid}/members", {"email": "x@example.com", "name": "X"}, auth=mem.session),
                 403, "FORBIDDEN")
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/members/{adm.id}", {"role": "member"}, auth=mem.session), 403,
                 "FORBIDDEN")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/members/{adm.id}", auth=mem.session), 403, "FORBIDDEN")
    # but may see who is in it
    assert len(ok(call(s, "GET", f"/api/orgs/{oid}/members", auth=mem.session))) == 3
    # a second owner: now the first may step down, and the last again may not
    ok(call(s, "PUT", f"/api/orgs/{oid}/members/{adm.id}", {"role": "owner"}, auth=alice.session))
    ok(call(s, "PUT", f"/api/orgs/{oid}/members/{alice.id}", {"role": "admin"}, auth=alice.session))
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/members/{adm.id}", {"role": "member"}, auth=adm.session), 409,
                 "CONFLICT")
    assert db.sql(f"SELECT count(*) FROM org_members WHERE org_id = {oid} AND role = 'owner'") == [["1"]]
    # a member may leave
    assert ok(call(s, "DELETE", f"/api/orgs/{oid}/members/{mem.id}", auth=mem.session)) == {"ok": True}
    assert_error(call(s, "GET", f"/api/orgs/{oid}", auth=mem.session), 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/members/{mem.id}", auth=adm.session), 404, "NOT_FOUND")


def test_member_name_and_timezone(s, db, alice):
    o = make_org(s, alice.session)
    m = add_member(s, o["id"], alice.session, "pl@example.com", name="Pass Less")
    bob = new_user(s, "bob@example.com", name="Bob")
    add_member(s, o["id"], alice.session, bob.email)
    u = ok(call(s, "PUT", f"/api/orgs/{o['id']}/members/{m['user_id']}", {"name": "Renamed", "timezone": "Asia/Tokyo"},
                auth=alice.session))
    assert (u["name"], u["timezone"], u["role"]) == ("Renamed", "Asia/Tokyo", "member")
    # an account with its own login is its holder's to rename
    assert_error(call(s, "PUT", f"/api/orgs/{o['id']}/members/{bob.id}", {"name": "Robert"}, auth=alice.session), 403,
                 "FORBIDDEN", "name")
    assert_error(call(s, "PUT", f"/api/orgs/{o['id']}/members/{bob.id}", {"timezone": "Asia/Tokyo"},
                      auth=alice.session), 403, "FORBIDDEN", "timezone")
    assert db.sql(f"SELECT name FROM users WHERE id = {bob.id}") == [["Bob"]]
    for body, field in (({"role": "king"}, "role"), ({"name": ""}, "name"), ({"timezone": "X/Y"}, "timezone"),
                        ({"name": None}, "name")):
        assert_error(call(s, "PUT", f"/api/orgs/{o['id']}/members/{m['user_id']}", body, auth=alice.session), 400,
                     "VALIDATION_FAILED", field)


# ---------------------------------------------------------------------------- members' schedules


def test_member_schedules(s, db, alice):
    o = make_org(s, alice.session)
    oid = o["id"]
    m = add_member(s, oid, alice.session, "pl@example.com", name="Pass Less", timezone="Asia/Kathmandu")
    mid = m["user_id"]
    base = f"/api/orgs/{oid}/members/{mid}/schedules"
    lst = ok(call(s, "GET", base, auth=alice.session))
    assert len(lst) == 1 and lst[0]["timezone"] == "Asia/Kathmandu" and lst[0]["rules"] == WEEKDAYS_9_17
    v0 = int(db.sql(f"SELECT version FROM users WHERE id = {mid}")[0][0])
    c = ok(call(s, "POST", base, {"name": "Evenings", "timezone": "Europe/Paris",
                                  "rules": [{"day": 2, "start": "18:00", "end": "20:00"},
                                            {"day": 2, "start": "19:00", "end": "21:00"}]}, auth=alice.session), 201)
    assert c["rules"] == [{"day": 2, "start": "18:00", "end": "21:00"}] and c["is_default"] in (0, False)
    assert int(db.sql(f"SELECT version FROM users WHERE id = {mid}")[0][0]) > v0
    assert db.sql(f"SELECT user_id FROM availability_schedules WHERE id = {c['id']}") == [[str(mid)]]
    assert ok(call(s, "GET", f"{base}/{c['id']}", auth=alice.session)) == c
    u = ok(call(s, "PUT", f"{base}/{c['id']}", {"is_default": True}, auth=alice.session))
    assert u["is_default"] in (1, True)
    # the same validation as /api/availability-schedules
    assert_error(call(s, "POST", base, {"name": "Bad", "rules": [{"day": 7, "start": "09:00", "end": "10:00"}]},
                      auth=alice.session), 400, "VALIDATION_FAILED", "rules")
    assert_error(call(s, "POST", base, {"rules": []}, auth=alice.session), 400, "VALIDATION_FAILED", "name")
    assert_error(call(s, "PUT", f"{base}/{c['id']}", {"timezone": "Moon/Base"}, auth=alice.session), 400,
                 "VALIDATION_FAILED", "timezone")
    assert ok(call(s, "DELETE", f"{base}/{lst[0]['id']}", auth=alice.session)) == {"ok": True}
    assert_error(call(s, "DELETE", f"{base}/{c['id']}", auth=alice.session), 409, "CONFLICT")  # the only one
    # someone else's schedule under this member: not found
    alice_sched = db.sql(f"SELECT id FROM availability_schedules WHERE user_id = {alice.id}")[0][0]
    assert_error(call(s, "GET", f"{base}/{alice_sched}", auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "PUT", f"{base}/{alice_sched}", {"name": "X"}, auth=alice.session), 404, "NOT_FOUND")
    # someone not in the org
    out = new_user(s, "out@example.com", name="Out")
    j = assert_error(call(s, "GET", f"/api/orgs/{oid}/members/{out.id}/schedules", auth=alice.session), 404)
    assert j["error"] == "member not found"


def test_member_manages_only_own_schedules(s, db, alice):
    o = make_org(s, alice.session)
    oid = o["id"]
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, oid, alice.session, mem.email)
    other = add_member(s, oid, alice.session, "pl@example.com", name="Other")
    own = f"/api/orgs/{oid}/members/{mem.id}/schedules"
    c = ok(call(s, "POST", own, {"name": "Mine"}, auth=mem.session), 201)
    ok(call(s, "GET", f"{own}/{c['id']}", auth=mem.session))
    theirs = f"/api/orgs/{oid}/members/{other['user_id']}/schedules"
    sid = db.sql(f"SELECT id FROM availability_schedules WHERE user_id = {other['user_id']}")[0][0]
    before = db.sql("SELECT row_to_json(x)::text FROM availability_schedules x ORDER BY id")
    for method, path, body in (("GET", theirs, None), ("POST", theirs, {"name": "X"}), ("GET", f"{theirs}/{sid}", None),
                               ("PUT", f"{theirs}/{sid}", {"name": "X"}), ("DELETE", f"{theirs}/{sid}", None),
                               ("GET", f"/api/orgs/{oid}/members/{alice.id}/schedules", None)):
        assert_error(call(s, method, path, body, auth=mem.session), 403, "FORBIDDEN")
    assert db.sql("SELECT row_to_json(x)::text FROM availability_schedules x ORDER BY id") == before


# ---------------------------------------------------------------------------- org API keys


def test_org_keys(s, db, alice):
    o = make_org(s, alice.session)
    oid = o["id"]
    alice.make_key()
    r = call(s, "POST", f"/api/orgs/{oid}/api-keys", {"label": "Integration"}, auth=alice.session)
    j = ok(r, 201)
    assert re.fullmatch(r"cal_[0-9a-f]{64}", j["key"]) and j["label"] == "Integration", j
    assert r.header("Cache-Control") == "no-store"
    key = xkey(j["key"])
    assert db.sql(f"SELECT org_id, user_id FROM api_keys WHERE id = {j['id']}") == [[str(oid), str(alice.id)]]
    lst = ok(call(s, "GET", f"/api/orgs/{oid}/api-keys", auth=alice.session))
    assert [k["id"] for k in lst] == [j["id"]] and "key" not in lst[0]
    # personal keys and org keys are listed apart
    assert [k["id"] for k in ok(call(s, "GET", "/api/api-keys", auth=alice.session))] == [alice.key_id]
    assert_error(call(s, "DELETE", f"/api/api-keys/{j['id']}", auth=alice.session), 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/api-keys/{alice.key_id}", auth=alice.session), 404, "NOT_FOUND")

    # the org key: an admin of this org
    g = ok(call(s, "GET", f"/api/orgs/{oid}", auth=key))
    assert g["id"] == oid and g["role"] == "admin"
    assert [(x["id"], x["role"]) for x in ok(call(s, "GET", "/api/orgs", auth=key))] == [(oid, "admin")]
    m = add_member(s, oid, key, "viakey@example.com", name="Via Key")
    assert ok(call(s, "GET", f"/api/orgs/{oid}/members", auth=key))[-1]["user_id"] == m["user_id"]
    assert_error(call(s, "POST", f"/api/orgs/{oid}/members", {"email": "o@example.com", "name": "O", "role": "owner"},
                      auth=key), 403, "FORBIDDEN")
    ok(call(s, "GET", f"/api/orgs/{oid}/members/{alice.id}/schedules", auth=key))
    k2 = ok(call(s, "POST", f"/api/orgs/{oid}/api-keys", {"label": "second"}, auth=key), 201)
    # ... and nothing else: every personal route refuses it, with one clear message
    for method, path, body in (("GET", "/api/auth/me", None), ("PUT", "/api/auth/me", {"name": "X"}),
                               ("GET", "/api/api-keys", None), ("POST", "/api/api-keys", {"label": "x"}),
                               ("GET", "/api/event-types", None), ("GET", "/api/availability-schedules", None),
                               ("GET", "/api/bookings", None), ("GET", "/api/webhooks", None),
                               ("GET", "/api/booking-page", None), ("GET", "/api/time-off", None),
                               ("POST", "/api/time-off", {"start": "2030-01-01T00:00:00Z",
                                                          "end": "2030-01-02T00:00:00Z"}),
                               ("POST", "/api/orgs", {"name": "New", "slug": "new-org"}),
                               ("POST", "/api/auth/logout", None), ("GET", "/api/reservations", None)):
        r = call(s, method, path, body, auth=key)
        e = assert_error(r, 403, "FORBIDDEN")
        assert "organisation" in e["error"], e
    assert db.sql("SELECT count(*) FROM orgs") == [["1"]]
    # revoked: gone at once
    assert ok(call(s, "DELETE", f"/api/orgs/{oid}/api-keys/{k2['id']}", auth=key)) == {"ok": True}
    assert_error(call(s, "GET", f"/api/orgs/{oid}", auth=xkey(k2["key"])), 401)
    ok(call(s, "DELETE", f"/api/orgs/{oid}/api-keys/{j['id']}", auth=alice.session))
    assert_error(call(s, "GET", f"/api/orgs/{oid}", auth=key), 401)
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/api-keys/{j['id']}", auth=alice.session), 404, "NOT_FOUND")
    # validation as for personal keys
    assert_error(call(s, "POST", f"/api/orgs/{oid}/api-keys", {}, auth=alice.session), 400, "VALIDATION_FAILED",
                 "label")
    assert_error(call(s, "POST", f"/api/orgs/{oid}/api-keys", {"label": "x", "expires_at": "2001-01-01T00:00:00Z"},
                      auth=alice.session), 400, "VALIDATION_FAILED", "expires_at")
    # members cannot manage keys
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, oid, alice.session, mem.email)
    assert_error(call(s, "GET", f"/api/orgs/{oid}/api-keys", auth=mem.session), 403, "FORBIDDEN")
    assert_error(call(s, "POST", f"/api/orgs/{oid}/api-keys", {"label": "x"}, auth=mem.session), 403, "FORBIDDEN")


def test_org_key_explain_refused(s, db, alice):
    """Public routes that look at the caller (explain=1) refuse an org key too."""
    o = make_org(s, alice.session)
    _, key = org_key(s, o["id"], alice.session)
    r = call(s, "GET", "/api/availability/alice-owner/nothing?start=2030-01-01&end=2030-01-02&explain=1", auth=key)
    assert "organisation" in assert_error(r, 403, "FORBIDDEN")["error"]
