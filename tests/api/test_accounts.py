"""Issue 3: accounts, login sessions, API keys, booking page and the native error format.

Black-box: the real binary over HTTP, PostgreSQL looked at through psql only to check what
was (or was not) written.  Rate limits: test_ratelimit.py; two users attacking each
other's resources: test_cross_user.py.
"""

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from accounts_util import (HEX64, KEY_RE, NO_LIMITS, PASSWORD, RFC3339_Z, SEED_TS, SLUG_RE, all_db_text,
                           assert_error, assert_ratelimit_headers, bearer, call, cookie, count, login, median,
                           new_user, register, set_cookie_parts, sha256_hex, snapshot, timed, xkey)
from conftest import Slotd, request_bytes, run_slotd, wait_until


@pytest.fixture
def api(slotd_factory):
    """A slotd of its own (fresh database), rate limits out of the way."""
    return slotd_factory(env=NO_LIMITS)


@pytest.fixture(scope="module")
def shared(pg, tmp_path_factory):
    """One slotd + database for the tests that do not need a fresh one (each uses its own
    email addresses and names); saves a server start per test. Checked like every slotd:
    clean exit, no sanitizer report."""
    d = pg.create_db("accounts_shared")
    s = Slotd(tmp_path_factory.mktemp("accounts-shared"), d.url, env=NO_LIMITS, name="shared")
    try:
        s.start()
        yield s, d
        s.check_clean_exit()
    finally:
        s.kill()
        d.drop()


def now_utc():
    return datetime.now(timezone.utc)


# ============================================================================ register


def test_register_shape_as_in_seed(api, db):
    before = now_utc()
    r = register(api, "Jane.Smith@Example.COM", name="Jane Smith")
    assert r.status == 201, r
    assert r.header("Content-Type").split(";")[0] == "application/json"
    assert_ratelimit_headers(r)
    j = r.json()
    assert set(j) == {"user", "bookingSlug"}, j
    u = j["user"]
    assert {"id", "email", "name", "timezone", "created_at"} <= set(u), u
    assert set(u) <= {"id", "email", "name", "timezone", "created_at", "avatar_url", "created_at_rfc3339"}, u
    assert "password" not in r.body.decode() and PASSWORD not in r.body.decode()
    assert isinstance(u["id"], int) and u["id"] > 0
    assert u["email"] == "jane.smith@example.com", "email must be stored lower-case"
    assert u["name"] == "Jane Smith"
    assert u["timezone"] == "America/Los_Angeles"
    assert u.get("avatar_url") is None
    assert SEED_TS.fullmatch(u["created_at"]), u["created_at"]
    created = datetime.strptime(u["created_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    assert before - timedelta(seconds=5) <= created <= now_utc() + timedelta(seconds=5), "created_at is not UTC now"
    if "created_at_rfc3339" in u:  # the unambiguous twin must agree with the seed-format field
        assert RFC3339_Z.fullmatch(u["created_at_rfc3339"]), u
        assert u["created_at_rfc3339"][:19].replace("T", " ") == u["created_at"]
    assert j["bookingSlug"] == "jane-smith"
    assert count(db, "users") == 1


def test_register_creates_booking_page_and_default_schedule(shared):
    api, db = shared
    u = new_user(api, "tz@example.com", name="Ana Tz", timezone="Europe/Berlin")
    assert u.reg["user"]["timezone"] == "Europe/Berlin"
    rows = db.sql(f"SELECT name, timezone, rules::text, is_default FROM availability_schedules WHERE user_id = {u.id}")
    assert len(rows) == 1, rows
    name, tz, rules, is_default = rows[0]
    assert name == "Working Hours" and tz == "Europe/Berlin" and is_default == "t", rows
    rules = json.loads(rules)
    assert sorted((x["day"], x["start"], x["end"]) for x in rules) == \
        [(d, "09:00", "17:00") for d in range(1, 6)], rules  # Monday (1) to Friday (5)
    page = call(api, "GET", "/api/booking-page", auth=u.session)
    assert page.status == 200, page
    p = page.json()
    assert p["slug"] == u.slug == "ana-tz"
    assert p["display_name"] == "Ana Tz"
    pub = call(api, "GET", f"/api/public/{u.slug}")
    assert pub.status == 200 and pub.json()["display_name"] == "Ana Tz", pub


def test_register_slug_suffixes(api, db):
    slugs = [new_user(api, f"j{i}@example.com", name="Jane Smith", session=False).slug for i in range(3)]
    assert slugs == ["jane-smith", "jane-smith-2", "jane-smith-3"]
    # a slug made from an awkward name is still a valid, reachable slug
    for i, name in enumerate(["  Dr. Ana-María O'Neil  ", "!!!", "日本語の名前", "X" * 100]):
        u = new_user(api, f"odd{i}@example.com", name=name, session=False)
        assert SLUG_RE.fullmatch(u.slug) and len(u.slug) <= 60, (name, u.slug)
        r = call(api, "GET", f"/api/public/{u.slug}")
        assert r.status == 200 and r.json()["display_name"] == name, r
    assert count(db, "booking_pages") == 7
    assert int(db.sql("SELECT count(DISTINCT slug) FROM booking_pages")[0][0]) == 7


def test_register_email_unique_case_insensitively(api, db):
    new_user(api, "dup@example.com", session=False)
    before = snapshot(db)
    for email in ("dup@example.com", "DUP@Example.com", "Dup@EXAMPLE.COM"):
        r = register(api, email, name="Someone Else")
        assert_error(r, 409, "CONFLICT", "email")
    assert snapshot(db) == before, "a rejected registration wrote something"
    assert count(db, "booking_pages") == 1 and count(db, "availability_schedules") == 1


def test_register_concurrent_same_email(api, db):
    results = []

    def go(i):
        results.append(register(api, "race@example.com", name=f"Racer {i}").status)

    ts = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(results) == [201] + [409] * 5, results
    assert count(db, "users") == 1 and count(db, "booking_pages") == 1 and count(db, "availability_schedules") == 1


def test_register_concurrent_same_name_gets_distinct_slugs(api, db):
    out = []

    def go(i):
        out.append(register(api, f"same{i}@example.com", name="Same Name"))

    ts = [threading.Thread(target=go, args=(i,)) for i in range(5)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert [r.status for r in out] == [201] * 5, out
    assert sorted(r.json()["bookingSlug"] for r in out) == \
        ["same-name", "same-name-2", "same-name-3", "same-name-4", "same-name-5"]


REGISTER_INVALID = [
    ({"password": PASSWORD, "name": "N"}, "email"),
    ({"email": "", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "not-an-email", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "a@b", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "@example.com", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "a@@example.com", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "a b@example.com", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "x" * 250 + "@example.com", "password": PASSWORD, "name": "N"}, "email"),
    ({"email": 42, "password": PASSWORD, "name": "N"}, "email"),
    ({"email": "ok@example.com", "name": "N"}, "password"),
    ({"email": "ok@example.com", "password": "1234567", "name": "N"}, "password"),
    ({"email": "ok@example.com", "password": "p" * 257, "name": "N"}, "password"),
    ({"email": "ok@example.com", "password": 12345678, "name": "N"}, "password"),
    ({"email": "ok@example.com", "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": ""}, "name"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": None}, "name"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "n" * 101}, "name"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": ["N"]}, "name"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "N", "timezone": "Mars/Base"}, "timezone"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "N", "timezone": "../../etc/passwd"}, "timezone"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "N", "timezone": "posixrules"}, "timezone"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "N", "timezone": ""}, "timezone"),
    ({"email": "ok@example.com", "password": PASSWORD, "name": "N", "timezone": 5}, "timezone"),
]


