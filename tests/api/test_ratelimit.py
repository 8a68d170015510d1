"""Issue 3: rate limits (the seed's table), configured small for the tests.

Public endpoints: SLOTD_RATE_LIMIT_PUBLIC per client IP; authenticated endpoints:
SLOTD_RATE_LIMIT_AUTH per user.  The client IP is the socket peer, or the right-most
untrusted X-Forwarded-For address when the peer is in SLOTD_TRUSTED_PROXIES.  Different
socket peers come from binding the client to 127.0.0.2 / 127.0.0.3 (Linux loopback).
Windows are a minute long; ensure_window() keeps a scenario inside one.
"""

import re
import time

import pytest

from accounts_util import (NO_LIMITS, assert_error, assert_ratelimit_headers, bearer, call, call_from, ensure_window,
                           new_user, register, snapshot, xkey)


def remaining(r):
    return int(r.header("X-RateLimit-Remaining"))


def assert_429(r, limit):
    """Exactly the seed's body, with Retry-After agreeing with it and with X-RateLimit-Reset."""
    assert r.status == 429, r
    assert (r.header("Content-Type") or "").split(";")[0].strip() == "application/json", r
    j = r.json()
    m = re.fullmatch(r"Too many requests\. Please retry after (\d+) seconds\.", j.get("error", {}).get("message", ""))
    assert m, f"not the seed's 429 body: {r.body!r}"
    n = int(m.group(1))
    assert j == {"error": {"code": "RATE_LIMIT_EXCEEDED",
                           "message": f"Too many requests. Please retry after {n} seconds."}}, j
    assert r.header("Retry-After") == str(n), f"Retry-After {r.header('Retry-After')!r} vs message {n}"
    assert 1 <= n <= 60, n
    lim, rem, reset = assert_ratelimit_headers(r)
    assert lim == limit and rem == 0, r
    assert abs((reset - time.time()) - n) <= 2, f"Retry-After {n} does not match X-RateLimit-Reset {reset}"
    return n


def test_default_limits_are_the_seeds(slotd, db):
    r = register(slotd, "dflt@example.com")
    assert r.status == 201, r
    assert (int(r.header("X-RateLimit-Limit")), remaining(r)) == (60, 59)
    r = call(slotd, "POST", "/api/auth/login", {"email": "dflt@example.com", "password": "correct horse battery"})
    assert r.status == 200 and int(r.header("X-RateLimit-Limit")) == 60, r
    token = r.header("Set-Cookie").split(";")[0].split("=", 1)[1]
    r = call(slotd, "GET", "/api/auth/me", auth={"Cookie": f"session={token}"})
    assert r.status == 200, r
    assert (int(r.header("X-RateLimit-Limit")), remaining(r)) == (300, 299)
    r = call(slotd, "GET", "/api/public/nobody")
    assert r.status == 404 and int(r.header("X-RateLimit-Limit")) == 60, r


def test_public_limit_per_ip_and_429(slotd_factory, db):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "5", "SLOTD_RATE_LIMIT_AUTH": "1000"})
    ensure_window(12)
    resets = set()
    for i in range(5):
        r = call(s, "GET", "/api/public/nobody")
        assert r.status == 404, r
        lim, rem, reset = assert_ratelimit_headers(r)
        assert (lim, rem) == (5, 4 - i), r
        resets.add(reset)
    assert len(resets) == 1, f"X-RateLimit-Reset moved within a window: {resets}"
    r = call(s, "GET", "/api/public/nobody")
    assert_429(r, 5)
    assert int(r.header("X-RateLimit-Reset")) in resets
    # every public endpoint of this client is now refused, and nothing is written
    before = snapshot(db)
    assert_429(register(s, "late@example.com"), 5)
    assert_429(call(s, "POST", "/api/auth/login", {"email": "late@example.com", "password": "whatever1"}), 5)
    assert snapshot(db) == before
    # ...but not /healthz, and not other clients: each socket peer has its own budget
    assert s.get("/healthz").status == 200
    for ip in ("127.0.0.2", "127.0.0.3"):
        r = call_from(s, ip, "GET", "/api/public/nobody")
        assert r.status == 404 and remaining(r) == 4, (ip, r)
    r = call_from(s, "127.0.0.2", "GET", "/api/public/nobody")
    assert remaining(r) == 3, r
    # X-Forwarded-For from an untrusted peer is ignored: no way to escape the limit with it
    r = call(s, "GET", "/api/public/nobody", headers={"X-Forwarded-For": "203.0.113.50"})
    assert_429(r, 5)


