"""Cal.com API v2 teams, memberships, team event types and team schedules (issue 16) on slotd's
organisations: every operation through the V2 client (each body validated against Cal.com's
own schemas), the role rules of the native org API (strangers 404, members read, members
cannot change things: 403), and round-robin and collective team event types made through /v2
offering slots and taking bookings through the native public paths."""

import pytest

from accounts_util import NO_LIMITS, call, new_user
from calcom_util import V2, err, ok
from org_util import ok as nok, org_key, org_snapshot


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


class Team:
    """A team made through POST /v2/teams by its owner, with the owner's and two other users'
    V2 clients."""

    def __init__(self, s, n=1, **body):
        self.owner = new_user(s, f"owner{n}@calteam.example", name=f"Owner {n}", key=True)
        self.alice = new_user(s, f"alice{n}@calteam.example", name=f"Alice {n}", key=True)
        self.bob = new_user(s, f"bob{n}@calteam.example", name=f"Bob {n}", key=True)
        self.v = V2(s, self.owner.key)
        self.team = ok(self.v.post("/v2/teams", {"name": f"Cal Team {n}", **body}), 201)
        self.id = self.team["id"]

    def add(self, user, **body):
        return ok(self.v.post(f"/v2/teams/{self.id}/memberships", {"userId": user.id, **body}), 201)


def snap(db):
    return org_snapshot(db)


# ------------------------------------------------------------------------------ teams


def test_team_crud(s, db):
    owner = new_user(s, "olive@example.com", name="Olive", key=True)
    v = V2(s, owner.key)
    t = ok(v.post("/v2/teams", {"name": "Flan Makers", "timeZone": "America/New_York", "weekStart": "Monday",
                                "bio": "We make flan", "brandColor": "#112233", "hideBranding": True,
                                "metadata": {"plan": "gold", "seats": 3}}), 201)
    assert t["name"] == "Flan Makers" and t["slug"] == "flan-makers" and t["isOrganization"] is False
    assert (t["timeZone"], t["weekStart"], t["bio"], t["brandColor"], t["hideBranding"]) == \
        ("America/New_York", "Monday", "We make flan", "#112233", True)
    assert t["metadata"] == {"plan": "gold", "seats": 3} and t["isPrivate"] is False
    # it is a slotd organisation, with its creator as owner
    row = db.sql(f"SELECT o.slug, o.timezone, m.role FROM orgs o JOIN org_members m ON m.org_id = o.id "
                 f"WHERE o.id = {t['id']}")
    assert row == [["flan-makers", "America/New_York", "owner"]]
    assert nok(call(s, "GET", f"/api/orgs/{t['id']}", auth=owner.session))["slug"] == "flan-makers"

    # defaults: slug from the name (a suffix when taken), Europe/London, Sunday
    t2 = ok(v.post("/v2/teams", {"name": "Flan Makers"}), 201)
    assert (t2["slug"], t2["timeZone"], t2["weekStart"]) == ("flan-makers-2", "Europe/London", "Sunday")
    assert "bio" not in t2
    # a slug given and taken: 409
    err(v.post("/v2/teams", {"name": "X", "slug": "flan-makers"}), 409, "slug")

    assert ok(v.get("/v2/teams")) == [t, t2]
    assert ok(v.get(f"/v2/teams/{t['id']}")) == t

    up = ok(v.patch(f"/v2/teams/{t['id']}", {"name": "Flan Masters", "slug": "flan-masters", "theme": "dark",
                                             "bookingLimits": "none", "metadata": {"plan": "silver"}}))
    assert (up["name"], up["slug"], up["theme"], up["bio"], up["metadata"], up["bookingLimits"]) == \
        ("Flan Masters", "flan-masters", "dark", "We make flan", {"plan": "silver"}, "none")
    assert ok(v.get(f"/v2/teams/{t['id']}")) == up

    gone = ok(v.delete(f"/v2/teams/{t['id']}"))
    assert gone == up
    err(v.get(f"/v2/teams/{t['id']}"), 404)
    assert db.sql(f"SELECT count(*) FROM orgs WHERE id = {t['id']}") == [["0"]]
    assert ok(v.get("/v2/teams")) == [t2]