def test_register_invalid_fields(shared):
    api, db = shared
    before = snapshot(db)
    for body, field in REGISTER_INVALID:
        r = call(api, "POST", "/api/auth/register", body)
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            raise AssertionError(f"body {body!r}: {e}") from None
    assert snapshot(db) == before, "a rejected registration wrote something"


def test_register_blank_name_rejected(shared):
    """A name of only white space is a missing name (it would be the booking page's title)."""
    api, db = shared
    for name in ("   ", "\t\n", " \u00a0 "):
        r = register(api, "blank@example.com", name=name)
        assert_error(r, 400, "VALIDATION_FAILED", "name")
    assert count(db, "users", "email = 'blank@example.com'") == 0


def test_password_minimum_counts_characters_not_bytes(shared):
    """"Minimum 8 characters": four 2-byte characters are 4 characters, not 8."""
    api, db = shared
    for path, body, field in [
        ("/api/auth/register", {"email": "chars@example.com", "password": "éééé", "name": "N"}, "password"),
        ("/api/auth/register", {"email": "chars@example.com", "password": "€€€", "name": "N"}, "password"),
    ]:
        r = call(api, "POST", path, body)
        assert_error(r, 400, "VALIDATION_FAILED", field)
    assert count(db, "users", "email = 'chars@example.com'") == 0
    u = new_user(api, "chars2@example.com")
    r = call(api, "PUT", "/api/auth/password", {"current_password": PASSWORD, "new_password": "éééé"}, auth=u.session)
    assert_error(r, 400, "VALIDATION_FAILED", "new_password")
    # 8 multi-byte characters are fine
    assert register(api, "chars3@example.com", password="éééééééé", name="N").status == 201


def test_register_boundaries_accepted(shared):
    api, db = shared
    ok = [
        ("eight@example.com", "p" * 8, "N"),
        ("long@example.com", "p" * 256, "N" * 100),
        ("multi@example.com", PASSWORD, "é" * 100),  # 100 characters, 200 bytes
        ("plus+tag@sub.example.co.uk", PASSWORD, "Plus Tag"),
    ]
    for email, pw, name in ok:
        r = register(api, email, password=pw, name=name)
        assert r.status == 201, (email, r)
        assert login(api, email, pw).status == 200
    r = register(api, "utc@example.com", name="U", timezone="UTC")
    assert r.status == 201 and r.json()["user"]["timezone"] == "UTC", r


# ============================================================================ login / sessions