def test_auth_limit_per_user(slotd_factory, db):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "1000", "SLOTD_RATE_LIMIT_AUTH": "5"})
    a = new_user(s, "a@example.com", name="User A", key=True)  # login + key creation spend 1 of A's 5
    b = new_user(s, "b@example.com", name="User B")
    ensure_window(15)
    # start from a clean count: find A's remaining budget
    r = call(s, "GET", "/api/auth/me", auth=a.session)
    assert r.status == 200, r
    lim, rem, _ = assert_ratelimit_headers(r)
    assert lim == 5
    # the budget is the user's, whatever the credential or the client address
    creds = [a.api_key, bearer(a.key), a.session]
    i = 0
    while rem > 0:
        hdr = creds[i % 3]
        r = call_from(s, "127.0.0.2", "GET", "/api/auth/me", auth=hdr) if i % 2 else \
            call(s, "GET", "/api/auth/me", auth=hdr)
        assert r.status == 200, r
        assert remaining(r) == rem - 1, (hdr, r)
        rem -= 1
        i += 1
    for hdr in creds:
        assert_429(call(s, "GET", "/api/auth/me", auth=hdr), 5)
    assert_429(call_from(s, "127.0.0.3", "GET", "/api/api-keys", auth=a.api_key), 5)
    # a limited request does nothing
    before = snapshot(db)
    assert_429(call(s, "PUT", "/api/booking-page", {"bio": "limited"}, auth=a.session), 5)
    assert_429(call(s, "POST", "/api/api-keys", {"label": "limited"}, auth=a.session), 5)
    assert_429(call(s, "DELETE", f"/api/api-keys/{a.key_id}", auth=a.session), 5)
    assert_429(call(s, "POST", "/api/auth/logout", auth=a.session), 5)
    assert snapshot(db) == before
    # user B (same client address) is unaffected, and so are the public endpoints
    r = call(s, "GET", "/api/booking-page", auth=b.session)
    assert r.status == 200 and int(r.header("X-RateLimit-Limit")) == 5 and remaining(r) >= 3, r
    r = call(s, "GET", f"/api/public/{a.slug}")
    assert r.status == 200 and int(r.header("X-RateLimit-Limit")) == 1000, r


def test_unauthenticated_requests_count_per_ip(slotd_factory, db):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "3", "SLOTD_RATE_LIMIT_AUTH": "1000"})
    # the user is set up from another address so 127.0.0.1's budget is untouched
    reg = call_from(s, "127.0.0.2", "POST", "/api/auth/register",
                    {"email": "u@example.com", "password": "correct horse battery", "name": "U"})
    assert reg.status == 201, reg
    lg = call_from(s, "127.0.0.2", "POST", "/api/auth/login",
                   {"email": "u@example.com", "password": "correct horse battery"})
    token = lg.header("Set-Cookie").split(";")[0].split("=", 1)[1]
    ensure_window(10)
    for i in range(3):
        r = call(s, "GET", "/api/auth/me", auth=xkey("cal_" + "1" * 64))
        assert_error(r, 401, "UNAUTHORIZED")
        assert (int(r.header("X-RateLimit-Limit")), remaining(r)) == (3, 2 - i), r
    # guessing credentials is limited like any public request
    assert_429(call(s, "GET", "/api/auth/me", auth=xkey("cal_" + "2" * 64)), 3)
    assert_429(call(s, "GET", "/api/api-keys"), 3)
    assert_429(call(s, "POST", "/api/auth/login", {"email": "u@example.com", "password": "guess guess"}), 3)
    # a real user on the same address is limited per user, not by the address
    r = call(s, "GET", "/api/auth/me", auth={"Cookie": f"session={token}"})
    assert r.status == 200 and int(r.header("X-RateLimit-Limit")) == 1000, r


