"""Issue 12: "another org's resources are 404; a member cannot manage other members; an org
key cannot touch personal resources of its members."

The matrix: org A (owner Alice, an admin, a member with a login, a member without one, a team,
schedules, time off, an org key) and org B (owner Bob, an org key). Every org endpoint, with
every credential of the other side (session cookie, personal key as X-API-Key and as Bearer,
org key of the other org), is 404 -- 'organisation not found', never 403, never a detail of
org A -- and nothing in the database changes. Org B's own paths with org A's ids are 404 too.
A member of org A gets 403 on everything that manages others; org A's key gets 403 on every
personal route.
"""

import pytest

from accounts_util import NO_LIMITS, assert_error, bearer, call, new_user, xkey
from org_util import add_member, add_time_off, make_org, make_team, ok, org_key, org_snapshot

SOON = {"start": "2030-02-01T00:00:00Z", "end": "2030-02-02T00:00:00Z"}


class World:
    def __init__(self, s, db):
        self.s = s
        self.alice = new_user(s, "alice@example.com", name="Alice Owner", key=True)
        self.bob = new_user(s, "bob@example.com", name="Bob Owner", key=True)
        self.a = make_org(s, self.alice.session, name="Alpha Secret Org", slug="alpha-org")["id"]
        self.b = make_org(s, self.bob.session, name="Beta Org", slug="beta-org")["id"]
        self.mem = new_user(s, "mem@example.com", name="Mem Login")
        add_member(s, self.a, self.alice.session, self.mem.email)
        self.adm = new_user(s, "adm@example.com", name="Adm Login")
        add_member(s, self.a, self.alice.session, self.adm.email, role="admin")
        self.p = add_member(s, self.a, self.alice.session, "hidden.member@example.com", name="Hidden Member")["user_id"]
        self.team = make_team(s, self.a, self.alice.session, name="Alpha Team", member_ids=[self.p])["id"]
        self.sched = db.sql(f"SELECT id FROM availability_schedules WHERE user_id = {self.p}")[0][0]
        self.to = add_time_off(s, self.alice.session, **SOON, path=f"/api/orgs/{self.a}/members/{self.p}/time-off",
                               reason="alpha private reason")["id"]
        self.alice_to = add_time_off(s, self.alice.session, **SOON)["id"]
        self.key_a_id, self.key_a = org_key(s, self.a, self.alice.session)
        self.key_b_id, self.key_b = org_key(s, self.b, self.bob.session)
        self.secrets = ["Alpha Secret Org", "alpha-org", "hidden.member@example.com", "Hidden Member", "Alpha Team",
                        "alpha private reason"]

    def org_endpoints(self, org, member, sched, to, team, key_id):
        base = f"/api/orgs/{org}"
        m = f"{base}/members/{member}"
        return [
            ("GET", base, None),
            ("PUT", base, {"name": "Hacked"}),
            ("DELETE", base, None),
            ("POST", f"{base}/members", {"email": "intruder@example.com", "name": "Intruder"}),
            ("GET", f"{base}/members", None),
            ("PUT", m, {"role": "owner"}),
            ("DELETE", m, None),
            ("GET", f"{m}/schedules", None),
            ("POST", f"{m}/schedules", {"name": "Intruder hours"}),
            ("GET", f"{m}/schedules/{sched}", None),
            ("PUT", f"{m}/schedules/{sched}", {"name": "Hacked"}),
            ("DELETE", f"{m}/schedules/{sched}", None),
            ("GET", f"{m}/time-off", None),
            ("POST", f"{m}/time-off", SOON),
            ("DELETE", f"{m}/time-off/{to}", None),
            ("POST", f"{base}/api-keys", {"label": "intruder"}),
            ("GET", f"{base}/api-keys", None),
            ("DELETE", f"{base}/api-keys/{key_id}", None),
            ("POST", f"{base}/teams", {"name": "Intruders"}),
            ("GET", f"{base}/teams", None),
            ("GET", f"{base}/teams/{team}", None),
            ("PUT", f"{base}/teams/{team}", {"name": "Hacked", "member_ids": []}),
            ("DELETE", f"{base}/teams/{team}", None),
        ]


