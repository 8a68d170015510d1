"""Connection handling: keep-alive, pipelining, HTTP/1.0, chunked bodies, Expect: 100-continue."""

import time

from conftest import request_bytes


def test_keep_alive_many_requests_one_socket(slotd):
    s = slotd.stream()
    for i in range(10):
        path = ("/healthz", "/readyz", "/nope", "/metrics")[i % 4]
        s.send(request_bytes("GET", path, {"X-Request-Id": f"ka-{i}"}))
        r = s.read_response()
        assert r.status in (200, 404)
        assert r.header("X-Request-Id") == f"ka-{i}"
        assert not r.closes, r.headers
    s.sock.close()


def test_connection_close_request(slotd):
    s = slotd.stream()
    s.send(request_bytes("GET", "/healthz", {"Connection": "close"}))
    r = s.read_response()
    assert r.status == 200
    assert r.closes
    assert s.is_closed(3)


def test_pipelining_three_in_one_write(slotd):
    s = slotd.stream()
    s.send(request_bytes("GET", "/readyz", {"X-Request-Id": "p1"})
           + request_bytes("GET", "/healthz", {"X-Request-Id": "p2"})
           + request_bytes("GET", "/nope", {"X-Request-Id": "p3"}))
    r1, r2, r3 = (s.read_response() for _ in range(3))
    assert (r1.header("X-Request-Id"), r2.header("X-Request-Id"), r3.header("X-Request-Id")) == ("p1", "p2", "p3")
    assert (r1.status, r2.status, r3.status) == (200, 200, 404)
    assert r1.json() == {"status": "ready"}
    assert r2.json() == {"status": "ok"}
    # connection still usable afterwards
    s.send(request_bytes("GET", "/healthz", {"X-Request-Id": "p4"}))
    assert s.read_response().header("X-Request-Id") == "p4"


def test_pipelining_many_mixed(slotd):
    s = slotd.stream()
    paths = ["/readyz", "/healthz", "/metrics", "/nope", "/readyz", "/healthz"] * 8
    data = b"".join(request_bytes("HEAD" if i % 5 == 4 else "GET", p, {"X-Request-Id": f"m{i}"})
                    for i, p in enumerate(paths))
    s.send(data)
    for i, p in enumerate(paths):
        r = s.read_response(head=(i % 5 == 4))
        assert r.header("X-Request-Id") == f"m{i}", (i, p, r)
        assert r.status == (404 if p == "/nope" else 200)


def test_pipelined_request_with_body_then_get(slotd):
    s = slotd.stream()
    s.send(request_bytes("POST", "/healthz", {"X-Request-Id": "b1"}, body=b"0123456789")
           + request_bytes("GET", "/healthz", {"X-Request-Id": "b2"}))
    r1 = s.read_response()
    assert r1.status == 405 and r1.header("X-Request-Id") == "b1"
    if r1.closes:
        assert s.is_closed(3)
        return
    r2 = s.read_response()
    assert r2.status == 200 and r2.header("X-Request-Id") == "b2"


def test_request_split_into_single_bytes(slotd):
    s = slotd.stream()
    data = request_bytes("GET", "/healthz", {"X-Request-Id": "split-1", "Accept": "application/json"})
    for b in data:
        s.send(bytes([b]))
    r = s.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "split-1"
    assert r.json() == {"status": "ok"}


def test_http10_closes_by_default(slotd):
    s = slotd.stream()
    s.send(b"GET /healthz HTTP/1.0\r\n\r\n")
    r = s.read_response()
    assert r.status == 200
    assert r.json() == {"status": "ok"}
    assert s.is_closed(3)


def test_http10_keep_alive(slotd):
    s = slotd.stream()
    s.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = s.read_response()
    assert r.status == 200
    assert not r.closes
    assert "keep-alive" in r.header("Connection", "").lower(), r.headers
    s.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: second\r\n\r\n")
    r = s.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "second"


def chunked(*parts):
    out = b""
    for p in parts:
        out += f"{len(p):x}\r\n".encode() + p + b"\r\n"
    return out + b"0\r\n\r\n"


def test_chunked_body_gets_proper_response(slotd):
    s = slotd.stream()
    body = chunked(b"hello ", b"chunked ", b"world" * 20)
    s.send(b"POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nX-Request-Id: ch1\r\n\r\n" + body)
    r = s.read_response()
    assert r.status == 405, r
    assert r.header("X-Request-Id") == "ch1"
    assert r.json()["code"] == "METHOD_NOT_ALLOWED"
    if r.closes:
        assert s.is_closed(3)
        return
    # the chunked body was consumed exactly: the next request parses
    s.send(request_bytes("GET", "/healthz", {"X-Request-Id": "ch2"}))
    r = s.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "ch2"


def test_chunked_body_on_get_route(slotd):
    s = slotd.stream()
    # chunks arriving in separate writes, with chunk extensions and trailers
    s.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    s.send(b"5;ext=1\r\nabcde\r\n")
    time.sleep(0.05)
    s.send(b"3\r\nxyz\r\n")
    s.send(b"0\r\nX-Trailer: yes\r\n\r\n")
    r = s.read_response()
    assert r.status == 200
    s.send(request_bytes("GET", "/healthz", {"X-Request-Id": "after-chunked"}))
    r = s.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "after-chunked"


def test_chunked_body_over_limit_413(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    body = chunked(*([b"z" * 300] * 6))  # 1800 bytes > 1024
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    r = st.read_response()
    assert r.status == 413, r
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert r.closes
    assert st.is_closed(3)


def test_chunked_body_at_limit_accepted(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    body = chunked(*([b"z" * 256] * 4))  # exactly 1024
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    r = st.read_response()
    assert r.status == 200, r


def test_expect_100_continue(slotd):
    s = slotd.stream()
    s.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nExpect: 100-continue\r\n"
           b"X-Request-Id: exp1\r\n\r\n")
    r = s.read_response()
    assert r.status == 100, r
    assert r.raw_head.startswith(b"HTTP/1.1 100 Continue")
    s.send(b"0123456789")
    r = s.read_response()
    assert r.status == 200, r
    assert r.header("X-Request-Id") == "exp1"
    assert r.json() == {"status": "ok"}
    # keep-alive continues
    s.send(request_bytes("GET", "/healthz"))
    assert s.read_response().status == 200


def test_expect_100_continue_too_large(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
    r = st.read_response()
    assert r.status == 413, f"expected 413 without 100 Continue, got {r}"
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert r.closes
    assert st.is_closed(3)
