"""Issue 3: "A resource of another user is 404, never 403 with details and never its data."

The matrix: two users, every endpoint of issue 3, each user (with each kind of credential)
trying the other's resources.  Identity endpoints (/api/auth/me, /api/booking-page,
/api/api-keys) must always answer for the caller, whatever ids are smuggled into the query
or the body; the other user's API key id is 404 exactly like an id that does not exist; and
the victim's rows in the database do not change.
"""

import json

import pytest

from accounts_util import (NO_LIMITS, assert_error, bearer, call, cookie, login, new_user, set_cookie_parts, xkey)

ALICE_PW = "alice's long password"
BOB_PW = "bob's other password"


def victim_rows(db, uid):
    """The victim's rows, minus columns the victim's own later requests may touch."""
    q = {
        "users": f"SELECT row_to_json(x)::text FROM users x WHERE id = {uid}",
        "pages": f"SELECT row_to_json(x)::text FROM booking_pages x WHERE user_id = {uid}",
        "keys": f"SELECT coalesce(string_agg((row_to_json(x)::jsonb - 'last_used_at')::text, ';' ORDER BY id), '') "
                f"FROM api_keys x WHERE user_id = {uid}",
        "sessions": f"SELECT coalesce(string_agg(token_hash || expires_at::text, ';' ORDER BY id), '') "
                    f"FROM sessions WHERE user_id = {uid}",
        "schedules": f"SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') "
                     f"FROM availability_schedules x WHERE user_id = {uid}",
    }
    return {k: db.sql(v) for k, v in q.items()}


class Party:
    """A user with all the things the other one will go after."""

    def __init__(self, s, db, email, name, password, label, avatar, bio):
        self.u = new_user(s, email, name=name, password=password)
        first = self.u.make_key(label=label)["key"]
        self.u.make_key(label=label + "-2")  # u.key / u.key_id: the second one
        r = call(s, "PUT", "/api/auth/me", {"avatar_url": avatar}, auth=self.u.session)
        assert r.status == 200, r
        r = call(s, "PUT", "/api/booking-page", {"bio": bio, "brand_color": "#123456"}, auth=self.u.session)
        assert r.status == 200, r
        self.page_id = r.json()["id"]
        self.label = label
        self.avatar = avatar
        self.bio = bio
        self.key_ids = sorted(k["id"] for k in call(s, "GET", "/api/api-keys", auth=self.u.session).json())
        assert len(self.key_ids) == 2
        # private strings that must never reach the other user
        self.secrets = [self.u.email, label, avatar, first, self.u.key, password]

    def creds(self, kind):
        return {"cookie": self.u.session, "x-api-key": xkey(self.u.key), "bearer": bearer(self.u.key)}[kind]


