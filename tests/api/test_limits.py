"""Limits and timeouts: 414, 431, 413, 400, 408, idle close, max connections."""

import socket
import time

import pytest

from conftest import ConnectionClosed, is_closed, parse_metrics, metric_value, request_bytes, wait_until


def expect_error_and_close(st, status, code):
    r = st.read_response()
    assert r.status == status, r
    assert r.header("Content-Type", "").startswith("application/json")
    assert r.header("X-Request-Id") and r.header("Date")
    j = r.json()
    assert j.get("code") == code, j
    assert isinstance(j.get("error"), str)
    assert r.closes, f"{status} without Connection: close: {r.headers}"
    assert st.is_closed(3), "connection not closed after error"
    return r


def test_uri_too_long(slotd):
    st = slotd.stream()
    st.send(request_bytes("GET", "/" + "a" * 9000))
    expect_error_and_close(st, 414, "URI_TOO_LONG")


def test_long_but_allowed_uri(slotd):
    st = slotd.stream()
    st.send(request_bytes("GET", "/healthz?q=" + "a" * 7000))
    r = st.read_response()
    assert r.status == 200


def test_header_block_too_large(slotd):
    st = slotd.stream()
    headers = {f"X-Big-{i}": "v" * 1000 for i in range(40)}  # ~40 KiB
    st.send(request_bytes("GET", "/healthz", headers))
    expect_error_and_close(st, 431, "HEADERS_TOO_LARGE")


def test_single_huge_header(slotd):
    st = slotd.stream()
    st.send(request_bytes("GET", "/healthz", {"X-Huge": "v" * 40000}))
    expect_error_and_close(st, 431, "HEADERS_TOO_LARGE")


def test_header_block_under_limit(slotd):
    st = slotd.stream()
    headers = {f"X-Big-{i}": "v" * 1000 for i in range(20)}  # ~20 KiB
    st.send(request_bytes("GET", "/healthz", headers))
    assert st.read_response().status == 200


def test_too_many_headers(slotd):
    st = slotd.stream()
    headers = {f"X-H{i}": "1" for i in range(120)}
    st.send(request_bytes("GET", "/healthz", headers))
    expect_error_and_close(st, 431, "HEADERS_TOO_LARGE")


def test_many_headers_under_limit(slotd):
    st = slotd.stream()
    headers = {f"X-H{i}": "1" for i in range(90)}
    st.send(request_bytes("GET", "/healthz", headers))
    assert st.read_response().status == 200


def test_body_too_large_by_content_length(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n")
    expect_error_and_close(st, 413, "PAYLOAD_TOO_LARGE")


def test_body_at_limit_not_413(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    st = s.stream()
    st.send(request_bytes("GET", "/healthz", body=b"y" * 1024))
    r = st.read_response()
    assert r.status == 200, r


def test_body_too_large_default_limit(slotd):
    st = slotd.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n")
    expect_error_and_close(st, 413, "PAYLOAD_TOO_LARGE")


MALFORMED = {
    "garbage": b"GARBAGE\r\n\r\n",
    "bad_header_line": b"GET /healthz HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
    "space_before_colon": b"GET /healthz HTTP/1.1\r\nHost : t\r\n\r\n",
    "cl_and_te": b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad_content_length": b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    "two_content_lengths": b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "bad_chunk_size": b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "bad_protocol": b"GET /healthz HTTX/1.1\r\nHost: t\r\n\r\n",
    "nul_in_path": b"GET /heal\x00thz HTTP/1.1\r\nHost: t\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_400_and_close(slotd, name):
    st = slotd.stream()
    st.send(MALFORMED[name])
    expect_error_and_close(st, 400, "BAD_REQUEST")


def test_malformed_after_good_request(slotd):
    st = slotd.stream()
    st.send(request_bytes("GET", "/healthz", {"X-Request-Id": "good"}) + b"BROKEN REQUEST\r\n\r\n")
    r = st.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "good"
    expect_error_and_close(st, 400, "BAD_REQUEST")


def test_header_timeout_408(slotd_factory):
    s = slotd_factory(env={"SLOTD_HEADER_TIMEOUT": "1"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    st.sock.settimeout(6)
    expect_error_and_close(st, 408, "REQUEST_TIMEOUT")


def test_slowloris_408(slotd_factory):
    """Trickling a byte at a time does not extend the header deadline."""
    s = slotd_factory(env={"SLOTD_HEADER_TIMEOUT": "1"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    start = time.monotonic()
    st.sock.settimeout(0.2)
    while time.monotonic() - start < 6 and b"\r\n\r\n" not in st.buf:
        try:
            st.sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            data = st.sock.recv(65536)
            if not data:
                break
            st.buf += data
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    assert st.buf.startswith(b"HTTP/1.1 408"), f"no 408 while trickling header bytes: {st.buf[:300]!r}"
    st.sock.settimeout(5)
    expect_error_and_close(st, 408, "REQUEST_TIMEOUT")


def test_silent_connection_closed_without_response(slotd_factory):
    s = slotd_factory(env={"SLOTD_HEADER_TIMEOUT": "1"})
    sock = s.connect()
    # nothing sent: closed after the header timeout, with no bytes at all
    assert is_closed(sock, 6), "silent connection not closed"


def test_header_timeout_does_not_hit_complete_requests(slotd_factory):
    s = slotd_factory(env={"SLOTD_HEADER_TIMEOUT": "1", "SLOTD_IDLE_TIMEOUT": "30"})
    st = s.stream()
    for i in range(3):
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        time.sleep(0.6)
    # 1.8 s after connecting, well past the header timeout, the keep-alive connection still works
    st.send(request_bytes("GET", "/healthz"))
    assert st.read_response().status == 200


def test_idle_keep_alive_closed(slotd_factory):
    s = slotd_factory(env={"SLOTD_IDLE_TIMEOUT": "0.5"})
    st = s.stream()
    st.send(request_bytes("GET", "/healthz"))
    r = st.read_response()
    assert r.status == 200 and not r.closes
    # still open right away
    st.send(request_bytes("GET", "/healthz"))
    assert st.read_response().status == 200
    t0 = time.monotonic()
    assert st.is_closed(5), "idle keep-alive connection not closed"
    assert time.monotonic() - t0 >= 0.3, "closed before the idle timeout"


def test_body_timeout(slotd_factory):
    s = slotd_factory(env={"SLOTD_BODY_TIMEOUT": "1"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
    st.sock.settimeout(6)
    # the contract does not fix the status for a stalled body; the connection must not hang
    try:
        r = st.read_response()
    except ConnectionClosed:
        return  # closed without a response is acceptable too
    assert r.status == 408, r
    assert r.closes
    assert st.is_closed(3)


def test_max_connections(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_CONNECTIONS": "3"})
    conns = []
    for i in range(3):
        st = s.stream()
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        conns.append(st)
    extra = s.stream()
    expect_error_and_close(extra, 503, "SERVICE_UNAVAILABLE")
    # the accepted ones still work; the rejection is counted
    conns[0].send(request_bytes("GET", "/metrics"))
    m = conns[0].read_response()
    assert m.status == 200
    samples = parse_metrics(m.body.decode())
    assert metric_value(samples, "slotd_http_connections_rejected_total") >= 1
    assert metric_value(samples, "slotd_http_connections_open") == 3
    # freeing a slot lets a new connection in
    conns.pop().sock.close()

    def new_conn_ok():
        st = s.stream()
        st.send(request_bytes("GET", "/healthz"))
        return st.read_response().status == 200
    wait_until(new_conn_ok, 5, interval=0.1, what="a new connection after one closed")
    for c in conns:
        c.sock.close()
