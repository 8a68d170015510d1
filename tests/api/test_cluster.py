"""deploy/run-cluster: PostgreSQL + 2 slotd + haproxy; balancing and a rolling stop that loses nothing.

Starts `deploy/run-cluster 2` with the binary under test (SLOTD_BIN), a free
haproxy port and a private state directory; checks that haproxy spreads requests
over both instances (read from each instance's own /metrics), then SIGTERMs one
instance in the middle of a steady stream of requests and requires every
response to be a 200; finally stops the whole cluster with SIGTERM and checks
that everything it started is gone. Needs root (PostgreSQL runs as user
postgres) and haproxy.
"""

import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_CLUSTER = ROOT / "deploy" / "run-cluster"
BIN = os.environ.get("SLOTD_BIN") or str(ROOT / "build" / "test" / "slotd")
PGBIN = os.environ.get("SLOTD_TEST_PGBIN") or "/usr/lib/postgresql/15/bin"
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="run-cluster runs PostgreSQL via runuser: needs root"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed"),
]

_SAMPLE = re.compile(r'^slotd_http_requests_total\{([^}]*)\}\s+(\S+)', re.M)


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(n, extra=0):
    """A haproxy port and a base port B with B+1..B+n (+ extra more) free (outside the ephemeral range)."""
    rnd = random.Random()
    while True:
        base = rnd.randrange(20000, 30000)
        lb = base  # haproxy on B, instances on B+1..B+n, then the extra ports
        if all(_bindable(p) for p in range(lb, base + n + extra + 1)):
            return lb, base


def _get(port, path, timeout=15):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _healthz_count(port):
    """Sum of slotd_http_requests_total for GET /healthz as the instance itself reports it."""
    status, body = _get(port, "/metrics", timeout=5)
    assert status == 200, body
    total = 0.0
    for labels, value in _SAMPLE.findall(body.decode()):
        if 'route="/healthz"' in labels and 'method="GET"' in labels:
            total += float(value)
    return total


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (reparented to an init that does not reap) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Cluster:
    def __init__(self, n, env=None, metrics=False, args=()):
        """env: more SLOTD_* for every instance; metrics: each instance serves /metrics on a
        port of its own (SLOTD_CLUSTER_METRICS_BASE_PORT = B + n, so instance I's is B + n + I);
        args: more arguments of run-cluster (--replica)."""
        self.n = n
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.metrics = metrics
        self.lb_port, self.base = _ports(n, n if metrics else 0)
        self.state = Path(tempfile.mkdtemp(prefix="slotd-cluster-"))
        os.chmod(self.state, 0o755)  # user postgres must reach state/pgdata
        self.log_path = self.state / "run-cluster.log"
        self.proc = None
        self.pids = {}  # name -> pid of what run-cluster started

    def instance_port(self, i):
        return self.base + i

    def metrics_port(self, i):
        """Where instance i serves /metrics."""
        return self.base + self.n + i if self.metrics else self.instance_port(i)

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTD_")}
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.update({
            "SLOTD_BIN": BIN,
            "SLOTD_PGBIN": PGBIN,
            "SLOTD_CLUSTER_DIR": str(self.state),
            "SLOTD_CLUSTER_PORT": str(self.lb_port),
            "SLOTD_CLUSTER_BASE_PORT": str(self.base),
            "SLOTD_CLUSTER_HEALTH_INTERVAL": "500ms",
            "SLOTD_PG_FSYNC": "off",
            "SLOTD_LOG_LEVEL": "info",
            "SLOTD_SHUTDOWN_TIMEOUT": "10",
        })
        if self.metrics:
            env["SLOTD_CLUSTER_METRICS_BASE_PORT"] = str(self.base + self.n)
        env.update(self.extra_env)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(RUN_CLUSTER), str(self.n), *self.args], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"run-cluster exited with {self.proc.returncode}:\n{self.log()}")
            self._collect_pids()
            if (self.state / "port").exists() and len(self.pids) == self.n + 1:
                try:
                    if _get(self.lb_port, "/readyz", timeout=2)[0] == 200:
                        break
                except (OSError, http.client.HTTPException):
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster not ready after 60 s:\n{self.log()}")
            time.sleep(0.2)
        pm = self.state / "pgdata" / "postmaster.pid"
        if pm.exists():
            self.pids["postgres"] = int(pm.read_text().split()[0])

    def _collect_pids(self):
        for f in self.state.glob("*.pid"):
            try:
                self.pids[f.stem] = int(f.read_text().strip())
            except (OSError, ValueError):
                pass

    def log(self, tail=6000):
        """run-cluster's output (instances' stderr included); the last `tail` chars, all if None."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text if tail is None else text[-tail:]

    def stop(self, timeout=40):
        """SIGTERM run-cluster and wait; returns its exit code (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def destroy(self):
        """Whatever happened: nothing this test started may survive."""
        if self.proc is not None and self.proc.poll() is None:
            if self.stop() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        # run-cluster starts its children in their own sessions: kill leftovers one by one
        for name, pid in self.pids.items():
            if name != "postgres" and _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        replica = self.state / "replica"
        if (replica / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PGBIN}/pg_ctl", "-D", str(replica),
                            "-m", "immediate", "-w", "stop"], cwd="/", capture_output=True, timeout=60)
        pgdata = self.state / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PGBIN}/pg_ctl", "-D", str(pgdata),
                            "-m", "immediate", "-w", "stop"], cwd="/", capture_output=True, timeout=60)
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.state, ignore_errors=True)


