"""Basic HTTP behaviour: health routes, common headers, request ids, 404/405, HEAD, CORS."""

import json
import re

import pytest

from conftest import http_date_ok, request_bytes

HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def assert_common_headers(r, json_body=True):
    assert http_date_ok(r.header("Date")), f"bad Date: {r.header('Date')!r}"
    assert r.header("Content-Length") is not None, r
    assert r.header("Content-Type"), r
    assert r.header("X-Request-Id"), r
    assert len(r.header_all("Content-Length")) == 1
    assert len(r.header_all("X-Request-Id")) == 1
    if json_body:
        assert r.header("Content-Type").split(";")[0].strip() == "application/json", r.header("Content-Type")
    assert int(r.header("Content-Length")) == len(r.body)


def assert_error(r, status, code):
    assert r.status == status, r
    assert_common_headers(r)
    j = r.json()
    assert j.get("code") == code, j
    assert isinstance(j.get("error"), str) and j["error"], j


def test_healthz(slotd):
    r = slotd.get("/healthz")
    assert r.status == 200
    assert_common_headers(r)
    assert r.json() == {"status": "ok"}


def test_readyz(slotd):
    r = slotd.get("/readyz")
    assert r.status == 200
    assert_common_headers(r)
    assert r.json() == {"status": "ready"}


def test_healthz_query_string_ignored(slotd):
    r = slotd.get("/healthz?verbose=1&x=%20")
    assert r.status == 200
    assert r.json() == {"status": "ok"}


def test_not_found(slotd):
    r = slotd.get("/no/such/path")
    assert_error(r, 404, "NOT_FOUND")


def test_not_found_post(slotd):
    r = slotd.request("POST", "/no/such/path", body=b"{}", headers={"Content-Type": "application/json"})
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_method_not_allowed(slotd, method):
    r = slotd.request(method, "/healthz", body=b"" if method != "DELETE" else None)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    allow = r.header("Allow")
    assert allow, "405 without Allow header"
    methods = {m.strip().upper() for m in allow.split(",")}
    assert "GET" in methods and "HEAD" in methods, allow
    assert method not in methods


def test_405_on_readyz_and_metrics(slotd):
    for path in ("/readyz", "/metrics"):
        r = slotd.request("POST", path, body=b"x")
        assert_error(r, 405, "METHOD_NOT_ALLOWED")
        assert "GET" in r.header("Allow", "")


def test_request_id_echoed(slotd):
    rid = "abc-123._:XYZ"
    r = slotd.get("/healthz", headers={"X-Request-Id": rid})
    assert r.header("X-Request-Id") == rid


def test_request_id_max_length_echoed(slotd):
    rid = "a" * 128
    r = slotd.get("/healthz", headers={"X-Request-Id": rid})
    assert r.header("X-Request-Id") == rid


def test_request_id_generated(slotd):
    ids = set()
    for _ in range(3):
        r = slotd.get("/healthz")
        rid = r.header("X-Request-Id")
        assert HEX32.fullmatch(rid), rid
        ids.add(rid)
    assert len(ids) == 3, "generated ids repeat"


@pytest.mark.parametrize("bad", ["a" * 129, "has space", "semi;colon", "quote\"", "slash/", "<script>", "tab\there"])
def test_request_id_insane_replaced(slotd, bad):
    s = slotd.stream()
    s.send(request_bytes("GET", "/healthz", {"X-Request-Id": bad}))
    r = s.read_response()
    assert r.status == 200
    rid = r.header("X-Request-Id")
    assert rid != bad
    assert HEX32.fullmatch(rid), rid


