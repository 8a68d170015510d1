"""Black-box API test harness for slotd: the real binary, a real PostgreSQL, real sockets.

Python 3 stdlib + pytest only.  Run through tests/run, or directly:

    /usr/bin/python3 -m pytest tests/api -q

Environment (exported by tests/run; all optional when running pytest directly):
    SLOTD_BIN            absolute path of the slotd binary (default <repo>/build/test/slotd)
    SLOTD_TEST_PGHOST    PostgreSQL host of a running cluster (trust auth, user postgres)
    SLOTD_TEST_PGPORT    its port; if unset, the session starts its own cluster
    SLOTD_TEST_PGDATA    its data directory (informational)
    SLOTD_TEST_PGBIN     PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
    SLOTD_TEST_TIMEOUT   per-test watchdog in seconds (default 120)
    SLOTD_TEST_CONTRACT  0 turns off the contract check of every response (below)

Every response Slotd.request receives is checked against openapi/openapi.json for its route,
method and status (contract.py): a body that does not match fails the test with the route, status,
JSON pointer and the validator's message.

Fixtures:
    pg              session cluster (PgCluster): .sql(query, db=...), .create_db()
    db              a fresh database per test (Database): .name, .url, .sql(query)
    slotd_factory   start(env=None, db=None, wait=True) -> Slotd; every process it
                    started is stopped with SIGTERM at teardown and must exit 0 with
                    no sanitizer report on stderr
    slotd           one running Slotd on `db` with default settings
    private_pg      a private cluster (own initdb) the test may stop()/start()

Module-level helpers (import with `from conftest import ...`):
    Slotd, PgCluster, Database, HttpStream, Response, run_slotd, free_port,
    is_closed, recv_until_close, parse_metrics, wait_until, SANITIZER_MARKERS
"""

import email.utils
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import contract

ROOT = Path(__file__).resolve().parents[2]
SLOTD_BIN = os.environ.get("SLOTD_BIN") or str(ROOT / "build" / "test" / "slotd")
PGBIN = os.environ.get("SLOTD_TEST_PGBIN") or "/usr/lib/postgresql/15/bin"
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
DEFAULT_ASAN = "detect_leaks=1:abort_on_error=0"
DEFAULT_UBSAN = "print_stacktrace=1:halt_on_error=1"
TEST_TIMEOUT = int(os.environ.get("SLOTD_TEST_TIMEOUT", "120"))  # seconds per test before the watchdog fails it
CONTRACT_CHECK = os.environ.get("SLOTD_TEST_CONTRACT", "1") != "0"  # responses against openapi/openapi.json


# ----------------------------------------------------------------------------
# small utilities


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value; return it or fail after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - keep polling, report the last one
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}"
                + (f" (last error: {last_exc!r})" if last_exc else "")
            )
        time.sleep(interval)


def sanitizer_report(text):
    return [m for m in SANITIZER_MARKERS if m in text]