@pytest.fixture
def cluster():
    c = Cluster(2)
    try:
        c.start()
        yield c
    finally:
        c.destroy()


def test_balancing_and_rolling_stop(cluster):
    p1, p2 = cluster.instance_port(1), cluster.instance_port(2)

    # -- 100 requests through haproxy are spread over both instances --
    before = [_healthz_count(p1), _healthz_count(p2)]
    for _ in range(100):
        status, body = _get(cluster.lb_port, "/healthz")
        assert status == 200, body
    after = [_healthz_count(p1), _healthz_count(p2)]
    served = [after[0] - before[0], after[1] - before[1]]
    assert sum(served) == 100, f"instances report {served} /healthz requests for 100 sent"
    assert min(served) >= 25, f"roundrobin should split 100 requests about evenly, got {served}"

    # -- a steady stream while instance 1 is stopped: no request may fail --
    results, errors = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + 5.0

    def client(keepalive, path):
        conn = None
        while time.monotonic() < stop_at:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", cluster.lb_port, timeout=20)
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read()
                with lock:
                    results.append((r.status, body))
                if not keepalive or r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                with lock:
                    errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.002)
        if conn is not None:
            conn.close()

    # /readyz does a PostgreSQL round trip, so some requests are in flight in the
    # database when the signal lands; a draining instance answers it 503, which
    # haproxy must retry elsewhere.
    threads = [threading.Thread(target=client, args=args, daemon=True)
               for args in ((True, "/healthz"), (True, "/readyz"), (False, "/healthz"), (False, "/readyz"))]
    for t in threads:
        t.start()
    time.sleep(1.5)
    n_before_kill = len(results)
    victim = cluster.pids["slotd1"]
    os.kill(victim, signal.SIGTERM)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "client threads hung"

    bad = [(s, b[:120]) for s, b in results if s != 200]
    assert not errors and not bad, (
        f"{len(errors)} failed and {len(bad)} non-200 of {len(results) + len(errors)} requests "
        f"while slotd1 stopped: {errors[:5]} {bad[:5]}\n{cluster.log()}")
    assert n_before_kill >= 20 and len(results) - n_before_kill >= 20, (
        f"stream too thin to mean anything: {n_before_kill} before, {len(results) - n_before_kill} after")

    _wait(lambda: not _pid_alive(victim), 15, "slotd1 to exit after SIGTERM")
    exited = re.compile(rf"run-cluster: slotd1 \(pid {victim}\) exited with status (\d+)")
    _wait(lambda: exited.search(cluster.log(None)), 5, "run-cluster to report slotd1's exit")
    m = exited.search(cluster.log(None))
    assert m.group(1) == "0", f"slotd1 exited with status {m.group(1)}:\n{cluster.log()}"

    # the survivor still serves through haproxy
    c2 = _healthz_count(p2)
    for _ in range(10):
        assert _get(cluster.lb_port, "/healthz")[0] == 200
    assert _healthz_count(p2) - c2 == 10

    # -- clean stop of everything --
    rc = cluster.stop()
    log = cluster.log_path.read_text(errors="replace")
    assert rc == 0, f"run-cluster exit status {rc}:\n{log[-6000:]}"
    found = [m for m in SANITIZER_MARKERS if m in log]
    assert not found, f"sanitizer report in the instances' stderr:\n{log[-8000:]}"
    for name, pid in cluster.pids.items():
        assert not _pid_alive(pid), f"{name} (pid {pid}) still running after run-cluster exited"
    assert not (cluster.state / "pgdata" / "postmaster.pid").exists(), "PostgreSQL still running"


