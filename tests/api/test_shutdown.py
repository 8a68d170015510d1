"""SIGTERM/SIGINT: stop accepting, not ready, finish in-flight requests, close idle ones, exit 0."""

import signal
import socket
import time

from conftest import ConnectionClosed, request_bytes


def _no_bytes_yet(st, wait=0.3):
    st.sock.settimeout(wait)
    try:
        data = st.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        st.sock.settimeout(10)
    raise AssertionError(f"unexpected bytes/close before the body was complete: {data!r}")


def _new_connection_refused_or_unanswered(s):
    try:
        sock = socket.create_connection((s.host, s.port), timeout=2)
    except (ConnectionRefusedError, socket.timeout):
        return True
    sock.settimeout(2)
    try:
        sock.sendall(request_bytes("GET", "/healthz"))
        data = sock.recv(65536)
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        return True
    finally:
        sock.close()
    assert data == b"", f"a connection made after SIGTERM was answered: {data[:200]!r}"
    return True


def test_graceful_shutdown(slotd_factory):
    s = slotd_factory(env={"SLOTD_SHUTDOWN_TIMEOUT": "10", "SLOTD_BODY_TIMEOUT": "30",
                           "SLOTD_IDLE_TIMEOUT": "60"})
    # an idle keep-alive connection
    idle = s.stream()
    idle.send(request_bytes("GET", "/healthz"))
    assert idle.read_response().status == 200
    # a keep-alive connection that starts a /readyz request around the signal
    other = s.stream()
    other.send(request_bytes("GET", "/healthz"))
    assert other.read_response().status == 200
    other.send(b"GET /readyz HTTP/1.1\r\nHost: t\r\n")
    # a request whose body is still arriving
    inflight = s.stream()
    inflight.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nX-Request-Id: inflight\r\n\r\n01234")
    assert _no_bytes_yet(inflight)

    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    time.sleep(0.5)
    assert s.alive(), f"exited with an in-flight request: {s.stderr()[-3000:]}"

    # /readyz on the other already-open connection: 503 SHUTTING_DOWN, or the connection is closed
    try:
        other.send(b"X-Request-Id: other\r\n\r\n")
        r = other.read_response()
    except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
        r = None
    if r is not None:
        assert r.status == 503, f"/readyz while draining: {r}"
        assert r.json() == {"error": "shutting down", "code": "SHUTTING_DOWN"}, r.body

    # the idle keep-alive connection is closed
    assert idle.is_closed(3), "idle keep-alive connection not closed while draining"

    # no new connections are served
    assert _new_connection_refused_or_unanswered(s)

    # the in-flight request completes normally
    inflight.send(b"56789")
    r = inflight.read_response()
    assert r.status == 200, r
    assert r.header("X-Request-Id") == "inflight"
    assert r.json() == {"status": "ok"}  # /healthz is 200 while draining
    assert inflight.is_closed(3)

    rc = s.wait(8)
    assert rc == 0, f"exit code {rc}; stderr: {s.stderr()[-3000:]}"
    assert time.monotonic() - t0 < 10


def test_draining_readyz_pipelined_after_inflight(slotd_factory):
    """A /readyz that arrives behind an in-flight request during draining is 503 (or not served)."""
    s = slotd_factory()
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
    assert _no_bytes_yet(st)
    s.signal(signal.SIGTERM)
    time.sleep(0.3)
    st.send(b"cd" + request_bytes("GET", "/readyz", {"X-Request-Id": "drain-ready"}))
    r = st.read_response()
    assert r.status == 200
    try:
        r2 = st.read_response()
    except ConnectionClosed:
        r2 = None
    if r2 is not None:
        assert r2.status == 503 and r2.json()["code"] == "SHUTTING_DOWN", r2
    assert s.wait(8) == 0


def test_sigint_exits_zero(slotd):
    assert slotd.get("/healthz").status == 200
    slotd.signal(signal.SIGINT)
    assert slotd.wait(8) == 0, slotd.stderr()[-3000:]


def test_sigterm_with_idle_connections_exits_promptly(slotd):
    conns = []
    for _ in range(5):
        st = slotd.stream()
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        conns.append(st)
    t0 = time.monotonic()
    slotd.signal(signal.SIGTERM)
    assert slotd.wait(8) == 0, slotd.stderr()[-3000:]
    assert time.monotonic() - t0 < 5, "idle connections delayed the exit"
    for st in conns:
        assert st.is_closed(2)


def test_shutdown_timeout_bounds_stuck_request(slotd_factory):
    s = slotd_factory(env={"SLOTD_SHUTDOWN_TIMEOUT": "1", "SLOTD_BODY_TIMEOUT": "60"})
    st = s.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npartial")
    assert _no_bytes_yet(st)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(10)
    assert rc is not None, "did not exit although SLOTD_SHUTDOWN_TIMEOUT=1"
    assert rc == 0, s.stderr()[-3000:]
    assert time.monotonic() - t0 < 6
