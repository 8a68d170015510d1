"""Teams inside an organisation (issue 12): shapes, slugs (given or from the name), member_ids
that must be members of the org, who may read and who may write."""

import pytest

from accounts_util import NO_LIMITS, RFC3339_Z, assert_error, call, new_user
from org_util import add_member, make_org, make_team, ok, org_key


@pytest.fixture
def org(slotd_factory):
    s = slotd_factory(env=NO_LIMITS)
    owner = new_user(s, "owner@example.com", name="Owner")
    o = make_org(s, owner.session)
    m1 = add_member(s, o["id"], owner.session, "m1@example.com", name="M One")["user_id"]
    m2 = add_member(s, o["id"], owner.session, "m2@example.com", name="M Two")["user_id"]
    return s, owner, o["id"], m1, m2


def test_create_get_list_update_delete(org, db):
    s, owner, oid, m1, m2 = org
    t = make_team(s, oid, owner.session, name="Customer Support", member_ids=[m2, m1, m2])
    assert set(t) == {"id", "org_id", "name", "slug", "member_ids", "created_at"}, t
    assert (t["org_id"], t["name"], t["slug"], t["member_ids"]) == (oid, "Customer Support", "customer-support",
                                                                     sorted([m1, m2]))
    assert RFC3339_Z.fullmatch(t["created_at"])
    # the same name again: the slug gets a suffix; an explicit slug is kept
    assert make_team(s, oid, owner.session, name="Customer Support")["slug"] == "customer-support-2"
    t3 = make_team(s, oid, owner.session, name="Sales", slug="sales-emea")
    assert t3["slug"] == "sales-emea" and t3["member_ids"] == []
    assert make_team(s, oid, owner.session, name="日本")["slug"] == "team"
    assert ok(call(s, "GET", f"/api/orgs/{oid}/teams/{t['id']}", auth=owner.session)) == t
    lst = ok(call(s, "GET", f"/api/orgs/{oid}/teams", auth=owner.session))
    assert [x["id"] for x in lst][0] == t["id"] and len(lst) == 4
    u = ok(call(s, "PUT", f"/api/orgs/{oid}/teams/{t['id']}", {"name": "Support", "member_ids": [m1]},
                auth=owner.session))
    assert (u["name"], u["slug"], u["member_ids"]) == ("Support", "customer-support", [m1])
    u = ok(call(s, "PUT", f"/api/orgs/{oid}/teams/{t['id']}", {"slug": "support"}, auth=owner.session))
    assert (u["slug"], u["member_ids"]) == ("support", [m1])
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/teams/{t['id']}", {"slug": "sales-emea"}, auth=owner.session), 409,
                 "CONFLICT", "slug")
    assert_error(call(s, "POST", f"/api/orgs/{oid}/teams", {"name": "X", "slug": "SUPPORT".lower()},
                      auth=owner.session), 409, "CONFLICT", "slug")
    assert ok(call(s, "DELETE", f"/api/orgs/{oid}/teams/{t['id']}", auth=owner.session)) == {"ok": True}
    assert_error(call(s, "GET", f"/api/orgs/{oid}/teams/{t['id']}", auth=owner.session), 404, "NOT_FOUND")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/teams/{t['id']}", auth=owner.session), 404, "NOT_FOUND")
    assert db.sql(f"SELECT count(*) FROM team_members WHERE team_id = {t['id']}") == [["0"]]


def test_member_ids_must_be_org_members(org, db):
    s, owner, oid, m1, m2 = org
    outsider = new_user(s, "out@example.com", name="Out")
    for ids in ([m1, outsider.id], [999999], [m1, 0], [m1, "2"], [1.5], "1,2", {"a": 1}, [-3]):
        assert_error(call(s, "POST", f"/api/orgs/{oid}/teams", {"name": "T", "member_ids": ids}, auth=owner.session),
                     400, "VALIDATION_FAILED", "member_ids")
    assert db.sql("SELECT count(*) FROM teams") == [["0"]]
    t = make_team(s, oid, owner.session, name="T", member_ids=[m1])
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/teams/{t['id']}", {"member_ids": [outsider.id]}, auth=owner.session),
                 400, "VALIDATION_FAILED", "member_ids")
    assert db.sql(f"SELECT user_id FROM team_members WHERE team_id = {t['id']}") == [[str(m1)]]
    # a member who leaves the org leaves its teams
    ok(call(s, "DELETE", f"/api/orgs/{oid}/members/{m1}", auth=owner.session))
    assert ok(call(s, "GET", f"/api/orgs/{oid}/teams/{t['id']}", auth=owner.session))["member_ids"] == []


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "a\tb"}, "name"),
    ({"name": "T", "slug": "Bad Slug"}, "slug"),
    ({"name": "T", "slug": None}, "slug"),
    ({"name": "T", "member_ids": None}, "member_ids"),
])
def test_validation(org, db, body, field):
    s, owner, oid, m1, m2 = org
    assert_error(call(s, "POST", f"/api/orgs/{oid}/teams", body, auth=owner.session), 400, "VALIDATION_FAILED", field)
    assert db.sql("SELECT count(*) FROM teams") == [["0"]]


def test_who_may_read_and_write(org, db):
    s, owner, oid, m1, m2 = org
    mem = new_user(s, "mem@example.com", name="Mem")
    add_member(s, oid, owner.session, mem.email)
    adm = new_user(s, "adm@example.com", name="Adm")
    add_member(s, oid, owner.session, adm.email, role="admin")
    t = make_team(s, oid, adm.session, name="By Admin", member_ids=[mem.id])
    _, key = org_key(s, oid, owner.session)
    t2 = make_team(s, oid, key, name="By Key")
    assert ok(call(s, "GET", f"/api/orgs/{oid}/teams", auth=mem.session))[0] == t
    assert ok(call(s, "GET", f"/api/orgs/{oid}/teams/{t2['id']}", auth=mem.session)) == t2
    before = db.sql("SELECT row_to_json(x)::text FROM teams x ORDER BY id")
    assert_error(call(s, "POST", f"/api/orgs/{oid}/teams", {"name": "X"}, auth=mem.session), 403, "FORBIDDEN")
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/teams/{t['id']}", {"name": "X"}, auth=mem.session), 403,
                 "FORBIDDEN")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/teams/{t['id']}", auth=mem.session), 403, "FORBIDDEN")
    assert db.sql("SELECT row_to_json(x)::text FROM teams x ORDER BY id") == before
    # another org's team is not found, even for its id under one's own org
    other = new_user(s, "other@example.com", name="Other")
    o2 = make_org(s, other.session, slug="other-org")
    t3 = make_team(s, o2["id"], other.session, name="Theirs")
    assert_error(call(s, "GET", f"/api/orgs/{oid}/teams/{t3['id']}", auth=owner.session), 404, "NOT_FOUND")
    assert_error(call(s, "PUT", f"/api/orgs/{oid}/teams/{t3['id']}", {"name": "Mine"}, auth=owner.session), 404,
                 "NOT_FOUND")
    assert_error(call(s, "DELETE", f"/api/orgs/{oid}/teams/{t3['id']}", auth=owner.session), 404, "NOT_FOUND")
    assert db.sql(f"SELECT name FROM teams WHERE id = {t3['id']}") == [["Theirs"]]