def test_x_forwarded_for_from_trusted_proxy(slotd_factory):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "5", "SLOTD_RATE_LIMIT_AUTH": "1000",
                           "SLOTD_TRUSTED_PROXIES": "127.0.0.1"})
    ensure_window(12)

    def rem(xff=None, src=None):
        h = {"X-Forwarded-For": xff} if xff is not None else {}
        r = call_from(s, src, "GET", "/api/public/nobody", headers=h) if src else \
            call(s, "GET", "/api/public/nobody", headers=h)
        assert r.status in (404, 429), r
        return remaining(r) if r.status == 404 else "429"

    assert rem("203.0.113.1") == 4
    assert rem("203.0.113.1") == 3
    assert rem("203.0.113.2") == 4                      # another client behind the proxy
    assert rem("198.51.100.7, 203.0.113.1") == 2        # right-most untrusted address is the client
    assert rem("203.0.113.1, 127.0.0.1") == 1           # trusted hops on the right are skipped
    assert rem("6.6.6.6,203.0.113.2") == 3              # a client-supplied left part cannot move it
    assert rem("2001:db8::1") == 4                      # IPv6 clients too
    assert rem() == 4                                   # the proxy's own requests: its own budget
    assert rem("203.0.113.1") == 0
    assert rem("203.0.113.1") == "429"
    assert rem("203.0.113.2") == 2
    # a peer that is not a trusted proxy cannot choose its address with the header
    assert rem("203.0.113.77", src="127.0.0.2") == 4
    assert rem("203.0.113.78", src="127.0.0.2") == 3
    assert rem(None, src="127.0.0.2") == 2


@pytest.mark.parametrize("cidr", ["127.0.0.0/8", "10.0.0.0/8,127.0.0.1/32"])
def test_trusted_proxies_cidr(slotd_factory, cidr):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "5", "SLOTD_TRUSTED_PROXIES": cidr})
    ensure_window(8)
    r1 = call(s, "GET", "/api/public/nobody", headers={"X-Forwarded-For": "192.0.2.10"})
    r2 = call(s, "GET", "/api/public/nobody", headers={"X-Forwarded-For": "192.0.2.11"})
    assert remaining(r1) == 4 and remaining(r2) == 4, (r1, r2)
    # the hop 10.1.2.3 is a trusted proxy only in the second configuration
    r3 = call(s, "GET", "/api/public/nobody", headers={"X-Forwarded-For": "192.0.2.10, 10.1.2.3"})
    expected = 3 if "10.0.0.0/8" in cidr else 4
    assert remaining(r3) == expected, r3


def test_every_api_response_has_ratelimit_headers(slotd_factory, db):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "1000", "SLOTD_RATE_LIMIT_AUTH": "1000"})
    u = new_user(s, "hdr@example.com", key=True)
    other = new_user(s, "hdr2@example.com", name="Other", session=False)
    responses = [
        register(s, "hdr3@example.com"),                                                  # 201
        register(s, "hdr3@example.com"),                                                  # 409
        register(s, "bad"),                                                               # 400
        call(s, "POST", "/api/auth/register", raw=b"{nope"),                             # 400 malformed
        call(s, "POST", "/api/auth/login", {"email": "hdr@example.com", "password": "wrong pass"}),  # 401
        call(s, "GET", "/api/auth/me"),                                                   # 401
        call(s, "GET", "/api/auth/me", auth=u.api_key),                                   # 200
        call(s, "PUT", "/api/auth/me", {"timezone": "Mars/Base"}, auth=u.api_key),        # 400
        call(s, "GET", "/api/api-keys", auth=u.session),                                  # 200
        call(s, "DELETE", "/api/api-keys/424242", auth=u.session),                        # 404
        call(s, "PUT", "/api/booking-page", {"slug": other.slug}, auth=u.session),        # 409
        call(s, "GET", f"/api/public/{u.slug}"),                                          # 200
        call(s, "GET", "/api/public/missing"),                                            # 404
        call(s, "POST", "/api/auth/logout", auth=u.session),                              # 200
    ]
    statuses = [r.status for r in responses]
    assert statuses == [201, 409, 400, 400, 401, 401, 200, 400, 200, 404, 409, 200, 404, 200], statuses
    for r in responses:
        assert_ratelimit_headers(r)
        assert r.header("Content-Type", "").startswith("application/json")


def test_ratelimit_headers_on_unrouted_api_responses(slotd_factory):
    """"All API responses include rate limit information": also a 404 for an unknown /api/
    path and a 405 for a wrong method on an API route."""
    s = slotd_factory(env=NO_LIMITS)
    for method, path in (("GET", "/api/no-such-thing"), ("GET", "/api/auth/login"), ("DELETE", "/api/public/x")):
        r = call(s, method, path)
        assert r.status in (404, 405), r
        assert_ratelimit_headers(r)