def slotd_env(extra=None):
    """Environment for a slotd child: the parent's, minus any SLOTD_* settings
    (so a developer's shell cannot leak config into tests), plus sanitizer options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTD_")}
    env.setdefault("ASAN_OPTIONS", DEFAULT_ASAN)
    env.setdefault("UBSAN_OPTIONS", DEFAULT_UBSAN)
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def run_slotd(args, env=None, timeout=60):
    """Run the binary to completion (for --help, migrate, bad config...).
    Returns CompletedProcess with text stdout/stderr."""
    try:
        return subprocess.run(
            [SLOTD_BIN, *args],
            env=slotd_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"slotd {' '.join(args)} did not exit within {timeout}s; stderr: {e.stderr!r}")


# ----------------------------------------------------------------------------
# PostgreSQL


def _as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PgCluster:
    """A PostgreSQL cluster reachable over TCP with trust auth as user postgres.
    If `datadir` is given and owned, start()/stop() control it."""

    _db_counter = itertools.count(1)

    def __init__(self, host, port, datadir=None, basedir=None, owned=False):
        self.host = host
        self.port = int(port)
        self.datadir = datadir
        self.basedir = basedir
        self.owned = owned

    # -- lifecycle (owned clusters only) --

    @classmethod
    def create(cls, prefix="slotd-pg-"):
        basedir = tempfile.mkdtemp(prefix=prefix)
        if os.geteuid() == 0:
            shutil.chown(basedir, "postgres", "postgres")
        os.chmod(basedir, 0o700)
        datadir = os.path.join(basedir, "data")
        r = subprocess.run(
            _as_postgres([f"{PGBIN}/initdb", "-D", datadir, "-U", "postgres", "-A", "trust",
                          "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]),
            capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(basedir, ignore_errors=True)
            raise RuntimeError(f"initdb failed: {r.stdout}{r.stderr}")
        self = cls("127.0.0.1", 0, datadir=datadir, basedir=basedir, owned=True)
        last = None
        for _ in range(5):
            self.port = free_port()
            self._write_conf()
            try:
                self.start()
                return self
            except RuntimeError as e:
                last = e
        self.destroy()
        raise last

    def _write_conf(self):
        conf = os.path.join(self.datadir, "postgresql.auto.conf")
        with open(conf, "w") as f:
            f.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.basedir}'\n"
                "max_connections = 200\n"
                "shared_buffers = 32MB\n"
                # fsync=off survives process crashes (pg_ctl stop -m immediate in the
                # outage tests); synchronous_commit=off would not: a crash could lose
                # the migrations slotd has just committed
                "fsync = off\n"
                "full_page_writes = off\n"
                "wal_level = minimal\n"
                "max_wal_senders = 0\n"
                "autovacuum = off\n"
                "log_min_messages = warning\n"
            )
        if os.geteuid() == 0:
            shutil.chown(conf, "postgres", "postgres")

    def pg_ctl(self, *args, check=True):
        assert self.owned, "not our cluster"
        r = subprocess.run(
            _as_postgres([f"{PGBIN}/pg_ctl", "-D", self.datadir,
                          "-l", os.path.join(self.basedir, "postgres.log"), *args]),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
        if check and r.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {r.stdout}{r.stderr}\n{self.log_tail()}")
        return r

    def start(self):
        self.pg_ctl("-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self.pg_ctl("-w", "-t", "60", "-m", mode, "stop")

    def is_running(self):
        return self.pg_ctl("status", check=False).returncode == 0

    def destroy(self):
        if not self.owned:
            return
        if os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            self.pg_ctl("-w", "-t", "60", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.basedir, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.basedir or "", "postgres.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- SQL --

    def url(self, dbname):
        return f"host={self.host} port={self.port} dbname={dbname} user=postgres"

    def sql(self, query, db="postgres", check=True):
        """Run query through psql; return rows (lists of str; NULL -> '') of the last statement."""
        import csv
        import io

        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        for k in ("PGSERVICE", "PGOPTIONS", "PGPASSWORD", "PGDATABASE", "PGUSER"):
            env.pop(k, None)
        r = subprocess.run(
            [f"{PGBIN}/psql", "-X", "-q", "--csv", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", db, "-c", query],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}) on {query!r}: {r.stderr}")
        return [row for row in csv.reader(io.StringIO(r.stdout)) if row]

    def create_db(self, hint="t"):
        hint = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:40]
        name = f"t{next(self._db_counter)}_{os.getpid()}_{hint}"[:63]
        self.sql(f'CREATE DATABASE "{name}"')
        return Database(self, name)


class Database:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.url = cluster.url(name)

    def sql(self, query, check=True):
        return self.cluster.sql(query, db=self.name, check=check)

    def drop(self):
        self.cluster.sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', check=False)


# ----------------------------------------------------------------------------
# HTTP over raw sockets


class ConnectionClosed(Exception):
    """The peer closed (or reset) the connection before a complete response."""


class Response:
    def __init__(self, status, reason, headers, body, raw_head=b""):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order received
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has_header(self, name):
        return bool(self.header_all(name))

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def closes(self):
        """True if the response announces Connection: close."""
        return any("close" in [t.strip().lower() for t in v.split(",")]
                   for v in self.header_all("Connection"))

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} {self.body[:200]!r}>"


class HttpStream:
    """Reads HTTP/1.1 responses from a connected socket, keeping leftover bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise ConnectionClosed(f"connection closed; unparsed bytes: {self.buf[:200]!r}")
        self.buf += data

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, head=False):
        """Read one response. head=True: the request was HEAD (no body follows)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw_head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw_head.split(b"\r\n")
        m = re.match(rb"HTTP/(1\.[01]) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise AssertionError(f"bad status line {lines[0]!r}")
        status = int(m.group(2))
        reason = m.group(3).decode("latin-1")
        headers = []
        for line in lines[1:]:
            if b":" not in line:
                raise AssertionError(f"bad header line {line!r}")
            k, v = line.split(b":", 1)
            headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
        resp = Response(status, reason, headers, b"", raw_head)
        if head or 100 <= status < 200 or status in (204, 304):
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line() != b"":
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            while True:
                try:
                    self._fill()
                except ConnectionClosed:
                    break
            resp.body, self.buf = self.buf, b""
        return resp

    def read_final_response(self, head=False):
        """Skip interim 1xx responses."""
        while True:
            r = self.read_response(head=head)
            if r.status >= 200:
                return r

    def is_closed(self, timeout=3.0):
        """True if the peer closes within timeout with no further bytes; raises if bytes arrive."""
        if self.buf:
            raise AssertionError(f"unexpected bytes before close: {self.buf[:200]!r}")
        return is_closed(self.sock, timeout)


def is_closed(sock, timeout=3.0):
    """True if the peer closed (EOF or reset) within timeout. Fails if data arrives."""
    old = sock.gettimeout()
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        try:
            sock.settimeout(old)
        except OSError:
            pass
    if data:
        raise AssertionError(f"expected the connection to close, got bytes: {data[:300]!r}")
    return True


def recv_until_close(sock, timeout=5.0):
    """Read everything until EOF/reset or until timeout passes with no EOF (returns what was read)."""
    sock.settimeout(timeout)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not data:
            break
        out += data
    return out


def request_bytes(method, path, headers=None, body=b"", version="1.1", host="test"):
    lines = [f"{method} {path} HTTP/{version}", f"Host: {host}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in (headers or {})):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ----------------------------------------------------------------------------
# metrics


_METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_metrics(text):
    """Prometheus text -> list of (name, labels dict, float value). Fails on malformed lines."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _METRIC_RE.match(line)
        assert m, f"malformed metrics line: {line!r}"
        name, labels_s, value = m.group(1), m.group(2) or "", m.group(3)
        labels = {}
        pos = 0
        while pos < len(labels_s):
            lm = _LABEL_RE.match(labels_s, pos)
            assert lm, f"malformed labels in {line!r}"
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        out.append((name, labels, float(value)))
    return out