def test_login_shape_and_cookie(shared):
    api, db = shared
    u = new_user(api, "Login@Example.com", name="Lo Gin", session=False)
    r = login(api, "LOGIN@example.COM", PASSWORD)  # email is case-insensitive
    assert r.status == 200, r
    assert_ratelimit_headers(r)
    assert r.json() == {"user": {"id": u.id, "email": "login@example.com", "name": "Lo Gin",
                                 "timezone": "America/Los_Angeles"}}
    token, attrs = set_cookie_parts(r)
    assert HEX64.fullmatch(token), token
    assert attrs.get("httponly") is True and attrs.get("secure") is True, attrs
    assert attrs.get("samesite", "").lower() == "lax" and attrs.get("path") == "/", attrs
    assert attrs.get("max-age") == "2592000", attrs  # SLOTD_SESSION_TTL default
    assert "no-store" in (r.header("Cache-Control") or ""), "a response setting a session must not be cached"
    # the token is stored only as its SHA-256, with an expiry
    rows = db.sql(f"SELECT token_hash, extract(epoch FROM expires_at - now())::int FROM sessions WHERE user_id = {u.id}")
    assert len(rows) == 1 and rows[0][0] == sha256_hex(token), rows
    assert 2592000 - 30 <= int(rows[0][1]) <= 2592000, rows
    assert token not in all_db_text(db)
    # the cookie authenticates, also among other cookies
    for hdr in (cookie(token), {"Cookie": f"theme=dark; session={token}; lang=en"}):
        me = call(api, "GET", "/api/auth/me", auth=hdr)
        assert me.status == 200 and me.json()["id"] == u.id, me
    # each login is a new session
    token2 = set_cookie_parts(login(api, "login@example.com"))[0]
    assert token2 != token
    assert count(db, "sessions", f"user_id = {u.id}") == 2


def test_passwords_stored_as_argon2id(shared):
    api, db = shared
    new_user(api, "hash@example.com", password="s3cret-pass-word", session=False)
    h = db.sql("SELECT password_hash FROM users WHERE email = 'hash@example.com'")[0][0]
    assert h.startswith("$argon2id$"), h
    assert "s3cret-pass-word" not in all_db_text(db)