@pytest.fixture
def world(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    return World(s, db)


def no_leak(r, w, what):
    text = r.body.decode("utf-8", "replace")
    for sec in w.secrets:
        assert sec not in text, f"{what}: leaks {sec!r}: {text[:300]}"


CREDS = ["cookie", "x-api-key", "bearer", "org key"]


def bob_creds(w, kind):
    return {"cookie": w.bob.session, "x-api-key": xkey(w.bob.key), "bearer": bearer(w.bob.key),
            "org key": w.key_b}[kind]


@pytest.mark.parametrize("kind", CREDS)
def test_other_org_is_not_found(world, db, kind):
    w = world
    before = org_snapshot(db)
    auth = bob_creds(w, kind)
    for method, path, body in w.org_endpoints(w.a, w.p, w.sched, w.to, w.team, w.key_a_id):
        r = call(w.s, method, path, body, auth=auth)
        j = assert_error(r, 404, "NOT_FOUND")
        assert j["error"] == "organisation not found", (kind, method, path, j)
        no_leak(r, w, f"{kind} {method} {path}")
    # the list of one's orgs shows only one's own
    lst = ok(call(w.s, "GET", "/api/orgs", auth=auth))
    assert [o["id"] for o in lst] == [w.b], lst
    assert org_snapshot(db) == before


@pytest.mark.parametrize("kind", ["cookie", "org key"])
def test_own_org_with_other_orgs_ids(world, db, kind):
    """Org B's paths, with org A's member, schedule, time off, team and key ids: not found."""
    w = world
    before = org_snapshot(db)
    auth = bob_creds(w, kind)
    for method, path, body in w.org_endpoints(w.b, w.p, w.sched, w.to, w.team, w.key_a_id):
        ids = (f"/members/{w.p}", f"/teams/{w.team}", f"/api-keys/{w.key_a_id}")
        if not any(i in path for i in ids):
            continue
        r = call(w.s, method, path, body, auth=auth)
        assert_error(r, 404, "NOT_FOUND")
        no_leak(r, w, f"{kind} {method} {path}")
    # and org B's own member paths with org A's schedule / time off ids
    base = f"/api/orgs/{w.b}/members/{w.bob.id}"
    for method, path, body in (("GET", f"{base}/schedules/{w.sched}", None),
                               ("PUT", f"{base}/schedules/{w.sched}", {"name": "Hacked"}),
                               ("DELETE", f"{base}/schedules/{w.sched}", None),
                               ("DELETE", f"{base}/time-off/{w.to}", None)):
        assert_error(call(w.s, method, path, body, auth=auth), 404, "NOT_FOUND")
    assert org_snapshot(db) == before


def test_org_key_refused_on_personal_routes(world, db):
    w = world
    before = org_snapshot(db)
    alice_sched = db.sql(f"SELECT id FROM availability_schedules WHERE user_id = {w.alice.id}")[0][0]
    personal = [
        ("GET", "/api/auth/me", None), ("PUT", "/api/auth/me", {"name": "Hacked"}),
        ("PUT", "/api/auth/password", {"current_password": "x", "new_password": "long enough pw"}),
        ("POST", "/api/auth/logout", None),
        ("GET", "/api/api-keys", None), ("POST", "/api/api-keys", {"label": "x"}),
        ("DELETE", f"/api/api-keys/{w.alice.key_id}", None),
        ("GET", "/api/booking-page", None), ("PUT", "/api/booking-page", {"bio": "hacked"}),
        ("GET", "/api/event-types", None), ("POST", "/api/event-types", {"name": "Hacked"}),
        ("GET", "/api/availability-schedules", None), ("POST", "/api/availability-schedules", {"name": "X"}),
        ("GET", f"/api/availability-schedules/{alice_sched}", None),
        ("PUT", f"/api/availability-schedules/{alice_sched}", {"name": "Hacked"}),
        ("DELETE", f"/api/availability-schedules/{alice_sched}", None),
        ("GET", "/api/bookings", None), ("GET", "/api/bookings/1", None),
        ("GET", "/api/webhooks", None), ("POST", "/api/webhooks", {"url": "https://example.com/h", "events": ["ping"]}),
        ("GET", "/api/reservations", None),
        ("GET", "/api/time-off", None), ("POST", "/api/time-off", SOON),
        ("DELETE", f"/api/time-off/{w.alice_to}", None),
        ("POST", "/api/orgs", {"name": "New", "slug": "new-org"}),
    ]
    for method, path, body in personal:
        for key in (w.key_a, w.key_b):
            r = call(w.s, method, path, body, auth=key)
            e = assert_error(r, 403, "FORBIDDEN")
            assert "organisation" in e["error"], (method, path, e)
            no_leak(r, w, f"org key {method} {path}") if key is w.key_b else None
    assert org_snapshot(db) == before
    # org A's key on org B: not found
    assert_error(call(w.s, "GET", f"/api/orgs/{w.b}", auth=w.key_a), 404, "NOT_FOUND")
    # bob's personal routes do not see alice's time off
    assert_error(call(w.s, "DELETE", f"/api/time-off/{w.alice_to}", auth=w.bob.session), 404, "NOT_FOUND")
    assert org_snapshot(db) == before


def test_member_cannot_manage_others(world, db):
    w = world
    before = org_snapshot(db)
    allowed_reads = {("GET", f"/api/orgs/{w.a}"), ("GET", f"/api/orgs/{w.a}/members"), ("GET", f"/api/orgs/{w.a}/teams"),
                     ("GET", f"/api/orgs/{w.a}/teams/{w.team}")}
    for method, path, body in w.org_endpoints(w.a, w.p, w.sched, w.to, w.team, w.key_a_id):
        r = call(w.s, method, path, body, auth=w.mem.session)
        if (method, path) in allowed_reads:
            assert r.status == 200, (method, path, r)
        else:
            assert_error(r, 403, "FORBIDDEN")
    # nor an admin's or the owner's things
    for who in (w.adm.id, w.alice.id):
        for method, path, body in (("PUT", f"/api/orgs/{w.a}/members/{who}", {"role": "member"}),
                                   ("DELETE", f"/api/orgs/{w.a}/members/{who}", None),
                                   ("GET", f"/api/orgs/{w.a}/members/{who}/schedules", None),
                                   ("POST", f"/api/orgs/{w.a}/members/{who}/time-off", SOON)):
            assert_error(call(w.s, method, path, body, auth=w.mem.session), 403, "FORBIDDEN")
    assert org_snapshot(db) == before
    # an admin manages members but not the owner
    assert_error(call(w.s, "DELETE", f"/api/orgs/{w.a}/members/{w.alice.id}", auth=w.adm.session), 403, "FORBIDDEN")
    assert_error(call(w.s, "DELETE", f"/api/orgs/{w.a}", auth=w.adm.session), 403, "FORBIDDEN")
    assert org_snapshot(db) == before


def test_outsider_without_orgs(world, db):
    """Someone in no org at all: the same 404s, and an empty list."""
    w = world
    eve = new_user(w.s, "eve@example.com", name="Eve", key=True)
    before = org_snapshot(db)
    assert ok(call(w.s, "GET", "/api/orgs", auth=eve.session)) == []
    for method, path, body in w.org_endpoints(w.a, w.p, w.sched, w.to, w.team, w.key_a_id):
        for auth in (eve.session, xkey(eve.key)):
            r = call(w.s, method, path, body, auth=auth)
            assert_error(r, 404, "NOT_FOUND")
            no_leak(r, w, f"{method} {path}")
    assert org_snapshot(db) == before
