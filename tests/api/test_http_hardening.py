"""Issue 10 (adversarial review), findings 5-8: the HTTP server against slow, oversized and
ambiguous requests. Each test replays the attack the review describes, scaled down through small
settings so that it runs in seconds.

  5. Slow requests. SLOTD_REQUEST_TIMEOUT bounds a whole request (head and body) from its first
     byte; SLOTD_MIN_BODY_RATE bounds a trickled body once SLOTD_MIN_BODY_RATE_GRACE has passed;
     both answer 408. SLOTD_MAX_CONNECTIONS_PER_IP caps the open connections of one peer
     address (loopback included, SLOTD_TRUSTED_PROXIES exempt) with the same clean 503 as
     SLOTD_MAX_CONNECTIONS.
  6. Lingering close. An error answered while the client is still sending (413 on a 4 MB
     upload) reaches the client instead of being lost to a TCP reset.
  7. Chunk extensions count against the head limit: 413.
  8. Every byte outside body data is checked before llhttp 8.1 sees it: a CR not followed by LF
     (CVE-2025-23167: "\\r\\n\\rX" ended the header block), obsolete line folding, anything but
     CRLF after chunk data, a control byte in the request target: 400 and close, and never a
     second, smuggled request.
"""

import select
import socket
import threading
import time

import pytest

from conftest import (HttpStream, free_port, metric_value, parse_metrics, recv_until_close,
                      request_bytes, run_slotd, sanitizer_report, wait_until)


def connect_from(s, source_ip="127.0.0.1", timeout=10.0):
    """A connection to s from a given loopback address (all of 127/8 is local on Linux)."""
    try:
        sock = socket.create_connection((s.host, s.port), timeout=timeout, source_address=(source_ip, 0))
    except OSError as e:  # pragma: no cover - depends on the host's loopback routes
        pytest.skip(f"cannot connect from {source_ip}: {e}")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def expect_error_and_close(st, status, code):
    r = st.read_response()
    assert r.status == status, r
    assert r.json().get("code") == code, r
    assert r.closes, f"{status} without Connection: close: {r.headers}"
    assert st.is_closed(5), "connection not closed after the error"
    return r


def settle(s):
    """Wait until only one connection is open (this probe, from 127.0.0.2): the fixture's
    readiness probes from 127.0.0.1 must not count against its per-address cap."""
    def quiet():
        st = HttpStream(connect_from(s, "127.0.0.2"))
        try:
            st.send(request_bytes("GET", "/metrics", {"Connection": "close"}))
            return metric_value(parse_metrics(st.read_response().body.decode()), "slotd_http_connections_open") == 1
        finally:
            st.sock.close()
    wait_until(quiet, 5, what="no connection open but the probe")


def responses_in(data):
    return data.count(b"HTTP/1.1 ")


def trickle(sock, pieces, interval, limit):
    """Send pieces one every `interval` seconds, watching for an answer. Returns (bytes the
    server sent, seconds from the first piece to its answer or close), or (b"", None) if it
    neither answered nor closed within `limit` seconds."""
    start = time.monotonic()
    got = b""
    for piece in pieces:
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        end = time.monotonic() + interval
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            if select.select([sock], [], [], left)[0]:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    return got, time.monotonic() - start
                got += data
                if b"\r\n\r\n" in got:
                    return got + recv_until_close(sock, 3), time.monotonic() - start
        if time.monotonic() - start > limit:
            return got, None
    return got + recv_until_close(sock, 3), time.monotonic() - start


def parse_one(data):
    class _Sock:
        def __init__(self, d):
            self.d = d

        def recv(self, n):
            out, self.d = self.d[:n], self.d[n:]
            return out

    return HttpStream(_Sock(data)).read_response()


# ---------------------------------------------------------------- 5. slow requests


