"""Cal.com API v2 teams, memberships, team event types and team schedules (issue 16) on slotd's
organisations: every operation through the V2 client (each body validated against Cal.com's
own schemas), the role rules of the native org API (strangers 404, members read, members
cannot change things: 403), and round-robin and collective team event types made through /v2
offering slots and taking bookings through the native public paths."""

import copy
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

import calcom_util
from accounts_util import NO_LIMITS, call, new_user
from calcom_util import V2, err, ok
from org_util import add_member, make_org, ok as nok, org_key, org_snapshot
from team_util import next_monday
from test_calcom_event_types import EVENT_TYPE

# EventTypeTeam declares every branding field a required string, but a team without a logo,
# banner, colours or theme has none: Cal.com's own team rows keep them null (optional Prisma
# columns), and slotd answers null for what was never set rather than inventing values.
_TEAM = copy.deepcopy(calcom_util.DEFINITIONS["EventTypeTeam"])
for _k in ("bannerUrl", "logoUrl", "brandColor", "darkBrandColor", "theme"):
    _TEAM["properties"][_k] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
calcom_util.DEFINITIONS["EventTypeTeam_slotd"] = _TEAM
_TET = copy.deepcopy(calcom_util.DEFINITIONS["TeamEventTypeOutput_2024_06_14"])
_TET["properties"]["team"] = {"$ref": "#/definitions/EventTypeTeam_slotd"}

# The event-type part of the output has the document defects test_calcom_event_types repairs
# (oneOf locations / bookingFields / bookingWindow members told apart only in prose, scalar
# settings typed object): the same repaired properties here, so both outputs meet one schema.
for _k in ("locations", "bookingFields", "bookingWindow", "successRedirectUrl", "forwardParamsSuccessRedirect"):
    _TET["properties"][_k] = copy.deepcopy(EVENT_TYPE["properties"][_k])
calcom_util.DEFINITIONS["TeamEventTypeOutput_slotd"] = _TET
_ONE = {"$ref": "#/definitions/TeamEventTypeOutput_slotd"}
_WHY = ("EventTypeTeam types its branding fields as required strings; a team that never set them has null "
        "there in Cal.com's own data (nullable columns), which slotd returns as such")
for _t, _m, _st, _data in [("/v2/teams/{teamId}/event-types", "get", 200, {"type": "array", "items": _ONE}),
                           ("/v2/teams/{teamId}/event-types", "post", 201, _ONE),
                           ("/v2/teams/{teamId}/event-types/{eventTypeId}", "get", 200, _ONE),
                           ("/v2/teams/{teamId}/event-types/{eventTypeId}", "patch", 200, _ONE)]:
    calcom_util.override(_t, _m, _st, {"type": "object", "required": ["status", "data"],
                                       "properties": {"status": {"const": "success"}, "data": _data}}, _WHY)


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


class Team:
    """A team made through POST /v2/teams by its owner, with the owner's and two other users'
    V2 clients. The three also share a company organisation (made natively, members added by
    e-mail), which is what lets the owner add Alice and Bob to the team by user id."""

    def __init__(self, s, n=1, **body):
        self.owner = new_user(s, f"owner{n}@calteam.example", name=f"Owner {n}", key=True, timezone="UTC")
        self.alice = new_user(s, f"alice{n}@calteam.example", name=f"Alice {n}", key=True, timezone="UTC")
        self.bob = new_user(s, f"bob{n}@calteam.example", name=f"Bob {n}", key=True, timezone="America/New_York")
        self.company = make_org(s, self.owner.session, name=f"Company {n}", slug=f"company{n}")["id"]
        for u in (self.alice, self.bob):
            add_member(s, self.company, self.owner.session, u.email)
        self.v = V2(s, self.owner.key)
        self.team = ok(self.v.post("/v2/teams", {"name": f"Cal Team {n}", **body}), 201)
        self.id = self.team["id"]

    def teams_of(self, v):
        """The ids of the caller's teams but the company."""
        return [t["id"] for t in ok(v.get("/v2/teams")) if t["id"] != self.company]

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
    assert tm.teams_of(stranger) == []
    assert snap(db) == before

    # a member reads, but changes nothing
    tm.add(tm.alice, accepted=True)
    before = snap(db)
    member = V2(s, tm.alice.key)
    assert ok(member.get(f"/v2/teams/{tm.id}"))["id"] == tm.id
    assert tm.teams_of(member) == [tm.id]
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
    # bob is no member of a team alice administers: she cannot pull him in by id (400), whatever role
    err(member.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.bob.id, "role": "OWNER"}), 400)


