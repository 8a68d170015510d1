"""Issue 10 (adversarial review): the edge of the API.

  * The client address behind proxies: every X-Forwarded-For header counts, walked from the
    right (a client's own header cannot choose its rate-limit budget). The run through the
    real haproxy is in test_cluster.py.
  * A query parameter that is present but malformed (bad %-escape, %00 or another control
    character, invalid UTF-8) is 400 naming it, on every API route, never read as absent.
  * A request body must be declared application/json (415 otherwise), which also refuses
    cross-site form posts that carry the session cookie.
  * /metrics on a listener of its own (SLOTD_METRICS_LISTEN), 404 on the main address.
  * Registration keeps the seed's 409 for a taken e-mail; the per-IP limit that bounds
    probing it cannot be escaped with X-Forwarded-For.
"""

import re
import socket
import time

import pytest

from accounts_util import (NO_LIMITS, assert_error, assert_ratelimit_headers, call, ensure_window, new_user,
                           register, snapshot)
from booking_util import Host, day_at
from conftest import HttpStream, free_port, parse_metrics, run_slotd


def remaining(r):
    return int(r.header("X-RateLimit-Remaining"))


def raw_request(s, method, path, headers, body=b""):
    """One request with exactly these header lines (repeats allowed) on a fresh connection."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    sock = socket.create_connection((s.host, s.port), timeout=10)
    try:
        st = HttpStream(sock)
        st.send(data)
        return st.read_final_response(head=method == "HEAD")
    finally:
        sock.close()


# ----------------------------------------------------------------------------
# 1. X-Forwarded-For: all headers, from the right


@pytest.fixture
def behind_proxy(slotd_factory):
    """slotd that believes X-Forwarded-For from 127.0.0.1 (the test client plays the proxy)."""
    return slotd_factory(env={"SLOTD_TRUSTED_PROXIES": "127.0.0.1", "SLOTD_RATE_LIMIT_PUBLIC": "3",
                              "SLOTD_RATE_LIMIT_AUTH": "1000"})


def test_xff_second_header_from_trusted_proxy_decides(behind_proxy):
    s = behind_proxy
    ensure_window(15)
    # The client wrote the first header (a new address each time); the proxy appended the
    # second with the address it saw. Only the proxy's counts.
    for i in range(3):
        r = raw_request(s, "GET", "/api/public/nobody",
                        [("X-Forwarded-For", f"6.6.6.{i + 1}"), ("X-Forwarded-For", "198.51.100.7")])
        assert r.status == 404 and remaining(r) == 2 - i, r
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.99"), ("X-Forwarded-For", "198.51.100.7")])
    assert r.status == 429, r
    # the same client's address in one header (the list form) is the same client
    r = raw_request(s, "GET", "/api/public/nobody", [("X-Forwarded-For", "6.6.6.100, 198.51.100.7")])
    assert r.status == 429, r
    # another client behind the proxy has its own budget
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.99"), ("X-Forwarded-For", "198.51.100.8")])
    assert r.status == 404 and remaining(r) == 2, r
    # header names are case-insensitive: a lower-case repeat is the same list
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.98"), ("x-forwarded-for", "198.51.100.8")])
    assert r.status == 404 and remaining(r) == 1, r


def test_xff_walk_skips_trusted_hops_and_stops_at_garbage(behind_proxy):
    s = behind_proxy
    ensure_window(15)
    # two proxies of ours (127.0.0.1 twice): the first untrusted address from the right is the client
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.1"), ("X-Forwarded-For", "198.51.100.20, 127.0.0.1")])
    assert r.status == 404 and remaining(r) == 2, r
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.2, 198.51.100.20"), ("X-Forwarded-For", "127.0.0.1")])
    assert r.status == 404 and remaining(r) == 1, r
    # garbage in the client's part stops the walk at the last good hop: still the proxy's entry
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "not-an-ip"), ("X-Forwarded-For", "198.51.100.20")])
    assert r.status == 404 and remaining(r) == 0, r
    r = raw_request(s, "GET", "/api/public/nobody", [("X-Forwarded-For", "198.51.100.20")])
    assert r.status == 429, r


def test_xff_from_untrusted_peer_ignored_in_every_header(slotd_factory):
    s = slotd_factory(env={"SLOTD_RATE_LIMIT_PUBLIC": "2", "SLOTD_RATE_LIMIT_AUTH": "1000"})  # no trusted proxy
    ensure_window(15)
    for i in range(2):
        r = raw_request(s, "GET", "/api/public/nobody",
                        [("X-Forwarded-For", f"6.6.6.{i}"), ("X-Forwarded-For", f"7.7.7.{i}")])
        assert r.status == 404, r
    r = raw_request(s, "GET", "/api/public/nobody",
                    [("X-Forwarded-For", "6.6.6.50"), ("X-Forwarded-For", "7.7.7.50")])
    assert r.status == 429, r


def test_register_409_kept_and_its_per_ip_limit_not_escapable(behind_proxy, db):
    """The seed answers 409 for a taken e-mail (README, security notes); probing for accounts is
    bounded by the per-IP limit of public routes, which a spoofed header cannot reset."""
    s = behind_proxy
    ensure_window(15)
    proxy_hdr = ("X-Forwarded-For", "198.51.100.30")
    body = b'{"email": "taken@example.com", "password": "correct horse battery", "name": "Jane"}'
    ct = ("Content-Type", "application/json")
    r = raw_request(s, "POST", "/api/auth/register", [("X-Forwarded-For", "6.6.6.1"), proxy_hdr, ct], body)
    assert r.status == 201, r
    r = raw_request(s, "POST", "/api/auth/register", [("X-Forwarded-For", "6.6.6.2"), proxy_hdr, ct], body)
    assert_error(r, 409, "CONFLICT", "email")
    r = raw_request(s, "POST", "/api/auth/register", [("X-Forwarded-For", "6.6.6.3"), proxy_hdr, ct],
                    body.replace(b"taken@", b"other@"))
    assert r.status == 201, r
    r = raw_request(s, "POST", "/api/auth/register", [("X-Forwarded-For", "6.6.6.4"), proxy_hdr, ct],
                    body.replace(b"taken@", b"third@"))
    assert r.status == 429, r
    assert int(db.sql("SELECT count(*) FROM users WHERE email = 'third@example.com'")[0][0]) == 0


# ----------------------------------------------------------------------------
# 9. malformed query parameters


@pytest.fixture
def host_env(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    h = Host(s, db)
    et = h.et()
    return s, h, et


def avail(h, et, query):
    return call(h.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?{query}")


def test_malformed_query_parameters_are_400_naming_them(host_env):
    s, h, et = host_env
    d = day_at(3).date().isoformat()
    base = f"start={d}&end={d}"
    # the review's repros
    r = avail(h, et, f"{base}&timezone=America/New_York%00x")
    assert_error(r, 400, "VALIDATION_FAILED", "timezone")
    r = avail(h, et, f"{base}&format=range%00")
    assert_error(r, 400, "VALIDATION_FAILED", "format")
    r = h.list("status=%zz")
    assert_error(r, 400, "VALIDATION_FAILED", "status")
    # other malformations: truncated escape, invalid UTF-8 (a lone continuation byte, an
    # overlong '/', a surrogate), control characters (raw-decoded and via '+'-free escapes)
    for bad in ("America/New_York%2", "America/New_York%", "%C3%28", "%C0%AF", "%ED%A0%80", "%FF",
                "America%2FNew_York%01", "UTC%1F", "UTC%7F", "UTC%0A"):
        r = avail(h, et, f"{base}&timezone={bad}")
        assert_error(r, 400, "VALIDATION_FAILED", "timezone")
    # any parameter, also one the route does not read
    r = avail(h, et, f"{base}&utm_source=%zz")
    assert_error(r, 400, "VALIDATION_FAILED", "utm_source")
    # a malformed name: named as written (printable), or left unnamed
    r = avail(h, et, f"{base}&tz%zz=UTC")
    assert_error(r, 400, "VALIDATION_FAILED", "tz%zz")
    r = avail(h, et, f"{base}&%00=1")
    j = assert_error(r, 400, "VALIDATION_FAILED")
    assert j.get("field") in (None, "%00"), j
    # what is well formed still works: escaped '/', '+' as a space is just an unknown zone,
    # UTF-8 in an unrelated parameter is fine
    r = avail(h, et, f"{base}&timezone=America%2FNew_York")
    assert r.status == 200, r
    r = avail(h, et, f"{base}&timezone=America/New_York&format=range")
    assert r.status == 200, r
    days = r.json()["slots"]
    assert days and all(isinstance(x, dict) and "start" in x for v in days.values() for x in v), r
    r = avail(h, et, f"{base}&timezone=America/New+York")
    assert_error(r, 400, "VALIDATION_FAILED", "timezone")  # a valid string, but no such zone
    r = avail(h, et, f"{base}&note=caf%C3%A9&empty=&flag")
    assert r.status == 200, r
    r = h.list("status=confirmed")
    assert r.status == 200, r


def test_malformed_query_on_every_kind_of_route(host_env):
    s, h, et = host_env
    # authenticated route without a credential: refused for the query first, and the refusal
    # is counted against the client IP like a failed authentication (rate-limit headers)
    r = call(s, "GET", "/api/bookings?page=%zz")
    assert_error(r, 400, "VALIDATION_FAILED", "page")
    assert_ratelimit_headers(r)
    # authenticated, public, by-id, booking links
    for path in ("/api/event-types?x=%00", f"/api/public/{h.slug}?x=%00",
                 f"/api/event-types/{et['id']}/slots?x=%00", "/api/bookings/confirmation/ABCDEFGH?contact=%00"):
        r = call(s, "GET", path, auth=h.auth)
        assert_error(r, 400, "VALIDATION_FAILED", "x" if "x=" in path else "contact")
    # a write with a malformed query does nothing
    before = snapshot(h.db, ("event_types",))
    r = call(s, "POST", "/api/event-types?x=%E2%82", {"name": "Never"}, auth=h.auth)
    assert_error(r, 400, "VALIDATION_FAILED", "x")
    assert snapshot(h.db, ("event_types",)) == before
    # the operations endpoints are not API routes and ignore their query strings
    assert s.get("/healthz?x=%zz").status == 200


# ----------------------------------------------------------------------------
# Content-Type


def test_body_without_json_content_type_is_415(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    u = new_user(s, "ct@example.com")
    creds = b'{"email": "ct@example.com", "password": "correct horse battery"}'
    for ctype in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
                  "application/jsonx", "application/json-patch+json", "application/json; charset=latin1",
                  "text/json", ""):
        hdrs = {"Content-Type": ctype} if ctype else {}
        r = call(s, "POST", "/api/auth/login", raw=creds, headers=hdrs) if ctype else \
            s.request("POST", "/api/auth/login", body=creds)
        j = assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert "application/json" in j["error"], j
        assert_ratelimit_headers(r)
    # two Content-Type headers: refused, whatever they say
    r = raw_request(s, "POST", "/api/auth/login",
                    [("Content-Type", "application/json"), ("Content-Type", "text/plain")], creds)
    assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    # accepted spellings
    for ctype in ("application/json", "Application/JSON", "application/json; charset=utf-8",
                  "application/json;charset=UTF-8", 'application/json; charset="utf-8"', "application/json ; q=1"):
        r = call(s, "POST", "/api/auth/login", raw=creds, headers={"Content-Type": ctype})
        assert r.status == 200, (ctype, r)
    # no body, no Content-Type needed (cancel with an empty body; logout)
    r = s.request("POST", "/api/bookings/999999/cancel", headers=u.session, body=b"")
    assert_error(r, 404, "NOT_FOUND")
    r = s.request("POST", "/api/bookings/999999/cancel", headers={**u.session, "Content-Type": "text/plain"},
                  body=b"")
    assert_error(r, 404, "NOT_FOUND")


def test_cross_site_form_post_with_session_cookie_changes_nothing(slotd_factory, db):
    s = slotd_factory(env=NO_LIMITS)
    u = new_user(s, "csrf@example.com")
    before = snapshot(db)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example",
            **u.session}
    # a browser form can only send urlencoded, multipart or text/plain bodies; a JSON-looking
    # text/plain body is the classic trick
    for method, path, body in (("PUT", "/api/booking-page", b'{"bio":"pwned"}'),
                               ("POST", "/api/api-keys", b'{"label":"pwned"}'),
                               ("PUT", "/api/auth/me", b'{"name":"pwned"}'),
                               ("POST", "/api/event-types", b'{"name":"pwned"}')):
        for ctype in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=b"):
            r = s.request(method, path, headers={**form, "Content-Type": ctype}, body=body)
            assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert snapshot(db) == before
    # the same with the right type works (it is the type, not the route, that was refused)
    r = call(s, "PUT", "/api/booking-page", {"bio": "mine"}, auth=u.session)
    assert r.status == 200, r


def test_415_on_public_write_routes(host_env):
    s, h, et = host_env
    body = ('{"name": "Bob", "email": "bob@example.com", "start_time": "%s"}'
            % day_at(3, 10).strftime("%Y-%m-%dT%H:%M:%SZ")).encode()
    for path in (h.book_path(et), f"/api/event-types/{et['id']}/book", "/api/reservations"):
        r = s.request("POST", path, headers={"Content-Type": "text/plain"}, body=body)
        assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert int(h.db.sql("SELECT count(*) FROM bookings")[0][0]) == 0
    r = h.book_req(et, day_at(3, 10))
    assert r.status == 201, r


# ----------------------------------------------------------------------------
# /metrics on its own listener


def test_metrics_on_own_listener(slotd_factory):
    mport = free_port()
    s = slotd_factory(env={"SLOTD_METRICS_LISTEN": f"127.0.0.1:{mport}"})
    for _ in range(3):
        assert s.get("/healthz").status == 200
    # the main address (what a balancer exposes) has no /metrics
    r = s.get("/metrics")
    assert_error(r, 404, "NOT_FOUND")
    # the metrics listener has it, counting the main server's requests
    c = socket.create_connection(("127.0.0.1", mport), timeout=10)
    st = HttpStream(c)
    try:
        st.send(b"GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
        r = st.read_final_response()
        assert r.status == 200, r
        assert r.header("Content-Type").startswith("text/plain"), r
        samples = parse_metrics(r.body.decode())
        healthz = sum(v for n, l, v in samples if n == "slotd_http_requests_total"
                      and l.get("route") == "/healthz" and l.get("method") == "GET")
        assert healthz >= 3, samples
        metrics404 = sum(v for n, l, v in samples if n == "slotd_http_requests_total"
                         and l.get("route") == "/metrics" and l.get("status") == "404")
        assert metrics404 == 1, [x for x in samples if x[0] == "slotd_http_requests_total"]
        # keep-alive on the metrics listener; /healthz is there too, nothing else is
        st.send(b"GET /healthz HTTP/1.1\r\nHost: m\r\n\r\n")
        assert st.read_final_response().status == 200
        for path in (b"/readyz", b"/api/public/nobody", b"/api/auth/me", b"/nothing"):
            st.send(b"GET " + path + b" HTTP/1.1\r\nHost: m\r\n\r\n")
            r = st.read_final_response()
            assert_error(r, 404, "NOT_FOUND")
            assert r.header("X-RateLimit-Limit") is None, r  # no API front door there
        # a body-carrying method on an API pattern: 404 without running anything
        st.send(b"POST /api/auth/register HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\n\r\n{}")
        assert_error(st.read_final_response(), 404, "NOT_FOUND")
        # an idle keep-alive connection on the metrics listener does not hold up the stop
        t = time.monotonic()
        rc = s.stop()
        assert rc == 0 and time.monotonic() - t < 5, (rc, s.stderr()[-2000:])
    finally:
        c.close()
    assert "metrics listening" in s.stderr()


def test_metrics_default_stays_on_main_address(slotd):
    r = slotd.get("/metrics")
    assert r.status == 200 and b"slotd_http_requests_total" in r.body, r


def test_metrics_listen_config_errors(db):
    for bad in ("nonsense", "127.0.0.1", "localhost:9090", "127.0.0.1:99999"):
        r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_METRICS_LISTEN": bad})
        assert r.returncode == 2 and "SLOTD_METRICS_LISTEN" in r.stderr, (bad, r.stderr)
    port = free_port()
    r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_LISTEN": f"127.0.0.1:{port}",
                                  "SLOTD_METRICS_LISTEN": f"127.0.0.1:{port}"})
    assert r.returncode == 2 and "SLOTD_METRICS_LISTEN" in r.stderr, r.stderr
    r = run_slotd(["--help"])
    assert "SLOTD_METRICS_LISTEN" in r.stdout


def test_metrics_listener_busy_port_fails_start(slotd_factory, db):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_LISTEN": f"127.0.0.1:{free_port()}",
                                      "SLOTD_METRICS_LISTEN": f"127.0.0.1:{port}"})
    assert r.returncode == 1, r.stderr
    assert re.search(r"cannot listen.*SLOTD_METRICS_LISTEN", r.stderr), r.stderr