def metric_value(samples, name, **labels):
    """Value of the single sample with that name and (a superset of) those labels; None if absent."""
    found = [v for n, l, v in samples if n == name and all(l.get(k) == str(x) for k, x in labels.items())]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


# ----------------------------------------------------------------------------
# the slotd process


class Slotd:
    """One slotd process. start() waits until GET /readyz is 200 (unless wait=False)."""

    def __init__(self, workdir, db_url, env=None, args=("serve",), port=None, name="slotd"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.db_url = db_url
        self.args = list(args)
        self.name = name
        self.stderr_path = self.workdir / f"{name}-{self.port}.stderr"
        self.stdout_path = self.workdir / f"{name}-{self.port}.stdout"
        self.env = {
            "SLOTD_DATABASE_URL": db_url,
            "SLOTD_LISTEN": f"{self.host}:{self.port}",
            "SLOTD_LOG_LEVEL": "info",
            "SLOTD_SHUTDOWN_TIMEOUT": "10",
        }
        self.env.update({k: v for k, v in (env or {}).items()})
        self.proc = None
        self.returncode = None
        self.checked = False

    # -- process --

    def start(self, wait=True, timeout=15.0):
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            [SLOTD_BIN, *self.args], env=slotd_env(self.env),
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"slotd exited with {self.proc.returncode} before becoming ready; stderr:\n{self.stderr()}")
            try:
                r = self.get("/readyz", timeout=2)
                if r.status == 200:
                    return
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"slotd not ready after {timeout}s (last: {last!r}); stderr:\n{self.stderr()}")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig=None):
        self.proc.send_signal(sig or signal.SIGTERM)

    def wait(self, timeout=15.0):
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig=None, timeout=15.0):
        """Signal the process and wait for it; SIGKILL (and fail) if it hangs. Returns the exit code."""
        if self.proc is None:
            return None
        sig = sig or signal.SIGTERM
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_files()
                raise AssertionError(
                    f"slotd did not exit within {timeout}s of signal {sig}; stderr:\n{self.stderr()[-4000:]}")
        self.returncode = self.proc.returncode
        self._close_files()
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (getattr(self, "_err", None), getattr(self, "_out", None)):
            if f and not f.closed:
                f.close()

    def check_clean_exit(self, expect_rc=0):
        """Stop if needed; assert exit code and a sanitizer-free stderr."""
        self.checked = True
        rc = self.stop()
        err = self.stderr()
        found = sanitizer_report(err)
        assert not found, f"sanitizer report ({found}) in slotd stderr:\n{err[-8000:]}"
        assert rc == expect_rc, f"slotd exited with {rc}, expected {expect_rc}; stderr:\n{err[-4000:]}"

    # -- output --

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_lines(self):
        """All stderr lines parsed as JSON (lines that are not JSON objects are skipped)."""
        out = []
        for line in self.stderr().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

    def request_logs(self, request_id=None):
        return [l for l in self.log_lines()
                if l.get("msg") == "request" and (request_id is None or l.get("request_id") == request_id)]

    def wait_log(self, pred, timeout=5.0, what="log line"):
        return wait_until(lambda: [l for l in self.log_lines() if pred(l)], timeout, what=what)

    # -- HTTP --

    def http(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=None, timeout=10):
        """One request on a fresh http.client connection -> Response."""
        c = self.http(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            resp = Response(r.status, r.reason, list(r.getheaders()), data)
        finally:
            c.close()
        if CONTRACT_CHECK:
            contract.check_response(method, path, resp.status, resp.headers, data)
        return resp

    def get(self, path, headers=None, timeout=10):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def connect(self, timeout=10.0):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stream(self, timeout=10.0):
        return HttpStream(self.connect(timeout))

    def raw(self, data, timeout=5.0):
        """Send exact bytes on a new connection; return everything received until close/timeout."""
        s = self.connect(timeout)
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return recv_until_close(s, timeout)
        finally:
            s.close()

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.body.decode())