@pytest.fixture
def pair(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    alice = Party(s, db, "alice.private@example.com", "Alice Anders", ALICE_PW, "ALICE-KEY-LABEL",
                  "https://alice.example/private-avatar.png", "alice public bio")
    bob = Party(s, db, "bob.private@example.com", "Bob Berg", BOB_PW, "BOB-KEY-LABEL",
                "https://bob.example/private-avatar.png", "bob public bio")
    return s, alice, bob


def no_leak(r, victim, what):
    text = r.body.decode("utf-8", "replace")
    for sec in victim.secrets:
        assert sec not in text, f"{what}: response leaks the other user's {sec!r}: {text[:300]}"
    return r


def check_is_self(s, hdr, me, victim):
    """The identity endpoints answer for `me`, whatever is smuggled in."""
    for path in ("/api/auth/me", f"/api/auth/me?user_id={victim.u.id}", f"/api/auth/me?id={victim.u.id}"):
        r = no_leak(call(s, "GET", path, auth=hdr), victim, path)
        assert r.status == 200 and r.json()["id"] == me.u.id and r.json()["email"] == me.u.email, (path, r)
    for path in ("/api/booking-page", f"/api/booking-page?user_id={victim.u.id}"):
        r = no_leak(call(s, "GET", path, auth=hdr), victim, path)
        assert r.status == 200 and r.json()["id"] == me.page_id and r.json()["slug"] == me.u.slug, (path, r)
    for path in ("/api/api-keys", f"/api/api-keys?user_id={victim.u.id}"):
        r = no_leak(call(s, "GET", path, auth=hdr), victim, path)
        assert r.status == 200, r
        ids = sorted(k["id"] for k in r.json())
        assert set(victim.key_ids).isdisjoint(ids), f"{path}: lists the other user's keys {ids}"
        assert set(me.key_ids) <= set(ids), (path, ids)


@pytest.mark.parametrize("kind", ["cookie", "x-api-key", "bearer"])
def test_cross_user_matrix(pair, db, kind):
    s, alice, bob = pair
    for me, victim in ((alice, bob), (bob, alice)):
        hdr = me.creds(kind)
        before = victim_rows(db, victim.u.id)
        ctx = f"{kind}: user {me.u.id} vs user {victim.u.id}"

        # GET /api/auth/me, /api/booking-page, /api/api-keys: always the caller's own
        check_is_self(s, hdr, me, victim)

        # DELETE /api/api-keys/:id of the other user: 404, the same answer as for a missing id
        missing = call(s, "DELETE", "/api/api-keys/987654321", auth=hdr)
        assert_error(missing, 404, "NOT_FOUND")
        for kid in victim.key_ids:
            r = no_leak(call(s, "DELETE", f"/api/api-keys/{kid}", auth=hdr), victim, ctx)
            assert_error(r, 404, "NOT_FOUND")
            assert r.body == missing.body, f"{ctx}: another user's key id is distinguishable from a missing one"

        # PUT /api/booking-page: taking the other's slug is a plain conflict; smuggled ids are ignored
        r = no_leak(call(s, "PUT", "/api/booking-page", {"slug": victim.u.slug}, auth=hdr), victim, ctx)
        assert_error(r, 409, "CONFLICT", "slug")
        r = no_leak(call(s, "PUT", "/api/booking-page",
                         {"welcome_message": f"hi from {me.u.id}", "id": victim.page_id, "user_id": victim.u.id},
                         auth=hdr), victim, ctx)
        assert r.status in (200, 400), r
        if r.status == 200:
            assert r.json()["id"] == me.page_id and r.json()["slug"] == me.u.slug, r

        # PUT /api/auth/me with the other's id / email in the body
        r = no_leak(call(s, "PUT", "/api/auth/me",
                         {"name": f"{me.u.name} renamed", "id": victim.u.id, "user_id": victim.u.id,
                          "email": victim.u.email}, auth=hdr), victim, ctx)
        assert r.status in (200, 400, 409), r
        if r.status == 200:
            assert r.json()["id"] == me.u.id and r.json()["email"] == me.u.email, r

        # POST /api/api-keys for the other user: the key is the caller's
        r = no_leak(call(s, "POST", "/api/api-keys", {"label": "made by attacker", "user_id": victim.u.id},
                         auth=hdr), victim, ctx)
        if r.status == 201:
            me.key_ids.append(r.json()["id"])
            who = call(s, "GET", "/api/auth/me", auth=xkey(r.json()["key"])).json()
            assert who["id"] == me.u.id, f"{ctx}: a key created with user_id in the body belongs to {who}"
        else:
            assert_error(r, 400)

        # PUT /api/auth/password with the other user's current password: it is not the caller's
        r = no_leak(call(s, "PUT", "/api/auth/password",
                         {"current_password": victim.u.password, "new_password": "taken over!!"}, auth=hdr),
                    victim, ctx)
        assert_error(r, 400, "VALIDATION_FAILED", "current_password")

        # GET /api/public/:slug of the other user: the public fields only, credentials or not
        r = no_leak(call(s, "GET", f"/api/public/{victim.u.slug}", auth=hdr), victim, ctx)
        assert r.status == 200 and r.json()["bio"] == victim.bio, r
        anon = call(s, "GET", f"/api/public/{victim.u.slug}")
        assert anon.body == r.body, "the public page differs for a logged-in user"

        # nothing of the victim changed, and the victim's credentials all still work
        assert victim_rows(db, victim.u.id) == before, f"{ctx}: the other user's rows changed"
        for vh in (victim.u.session, xkey(victim.u.key), bearer(victim.u.key)):
            r = call(s, "GET", "/api/auth/me", auth=vh)
            assert r.status == 200 and r.json()["id"] == victim.u.id, r
        assert login(s, victim.u.email, victim.u.password).status == 200


def test_cross_user_logout_and_password_change_stay_with_the_caller(pair, db):
    s, alice, bob = pair
    bob_other = set_cookie_parts(login(s, bob.u.email, BOB_PW))[0]
    before = victim_rows(db, bob.u.id)
    # Alice logs out: only her session ends, even with Bob's things in the body
    r = call(s, "POST", "/api/auth/logout", {"user_id": bob.u.id, "session": bob.u.token}, auth=alice.u.session)
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert_error(call(s, "GET", "/api/auth/me", auth=alice.u.session), 401, "UNAUTHORIZED")
    # Alice changes her password (ending her other sessions): Bob's sessions survive
    alice.u.login()
    r = call(s, "PUT", "/api/auth/password",
             {"current_password": ALICE_PW, "new_password": "alice new password", "user_id": bob.u.id},
             auth=alice.u.session)
    assert r.status == 200, r
    assert victim_rows(db, bob.u.id) == before, "Alice's logout / password change touched Bob's rows"
    for t in (bob.u.token, bob_other):
        r = call(s, "GET", "/api/auth/me", auth=cookie(t))
        assert r.status == 200 and r.json()["id"] == bob.u.id, r
    assert login(s, bob.u.email, BOB_PW).status == 200
    assert_error(login(s, bob.u.email, "alice new password"), 401, "UNAUTHORIZED")
    assert login(s, alice.u.email, "alice new password").status == 200
    # and Bob revoking his own key does not touch Alice's
    assert call(s, "DELETE", f"/api/api-keys/{bob.u.key_id}", auth=bob.u.session).status == 200
    assert call(s, "GET", "/api/auth/me", auth=xkey(alice.u.key)).status == 200
    assert_error(call(s, "GET", "/api/auth/me", auth=xkey(bob.u.key)), 401, "UNAUTHORIZED")


def test_one_users_credentials_never_mix(pair):
    """Several credentials in one request: the answer is for exactly one user, all of it."""
    s, alice, bob = pair
    r = call(s, "GET", "/api/auth/me", auth={**alice.u.session, **xkey(bob.u.key)})
    assert r.status == 200, r
    who = r.json()["id"]
    page = call(s, "GET", "/api/booking-page", auth={**alice.u.session, **xkey(bob.u.key)}).json()
    keys = call(s, "GET", "/api/api-keys", auth={**alice.u.session, **xkey(bob.u.key)}).json()
    owner = alice if who == alice.u.id else bob
    assert page["id"] == owner.page_id, (who, page)
    assert {k["id"] for k in keys} == set(owner.key_ids), (who, keys)
    assert json.dumps(keys).find(owner.label) >= 0