def test_team_input_refused_and_nothing_written(s, db):
    owner = new_user(s, "olive@example.com", name="Olive", key=True)
    v = V2(s, owner.key)
    t = ok(v.post("/v2/teams", {"name": "Base"}), 201)
    before = snap(db)
    for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": 5}, "name"),
                        ({"name": "A", "slug": "Not A Slug"}, "slug"), ({"name": "A", "timeZone": "Mars/Base"}, "timeZone"),
                        ({"name": "A", "weekStart": "Funday"}, "weekStart"), ({"name": "A", "hideBranding": "yes"}, None),
                        ({"name": "A", "timeFormat": 13}, "timeFormat"), ({"name": "A", "metadata": [1]}, "metadata"),
                        ({"name": "A", "metadata": {"k": {"deep": 1}}}, "metadata"),
                        ({"name": "A", "metadata": {f"k{i}": i for i in range(51)}}, "metadata")]:
        e = err(v.post("/v2/teams", body), 400)
        if field:
            assert e["details"].get("field") == field, (body, e)
    err(v.request("POST", "/v2/teams", None, headers={"Content-Type": "application/json"}), 400)
    r = call(s, "POST", "/v2/teams", raw=b"{bad json", headers={"Authorization": f"Bearer {owner.key}"})
    assert r.status == 400 and r.json()["status"] == "error"
    err(v.patch(f"/v2/teams/{t['id']}", {"name": None}), 400, "name")
    err(v.patch(f"/v2/teams/{t['id']}", {"timeZone": "Nowhere"}), 400, "timeZone")
    # no credential: 401; unknown or malformed ids: 404
    err(V2(s).get("/v2/teams"), 401)
    err(V2(s).post("/v2/teams", {"name": "A"}), 401)
    err(v.get("/v2/teams/999999"), 404)
    err(v.get("/v2/teams/abc"), 404)
    err(v.patch("/v2/teams/999999", {"name": "B"}), 404)
    err(v.delete("/v2/teams/999999"), 404)
    assert snap(db) == before


def test_team_access(s, db):
    tm = Team(s)
    stranger = V2(s, tm.bob.key)
    before = snap(db)
    # a stranger sees nothing of it: 404 everywhere, never 403
    err(stranger.get(f"/v2/teams/{tm.id}"), 404)
    err(stranger.patch(f"/v2/teams/{tm.id}", {"name": "Mine"}), 404)
    err(stranger.delete(f"/v2/teams/{tm.id}"), 404)
    err(stranger.get(f"/v2/teams/{tm.id}/memberships"), 404)
    err(stranger.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.bob.id}), 404)
    err(stranger.get(f"/v2/teams/{tm.id}/memberships/{tm.owner.id}"), 404)
    assert ok(stranger.get("/v2/teams")) == []
    assert snap(db) == before

    # a member reads, but changes nothing
    tm.add(tm.alice, accepted=True)
    before = snap(db)
    member = V2(s, tm.alice.key)
    assert ok(member.get(f"/v2/teams/{tm.id}"))["id"] == tm.id
    assert [t["id"] for t in ok(member.get("/v2/teams"))] == [tm.id]
    err(member.patch(f"/v2/teams/{tm.id}", {"name": "Mine"}), 403)
    err(member.delete(f"/v2/teams/{tm.id}"), 403)
    err(member.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.bob.id}), 403)
    err(member.patch(f"/v2/teams/{tm.id}/memberships/{tm.owner.id}", {"role": "MEMBER"}), 403)
    err(member.delete(f"/v2/teams/{tm.id}/memberships/{tm.owner.id}"), 403)
    assert snap(db) == before

    # an admin changes the team but does not delete it (owners only, as natively)
    ok(tm.v.patch(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}", {"role": "ADMIN"}))
    assert ok(member.patch(f"/v2/teams/{tm.id}", {"bio": "by the admin"}))["bio"] == "by the admin"
    err(member.delete(f"/v2/teams/{tm.id}"), 403)
    err(member.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.bob.id, "role": "OWNER"}), 403)


def test_org_api_key(s, db):
    tm = Team(s)
    kid, hdr = org_key(s, tm.id, tm.owner.session)
    key = hdr["X-API-Key"]
    kv = V2(s, key)
    assert [t["id"] for t in ok(kv.get("/v2/teams"))] == [tm.id]
    assert ok(kv.get(f"/v2/teams/{tm.id}"))["id"] == tm.id
    m = ok(kv.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.alice.id}), 201)
    assert m["userId"] == tm.alice.id
    # a key acts as an admin of its own org: no team of its own making, no deleting, nothing else
    err(kv.post("/v2/teams", {"name": "Keyed"}), 403)
    err(kv.delete(f"/v2/teams/{tm.id}"), 403)
    other = Team(s, n=2)
    err(kv.get(f"/v2/teams/{other.id}"), 404)


# ------------------------------------------------------------------------------ memberships