# ----------------------------------------------------------------------------
# fixtures


@pytest.fixture(autouse=True)
def _watchdog():
    """Fail (instead of hanging the run) a test that takes longer than TEST_TIMEOUT."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT}s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not os.access(SLOTD_BIN, os.X_OK):
        pytest.exit(f"slotd binary not found at {SLOTD_BIN} (build it or set SLOTD_BIN)", returncode=2)
    if CONTRACT_CHECK:
        contract.prepare()
    return SLOTD_BIN


@pytest.fixture(scope="session")
def pg():
    port = os.environ.get("SLOTD_TEST_PGPORT")
    if port:
        yield PgCluster(os.environ.get("SLOTD_TEST_PGHOST", "127.0.0.1"), port,
                        datadir=os.environ.get("SLOTD_TEST_PGDATA"), owned=False)
        return
    cluster = PgCluster.create("slotd-test-session-")
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def db(pg, request):
    d = pg.create_db(request.node.name)
    yield d
    d.drop()


@pytest.fixture
def slotd_factory(db, tmp_path):
    started = []

    def start(env=None, database=None, wait=True, args=("serve",), name=None, port=None):
        s = Slotd(tmp_path, (database or db).url, env=env, args=args, port=port,
                  name=name or f"slotd{len(started)}")
        started.append(s)
        s.start(wait=wait)
        return s

    yield start

    errors = []
    for s in started:
        if s.checked:
            s.kill()
            continue
        try:
            s.check_clean_exit()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            s.kill()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def slotd(slotd_factory):
    return slotd_factory()


@pytest.fixture
def private_pg():
    cluster = PgCluster.create("slotd-test-private-")
    try:
        yield cluster
    finally:
        cluster.destroy()


def http_date_ok(value):
    """IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT', within a minute of now."""
    if not re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"\d{4} \d\d:\d\d:\d\d GMT", value or ""):
        return False
    t = email.utils.parsedate_to_datetime(value).timestamp()
    return abs(t - time.time()) < 60
