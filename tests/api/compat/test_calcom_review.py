"""Cal.com v2 dialect: what a security review found, kept fixed. A seated group's public uid is
never a seat's own capability; a seated booking shows an anonymous caller none of the first
seat's private fields; a plain member of a shared organisation cannot pull a co-worker into a
team of their own; a location marked "public": false is not published. Bodies validated by V2."""

import datetime as dt

from booking_util import Host, day_at, env, iso  # noqa: F401 (env: module fixture)
from calcom_util import V2, group_uid, ok
import test_calcom_bookings  # noqa: F401 (its repairs of the booking outputs)
import test_calcom_event_types  # noqa: F401 (its repairs of the event-type outputs)


def seat(v2, et, start, email, **extra):
    body = {"start": iso(start), "eventTypeId": et["id"],
            "attendee": {"name": email.split("@")[0], "email": email, "timeZone": "UTC"}, **extra}
    return ok(v2.post("/v2/bookings", body), 201)


def test_group_uid_is_no_seat_capability(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, seats=3)
    anon = V2(env.s)
    at = day_at(6, 10)
    s1 = seat(anon, et, at, "victim@example.com", metadata={"secret": "ssn-123"},
              location={"type": "attendeeAddress", "address": "1 Victim Street"})
    s2 = seat(anon, et, at, "second@example.com")
    assert s1["uid"] == s2["uid"] == group_uid(s1["seatUid"]) and s1["seatUid"] != s1["uid"]
    # the public slots name the group, not a seat
    d = at.date().isoformat()
    slot = [x for x in ok(anon.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))[d]
            if x["start"] == at.strftime("%Y-%m-%dT%H:%M:%S.000Z")][0]
    assert slot["bookingUid"] == s1["uid"]
    before = env.db.sql("SELECT id, status, start_at FROM bookings ORDER BY id")
    # the group's uid as a seatUid names no seat: nothing moves, nothing is cancelled
    r = anon.post(f"/v2/bookings/{s1['uid']}/reschedule", {"start": iso(at + dt.timedelta(hours=2)),
                                                            "seatUid": s1["uid"]})
    assert r.status in (400, 404), r
    r = anon.post(f"/v2/bookings/{s1['uid']}/cancel", {"seatUid": s1["uid"]})
    assert r.status in (400, 404), r
    assert env.db.sql("SELECT id, status, start_at FROM bookings ORDER BY id") == before
    # the second seat's own answer and an anonymous read show none of the first seat's fields
    for body in (s2, ok(anon.get(f"/v2/bookings/{s1['uid']}"))):
        text = str(body)
        assert "ssn-123" not in text and "Victim Street" not in text and "victim@example.com" not in text, body


def test_member_cannot_pull_a_coworker_into_a_team(env):
    from accounts_util import new_user
    from org_util import add_member, make_org
    boss = new_user(env.s, f"boss{day_at(0).microsecond}{id(env)}@co.example", key=True)
    alice = new_user(env.s, f"alice{id(boss)}@co.example", key=True)
    bob = new_user(env.s, f"bob{id(alice)}@co.example", key=True)
    org = make_org(env.s, boss.session, name="Company", slug=f"company-{id(bob)}")
    add_member(env.s, org["id"], boss.session, alice.email)
    add_member(env.s, org["id"], boss.session, bob.email)
    v = V2(env.s, alice.key)
    team = ok(v.post("/v2/teams", {"name": "Alice's", "slug": f"alices-{id(v)}"}), 201)
    r = v.post(f"/v2/teams/{team['id']}/memberships", {"userId": bob.id, "accepted": True})
    assert r.status == 400, r
    assert env.db.sql(f"SELECT count(*) FROM org_members WHERE org_id = {team['id']} AND user_id = {bob.id}") == [["0"]]


def test_private_locations_are_not_published(env):
    h = Host(env.s, env.db)
    owner = V2(env.s, h.user.key)
    ok(owner.post("/v2/event-types", {"title": "Visit", "slug": "visit", "lengthInMinutes": 30,
                                      "locations": [{"type": "address", "address": "221B Secret St", "public": False},
                                                    {"type": "link", "link": "https://meet.example.com/x",
                                                     "public": True}]}), 201)
    mine = ok(owner.get("/v2/event-types"))
    assert "221B Secret St" in str(mine)
    public = ok(V2(env.s).get("/v2/event-types", username=h.slug))
    assert "221B Secret St" not in str(public) and "https://meet.example.com/x" in str(public), public
    assert {"type": "address", "address": "", "public": False} in public[0]["locations"]