def test_wrong_password_and_unknown_email_are_indistinguishable(shared):
    api, db = shared
    new_user(api, "victim@example.com", session=False)
    wrong = lambda: login(api, "victim@example.com", "wrong password!")  # noqa: E731
    unknown = lambda: login(api, "nobody@example.com", "wrong password!")  # noqa: E731
    wrong(), unknown()  # warm up
    tw, tu, rw, ru = [], [], [], []
    for _ in range(5):
        d, r = timed(wrong)
        tw.append(d), rw.append(r)
        d, r = timed(unknown)
        tu.append(d), ru.append(r)
    for r in rw + ru:
        assert_error(r, 401, "UNAUTHORIZED")
        assert not r.header_all("Set-Cookie"), r
    bodies = {r.body for r in rw + ru}
    assert len(bodies) == 1, f"different bodies reveal which accounts exist: {bodies!r}"
    skip = {"date", "x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}
    names = {tuple(sorted((k.lower(), v) for k, v in r.headers if k.lower() not in skip)) for r in rw + ru}
    assert len(names) == 1, f"headers differ: {names!r}"
    mw, mu = median(tw), median(tu)
    assert max(mw, mu) < 2 * min(mw, mu), f"timing reveals accounts: wrong password {tw}, unknown email {tu}"


def test_password_hashing_does_not_block_the_loop(shared):
    """argon2id runs on libuv's threadpool: /healthz keeps answering at once while logins
    (each tens of ms of hashing) run in parallel.  On the loop thread, nearly every /healthz
    would wait for a whole hash."""
    api, db = shared
    new_user(api, "loop@example.com", session=False)
    stop = threading.Event()
    login_times = []

    def logins():
        while not stop.is_set():
            d, r = timed(lambda: login(api, "loop@example.com"))
            assert r.status == 200, r
            login_times.append(d)

    threads = [threading.Thread(target=logins, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(login_times) >= 6, 20, what="logins under way")
        st = api.stream()
        lat = []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            t0 = time.perf_counter()
            st.send(request_bytes("GET", "/healthz"))
            assert st.read_response().status == 200
            lat.append(time.perf_counter() - t0)
            time.sleep(0.002)
        st.sock.close()
        done = len(login_times)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    lat.sort()
    p50, p90 = lat[len(lat) // 2], lat[int(len(lat) * 0.9)]
    login_p50 = median(login_times)
    assert done >= 10, f"only {done} logins completed"
    assert p50 < 0.010 and p50 < login_p50 / 10, \
        f"/healthz p50 {p50 * 1000:.1f} ms while logins run (login p50 {login_p50 * 1000:.0f} ms)"
    assert p90 < login_p50 / 2, f"/healthz p90 {p90 * 1000:.1f} ms, login p50 {login_p50 * 1000:.0f} ms"


def test_login_invalid_input(shared):
    api, db = shared
    new_user(api, "in@example.com", session=False)
    before = snapshot(db)
    for body, field in [({"password": PASSWORD}, "email"), ({"email": "in@example.com"}, "password"),
                        ({"email": 1, "password": PASSWORD}, "email"),
                        ({"email": "in@example.com", "password": True}, "password"),
                        ({"email": "in@example.com", "password": "x" * 5000}, "password")]:
        r = call(api, "POST", "/api/auth/login", body)
        assert r.status in (400, 401), (body, r)
        assert_error(r, r.status)
        assert not r.header_all("Set-Cookie")
        if r.status == 400:
            assert r.json().get("field") == field, (body, r.json())
    assert snapshot(db) == before


def test_session_cookie_flow_and_logout(shared):
    api, db = shared
    u = new_user(api, "flow@example.com", session=False)
    r = call(api, "GET", "/api/auth/me")
    assert_error(r, 401, "UNAUTHORIZED")
    a = set_cookie_parts(login(api, u.email))[0]
    b = set_cookie_parts(login(api, u.email))[0]
    for t in (a, b):
        assert call(api, "GET", "/api/auth/me", auth=cookie(t)).status == 200
    out = call(api, "POST", "/api/auth/logout", auth=cookie(a))
    assert out.status == 200 and out.json() == {"ok": True}, out
    val, attrs = set_cookie_parts(out)
    assert val == "" and attrs.get("max-age") == "0", "logout must clear the cookie"
    # ended server-side: the old cookie no longer works (even though it was just used)
    assert_error(call(api, "GET", "/api/auth/me", auth=cookie(a)), 401, "UNAUTHORIZED")
    assert_error(call(api, "GET", "/api/api-keys", auth=cookie(a)), 401, "UNAUTHORIZED")
    assert_error(call(api, "POST", "/api/auth/logout", auth=cookie(a)), 401, "UNAUTHORIZED")
    assert count(db, "sessions", f"token_hash = '{sha256_hex(a)}'") == 0
    # the user's other session is untouched
    assert call(api, "GET", "/api/auth/me", auth=cookie(b)).status == 200
    # logout without credentials
    assert_error(call(api, "POST", "/api/auth/logout"), 401, "UNAUTHORIZED")


BAD_CREDENTIALS = [
    {"Cookie": "session=" + "0" * 64},
    {"Cookie": "session="},
    {"Cookie": "xsession=whatever"},
    {"X-API-Key": "cal_" + "0" * 64},
    {"Authorization": "Bearer cal_" + "0" * 64},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"X-API-Key": "x" * 5000},
]


def test_bad_credentials_401(shared):
    api, db = shared
    u = new_user(api, "someone@example.com", key=True)
    for hdr in BAD_CREDENTIALS:
        for method, path in (("GET", "/api/auth/me"), ("GET", "/api/api-keys"), ("GET", "/api/booking-page"),
                             ("PUT", "/api/booking-page"), ("POST", "/api/api-keys"),
                             ("DELETE", f"/api/api-keys/{u.key_id}")):
            r = call(api, method, path, {"bio": "x", "label": "x"} if method in ("PUT", "POST") else None, auth=hdr)
            try:
                assert_error(r, 401, "UNAUTHORIZED")
            except AssertionError as e:
                raise AssertionError(f"{hdr!r} {method} {path}: {e}") from None
    assert call(api, "GET", "/api/auth/me", auth=u.api_key).status == 200, "the key was revoked by a bad request"


def test_expired_session_rejected(shared):
    api, db = shared
    u = new_user(api, "exp@example.com")
    db.sql(f"UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = {u.id}")
    assert_error(call(api, "GET", "/api/auth/me", auth=u.session), 401, "UNAUTHORIZED")


def test_session_ttl_and_cookie_secure_config(slotd_factory, db):
    s = slotd_factory(env={**NO_LIMITS, "SLOTD_SESSION_TTL": "120", "SLOTD_COOKIE_SECURE": "0"})
    u = new_user(s, "ttl@example.com", session=False)
    r = login(s, u.email)
    token, attrs = set_cookie_parts(r)
    assert attrs.get("max-age") == "120", attrs
    assert "secure" not in attrs, "SLOTD_COOKIE_SECURE=0 must drop Secure"
    assert attrs.get("httponly") is True and attrs.get("samesite", "").lower() == "lax" and attrs.get("path") == "/"
    left = int(db.sql(f"SELECT extract(epoch FROM expires_at - now())::int FROM sessions "
                      f"WHERE token_hash = '{sha256_hex(token)}'")[0][0])
    assert 100 <= left <= 120, left


@pytest.mark.parametrize("var,value", [("SLOTD_COOKIE_SECURE", "yes"), ("SLOTD_COOKIE_SECURE", "2"),
                                       ("SLOTD_SESSION_TTL", "abc"), ("SLOTD_SESSION_TTL", "0"),
                                       ("SLOTD_RATE_LIMIT_PUBLIC", "0"), ("SLOTD_RATE_LIMIT_PUBLIC", "-5"),
                                       ("SLOTD_RATE_LIMIT_AUTH", "lots"), ("SLOTD_TRUSTED_PROXIES", "not-an-ip")])
def test_bad_config_values(var, value):
    r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": "host=127.0.0.1 port=1 dbname=x", var: value}, timeout=20)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert var in r.stderr, r.stderr


# ============================================================================ me / password


def test_me_with_cookie_key_and_bearer(shared):
    api, db = shared
    u = new_user(api, "me@example.com", name="Me Myself", key=True)
    expected = None
    for hdr in (u.session, xkey(u.key), bearer(u.key), {"Authorization": f"bearer {u.key}"}):
        r = call(api, "GET", "/api/auth/me", auth=hdr)
        assert r.status == 200, (hdr, r)
        assert_ratelimit_headers(r)
        j = r.json()
        assert {"id", "email", "name", "timezone", "avatar_url", "created_at"} <= set(j), j
        assert "password_hash" not in j and "password" not in j
        assert (j["id"], j["email"], j["name"], j["avatar_url"]) == (u.id, "me@example.com", "Me Myself", None)
        assert SEED_TS.fullmatch(j["created_at"])
        expected = expected or j
        assert j == expected


def test_update_me(shared):
    api, db = shared
    u = new_user(api, "upd@example.com", name="Old Name")
    r = call(api, "PUT", "/api/auth/me", {"name": "New Name", "timezone": "Asia/Tokyo",
                                          "avatar_url": "https://cdn.example.com/a.png"}, auth=u.session)
    assert r.status == 200, r
    j = r.json()
    assert (j["name"], j["timezone"], j["avatar_url"]) == ("New Name", "Asia/Tokyo", "https://cdn.example.com/a.png")
    me = call(api, "GET", "/api/auth/me", auth=u.session).json()
    assert (me["name"], me["timezone"], me["avatar_url"], me["email"]) == \
        ("New Name", "Asia/Tokyo", "https://cdn.example.com/a.png", "upd@example.com")
    # partial update keeps the rest; null clears the avatar
    r = call(api, "PUT", "/api/auth/me", {"avatar_url": None}, auth=u.session)
    assert r.status == 200 and r.json()["avatar_url"] is None and r.json()["name"] == "New Name", r
    r = call(api, "PUT", "/api/auth/me", {"timezone": "Europe/Paris"}, auth=u.session)
    assert r.status == 200 and r.json()["timezone"] == "Europe/Paris" and r.json()["name"] == "New Name"
    before = snapshot(db)
    for body, field in [({"name": ""}, "name"), ({"name": "n" * 101}, "name"), ({"name": 7}, "name"),
                        ({"timezone": "Mars/Base"}, "timezone"), ({"timezone": False}, "timezone"),
                        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
                        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
                        ({"avatar_url": "https://example.com/" + "a" * 2100}, "avatar_url"),
                        ({"avatar_url": 3}, "avatar_url"),
                        ({"name": "Fine", "timezone": "Nowhere/Land"}, "timezone")]:
        r = call(api, "PUT", "/api/auth/me", body, auth=u.session)
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            raise AssertionError(f"body {body!r}: {e}") from None
    assert snapshot(db) == before, "a rejected update wrote something"
    # unauthenticated
    assert_error(call(api, "PUT", "/api/auth/me", {"name": "X"}), 401, "UNAUTHORIZED")


def test_change_password_ends_other_sessions(shared):
    api, db = shared
    u = new_user(api, "pw@example.com", key=True)
    current = u.token
    others = [set_cookie_parts(login(api, u.email))[0] for _ in range(2)]
    for t in [current] + others:  # all in use (and so cached by the server)
        assert call(api, "GET", "/api/auth/me", auth=cookie(t)).status == 200
    r = call(api, "PUT", "/api/auth/password", {"current_password": PASSWORD, "new_password": "brand new secret"},
             auth=cookie(current))
    assert r.status == 200 and r.json() == {"ok": True}, r
    assert call(api, "GET", "/api/auth/me", auth=cookie(current)).status == 200, "the current session must survive"
    for t in others:
        assert_error(call(api, "GET", "/api/auth/me", auth=cookie(t)), 401, "UNAUTHORIZED")
    assert count(db, "sessions", f"user_id = {u.id}") == 1
    assert call(api, "GET", "/api/auth/me", auth=u.api_key).status == 200, "API keys are not sessions"
    assert_error(login(api, u.email, PASSWORD), 401, "UNAUTHORIZED")
    assert login(api, u.email, "brand new secret").status == 200
    assert "brand new secret" not in all_db_text(db)


def test_change_password_with_api_key_ends_all_sessions(shared):
    api, db = shared
    u = new_user(api, "pwk@example.com", key=True)
    r = call(api, "PUT", "/api/auth/password", {"current_password": PASSWORD, "new_password": "another secret"},
             auth=u.api_key)
    assert r.status == 200, r
    assert_error(call(api, "GET", "/api/auth/me", auth=u.session), 401, "UNAUTHORIZED")
    assert count(db, "sessions", f"user_id = {u.id}") == 0


def test_change_password_rejections_change_nothing(shared):
    api, db = shared
    u = new_user(api, "pwr@example.com")
    other = set_cookie_parts(login(api, u.email))[0]
    before = snapshot(db)
    r = call(api, "PUT", "/api/auth/password", {"current_password": "not my password", "new_password": "whatever12"},
             auth=u.session)
    assert_error(r, 400, "VALIDATION_FAILED", "current_password")
    for body, field in [({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
                        ({"current_password": PASSWORD, "new_password": "n" * 257}, "new_password"),
                        ({"current_password": PASSWORD}, "new_password"),
                        ({"new_password": "whatever12"}, "current_password"),
                        ({"current_password": PASSWORD, "new_password": 12345678}, "new_password")]:
        r = call(api, "PUT", "/api/auth/password", body, auth=u.session)
        assert_error(r, 400, "VALIDATION_FAILED", field)
    assert snapshot(db) == before
    assert call(api, "GET", "/api/auth/me", auth=cookie(other)).status == 200
    assert login(api, u.email, PASSWORD).status == 200
    assert_error(call(api, "PUT", "/api/auth/password", {"current_password": PASSWORD, "new_password": "x" * 10}),
                 401, "UNAUTHORIZED")


# ============================================================================ API keys


def test_api_key_create_list_and_storage(shared):
    api, db = shared
    u = new_user(api, "keys@example.com")
    r = call(api, "POST", "/api/api-keys", {"label": "CI server"}, auth=u.session)
    assert r.status == 201, r
    assert "no-store" in (r.header("Cache-Control") or "")
    j = r.json()
    key = j["key"]
    assert KEY_RE.fullmatch(key), key  # cal_ + 32 random bytes in hex
    assert {"id", "label", "prefix", "last4", "created_at", "last_used_at", "expires_at"} <= set(j), j
    assert j["label"] == "CI server" and key.startswith(j["prefix"]) and key.endswith(j["last4"]), j
    assert len(j["last4"]) == 4 and len(j["prefix"]) < 16 and j["last_used_at"] is None and j["expires_at"] is None
    keys = {key} | {call(api, "POST", "/api/api-keys", {"label": f"k{i}"}, auth=u.session).json()["key"]
                    for i in range(4)}
    assert len(keys) == 5, "keys repeat"
    # stored only as SHA-256
    row = db.sql(f"SELECT key_hash FROM api_keys WHERE id = {j['id']}")[0][0]
    assert row == sha256_hex(key)
    text = all_db_text(db)
    for k in keys:
        assert k not in text and k[4:] not in text, "an API key is stored in clear"
    # listed without the key
    lst = call(api, "GET", "/api/api-keys", auth=u.session)
    assert lst.status == 200, lst
    items = lst.json()
    assert isinstance(items, list) and len(items) == 5
    for k in keys:
        assert k not in lst.body.decode() and k[4:] not in lst.body.decode(), "GET /api/api-keys shows a key"
    first = next(i for i in items if i["id"] == j["id"])
    assert "key" not in first and "key_hash" not in first
    for f in ("id", "label", "prefix", "last4", "created_at", "last_used_at", "expires_at"):
        assert first[f] == j[f], (f, first, j)
    # both header forms work; use shows up as last_used_at
    for hdr in (xkey(key), bearer(key)):
        me = call(api, "GET", "/api/auth/me", auth=hdr)
        assert me.status == 200 and me.json()["id"] == u.id, me
    first = next(i for i in call(api, "GET", "/api/api-keys", auth=u.session).json() if i["id"] == j["id"])
    assert first["last_used_at"] and RFC3339_Z.fullmatch(first["last_used_at"]), first
    # the server logs (one line per request) never contain the key either
    assert key not in api.stderr()


def test_api_key_revocation(shared):
    api, db = shared
    u = new_user(api, "rev@example.com", key=True)
    keep = call(api, "POST", "/api/api-keys", {"label": "keep"}, auth=u.session).json()
    for hdr in (xkey(u.key), bearer(u.key)):  # in use, so cached
        assert call(api, "GET", "/api/auth/me", auth=hdr).status == 200
    r = call(api, "DELETE", f"/api/api-keys/{u.key_id}", auth=u.session)
    assert r.status == 200 and r.json() == {"ok": True}, r
    for hdr in (xkey(u.key), bearer(u.key)):
        assert_error(call(api, "GET", "/api/auth/me", auth=hdr), 401, "UNAUTHORIZED")
    assert call(api, "GET", "/api/auth/me", auth=xkey(keep["key"])).status == 200
    ids = [k["id"] for k in call(api, "GET", "/api/api-keys", auth=u.session).json()]
    assert ids == [keep["id"]], ids
    assert_error(call(api, "DELETE", f"/api/api-keys/{u.key_id}", auth=u.session), 404, "NOT_FOUND")
    for bad in ("999999", "0", "-1", "abc", "1.5", "99999999999999999999999", "%20"):
        assert_error(call(api, "DELETE", f"/api/api-keys/{bad}", auth=u.session), 404, "NOT_FOUND")
    # a key can revoke itself
    r = call(api, "DELETE", f"/api/api-keys/{keep['id']}", auth=xkey(keep["key"]))
    assert r.status == 200, r
    assert_error(call(api, "GET", "/api/auth/me", auth=xkey(keep["key"])), 401, "UNAUTHORIZED")
    assert_error(call(api, "DELETE", f"/api/api-keys/{keep['id']}"), 401, "UNAUTHORIZED")


def test_api_key_expiry(shared):
    api, db = shared
    u = new_user(api, "kexp@example.com")
    exp = (now_utc() + timedelta(seconds=3)).replace(microsecond=0)
    r = call(api, "POST", "/api/api-keys", {"label": "short", "expires_at": exp.strftime("%Y-%m-%dT%H:%M:%SZ")},
             auth=u.session)
    assert r.status == 201, r
    j = r.json()
    assert j["expires_at"] == exp.strftime("%Y-%m-%dT%H:%M:%SZ"), j
    assert call(api, "GET", "/api/auth/me", auth=xkey(j["key"])).status == 200
    assert call(api, "GET", "/api/auth/me", auth=bearer(j["key"])).status == 200
    time.sleep(max(0.0, exp.timestamp() - time.time()) + 0.5)
    assert_error(call(api, "GET", "/api/auth/me", auth=xkey(j["key"])), 401, "UNAUTHORIZED")
    assert_error(call(api, "GET", "/api/auth/me", auth=bearer(j["key"])), 401, "UNAUTHORIZED")


def test_api_key_expires_at_offsets_and_validation(shared):
    api, db = shared
    u = new_user(api, "kval@example.com")
    r = call(api, "POST", "/api/api-keys", {"label": "tz", "expires_at": "2099-06-01T12:00:00+02:00"}, auth=u.session)
    assert r.status == 201, r
    assert r.json()["expires_at"] == "2099-06-01T10:00:00Z", r.json()
    r = call(api, "POST", "/api/api-keys", {"label": "null", "expires_at": None}, auth=u.session)
    assert r.status == 201 and r.json()["expires_at"] is None, r
    before = snapshot(db)
    for body, field in [({}, "label"), ({"label": ""}, "label"), ({"label": "l" * 101}, "label"),
                        ({"label": 5}, "label"), ({"label": None}, "label"),
                        ({"label": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
                        ({"label": "x", "expires_at": "tomorrow"}, "expires_at"),
                        ({"label": "x", "expires_at": "2099-13-45T25:61:00Z"}, "expires_at"),
                        ({"label": "x", "expires_at": 4102444800}, "expires_at")]:
        r = call(api, "POST", "/api/api-keys", body, auth=u.session)
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            raise AssertionError(f"body {body!r}: {e}") from None
    assert snapshot(db) == before


def test_revocation_and_logout_reach_other_instances(slotd_factory, db):
    """Two instances on one database: a key revoked (or a session ended) on one stops
    working on the other at once, although the other has it cached."""
    a = slotd_factory(env=NO_LIMITS, name="a")
    b = slotd_factory(env=NO_LIMITS, name="b")
    u = new_user(a, "multi@example.com", key=True)
    other = set_cookie_parts(login(a, u.email))[0]
    for hdr in (u.api_key, u.session, cookie(other)):
        assert call(b, "GET", "/api/auth/me", auth=hdr).status == 200
    assert call(a, "DELETE", f"/api/api-keys/{u.key_id}", auth=u.session).status == 200
    wait_until(lambda: call(b, "GET", "/api/auth/me", auth=u.api_key).status == 401, 2,
               what="revoked key rejected by the other instance")
    assert call(a, "POST", "/api/auth/logout", auth=cookie(other)).status == 200
    wait_until(lambda: call(b, "GET", "/api/auth/me", auth=cookie(other)).status == 401, 2,
               what="ended session rejected by the other instance")
    assert call(b, "GET", "/api/auth/me", auth=u.session).status == 200
    assert call(a, "PUT", "/api/auth/password", {"current_password": PASSWORD, "new_password": "pw changed!"},
                auth=cookie(set_cookie_parts(login(a, u.email))[0])).status == 200
    wait_until(lambda: call(b, "GET", "/api/auth/me", auth=u.session).status == 401, 2,
               what="sessions ended by a password change rejected by the other instance")


# ============================================================================ booking page


def test_booking_page_get_and_update(shared):
    api, db = shared
    u = new_user(api, "page@example.com", name="Page Owner")
    r = call(api, "GET", "/api/booking-page", auth=u.session)
    assert r.status == 200, r
    assert_ratelimit_headers(r)
    p = r.json()
    assert set(p) >= {"id", "slug", "display_name", "bio", "brand_color", "welcome_message"}, p
    assert (p["slug"], p["display_name"], p["bio"], p["brand_color"], p["welcome_message"]) == \
        ("page-owner", "Page Owner", None, None, None)
    r = call(api, "PUT", "/api/booking-page", {"bio": "Product Designer at Acme", "brand_color": "#7c3aed"},
             auth=xkey(u.make_key()["key"]))
    assert r.status == 200, r
    q = r.json()
    assert (q["id"], q["slug"], q["display_name"], q["bio"], q["brand_color"]) == \
        (p["id"], "page-owner", "Page Owner", "Product Designer at Acme", "#7c3aed")
    r = call(api, "PUT", "/api/booking-page", {"display_name": "Jane S.", "welcome_message": "Pick a time!",
                                               "slug": "jane"}, auth=u.session)
    assert r.status == 200, r
    q = call(api, "GET", "/api/booking-page", auth=u.session).json()
    assert (q["slug"], q["display_name"], q["bio"], q["brand_color"], q["welcome_message"]) == \
        ("jane", "Jane S.", "Product Designer at Acme", "#7c3aed", "Pick a time!")
    r = call(api, "PUT", "/api/booking-page", {"bio": None}, auth=u.session)
    assert r.status == 200 and r.json()["bio"] is None and r.json()["brand_color"] == "#7c3aed", r
    assert call(api, "PUT", "/api/booking-page", {"slug": "jane"}, auth=u.session).status == 200  # own slug again
    assert call(api, "PUT", "/api/booking-page", {"brand_color": "#ABCDEF"}, auth=u.session).status == 200
    assert_error(call(api, "GET", "/api/booking-page"), 401, "UNAUTHORIZED")


def test_booking_page_validation(shared):
    api, db = shared
    u = new_user(api, "pval@example.com", name="Val Page")
    new_user(api, "taken@example.com", name="Taken Slug", session=False)
    before = snapshot(db)
    cases = [({"brand_color": c}, "brand_color") for c in
             ("#12345", "#1234567", "123456", "#GGGGGG", "red", "#12 456", 123456, "")]
    cases += [({"slug": s}, "slug") for s in
              ("Has-Caps", "a_b", "-lead", "trail-", "", "a" * 61, "sp ace", "ü", "a/b", 7)]
    cases += [({"display_name": ""}, "display_name"), ({"display_name": "d" * 101}, "display_name"),
              ({"display_name": 1}, "display_name"), ({"bio": "b" * 2001}, "bio"), ({"bio": ["x"]}, "bio"),
              ({"welcome_message": "w" * 2001}, "welcome_message"), ({"welcome_message": {}}, "welcome_message"),
              ({"bio": "fine", "brand_color": "nope"}, "brand_color")]
    for body, field in cases:
        r = call(api, "PUT", "/api/booking-page", body, auth=u.session)
        try:
            assert_error(r, 400, "VALIDATION_FAILED", field)
        except AssertionError as e:
            raise AssertionError(f"body {body!r}: {e}") from None
    r = call(api, "PUT", "/api/booking-page", {"slug": "taken-slug", "bio": "should not be saved"}, auth=u.session)
    assert_error(r, 409, "CONFLICT", "slug")
    assert snapshot(db) == before, "a rejected update wrote something"
    assert call(api, "GET", "/api/booking-page", auth=u.session).json()["slug"] == "val-page"


def test_public_booking_page(shared):
    api, db = shared
    u = new_user(api, "pub@example.com", name="Pub Lisher")
    call(api, "PUT", "/api/booking-page", {"bio": "Bio!", "brand_color": "#2563eb",
                                           "welcome_message": "Welcome"}, auth=u.session)
    r = call(api, "GET", "/api/public/pub-lisher")  # no credentials at all
    assert r.status == 200, r
    assert_ratelimit_headers(r)
    p = r.json()
    assert (p["display_name"], p["bio"], p["brand_color"], p["welcome_message"], p["event_types"]) == \
        ("Pub Lisher", "Bio!", "#2563eb", "Welcome", [])
    assert set(p) <= {"slug", "display_name", "bio", "brand_color", "welcome_message", "event_types",
                      "avatar_url", "timezone"}, f"public page exposes more than it should: {p!r}"
    assert "pub@example.com" not in r.body.decode()
    # HEAD works on the public GET route
    h = api.request("HEAD", "/api/public/pub-lisher")
    assert h.status == 200 and h.body == b""
    for slug in ("nobody", "PUB_LISHER", "a" * 200, "pub-lisher-2", "%2e%2e"):
        assert_error(call(api, "GET", f"/api/public/{slug}"), 404, "NOT_FOUND")
    # a renamed page moves
    assert call(api, "PUT", "/api/booking-page", {"slug": "pub-new"}, auth=u.session).status == 200
    assert_error(call(api, "GET", "/api/public/pub-lisher"), 404, "NOT_FOUND")
    assert call(api, "GET", "/api/public/pub-new").json()["display_name"] == "Pub Lisher"


# ============================================================================ bad input on every write


VALID_BODIES = {
    "register": {"email": "new@example.com", "password": PASSWORD, "name": "New User"},
    "login": {"email": "bad@example.com", "password": PASSWORD},
    "me": {"name": "Renamed"},
    "password": {"current_password": PASSWORD, "new_password": "another password"},
    "keys": {"label": "label"},
    "page": {"bio": "bio text"},
}
ENDPOINTS = {
    "register": ("POST", "/api/auth/register", False),
    "login": ("POST", "/api/auth/login", False),
    "me": ("PUT", "/api/auth/me", True),
    "password": ("PUT", "/api/auth/password", True),
    "keys": ("POST", "/api/api-keys", True),
    "page": ("PUT", "/api/booking-page", True),
}


def bad_bodies(valid):
    """(description, raw body bytes) that must all be refused with 400."""
    field, value = next(iter(valid.items()))
    rest = json.dumps(valid)[1:]  # '"field": ..., ...}'
    enc = lambda d: json.dumps(d).encode()  # noqa: E731
    out = [
        ("empty body", b""),
        ("malformed JSON", b'{"' + field.encode() + b'": '),
        ("trailing garbage", enc(valid) + b" x"),
        ("single quotes", b"{'" + field.encode() + b"': 'x'}"),
        ("array", enc([valid])),
        ("string", b'"hello"'),
        ("number", b"42"),
        ("null", b"null"),
        ("true", b"true"),
        ("NUL escape in a string", enc({**valid, field: "ab\u0000cd"})),
        ("raw NUL byte", enc(valid).replace(b'"' + field.encode() + b'"', b'"' + field.encode() + b'\x00"')),
        ("invalid UTF-8 in a string", enc({**valid, field: "x"}).replace(b'"x"', b'"\xff\xfe x"')),
        ("overlong UTF-8", enc({**valid, field: "x"}).replace(b'"x"', b'"\xc0\xaf"')),
        ("UTF-16 surrogate escape", enc({**valid, field: "x"}).replace(b'"x"', b'"\\ud800"')),
        ("control character", enc({**valid, field: "a\u0001b"})),
        ("wrong type: number", enc({**valid, field: 12345678})),
        ("wrong type: object", enc({**valid, field: {"a": 1}})),
        ("wrong type: array", enc({**valid, field: ["x"]})),
        ("wrong type: bool", enc({**valid, field: True})),
        ("over-long string", enc({**valid, field: "y" * 100_000})),
        ("duplicate key", b'{"' + field.encode() + b'": "a", ' + rest.encode()),
    ]
    return out


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_bad_input_400_and_nothing_written(shared, endpoint):
    api, db = shared
    u = new_user(api, f"bad-{endpoint}@example.com", name="Bad Input", key=True)
    method, path, needs_auth = ENDPOINTS[endpoint]
    valid = dict(VALID_BODIES[endpoint])
    if endpoint == "login":
        valid["email"] = u.email
    assert call(api, "GET", "/api/auth/me", auth=u.api_key).status == 200  # sets last_used_at before the snapshot
    before = snapshot(db)
    failures = []
    for what, raw in bad_bodies(valid):
        r = call(api, method, path, raw=raw, auth=u.api_key if needs_auth else None)
        if r.status != 400:
            failures.append(f"{what}: {raw[:80]!r} -> {r.status} {r.body[:200]!r}")
            continue
        try:
            assert_error(r, 400, ("BAD_REQUEST", "VALIDATION_FAILED"))
            assert_ratelimit_headers(r)
        except AssertionError as e:
            failures.append(f"{what}: {e}")
    after = snapshot(db)
    assert not failures, "\n".join(failures)
    assert after == before, "a rejected request wrote something"
    # and the valid body does work (so the 400s above were about the input)
    r = call(api, method, path, valid, auth=u.api_key if needs_auth else None)
    assert r.status in (200, 201), r