def test_request_timeout_bounds_a_trickled_body(slotd_factory):
    """The review's attack: a byte per (body timeout - 1) s kept a body alive for ever, because
    the body timer only measured silence. Now the whole request has a deadline."""
    s = slotd_factory(env={"SLOTD_REQUEST_TIMEOUT": "2", "SLOTD_BODY_TIMEOUT": "1", "SLOTD_MIN_BODY_RATE": "0"})
    sock = s.connect()
    head = (b"POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    got, elapsed = trickle(sock, [head] + [b"x"] * 40, interval=0.5, limit=8)
    assert elapsed is not None, f"a body trickled a byte per 0.5 s is still open after 8 s: {got!r}"
    r = parse_one(got)
    assert r.status == 408 and r.json()["code"] == "REQUEST_TIMEOUT", r
    assert r.closes
    assert 1.5 <= elapsed <= 4.5, f"408 after {elapsed:.2f}s, SLOTD_REQUEST_TIMEOUT is 2"
    assert "not received in time" in r.json()["error"]


def test_request_timeout_counts_the_head_too(slotd_factory):
    s = slotd_factory(env={"SLOTD_REQUEST_TIMEOUT": "1.5", "SLOTD_HEADER_TIMEOUT": "30"})
    sock = s.connect()
    got, elapsed = trickle(sock, [b"GET /healthz HTTP/1.1\r\nHost: t\r\n"] + [b"X"] * 40, interval=0.3, limit=8)
    assert elapsed is not None, "a head trickled byte by byte outlived SLOTD_REQUEST_TIMEOUT"
    r = parse_one(got)
    assert r.status == 408 and r.json()["code"] == "REQUEST_TIMEOUT", r
    assert elapsed <= 4, elapsed


def test_min_body_rate(slotd_factory):
    """After the grace period a body must average SLOTD_MIN_BODY_RATE bytes/s: 80 B/s against
    200 fails (~1.7 s here) long before the inactivity or total timeout (30 s)."""
    s = slotd_factory(env={"SLOTD_MIN_BODY_RATE": "200", "SLOTD_MIN_BODY_RATE_GRACE": "1",
                           "SLOTD_BODY_TIMEOUT": "30", "SLOTD_REQUEST_TIMEOUT": "30"})
    sock = s.connect()
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"
    got, elapsed = trickle(sock, [head] + [b"y" * 20] * 100, interval=0.25, limit=10)
    assert elapsed is not None, "a body sent at 80 B/s was never refused"
    r = parse_one(got)
    assert r.status == 408 and r.json()["code"] == "REQUEST_TIMEOUT", r
    assert "too slowly" in r.json()["error"], r.json()
    assert 1.2 <= elapsed <= 4, elapsed


def test_body_at_the_min_rate_is_accepted(slotd_factory):
    s = slotd_factory(env={"SLOTD_MIN_BODY_RATE": "200", "SLOTD_MIN_BODY_RATE_GRACE": "1"})
    sock = s.connect()
    body = b"z" * 2400  # 2.4 s at 1000 B/s, well above 200 B/s
    pieces = [b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 2400\r\n\r\n"]
    pieces += [body[i:i + 100] for i in range(0, len(body), 100)]
    got, elapsed = trickle(sock, pieces, interval=0.1, limit=10)
    r = parse_one(got)
    assert r.status == 200, r


def test_slow_bodies_from_one_address_do_not_starve_others(slotd_factory):
    """The review's attack scaled down: 16 clients trickle bodies (a byte per body timeout - 1)
    from one address, against 12 connection slots. Before: every slot taken, everyone else 503.
    Now the address gets 4 slots (the rest a clean 503), other addresses are served at once, and
    the 4 are cut at SLOTD_REQUEST_TIMEOUT."""
    s = slotd_factory(env={"SLOTD_MAX_CONNECTIONS": "12", "SLOTD_MAX_CONNECTIONS_PER_IP": "4",
                           "SLOTD_BODY_TIMEOUT": "2", "SLOTD_REQUEST_TIMEOUT": "3"})
    head = b"POST /api/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    settle(s)
    attackers = []
    t0 = time.monotonic()
    for _ in range(16):
        sock = connect_from(s, "127.0.0.1")
        try:
            sock.sendall(head + b"{")
        except (BrokenPipeError, ConnectionResetError):
            pass
        attackers.append(sock)
    time.sleep(0.5)
    # the ones over the address's cap are answered 503 and closed at once
    rejected = [sock for sock in attackers if select.select([sock], [], [], 0)[0]]
    for sock in rejected:
        r = parse_one(recv_until_close(sock, 3))
        assert r.status == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE", r
        assert r.closes and r.header("Retry-After") == "1"
    assert len(rejected) == 12, f"{len(rejected)} of 16 connections from one address refused, expected 12 (cap 4)"
    admitted = [sock for sock in attackers if sock not in rejected]
    # everyone else is served while the attack goes on
    for ip in ("127.0.0.2", "127.0.0.3"):
        st = HttpStream(connect_from(s, ip))
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        st.sock.close()
    # the attack keeps trickling a byte a second; the admitted bodies die at the deadline
    answered = {}
    while time.monotonic() - t0 < 8 and len(answered) < len(admitted):
        for sock in admitted:
            if sock not in answered:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass
        for sock in select.select([x for x in admitted if x not in answered], [], [], 1.0)[0]:
            answered[sock] = (parse_one(recv_until_close(sock, 3)), time.monotonic() - t0)
    statuses = [(r.status, round(t, 1)) for r, t in answered.values()]
    assert len(answered) == 4 and all(r.status == 408 for r, _ in answered.values()), statuses
    assert all(t <= 5 for _, t in answered.values()), f"408s came too late: {statuses}"
    for sock in attackers:
        sock.close()


def test_slow_bodies_from_many_addresses_free_their_slots(slotd_factory):
    """Slow bodies from many addresses can fill SLOTD_MAX_CONNECTIONS, but only until
    SLOTD_REQUEST_TIMEOUT: then the slots are free again (before, never)."""
    s = slotd_factory(env={"SLOTD_MAX_CONNECTIONS": "6", "SLOTD_BODY_TIMEOUT": "2", "SLOTD_REQUEST_TIMEOUT": "2.5"})
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
    settle(s)
    attackers = []
    for i in range(6):
        sock = connect_from(s, f"127.0.1.{i + 1}")
        sock.sendall(head)
        attackers.append(sock)
    time.sleep(0.3)
    st = HttpStream(connect_from(s, "127.0.0.2"))
    st.send(request_bytes("GET", "/healthz"))
    assert st.read_response().status == 503  # the global cap, as before
    t0 = time.monotonic()
    stop = threading.Event()

    def keep_trickling():
        while not stop.is_set():
            for sock in attackers:
                try:
                    sock.sendall(b"b")
                except OSError:
                    pass
            stop.wait(1.0)

    th = threading.Thread(target=keep_trickling, daemon=True)
    th.start()
    try:
        def served():
            st2 = HttpStream(connect_from(s, "127.0.0.2"))
            try:
                st2.send(request_bytes("GET", "/healthz"))
                return st2.read_response().status == 200
            finally:
                st2.sock.close()
        # the deadline (2.5 s) plus at most LINGER_MS (2 s) while each 408 is delivered
        wait_until(served, 8, interval=0.2, what="a free connection slot after SLOTD_REQUEST_TIMEOUT")
        assert time.monotonic() - t0 <= 6
    finally:
        stop.set()
        th.join(5)
        for sock in attackers:
            sock.close()


def test_per_ip_connection_cap(slotd_factory):
    s = slotd_factory(env={"SLOTD_MAX_CONNECTIONS_PER_IP": "3"})
    settle(s)
    conns = []
    for i in range(3):
        st = HttpStream(connect_from(s, "127.0.0.1"))
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        conns.append(st)
    extra = HttpStream(connect_from(s, "127.0.0.1"))
    extra.send(request_bytes("GET", "/healthz"))  # sent and unread: the 503 must still arrive
    r = expect_error_and_close(extra, 503, "SERVICE_UNAVAILABLE")
    assert r.header("Retry-After") == "1" and r.header("X-Request-Id")
    extra.sock.close()
    # another address is not affected
    other = HttpStream(connect_from(s, "127.0.0.2"))

    def metrics():
        other.send(request_bytes("GET", "/metrics"))
        m = other.read_response()
        assert m.status == 200
        return parse_metrics(m.body.decode())
    assert metric_value(metrics(), "slotd_http_connections_rejected_total") >= 1
    wait_until(lambda: metric_value(metrics(), "slotd_http_connections_open") == 4, 5,
               what="3 connections from 127.0.0.1 and 1 from 127.0.0.2 open")
    # the capped ones keep working; closing one lets a new one in
    conns[0].send(request_bytes("GET", "/healthz"))
    assert conns[0].read_response().status == 200
    conns.pop().sock.close()

    def new_conn_ok():
        st = HttpStream(connect_from(s, "127.0.0.1"))
        try:
            st.send(request_bytes("GET", "/healthz"))
            return st.read_response().status == 200
        finally:
            st.sock.close()
    wait_until(new_conn_ok, 5, interval=0.1, what="a new connection after one closed")
    for c in conns + [other]:
        c.sock.close()


def test_per_ip_cap_does_not_count_trusted_proxies(slotd_factory):
    """A proxy in SLOTD_TRUSTED_PROXIES carries many clients on its connections: not capped."""
    s = slotd_factory(env={"SLOTD_MAX_CONNECTIONS_PER_IP": "2", "SLOTD_TRUSTED_PROXIES": "127.0.0.1"})
    settle(s)
    conns = []
    for i in range(5):
        st = HttpStream(connect_from(s, "127.0.0.1"))
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200, i
        conns.append(st)
    for i in range(2):
        st = HttpStream(connect_from(s, "127.0.0.2"))
        st.send(request_bytes("GET", "/healthz"))
        assert st.read_response().status == 200
        conns.append(st)
    st = HttpStream(connect_from(s, "127.0.0.2"))
    st.send(request_bytes("GET", "/healthz"))
    expect_error_and_close(st, 503, "SERVICE_UNAVAILABLE")
    for c in conns:
        c.sock.close()


NEW_SETTINGS_BAD = [
    ("SLOTD_REQUEST_TIMEOUT", "0"),
    ("SLOTD_REQUEST_TIMEOUT", "soon"),
    ("SLOTD_MIN_BODY_RATE", "-1"),
    ("SLOTD_MIN_BODY_RATE", "fast"),
    ("SLOTD_MIN_BODY_RATE_GRACE", "-2"),
    ("SLOTD_MIN_BODY_RATE_GRACE", "x"),
    ("SLOTD_MAX_CONNECTIONS_PER_IP", "0"),
    ("SLOTD_MAX_CONNECTIONS_PER_IP", "many"),
]


@pytest.mark.parametrize("var,value", NEW_SETTINGS_BAD, ids=[f"{v}={x}" for v, x in NEW_SETTINGS_BAD])
def test_new_settings_bad_value_stops_start_up(db, var, value):
    r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_LISTEN": f"127.0.0.1:{free_port()}",
                                  var: value}, timeout=20)
    assert not sanitizer_report(r.stderr), r.stderr[-4000:]
    assert r.returncode == 2, f"exit {r.returncode}; stderr: {r.stderr}"
    assert var in r.stderr, r.stderr


