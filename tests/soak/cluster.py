"""The soak's cluster: one throwaway PostgreSQL 15, N slotd instances and Debian's haproxy,
all on loopback, all started (and stopped) by this module.

- PostgreSQL: a new cluster in WORKDIR/pgdata owned by the `postgres` user (PostgreSQL refuses to
  run as root), every server-side command through `runuser -u postgres --`, unix socket only
  (listen_addresses = ''), in WORKDIR/run.
- slotd: `slotd serve` per instance on 127.0.0.1:PORT_I, each in its own session (so a terminal's
  Ctrl-C reaches only the soak script), stdout+stderr appended to WORKDIR/slotdI.log. The soak
  SIGKILLs and restarts them on the same port.
- haproxy: the policy of deploy/run-cluster's generated configuration (health checks on /readyz,
  `retries 3`, `option redispatch 1`, the same retry-on list, L7 retries only for safe methods or
  requests carrying an Idempotency-Key), plus what the soak needs to account for it: one log
  line per request on stdout (WORKDIR/haproxy.log, with the retry count %rc) and the server that
  answered in an X-Soak-Server response header.
"""

import os
import random
import shlex
import signal
import socket
import subprocess
import time
import urllib.request

PGBIN = os.environ.get("SLOTD_PGBIN", "/usr/lib/postgresql/15/bin")


def log(msg):
    print(f"soak: {msg}", flush=True)


def bindable(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n):
    """n consecutive free ports between 20000 and 30000: below Linux's ephemeral range
    (32768-60999), so that no outgoing connection takes a killed instance's port before it is
    restarted."""
    rnd = random.Random()
    for _ in range(500):
        base = rnd.randrange(20000, 30000 - n)
        if all(bindable(p) for p in range(base, base + n)):
            return list(range(base, base + n))
    raise RuntimeError("no free ports between 20000 and 30000")


