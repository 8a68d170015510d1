"""Organisation event types (issue 12): every native event-type field plus scheduling, hosts and
team_id; who may manage and see them; versions bumped for every host so caches drop."""

import pytest

from accounts_util import NO_LIMITS, assert_error, call, new_user
from org_util import add_member, make_org, make_team, ok, org_key, user_version


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


@pytest.fixture
def org(s):
    owner = new_user(s, "owner@example.com", name="Olive Owner")
    o = make_org(s, owner.session, name="Acme", slug="acme")
    m1 = add_member(s, o["id"], owner.session, "m1@example.com", name="Member One", timezone="Europe/London")
    m2 = add_member(s, o["id"], owner.session, "m2@example.com", name="Member Two", timezone="America/New_York")
    return o, owner, m1, m2


def path(o, rest=""):
    return f"/api/orgs/{o['id']}/event-types{rest}"


def test_create_get_list_update_delete(s, db, org):
    o, owner, m1, m2 = org
    v1 = user_version(db, m1["user_id"])
    et = ok(call(s, "POST", path(o), {"name": "Intro Call", "duration_minutes": 30, "scheduling": "round_robin",
                                       "hosts": [{"user_id": m1["user_id"], "priority": 3},
                                                 {"user_id": m2["user_id"], "weight": 200}]},
                 auth=owner.session), 201)
    assert (et["slug"], et["scheduling"], et["org_id"], et["team_id"]) == ("intro-call", "round_robin", o["id"], None)
    assert et["hosts"] == [{"user_id": m1["user_id"], "name": "Member One", "priority": 3, "weight": 100},
                           {"user_id": m2["user_id"], "name": "Member Two", "priority": 2, "weight": 200}]
    assert et["duration_minutes"] == 30 and et["schedule_id"] is None
    assert user_version(db, m1["user_id"]) > v1  # every host's caches drop
    assert ok(call(s, "GET", path(o, f"/{et['id']}"), auth=owner.session)) == et
    assert ok(call(s, "GET", path(o), auth=owner.session)) == [et]
    # not a personal event type of anyone
    assert ok(call(s, "GET", "/api/event-types", auth=owner.session)) == []
    assert call(s, "GET", f"/api/event-types/{et['id']}", auth=owner.session).status == 404

    up = ok(call(s, "PUT", path(o, f"/{et['id']}"), {"scheduling": "collective", "hosts": [{"user_id": m2["user_id"]}],
                                                      "buffer_after": 10}, auth=owner.session))
    assert (up["scheduling"], up["buffer_after"], [h["user_id"] for h in up["hosts"]]) == \
        ("collective", 10, [m2["user_id"]])
    assert ok(call(s, "DELETE", path(o, f"/{et['id']}"), auth=owner.session)) == {"ok": True}
    assert call(s, "GET", path(o, f"/{et['id']}"), auth=owner.session).status == 404
    assert ok(call(s, "GET", path(o), auth=owner.session)) == []


def test_team_hosts_and_validation(s, db, org):
    o, owner, m1, m2 = org
    t = make_team(s, o["id"], owner.session, name="Sales", member_ids=[m1["user_id"], m2["user_id"]])
    et = ok(call(s, "POST", path(o), {"name": "Demo", "team_id": t["id"]}, auth=owner.session), 201)
    assert et["scheduling"] == "round_robin" and [h["user_id"] for h in et["hosts"]] == \
        sorted([m1["user_id"], m2["user_id"]])

    stranger = new_user(s, "stranger@example.com")
    cases = [
        ({"name": "X"}, "hosts"),
        ({"name": "X", "hosts": []}, "hosts"),
        ({"name": "X", "hosts": [{"user_id": stranger.id}]}, "hosts"),
        ({"name": "X", "hosts": [{"user_id": m1["user_id"]}, {"user_id": m1["user_id"]}]}, "hosts"),
        ({"name": "X", "hosts": [{"user_id": m1["user_id"], "priority": 5}]}, "hosts"),
        ({"name": "X", "hosts": [{"user_id": m1["user_id"], "weight": 0}]}, "hosts"),
        ({"name": "X", "hosts": [{"user_id": "1"}]}, "hosts"),
        ({"name": "X", "scheduling": "random", "hosts": [{"user_id": m1["user_id"]}]}, "scheduling"),
        ({"name": "X", "team_id": 999999}, "team_id"),
        ({"name": "X", "schedule_id": 1, "hosts": [{"user_id": m1["user_id"]}]}, "schedule_id"),
        ({"name": "X", "duration_minutes": 3, "hosts": [{"user_id": m1["user_id"]}]}, "duration_minutes"),
        ({"hosts": [{"user_id": m1["user_id"]}]}, "name"),
    ]
    before = db.sql("SELECT count(*) FROM event_types")
    for body, field in cases:
        r = call(s, "POST", path(o), body, auth=owner.session)
        assert_error(r, 400, field=field)
    assert db.sql("SELECT count(*) FROM event_types") == before
    dup = call(s, "POST", path(o), {"name": "Demo", "slug": "demo", "hosts": [{"user_id": m1["user_id"]}]},
               auth=owner.session)
    assert_error(dup, 409, field="slug")


def test_access(s, db, org):
    o, owner, m1, m2 = org
    et = ok(call(s, "POST", path(o), {"name": "Intro", "hosts": [{"user_id": m1["user_id"]}]}, auth=owner.session), 201)
    other = new_user(s, "other@example.com")
    other_org = make_org(s, other.session, name="Other", slug="other")
    _, other_key = org_key(s, other_org["id"], other.session)
    _, our_key = org_key(s, o["id"], owner.session)
    for auth in (other.session, other_key):
        for method, p, body in (("GET", path(o), None), ("POST", path(o), {"name": "Y", "hosts": [{"user_id": m1["user_id"]}]}),
                                ("GET", path(o, f"/{et['id']}"), None), ("PUT", path(o, f"/{et['id']}"), {"name": "Z"}),
                                ("DELETE", path(o, f"/{et['id']}"), None)):
            assert call(s, method, p, body, auth=auth).status == 404, (method, p)
    # another org's event type through our org's path: 404
    oet = ok(call(s, "POST", f"/api/orgs/{other_org['id']}/event-types",
                  {"name": "Theirs", "hosts": [{"user_id": other.id}]}, auth=other.session), 201)
    assert call(s, "GET", path(o, f"/{oet['id']}"), auth=owner.session).status == 404
    assert call(s, "DELETE", path(o, f"/{oet['id']}"), auth=our_key).status == 404
    # the org's key manages them
    assert ok(call(s, "PUT", path(o, f"/{et['id']}"), {"name": "Intro 2"}, auth=our_key))["name"] == "Intro 2"
    assert db.sql(f"SELECT name FROM event_types WHERE id = {oet['id']}") == [["Theirs"]]