def test_new_settings_in_help():
    r = run_slotd(["--help"])
    assert r.returncode == 0
    for var in ("SLOTD_REQUEST_TIMEOUT", "SLOTD_MIN_BODY_RATE", "SLOTD_MIN_BODY_RATE_GRACE",
                "SLOTD_MAX_CONNECTIONS_PER_IP"):
        assert var in r.stdout + r.stderr, var


# ---------------------------------------------------------------- 6. lingering close


UPLOAD = 4 * 1024 * 1024


def upload(s, framing, results, i, barrier):
    try:
        sock = s.connect(timeout=20)
    except OSError as e:
        results[i] = f"connect: {e!r}"
        return
    try:
        if framing == "content-length":
            head = (f"POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {UPLOAD}\r\n\r\n").encode()
            body = [b"x" * 65536] * (UPLOAD // 65536)
        else:
            head = (b"POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
            body = [b"10000\r\n" + b"x" * 65536 + b"\r\n"] * (UPLOAD // 65536) + [b"0\r\n\r\n"]
        barrier.wait(10)
        sent_all = True
        try:
            sock.sendall(head)
            for piece in body:  # like a client that sends its whole upload before reading
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            sent_all = False
        if not sent_all:  # an HTTP client stops here: the upload failed, the 413 is never read
            results[i] = "reset while sending"
            return
        data = recv_until_close(sock, 10)
        if not data.startswith(b"HTTP/1.1 413"):
            results[i] = f"no 413: {data[:80]!r}"
            return
        r = parse_one(data)
        results[i] = "ok" if r.json().get("code") == "PAYLOAD_TOO_LARGE" and r.closes else repr(r)
    except Exception as e:  # noqa: BLE001 - reported below, per client
        results[i] = repr(e)
    finally:
        sock.close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_oversized_uploads_all_read_their_413(slotd_factory, framing):
    """20 clients upload 4 MB at once against SLOTD_MAX_BODY=1024. Before, the server wrote the
    413 and closed with the upload unread: the kernel reset the connection and 6-17 of 20
    clients never saw the answer. Now it lingers (FIN, drain, close) and all 20 read it."""
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    n = 20
    results = [None] * n
    barrier = threading.Barrier(n)
    threads = [threading.Thread(target=upload, args=(s, framing, results, i, barrier)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    bad = [(i, r) for i, r in enumerate(results) if r != "ok"]
    assert not bad, f"{len(bad)} of {n} clients did not read their 413: {bad[:5]}"
    assert s.get("/healthz").status == 200


def test_bad_request_answer_survives_unread_input(slotd):
    """A 400 answered while the client still sends (a malformed head, then 4 MB): the client
    finishes sending and reads the answer, instead of a reset."""
    sock = slotd.connect()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nBad header\r\n\r\n")
    time.sleep(0.2)  # the server has answered and, before, closed
    for _ in range(64):
        sock.sendall(b"z" * 65536)
    data = recv_until_close(sock, 5)
    r = parse_one(data)
    assert r.status == 400 and r.json()["code"] == "BAD_REQUEST", data[:200]
    sock.close()


def test_lingering_is_bounded_in_time(slotd_factory):
    """A client that never stops sending after its error is cut off (LINGER_MS, 2 s)."""
    s = slotd_factory(env={"SLOTD_MAX_BODY": "1024"})
    sock = s.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n")
    got, t0 = b"", time.monotonic()
    closed = False
    sock.setblocking(False)
    while time.monotonic() - t0 < 10:
        try:
            sock.send(b"w" * 16384)
        except BlockingIOError:
            pass
        except OSError:
            closed = True
            break
        try:
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            got += data
        except BlockingIOError:
            pass
        except OSError:
            closed = True
            break
        time.sleep(0.01)
    assert got.startswith(b"HTTP/1.1 413"), got[:100]
    assert closed, "the server kept draining a client that never stops for 10 s"
    sock.close()


# ---------------------------------------------------------------- 7. chunk extensions


def test_chunk_extension_flood_is_refused(slotd):
    """'1;' and then 32 MiB of extension was read for ever; now extension bytes count against
    the head limit (32 KiB): 413 once it is passed."""
    sock = slotd.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;")
    sent, got = 0, b""
    sock.setblocking(False)
    t0 = time.monotonic()
    while sent < 32 * 1024 * 1024 and time.monotonic() - t0 < 20:
        if select.select([sock], [], [], 0)[0]:
            break
        try:
            sent += sock.send(b"e" * 65536)
        except BlockingIOError:
            select.select([sock], [sock], [], 0.05)
        except OSError:
            break
    sock.setblocking(True)
    data = recv_until_close(sock, 5)
    r = parse_one(data)
    assert r.status == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r
    assert "extension" in r.json()["error"]
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes of chunk extensions before refusing"
    sock.close()


def test_fuzz_finding_chunk_extension_60k(slotd):
    data = slotd.raw(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;" + b"e" * 60000
                     + b"\r\nhello\r\n0\r\n\r\n")
    assert responses_in(data) == 1 and parse_one(data).status == 413, data[:200]


@pytest.mark.parametrize("line", [b"5;ext=1", b"5;a=\"quoted ; value\";b", b"5;" + b"e" * 1000,
                                  b"0000000000000005"])
def test_reasonable_chunk_lines_still_accepted(slotd, line):
    st = slotd.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + line
            + b"\r\nhello\r\n0\r\n\r\n" + request_bytes("GET", "/healthz", {"X-Request-Id": "next"}))
    assert st.read_response().status == 200
    r = st.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "next"


def test_chunk_size_with_padding_refused(slotd):
    st = slotd.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + b"0" * 17
            + b"5\r\nhello\r\n0\r\n\r\n")
    expect_error_and_close(st, 400, "BAD_REQUEST")


# ---------------------------------------------------------------- 8. ambiguous heads

SMUGGLED = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
REFUSED = {
    # the review's reproducer (CVE-2025-23167 in Debian's llhttp 8.1): both requests were answered
    "bare_cr_ends_head": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\rX" + SMUGGLED,
    "bare_cr_in_value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
    "bare_cr_in_request_line": b"GET /healthz\rHTTP/1.1\r\nHost: x\r\n\r\n",
    "bare_cr_before_request": b"\rGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "bare_cr_ends_trailers": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"0\r\nT: 1\r\n\rX" + SMUGGLED,
    "bare_cr_after_chunk_size": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5\rXhello\r\n0\r\n\r\n",
    "chunk_data_without_crlf": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"5\r\nhelloXY0\r\n\r\n" + SMUGGLED,
    "lf_only_after_chunk_size": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5\nhello\r\n0\r\n\r\n",
    # obsolete line folding: llhttp glued the indented line to the previous field, so the
    # Content-Length was no Content-Length and the body became a second request
    "folded_content_length": b"POST /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Content-Length: 34\r\n\r\n" + SMUGGLED,
    "tab_folded_content_length": b"POST /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tContent-Length: 34\r\n\r\n"
                                + SMUGGLED,
    "folded_first_header": b"GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n",
    "folded_trailer": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0\r\nT: 1\r\n more\r\n\r\n",
    # control bytes in the request target
    "tab_in_target": b"GET /healthz\tx HTTP/1.1\r\nHost: x\r\n\r\n",
    "soh_in_target": b"GET /healthz\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "us_in_query": b"GET /healthz?a=\x1f HTTP/1.1\r\nHost: x\r\n\r\n",
    "del_in_target": b"GET /health\x7fz HTTP/1.1\r\nHost: x\r\n\r\n",
    # the fuzzer's findings (build/fuzz/finding-*.http without their two control bytes)
    "finding_bare_cr_smuggling": b"GET /items/1 HTTP/1.1\r\nHost: a\r\n\rXGET /items/smuggled HTTP/1.1\r\n"
                                 b"Host: b\r\n\r\n",
    "finding_folded_content_length": b"POST /echo HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n Content-Length: 5\r\n\r\nhello",
    "finding_tab_in_target": b"GET /items/a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_ambiguous_request_is_400_and_nothing_else(slotd, name):
    data = slotd.raw(REFUSED[name])
    assert responses_in(data) == 1, f"{responses_in(data)} responses to one connection: {data[:600]!r}"
    r = parse_one(data)
    assert r.status == 400 and r.json()["code"] == "BAD_REQUEST", r
    assert r.closes


@pytest.mark.parametrize("name", ["bare_cr_ends_head", "bare_cr_ends_trailers", "folded_content_length"])
def test_ambiguous_request_byte_by_byte(slotd, name):
    """The same, with every byte in its own write (a CR at the end of a read waits for the next)."""
    st = slotd.stream()
    for b in REFUSED[name]:
        try:
            st.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            break
    data = recv_until_close(st.sock, 5)
    assert responses_in(data) == 1 and parse_one(data).status == 400, data[:400]


ACCEPTED = {
    "empty_line_before_request": (b"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    "lf_ends_head_after_crlf": (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\n", 200),
    "cr_in_body": (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\rX\r\r", 405),
    "cr_in_chunk_data": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"4\r\n\rX\r\r\r\n0\r\n\r\n", 200),
    "not_utf8_in_path": (b"GET /healthz\xff HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    "tab_in_header_value": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n", 200),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_unambiguous_requests_still_served(slotd, name):
    raw, status = ACCEPTED[name]
    st = slotd.stream()
    st.send(raw + request_bytes("GET", "/healthz", {"X-Request-Id": "after"}))
    assert st.read_response().status == status
    r = st.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "after"


@pytest.mark.parametrize("raw", [
    b"GET" + b" " * 50000 + b"/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost:" + b" " * 50000 + b"x\r\n\r\n",
], ids=["spaces_in_request_line", "spaces_before_value"])
def test_padding_llhttp_does_not_report_counts_against_the_head(slotd, raw):
    """llhttp 8.1 skips runs of spaces without a callback: the wire bytes of a head are capped too."""
    data = slotd.raw(raw)
    assert responses_in(data) == 1 and parse_one(data).status == 431, data[:300]


def test_trailers_are_not_headers(slotd):
    """A trailer is checked and counted but never read as a header (here: the request id)."""
    st = slotd.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Request-Id: from-head\r\n\r\n"
            b"3\r\nabc\r\n0\r\nX-Request-Id: from-trailer\r\nAuthorization: Bearer x\r\n\r\n")
    r = st.read_response()
    assert r.status == 200 and r.header("X-Request-Id") == "from-head", r
    st.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\nX-Request-Id: from-trailer\r\n\r\n")
    r = st.read_response()
    assert r.status == 200 and r.header("X-Request-Id") != "from-trailer", r


def test_trailers_count_against_the_head_limit(slotd):
    st = slotd.stream()
    st.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
            + b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 1000) for i in range(40)) + b"\r\n")
    expect_error_and_close(st, 431, "HEADERS_TOO_LARGE")


def test_pipelining_and_keep_alive_across_the_checks(slotd):
    """Mixed framings pipelined in one write, split at every position the check stops."""
    reqs = (request_bytes("GET", "/healthz", {"X-Request-Id": "a"})
            + b"POST /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: b\r\nContent-Length: 3\r\n\r\nabc"
            + b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: c\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n"
            + request_bytes("HEAD", "/healthz", {"X-Request-Id": "d"}))
    for split in (1, 7, 40, 90, len(reqs) - 1):
        st = slotd.stream()
        st.send(reqs[:split])
        time.sleep(0.02)
        st.send(reqs[split:])
        got = [st.read_response(head=(i == 3)) for i in range(4)]
        assert [(r.status, r.header("X-Request-Id")) for r in got] == [(200, "a"), (405, "b"), (200, "c"), (200, "d")]
        st.sock.close()