def http_status(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def wait_http_200(url, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_status(url) == 200:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + args, cwd="/", **kw)


class Postgres:
    def __init__(self, workdir):
        self.workdir = workdir
        self.data = os.path.join(workdir, "pgdata")
        self.sock = os.path.join(workdir, "run")
        self.logfile = os.path.join(workdir, "postgresql.log")
        self.port = free_ports(1)[0]  # names the unix socket only: no TCP listener
        self.running = False

    def init(self):
        os.makedirs(self.sock)
        for p in (self.sock,):
            os.chmod(p, 0o700)
            subprocess.run(["chown", "postgres:", p], check=True)
        subprocess.run(["install", "-d", "-m", "0700", "-o", "postgres", "-g", "postgres", self.data], check=True)
        open(self.logfile, "a").close()
        subprocess.run(["chown", "postgres:", self.logfile], check=True)
        r = as_postgres([f"{PGBIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--no-locale", "--no-instructions", "--no-sync"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr}")
        conf = os.path.join(self.data, "postgresql.auto.conf")
        with open(conf, "a") as f:
            f.write(f"listen_addresses = ''\nunix_socket_directories = '{self.sock}'\nport = {self.port}\n"
                    "max_connections = 200\nshared_buffers = 64MB\nfsync = off\nsynchronous_commit = off\n"
                    "full_page_writes = off\nlogging_collector = off\n")
        subprocess.run(["chown", "postgres:", conf], check=True)

    def start(self):
        # setsid: the postmaster in a session of its own, out of reach of a terminal's Ctrl-C
        r = as_postgres(["setsid", "-w", f"{PGBIN}/pg_ctl", "start", "-D", self.data, "-l", self.logfile,
                         "-w", "-t", "60", "-s"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {r.stderr}\n{tail(self.logfile)}")
        self.running = True

    def stop(self, mode="fast"):
        r = as_postgres([f"{PGBIN}/pg_ctl", "stop", "-D", self.data, "-m", mode, "-w", "-t", "60", "-s"],
                        capture_output=True, text=True)
        if r.returncode != 0 and mode != "immediate":
            as_postgres([f"{PGBIN}/pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", "-s"],
                        capture_output=True)
        self.running = False

    def psql_cmd(self, db="slotd", user="postgres"):
        return [f"{PGBIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-p", str(self.port),
                "-U", user, "-d", db]

    def sql(self, query, db="slotd", sep="\x1f"):
        """Rows of a query as lists of strings (NULL -> empty string)."""
        r = subprocess.run(self.psql_cmd(db) + ["-F", sep, "-c", query], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}\n  in: {query[:300]}")
        return [line.split(sep) for line in r.stdout.splitlines() if line != ""]

    def createdb(self):
        self.sql("CREATE ROLE slotd LOGIN", db="postgres")
        self.sql("CREATE DATABASE slotd OWNER slotd", db="postgres")
        return f"host={self.sock} port={self.port} dbname=slotd user=slotd"


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Instance:
    """One slotd; .proc is the running process (or None)."""

    def __init__(self, index, port, binary, env, workdir):
        self.index = index
        self.name = f"slotd{index}"
        self.port = port
        self.binary = binary
        self.env = env
        self.logpath = os.path.join(workdir, f"{self.name}.log")
        self.proc = None
        self.started_at = None  # monotonic
        self.generation = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        env = {**self.env, "SLOTD_LISTEN": f"127.0.0.1:{self.port}", "SLOTD_INSTANCE": self.name}
        self.generation += 1
        with open(self.logpath, "ab") as f:
            f.write(f"--- soak: start #{self.generation} at {time.strftime('%H:%M:%S')}\n".encode())
            f.flush()
            self.proc = subprocess.Popen([self.binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        self.started_at = time.monotonic()
        return self.proc

    def wait_ready(self, timeout=60):
        return wait_http_200(f"http://127.0.0.1:{self.port}/readyz", timeout, self.proc)

    def kill9(self):
        """SIGKILL and reap; returns the exit status (-9)."""
        p = self.proc
        p.send_signal(signal.SIGKILL)
        rc = p.wait()
        self.proc = None
        return rc

    def stop(self, timeout=20):
        """SIGTERM (once), wait, then SIGKILL; returns the exit status, or None if not running."""
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {p.pid}) did not stop within {timeout}s: killing it")
                p.kill()
                p.wait()
        self.proc = None
        return p.returncode


def haproxy_config(lb_port, servers, interval="1s"):
    """deploy/run-cluster's policy (keep in step with it) plus logging and X-Soak-Server."""
    lines = [
        "# generated by tests/soak/run: deploy/run-cluster's policy, plus a log line per request",
        "global",
        "    maxconn 4096",
        "    log stdout format raw local0",
        "",
        "defaults",
        "    mode http",
        "    log global",
        # accept time, status, retries (+ = redispatched), server, timers, termination state, request
        '    log-format "%Ts.%ms %ST %rc %b/%s %Tq/%Tw/%Tc/%Tr/%Ta %tsc %{+Q}r"',
        "    option forwardfor",
        "    timeout connect 1s",
        "    timeout client 60s",
        "    timeout server 30s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 5s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response junk-response response-timeout 503",
        f"    default-server inter {interval} fastinter 250ms downinter 1s fall 2 rise 2",
        "",
        "frontend http",
        f"    bind 127.0.0.1:{lb_port}",
        "    option http-buffer-request",
        "    http-request return status 404 content-type application/json string "
        "'{\"error\":\"no such resource\",\"code\":\"NOT_FOUND\"}' if { path_beg /metrics }",
        "    http-request disable-l7-retry if !METH_GET !METH_OPTIONS !{ req.hdr(idempotency-key) -m found }",
        "    http-response set-header X-Soak-Server %s",
        "    default_backend slotd",
        "",
        "backend slotd",
        "    balance roundrobin",
        "    option httpchk",
        "    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost",
        "    http-check expect status 200",
    ]
    for name, port in servers:
        lines.append(f"    server {name} 127.0.0.1:{port} check")
    return "\n".join(lines) + "\n"


class Haproxy:
    def __init__(self, workdir, lb_port, servers):
        self.cfg = os.path.join(workdir, "haproxy.cfg")
        self.logpath = os.path.join(workdir, "haproxy.log")
        self.port = lb_port
        with open(self.cfg, "w") as f:
            f.write(haproxy_config(lb_port, servers))
        self.proc = None

    def start(self):
        r = subprocess.run(["haproxy", "-c", "-q", "-f", self.cfg], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"invalid {self.cfg}: {r.stdout}{r.stderr}")
        f = open(self.logpath, "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg], stdin=subprocess.DEVNULL, stdout=f,
                                     stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        f.close()
        if not wait_http_200(f"http://127.0.0.1:{self.port}/readyz", 30, self.proc):
            raise RuntimeError(f"haproxy did not answer on 127.0.0.1:{self.port}\n{tail(self.logpath)}")

    def stop(self):
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.proc = None


def release_binary(root):
    """SLOTD_BIN, or build/release/slotd made the way deploy/run-local makes it (the shared shell
    helpers of deploy/lib/common.sh, which also install missing Debian packages)."""
    script = ('set -euo pipefail; SLOTD__PROG=soak; . "$1/deploy/lib/common.sh"; '
              'pkgs=(haproxy curl "${SLOTD_PG_PKGS[@]}"); [[ -z "${SLOTD_BIN:-}" ]] && pkgs+=("${SLOTD_BUILD_PKGS[@]}"); '
              'slotd_need_pkgs "${pkgs[@]}"; slotd_release_bin "$1"; printf "%s\\n" "$SLOTD_BIN"')
    r = subprocess.run(["bash", "-c", script, "soak", root], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("could not build or find slotd (see above)")
    return r.stdout.strip().splitlines()[-1]


def quote(args):
    return " ".join(shlex.quote(a) for a in args)