def test_org_api_key(s, db):
    tm = Team(s)
    kid, hdr = org_key(s, tm.id, tm.owner.session)
    key = hdr["X-API-Key"]
    kv = V2(s, key)
    assert [t["id"] for t in ok(kv.get("/v2/teams"))] == [tm.id]
    assert ok(kv.get(f"/v2/teams/{tm.id}"))["id"] == tm.id
    tm.add(tm.alice)
    m = ok(kv.patch(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}", {"role": "ADMIN"}))
    assert (m["userId"], m["role"]) == (tm.alice.id, "ADMIN")
    # by id a key reaches only its own org's members, who are members already
    e = err(kv.post(f"/v2/teams/{tm.id}/memberships", {"userId": tm.bob.id}), 400, "a team you administer")
    assert e["details"]["field"] == "userId"
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
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships", emails="")) == all3
    assert ok(tm.v.get(f"/v2/teams/{tm.id}/memberships", emails=[tm.bob.email, tm.owner.email])) == [all3[0], b]

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
    carol = new_user(s, "carol@elsewhere.example", name="Carol")
    before = snap(db)
    base = f"/v2/teams/{tm.id}/memberships"
    err(tm.v.post(base, {}), 400, "userId")
    err(tm.v.post(base, {"userId": "7"}), 400)
    err(tm.v.post(base, {"userId": 1.5}), 400)
    err(tm.v.post(base, {"userId": tm.bob.id, "role": "KING"}), 400, "role")
    err(tm.v.post(base, {"userId": tm.bob.id, "accepted": "yes"}), 400)
    err(tm.v.post(base, {"userId": 99999999}), 400, "a team you administer")
    # a stranger's account is refused exactly like an id nobody has: neither its e-mail nor its
    # existence leaks, and nobody is made a host of a stranger's team
    e1 = err(tm.v.post(base, {"userId": carol.id}), 400)
    e2 = err(tm.v.post(base, {"userId": 99999999}), 400)
    assert e1["message"] == e2["message"] and e1["details"]["field"] == "userId"
    assert "carol" not in json.dumps(e1)
    e = err(tm.v.post(base, {"userId": tm.alice.id}), 409)  # already a member
    assert e["details"]["field"] == "userId"
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


# ------------------------------------------------------------------------------ team event types


def slots(s, slug, et_slug, day):
    q = f"start={day}&end={day}&timezone=UTC&format=range"
    r = call(s, "GET", f"/api/availability/{slug}/{et_slug}?{q}")
    assert r.status == 200, r
    return r.json()["slots"].get(day.isoformat(), [])


def book(s, slug, et_slug, start, email="ivy@example.com"):
    return call(s, "POST", f"/api/book/{slug}/{et_slug}", {"name": "Ivy Invitee", "email": email, "start_time": start})


def utc_hours(day, tz):
    """The UTC hours 09:00-17:00 of `day` in tz cover."""
    z = ZoneInfo(tz)
    a = dt.datetime.combine(day, dt.time(9), z).astimezone(dt.timezone.utc)
    b = dt.datetime.combine(day, dt.time(17), z).astimezone(dt.timezone.utc)
    return a, b


def test_round_robin_event_type_books_through_native_paths(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    tm.add(tm.bob)
    base = f"/v2/teams/{tm.id}/event-types"
    et = ok(tm.v.post(base, {"title": "Intro Call", "slug": "intro", "lengthInMinutes": 30,
                             "description": "Say hello", "schedulingType": "roundRobin", "minimumBookingNotice": 0,
                             "bookingWindow": {"type": "calendarDays", "value": 365, "rolling": False},
                             "hosts": [{"userId": tm.alice.id, "priority": "high"},
                                       {"userId": tm.bob.id, "priority": "lowest", "mandatory": False}]}), 201)
    assert (et["teamId"], et["schedulingType"], et["slug"], et["title"], et["lengthInMinutes"]) == \
        (tm.id, "roundRobin", "intro", "Intro Call", 30)
    assert et["ownerId"] is None and et["assignAllTeamMembers"] is False and et["description"] == "Say hello"
    assert [(h["userId"], h["priority"], h["mandatory"]) for h in et["hosts"]] == \
        [(tm.alice.id, "high", False), (tm.bob.id, "lowest", False)]
    assert (et["team"]["id"], et["team"]["slug"], et["team"]["name"]) == (tm.id, tm.team["slug"], tm.team["name"])
    # the native org event type, its hosts on the native priority scale
    assert db.sql(f"SELECT org_id, scheduling, min_notice_hours, max_future_days FROM event_types "
                  f"WHERE id = {et['id']}") == [[str(tm.id), "round_robin", "0", "365"]]
    assert db.sql(f"SELECT user_id, priority FROM event_type_hosts WHERE event_type_id = {et['id']} "
                  f"ORDER BY user_id") == [[str(tm.alice.id), "3"], [str(tm.bob.id), "0"]]

    # slots: the union of the hosts' working hours (Alice 09-17 UTC, Bob 09-17 New York)
    mon = next_monday()
    day = slots(s, tm.team["slug"], "intro", mon)
    a0, _ = utc_hours(mon, "UTC")
    _, b1 = utc_hours(mon, "America/New_York")
    starts = [x["start"] for x in day]
    assert starts[0] == a0.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert starts[-1] == (b1 - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # the same slots through Cal.com's own slots call, by team slug and by id
    for q in ({"eventTypeSlug": "intro", "teamSlug": tm.team["slug"]}, {"eventTypeId": et["id"]}):
        v2 = ok(V2(s).get("/v2/slots", start=mon.isoformat(), end=mon.isoformat(), **q))
        assert [x["start"].replace(".000Z", "Z") for x in v2[mon.isoformat()]] == starts
    # a booking goes to one host: the highest priority free one
    start = f"{mon.isoformat()}T15:00:00Z"
    r = book(s, tm.team["slug"], "intro", start)
    assert r.status == 201, r
    assert r.json()["booking"]["host"]["id"] == tm.alice.id
    r = book(s, tm.team["slug"], "intro", start, email="jo@example.com")
    assert r.status == 201, r
    assert r.json()["booking"]["host"]["id"] == tm.bob.id
    assert start not in [x["start"] for x in slots(s, tm.team["slug"], "intro", mon)]

    # read: public list (no credential), one by slug, one by id
    pub = V2(s)
    assert [x["id"] for x in ok(pub.get(base))] == [et["id"]]
    assert [x["id"] for x in ok(pub.get(base, eventSlug="intro"))] == [et["id"]]
    assert ok(pub.get(base, eventSlug="nope")) == []
    assert [len(x["hosts"]) for x in ok(pub.get(base, hostsLimit=1))] == [1]
    assert ok(tm.v.get(f"{base}/{et['id']}")) == ok(pub.get(base))[0]
    assert ok(V2(s, tm.alice.key).get(f"{base}/{et['id']}"))["id"] == et["id"]  # members read

    up = ok(tm.v.patch(f"{base}/{et['id']}", {"title": "Intro", "lengthInMinutes": 45,
                                               "hosts": [{"userId": tm.bob.id, "priority": "highest"}]}))
    assert (up["title"], up["lengthInMinutes"], [(h["userId"], h["priority"]) for h in up["hosts"]]) == \
        ("Intro", 45, [(tm.bob.id, "highest")])
    assert ok(tm.v.get(f"{base}/{et['id']}")) == up
    gone = ok(tm.v.delete(f"{base}/{et['id']}"))
    assert gone == {"id": et["id"], "lengthInMinutes": 45, "title": "Intro", "slug": "intro"}
    err(tm.v.get(f"{base}/{et['id']}"), 404)
    assert ok(pub.get(base)) == []


def test_collective_event_type_and_assign_all(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    base = f"/v2/teams/{tm.id}/event-types"
    et = ok(tm.v.post(base, {"title": "Panel", "slug": "panel", "lengthInMinutes": 60, "schedulingType": "collective",
                             "assignAllTeamMembers": True, "minimumBookingNotice": 0}), 201)
    assert et["schedulingType"] == "collective" and et["assignAllTeamMembers"] is True
    assert [(h["userId"], h["mandatory"]) for h in et["hosts"]] == [(tm.owner.id, True), (tm.alice.id, True)]
    # a member added later hosts it too (Cal.com's "all current and future team members")
    tm.add(tm.bob)
    et = ok(tm.v.get(f"{base}/{et['id']}"))
    assert [h["userId"] for h in et["hosts"]] == [tm.owner.id, tm.alice.id, tm.bob.id]
    assert db.sql(f"SELECT scheduling FROM event_types WHERE id = {et['id']}") == [["collective"]]

    # slots: the intersection (UTC 09-17 with New York 09-17), a booking occupies every host
    mon = next_monday()
    b0, _ = utc_hours(mon, "America/New_York")
    day = slots(s, tm.team["slug"], "panel", mon)
    starts = [x["start"] for x in day]
    assert starts == [f"{mon.isoformat()}T{h:02d}:00:00Z" for h in range(b0.hour, 17) if h + 1 <= 17], starts
    start = starts[0]
    r = book(s, tm.team["slug"], "panel", start)
    assert r.status == 201, r
    assert [h["id"] for h in r.json()["booking"]["hosts"]] == sorted([tm.owner.id, tm.alice.id, tm.bob.id])
    assert book(s, tm.team["slug"], "panel", start, email="jo@example.com").status == 409
    assert start not in [x["start"] for x in slots(s, tm.team["slug"], "panel", mon)]

    # giving hosts ends assignAllTeamMembers; a removed member stops hosting
    up = ok(tm.v.patch(f"{base}/{et['id']}", {"hosts": [{"userId": tm.owner.id}, {"userId": tm.alice.id}]}))
    assert up["assignAllTeamMembers"] is False and [h["userId"] for h in up["hosts"]] == [tm.owner.id, tm.alice.id]
    ok(tm.v.delete(f"/v2/teams/{tm.id}/memberships/{tm.alice.id}"))
    assert [h["userId"] for h in ok(tm.v.get(f"{base}/{et['id']}"))["hosts"]] == [tm.owner.id]


def test_team_event_type_rules_and_refusals(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    base = f"/v2/teams/{tm.id}/event-types"
    good = {"title": "T", "slug": "u", "lengthInMinutes": 30, "schedulingType": "roundRobin",
            "hosts": [{"userId": tm.alice.id}]}
    et = ok(tm.v.post(base, {**good, "slug": "t", "hidden": True}), 201)
    personal = nok(call(s, "POST", "/api/event-types", {"name": "Mine"}, auth=tm.owner.session), 201)
    before = snap(db), db.sql("SELECT count(*) FROM event_types")
    for body, status, field in [
            ({**good, "schedulingType": "managed"}, 400, "schedulingType"),
            ({**good, "schedulingType": "solo"}, 400, "schedulingType"),
            ({k: v for k, v in good.items() if k != "schedulingType"}, 400, "schedulingType"),
            ({k: v for k, v in good.items() if k != "hosts"}, 400, "hosts"),
            ({k: v for k, v in good.items() if k != "slug"}, 400, "slug"),
            ({k: v for k, v in good.items() if k != "lengthInMinutes"}, 400, "lengthInMinutes"),
            ({**good, "assignAllTeamMembers": True}, 400, "hosts"),
            ({**good, "hosts": [{"userId": tm.alice.id, "mandatory": True}]}, 400, "hosts"),
            ({**good, "hosts": [{"userId": tm.alice.id, "priority": "urgent"}]}, 400, "hosts"),
            ({**good, "hosts": [{"userId": tm.alice.id}, {"userId": tm.alice.id}]}, 400, "hosts"),
            ({**good, "hosts": [{"userId": tm.bob.id}]}, 400, "hosts"),  # not a member
            ({**good, "hosts": []}, 400, "hosts"),
            ({**good, "lengthInMinutes": "30"}, 400, "lengthInMinutes"),
            ({**good, "lengthInMinutes": 2}, 400, "lengthInMinutes"),
            ({**good, "title": ""}, 400, "title"),
            ({**good, "slug": "Bad Slug"}, 400, "slug"),
            ({**good, "minimumBookingNotice": 90}, 400, "minimumBookingNotice"),
            ({**good, "scheduleId": 1}, 400, "scheduleId"),
            ({**good, "recurrence": {"interval": 1, "occurrences": 3, "frequency": "weekly"}}, 400, "recurrence"),
            ({**good, "title": None}, 400, "title"),
            ({**good, "slug": "t"}, 409, "slug")]:
        e = err(tm.v.post(base, body), status)
        assert e["details"].get("field") == field, (body, e)
    err(tm.v.patch(f"{base}/{et['id']}", {"schedulingType": "managed"}), 400, "managed")
    err(tm.v.patch(f"{base}/{et['id']}", {"hosts": [{"userId": 99999999}]}), 400)
    err(tm.v.patch(f"{base}/999999", {"title": "x"}), 404)
    # a personal event type is no team's
    err(tm.v.get(f"{base}/{personal['id']}"), 404)
    err(tm.v.patch(f"{base}/{personal['id']}", {"title": "x"}), 404)
    err(tm.v.delete(f"{base}/{personal['id']}"), 404)
    err(tm.v.delete(f"{base}/999999"), 404)
    err(V2(s).post(base, good), 401)
    # a member cannot make or change one; a stranger's team is 404, its listing too
    member = V2(s, tm.alice.key)
    err(member.post(base, {**good, "slug": "m"}), 403)
    err(member.patch(f"{base}/{et['id']}", {"title": "m"}), 403)
    err(member.delete(f"{base}/{et['id']}"), 403)
    stranger = V2(s, tm.bob.key)
    err(stranger.post(base, {**good, "slug": "x"}), 404)
    err(stranger.get(f"{base}/{et['id']}"), 404)
    err(stranger.delete(f"{base}/{et['id']}"), 404)
    err(V2(s).get("/v2/teams/999999/event-types"), 404)
    err(V2(s).get(base, sortCreatedAt="up"), 400, "sortCreatedAt")
    assert (snap(db), db.sql("SELECT count(*) FROM event_types")) == before
    # hidden: only the team's own see it
    assert ok(V2(s).get(base)) == [] and ok(stranger.get(base)) == []
    assert [x["id"] for x in ok(member.get(base))] == [et["id"]]
    assert ok(member.get(base))[0]["hidden"] is True


def test_team_event_type_settings_map_onto_native_fields(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    base = f"/v2/teams/{tm.id}/event-types"
    et = ok(tm.v.post(base, {"title": "Deep", "slug": "deep", "lengthInMinutes": 30,
                             "lengthInMinutesOptions": [30, 60], "schedulingType": "roundRobin",
                             "hosts": [{"userId": tm.alice.id}], "slotInterval": 15, "minimumBookingNotice": 120,
                             "beforeEventBuffer": 5, "afterEventBuffer": 10,
                             "seats": {"seatsPerTimeSlot": 3, "showAttendeeInfo": False, "showAvailabilityCount": True},
                             "bookingLimitsCount": {"day": 2, "week": 5},
                             "confirmationPolicy": {"type": "always", "blockUnconfirmedBookingsInBooker": True},
                             "color": {"lightThemeHex": "#112233", "darkThemeHex": "#112233"},
                             "locations": [{"type": "address", "address": "1 Main St", "public": True}],
                             "rescheduleWithSameRoundRobinHost": True}), 201)
    row = db.sql(f"SELECT duration_minutes, durations, slot_interval_minutes, min_notice_hours, buffer_before, "
                 f"buffer_after, seats, limit_per_day, limit_per_week, requires_confirmation, color, location_type, "
                 f"location_value FROM event_types WHERE id = {et['id']}")
    assert row == [["30", "{30,60}", "15", "2", "5", "10", "3", "2", "5", "t", "#112233", "in_person", "1 Main St"]]
    assert (et["slotInterval"], et["minimumBookingNotice"], et["beforeEventBuffer"], et["afterEventBuffer"]) == \
        (15, 120, 5, 10)
    assert et["rescheduleWithSameRoundRobinHost"] is True
    up = ok(tm.v.patch(f"{base}/{et['id']}", {"seats": {"disabled": True}, "bookingLimitsCount": {"disabled": True},
                                               "confirmationPolicy": {"disabled": True}, "locations": []}))
    assert db.sql(f"SELECT seats, limit_per_day, limit_per_week, requires_confirmation, location_type "
                  f"FROM event_types WHERE id = {et['id']}") == [["1", "", "", "f", ""]]
    assert up["id"] == et["id"]


# ------------------------------------------------------------------------------ team schedules


# ScheduleOutput_2024_06_11's availability[].days carries its items' enum on the array itself too
# (a generator artifact: no array equals a day name); the items keep theirs.
_SCHED = copy.deepcopy(calcom_util.DEFINITIONS["ScheduleOutput_2024_06_11"])
_AV = calcom_util.DEFINITIONS[_SCHED["properties"]["availability"]["items"]["$ref"].split("/")[-1]]
_AV = copy.deepcopy(_AV)
_AV["properties"]["days"].pop("enum", None)
# and its times' pattern is the literal 'TIME_FORMAT_HH_MM' (a constant's name, not a pattern)
for _k in ("startTime", "endTime"):
    _AV["properties"][_k]["pattern"] = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
calcom_util.DEFINITIONS["ScheduleAvailability_slotd"] = _AV
_SCHED["properties"]["availability"]["items"] = {"$ref": "#/definitions/ScheduleAvailability_slotd"}
SCHEDULE_LIST = {"type": "array", "items": _SCHED}


def test_team_schedules(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    # not an operation of the subset: validated here against ScheduleOutput_2024_06_11 items
    r = tm.v.get(f"/v2/teams/{tm.id}/schedules", check=False)
    data = ok(r)
    calcom_util.jsonschema.Draft7Validator({**SCHEDULE_LIST, "definitions": calcom_util.DEFINITIONS}).validate(data)
    assert [(x["ownerId"], x["timeZone"], x["isDefault"]) for x in data] == \
        [(tm.owner.id, "UTC", True), (tm.alice.id, "UTC", True)]
    assert data[0]["availability"] == [{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                                        "startTime": "09:00", "endTime": "17:00"}]
    r = V2(s, tm.alice.key).get(f"/v2/teams/{tm.id}/schedules", check=False)
    assert r.status == 403
    r = V2(s, tm.bob.key).get(f"/v2/teams/{tm.id}/schedules", check=False)
    assert r.status == 404 and r.json()["status"] == "error"


def test_version_header_and_org_key_on_event_types(s, db):
    tm = Team(s)
    tm.add(tm.alice)
    base = f"/v2/teams/{tm.id}/event-types"
    # teams, memberships and team event types have no cal-api-version: any value is ignored
    assert ok(tm.v.get(f"/v2/teams/{tm.id}", headers={"cal-api-version": "1999-01-01"}))["id"] == tm.id
    assert ok(V2(s).get(base, headers={"cal-api-version": "2024-06-14"})) == []
    # an org key manages the team's event types (as an admin of its own org)
    _, hdr = org_key(s, tm.id, tm.owner.session)
    kv = V2(s, hdr["X-API-Key"])
    et = ok(kv.post(base, {"title": "Keyed", "slug": "keyed", "lengthInMinutes": 30, "schedulingType": "collective",
                           "hosts": [{"userId": tm.alice.id, "mandatory": True}]}), 201)
    assert et["hosts"][0]["mandatory"] is True and et["bookingWindow"] == [] and et["minimumBookingNotice"] == 120
    # changing the scheduling while bookings are upcoming is refused natively (409), naming the field
    ok(kv.patch(f"{base}/{et['id']}", {"minimumBookingNotice": 0}))
    mon = next_monday()
    assert book(s, tm.team["slug"], "keyed", f"{mon.isoformat()}T10:00:00Z").status == 201
    e = err(kv.patch(f"{base}/{et['id']}", {"schedulingType": "roundRobin"}), 409)
    assert e["details"]["field"] == "schedulingType"
    err(V2(s).get(base, hostsLimit="x"), 400, "hostsLimit")
    assert ok(kv.delete(f"{base}/{et['id']}"))["slug"] == "keyed"


def test_team_event_types_take_what_personal_ones_take(s, db):
    """One translation for personal and team event types: booking fields, locations and the
    display settings a team type is given are stored and returned as for a personal one."""
    tm = Team(s)
    tm.add(tm.alice)
    base = f"/v2/teams/{tm.id}/event-types"
    body = {"title": "Support", "slug": "support", "lengthInMinutes": 30, "schedulingType": "collective",
            "hosts": [{"userId": tm.alice.id}],
            "bookingFields": [{"type": "text", "slug": "company", "label": "Company", "required": True}],
            "locations": [{"type": "link", "link": "https://meet.example.com/support"}],
            "hideCalendarNotes": True}
    et = ok(tm.v.post(base, body), 201)
    custom = [f for f in et["bookingFields"] if not f.get("isDefault")]
    assert [(f["slug"], f["type"], f["required"]) for f in custom] == [("company", "text", True)], et
    assert [(x["type"], x["link"]) for x in et["locations"]] == [("link", "https://meet.example.com/support")], et
    assert et.get("hideCalendarNotes") is True, et
    got = ok(tm.v.get(f"{base}/{et['id']}"))
    assert got["bookingFields"] == et["bookingFields"] and got["locations"] == et["locations"]
    q = db.sql(f"SELECT questions->0->>'label' FROM event_types WHERE id = {et['id']}")
    assert q == [["Company"]], q