def test_membership_crud(s, db):
    tm = Team(s)
    ms = ok(tm.v.get(f"/v2/teams/{tm.id}/memberships"))
    assert ms == [{"id": tm.owner.id, "userId": tm.owner.id, "teamId": tm.id, "accepted": True, "role": "OWNER",
                   "disableImpersonation": False,
                   "user": {"email": tm.owner.email, "username": tm.owner.slug, "name": "Owner 1"}}]

    a = tm.add(tm.alice)
    assert (a["id"], a["userId"], a["teamId"], a["accepted"], a["role"], a["disableImpersonation"]) == \
        (tm.alice.id, tm.alice.id, tm.id, False, "MEMBER", False)
    assert a["user"] == {"email": tm.alice.email, "username": tm.alice.slug, "name": "Alice 1"}
    b = tm.add(tm.bob, role="ADMIN", accepted=True, disableImpersonation=True)
    assert (b["role"], b["accepted"], b["disableImpersonation"]) == ("ADMIN", True, True)
    assert db.sql(f"SELECT user_id, role FROM org_members WHERE org_id = {tm.id} ORDER BY user_id") == \
        [[str(tm.owner.id), "owner"], [str(tm.alice.id), "member"], [str(tm.bob.id), "admin"]]
    # the native API sees the same members
    native = nok(call(s, "GET", f"/api/orgs/{tm.id}/members", auth=tm.owner.session))
    assert sorted(x["user_id"] for x in native) == sorted([tm.owner.id, tm.alice.id, tm.bob.id])

    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}")) == a
    all3 = ok(tm.v.get(f"/v2/teams/{tm.id}/memberships"))
    assert [x["userId"] for x in all3] == [tm.owner.id, tm.alice.id, tm.bob.id]
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships", take=1, skip=1)) == [a]
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships", emails=f"{tm.bob.email.upper()},{tm.alice.email}")) == [a, b]
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships", emails="nobody@example.com")) == []

    up = ok(tm.v.patch(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}", {"role": "ADMIN", "accepted": True}))
    assert (up["role"], up["accepted"], up["disableImpersonation"]) == ("ADMIN", True, False)
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}")) == up

    gone = ok(tm.v.delete(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}"))
    assert gone == up
    err(tm.v.get(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}"), 404)
    assert db.sql(f"SELECT count(*) FROM org_members WHERE org_id = {tm.id} AND user_id = {tm.alice.id}") == [["0"]]
    # the user's own account is untouched
    assert db.sql(f"SELECT count(*) FROM users WHERE id = {tm.alice.id}") == [["1"]]


def test_membership_rules_and_bad_input(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    before = snap(db)
    base = f"/v2/teams/{tm.id}/memberships"
    err(tm.v.post(base, {}), 400, "userId")
    err(tm.v.post(base, {"userId": "7"}), 400)
    err(tm.v.post(base, {"userId": 1.5}), 400)
    err(tm.v.post(base, {"userId": tm.bob.id, "role": "KING"}), 400, "role")
    err(tm.v.post(base, {"userId": tm.bob.id, "accepted": "yes"}), 400)
    err(tm.v.post(base, {"userId": 99999999}), 400, "userId")
    err(tm.v.post(base, {"userId": tm.alice.id}), 409)  # already a member
    err(tm.v.patch(f"{base}/{tm.alice.id}", {"role": "member"}), 400, "role")
    err(tm.v.patch(f"{base}/99999999", {"role": "ADMIN"}), 404)
    err(tm.v.delete(f"{base}/99999999"), 404)
    err(tm.v.get(f"{base}/{tm.bob.id}"), 404)  # a user, but not of this team
    err(tm.v.get(base, take=0), 400, "take")
    err(tm.v.get(base, take=251), 400, "take")
    err(tm.v.get(base, skip=-1), 400, "skip")
    err(tm.v.get(base, emails=",".join(f"u{i}@example.com" for i in range(21))), 400, "emails")
    err(tm.v.get(base, emails="not-an-email"), 400, "emails")
    # the last owner stays
    err(tm.v.patch(f"{base}/{tm.owner.id}", {"role": "MEMBER"}), 409)
    err(tm.v.delete(f"{base}/{tm.owner.id}"), 409)
    err(V2(s).get(base), 401)
    assert snap(db) == before

    # a member may leave by themselves
    ok(V2(s, tm.alice.key).delete(f"{base}/{tm.alice.id}"))
    err(V2(s, tm.alice.key).get(f"/v2/teams/{tm.id}"), 404)