def _get_from(source_ip, port, path, headers=None, timeout=15):
    """A GET from another loopback source address: haproxy sees (and forwards) that client."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source_ip, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


@pytest.fixture
def limited_cluster():
    c = Cluster(2, env={"SLOTD_RATE_LIMIT_PUBLIC": "5", "SLOTD_RATE_LIMIT_AUTH": "1000"}, metrics=True)
    try:
        c.start()
        yield c
    finally:
        c.destroy()


def test_forwarded_for_and_metrics_through_haproxy(limited_cluster):
    """Issue 10: behind haproxy (trusted: 127.0.0.1, the address it connects from) a client's
    own X-Forwarded-For header cannot pick its rate-limit budget: haproxy appends the address it
    saw as a second header, and slotd reads the headers from the right. And haproxy does not
    forward /metrics, which the instances serve on their own metrics ports."""
    c = limited_cluster
    # Rate limits are shared by the instances (test_cluster_limits.py); at most 2 x 5 either way.
    now = time.time()
    if 60 - now % 60 < 20:
        time.sleep(60 - now % 60 + 0.05)
    statuses = []
    for n in range(30):
        status, body = _get_from("127.0.0.2", c.lb_port, "/api/public/nobody",
                                 {"X-Forwarded-For": f"6.6.6.{n + 1}"})
        statuses.append(status)
    assert set(statuses) <= {404, 429}, statuses
    assert statuses.count(404) <= 10 and statuses.count(429) >= 20, \
        f"a spoofed X-Forwarded-For escaped the per-IP limit: {statuses}"
    # another client (another source address) has its own budget
    status, body = _get_from("127.0.0.3", c.lb_port, "/api/public/nobody", {"X-Forwarded-For": "6.6.6.1"})
    assert status == 404, body

    # /metrics: not through the balancer, not on the instances' service ports, only on their
    # metrics ports
    status, body = _get(c.lb_port, "/metrics")
    assert status == 404 and b"slotd_" not in body, body
    status, body = _get(c.lb_port, "/metrics?format=prometheus")
    assert status == 404 and b"slotd_" not in body, body
    for i in (1, 2):
        status, body = _get(c.instance_port(i), "/metrics")
        assert status == 404, body
        status, body = _get(c.metrics_port(i), "/metrics")
        assert status == 200 and b"slotd_http_requests_total" in body, body
    served = sum(float(v) for labels, v in _SAMPLE.findall(_get(c.metrics_port(1), "/metrics")[1].decode()
                                                          + _get(c.metrics_port(2), "/metrics")[1].decode())
                 if 'route="/api/public/:slug"' in labels)
    assert served == 31, f"the instances counted {served} of the 31 requests sent through haproxy"

    rc = c.stop()
    log = c.log_path.read_text(errors="replace")
    assert rc == 0, f"run-cluster exit status {rc}:\n{log[-6000:]}"
    found = [m for m in SANITIZER_MARKERS if m in log]
    assert not found, f"sanitizer report in the instances' stderr:\n{log[-8000:]}"