def test_request_id_on_error_responses(slotd):
    r = slotd.get("/nope", headers={"X-Request-Id": "err-1"})
    assert r.status == 404 and r.header("X-Request-Id") == "err-1"
    r = slotd.request("POST", "/healthz", headers={"X-Request-Id": "err-2"}, body=b"")
    assert r.status == 405 and r.header("X-Request-Id") == "err-2"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_head_same_headers_no_body(slotd, path):
    s = slotd.stream()
    # HEAD then GET on one connection: if HEAD carried a body, the GET's
    # status line would not be where the parser expects it.
    s.send(request_bytes("HEAD", path) + request_bytes("GET", path))
    h = s.read_response(head=True)
    g = s.read_response()
    assert h.status == 200 and g.status == 200
    assert h.header("Content-Length") == g.header("Content-Length")
    assert h.header("Content-Type") == g.header("Content-Type")
    assert h.header("X-Request-Id") and h.header("Date")
    assert s.buf == b""
    s.sock.close()


def test_head_metrics_no_body(slotd):
    s = slotd.stream()
    s.send(request_bytes("HEAD", "/metrics") + request_bytes("GET", "/healthz"))
    h = s.read_response(head=True)
    assert h.status == 200
    assert h.header("Content-Type", "").startswith("text/plain")
    assert int(h.header("Content-Length")) > 0
    g = s.read_response()
    assert g.status == 200 and g.json() == {"status": "ok"}


def test_head_unknown_path(slotd):
    s = slotd.stream()
    s.send(request_bytes("HEAD", "/nope") + request_bytes("GET", "/healthz"))
    h = s.read_response(head=True)
    assert h.status == 404
    g = s.read_response()
    assert g.status == 200


def test_cors_simple_request_default_origin(slotd):
    for path in ("/healthz", "/readyz"):
        r = slotd.get(path, headers={"Origin": "https://widget.example"})
        assert r.status == 200
        assert r.header("Access-Control-Allow-Origin") == "*", r.headers


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_cors_preflight_public_route(slotd, path):
    r = slotd.request("OPTIONS", path, headers={
        "Origin": "https://widget.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "content-type, x-request-id",
    })
    assert r.status == 204, r
    assert r.body == b""
    assert r.header("Access-Control-Allow-Origin") == "*"
    methods = {m.strip().upper() for m in r.header("Access-Control-Allow-Methods", "").split(",")}
    assert "GET" in methods, r.headers
    assert r.header("Access-Control-Allow-Headers"), r.headers
    assert re.fullmatch(r"\d+", r.header("Access-Control-Max-Age", "")), r.headers
    assert http_date_ok(r.header("Date"))
    assert r.header("X-Request-Id")


def test_cors_configured_public_origins(slotd_factory):
    s = slotd_factory(env={"SLOTD_CORS_PUBLIC_ORIGINS": "https://a.example,https://b.example"})
    r = s.get("/healthz", headers={"Origin": "https://b.example"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "https://b.example"
    r = s.get("/healthz", headers={"Origin": "https://evil.example"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") in (None, ""), r.headers
    r = s.request("OPTIONS", "/healthz", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == "https://a.example"


def test_every_response_is_json_error_shape_for_limits(slotd_factory):
    """The 4xx generated by the HTTP layer itself also carry the common headers."""
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    st.send(request_bytes("GET", "/healthz", body=b"x" * 1100))
    r = st.read_response()
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")


def test_listen_ipv6(slotd_factory):
    import socket as _s
    try:
        probe = _s.socket(_s.AF_INET6)
        probe.bind(("::1", 0))
        port = probe.getsockname()[1]
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    s = slotd_factory(env={"SLOTD_LISTEN": f"[::1]:{port}"}, wait=False, port=port)
    import http.client
    import time

    def get():
        c = http.client.HTTPConnection("::1", port, timeout=5)
        try:
            c.request("GET", "/readyz")
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()
    deadline = time.monotonic() + 15
    while True:
        try:
            status, body = get()
            if status == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline and s.alive(), s.stderr()
        time.sleep(0.1)
    assert json.loads(body) == {"status": "ready"}
    l = s.wait_log(lambda l: l.get("msg") == "listening")[0]
    assert l["addr"] == f"[::1]:{port}", l
