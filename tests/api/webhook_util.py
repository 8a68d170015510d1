"""Helpers shared by the webhook tests (issue 6).

- Receiver: a local HTTP or HTTPS endpoint (http.server in threads; TLS through Python's ssl
  with certificates made by the `openssl` CLI) that records every request and answers with
  scripted statuses, optionally slowly.
- Pki: a test CA, a server certificate for "localhost", one for another host name signed by the
  same CA, and one for "localhost" signed by a CA slotd is not told about.
- Signature checks: X-Slotd-Signature with Python's hmac, and the Standard Webhooks headers with
  the `standardwebhooks` npm package (installed on first use into a cache directory, run by the
  machine's Node.js) - an implementation nobody here wrote.
- WHost: a registered host with an open-all-week calendar, event types, bookings and webhooks,
  everything through the real HTTP API.
- Small SQL/log accessors and waiting helpers.

Only conftest.py is imported from the test tree.
"""

import base64
import datetime as dt
import fcntl
import hashlib
import hmac
import http.server
import itertools
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import Slotd, run_slotd, wait_until

UTC = dt.timezone.utc
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
SEED_TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
HEX64 = re.compile(r"[0-9a-f]{64}")
VALID_EVENTS = ["booking.created", "booking.cancelled", "booking.rescheduled", "booking.requested",
                "booking.confirmed", "booking.declined", "booking.no_show", "ping"]
BOOKING_EVENTS = [e for e in VALID_EVENTS if e != "ping"]
PASSWORD = "correct horse battery"

# rate limits out of the way, a fast retry schedule
BASE_ENV = {
    "SLOTD_RATE_LIMIT_PUBLIC": "1000000",
    "SLOTD_RATE_LIMIT_AUTH": "1000000",
    "SLOTD_DB_POOL": "8",
    "SLOTD_WEBHOOK_RETRY_SCHEDULE": "1,1,1",
}
LOCAL_ENV = {**BASE_ENV, "SLOTD_WEBHOOK_ALLOW_HTTP": "1", "SLOTD_WEBHOOK_ALLOW_PRIVATE": "1"}

_seq = itertools.count(1)


def unique(prefix="x"):
    return f"{prefix}{os.getpid() % 1000}{int(time.time() * 1000) % 10**7}{next(_seq)}"


def slotd_version():
    r = run_slotd(["--version"])
    m = re.fullmatch(r"slotd (\S+)\s*", r.stdout)
    assert r.returncode == 0 and m, r
    return m.group(1)


# ----------------------------------------------------------------------------
# a module-wide slotd


class WEnv:
    """slotd + database for one test module."""

    def __init__(self, pg, workdir, name, env):
        self.db = pg.create_db(name)
        self.s = Slotd(workdir, self.db.url, env=env, name=name)
        self.s.start()

    def close(self):
        try:
            self.s.check_clean_exit()
        finally:
            self.s.kill()
            self.db.drop()


# ----------------------------------------------------------------------------
# HTTP calls


from accounts_util import call  # noqa: E402  one JSON request helper for all suites


def assert_error(r, status, code=None):
    assert r.status == status, f"expected {status}, got {r!r}"
    j = r.json()
    assert isinstance(j.get("error"), str) and j["error"], j
    if code is not None:
        assert j.get("code") == code, j
    return j


def iso(t):
    if not isinstance(t, dt.datetime):
        t = dt.datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    assert RFC3339.fullmatch(s or ""), s
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def day_at(days=3, hour=10, minute=0):
    d = dt.datetime.now(UTC).date() + dt.timedelta(days=days)
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC) + dt.timedelta(hours=hour, minutes=minute)


_slot_seq = itertools.count(0)


def next_slot():
    """A distinct future half-hour slot per call (days 2..40 ahead, any hour: calendars are open 24/7)."""
    n = next(_slot_seq)
    return day_at(2 + (n // 48) % 38, 0) + dt.timedelta(minutes=30 * (n % 48))


class WHost:
    """A registered user (timezone UTC, calendar open around the clock), authenticated by session."""

    def __init__(self, s, open_all_week=True):
        self.s = s
        tag = unique("wh")
        self.email = f"{tag}@example.com"
        r = call(s, "POST", "/api/auth/register",
                 {"email": self.email, "password": PASSWORD, "name": f"Host {tag}", "timezone": "UTC"})
        assert r.status == 201, r
        reg = r.json()
        self.id = reg["user"]["id"]
        self.slug = reg["bookingSlug"]
        r = call(s, "POST", "/api/auth/login", {"email": self.email, "password": PASSWORD})
        assert r.status == 200, r
        tok = None
        for v in r.header_all("Set-Cookie"):
            if v.strip().startswith("session="):
                tok = v.strip().split(";")[0][len("session="):]
        assert tok, r
        self.auth = {"Cookie": f"session={tok}"}
        if open_all_week:
            r = self.call("GET", "/api/availability-schedules")
            assert r.status == 200, r
            sid = [x for x in r.json() if x["is_default"] in (1, True)][0]["id"]
            rules = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]
            r = self.call("PUT", f"/api/availability-schedules/{sid}", {"rules": rules, "timezone": "UTC"})
            assert r.status == 200, r

    def via(self, s):
        """The same user, talking to another instance."""
        other = WHost.__new__(WHost)
        other.__dict__.update(self.__dict__)
        other.s = s
        return other

    def call(self, method, path, body=None, **kw):
        kw.setdefault("auth", self.auth)
        return call(self.s, method, path, body, **kw)

    # -- event types and bookings --
    def et(self, **fields):
        fields.setdefault("name", unique("Meeting "))
        fields.setdefault("min_notice_hours", 0)
        r = self.call("POST", "/api/event-types", fields)
        assert r.status == 201, r
        return r.json()

    def book_req(self, et, start, **fields):
        body = {"name": "Bob Johnson", "email": "bob@example.com", "start_time": iso(start), **fields}
        return call(self.s, "POST", f"/api/book/{self.slug}/{et['slug']}", body)

    def book(self, et, start, **fields):
        r = self.book_req(et, start, **fields)
        assert r.status == 201, r
        return r.json()["booking"]

    def act(self, bid, action, body=None):
        return self.call("POST", f"/api/bookings/{bid}/{action}", body)

    # -- webhooks --
    def hook_req(self, url, events=None, secret=None, **extra):
        body = {"url": url, "events": events if events is not None else list(VALID_EVENTS), **extra}
        if secret is not None:
            body["secret"] = secret
        return self.call("POST", "/api/webhooks", body)

    def hook(self, url, events=None, secret=None):
        r = self.hook_req(url, events, secret)
        assert r.status == 201, r
        j = r.json()
        assert isinstance(j.get("secret"), str), j
        return j

    def ping(self, hook_id):
        r = self.call("POST", f"/api/webhooks/{hook_id}/ping")
        assert r.status == 202, r
        j = r.json()
        assert j.get("ok") is True and isinstance(j.get("delivery_id"), int), j
        return j["delivery_id"]

    def deliveries(self, hook_id, query=""):
        r = self.call("GET", f"/api/webhooks/{hook_id}/deliveries" + (f"?{query}" if query else ""))
        assert r.status == 200, r
        return r.json()

    def delivery(self, hook_id, delivery_id):
        """One entry of the delivery log (through the API)."""
        for page in range(1, 50):
            items = self.deliveries(hook_id, f"limit=200&page={page}")
            for d in items:
                if d["id"] == delivery_id:
                    return d
            if len(items) < 200:
                break
        raise AssertionError(f"delivery {delivery_id} not in the log of webhook {hook_id}")

    def wait_delivery(self, hook_id, delivery_id, statuses=("delivered", "failed"), timeout=20):
        """Poll the delivery log until the delivery reaches one of `statuses`; return the entry."""
        last = {}

        def done():
            last["d"] = self.delivery(hook_id, delivery_id)
            return last["d"] if last["d"]["status"] in statuses else None
        try:
            return wait_until(done, timeout, interval=0.1, what=f"delivery {delivery_id} to be {statuses}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last state: {last.get('d')}") from None


# ----------------------------------------------------------------------------
# the database


def delivery_rows(db, where="true"):
    """webhook_deliveries rows as dicts (selected columns)."""
    rows = db.sql("SELECT id, webhook_id, coalesce(event_id::text, ''), event, status, attempts, "
                  "coalesce(last_status::text, ''), coalesce(last_error, ''), payload "
                  f"FROM webhook_deliveries WHERE {where} ORDER BY id")
    out = []
    for r in rows:
        out.append({"id": int(r[0]), "webhook_id": int(r[1]), "event_id": int(r[2]) if r[2] else None,
                    "event": r[3], "status": r[4], "attempts": int(r[5]),
                    "last_status": int(r[6]) if r[6] else None, "last_error": r[7], "payload": r[8]})
    return out


def count(db, table, where="true"):
    return int(db.sql(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


def attempt_logs(s, delivery_id=None):
    """slotd's 'webhook attempt' log lines (of one delivery)."""
    return [l for l in s.log_lines() if l.get("msg") == "webhook attempt"
            and (delivery_id is None or l.get("delivery") == str(delivery_id))]


def wait_attempt_logs(s, delivery_id, n, timeout=3):
    """Log lines are buffered for a moment: wait until n lines of the delivery are there."""
    try:
        wait_until(lambda: len(attempt_logs(s, delivery_id)) >= n, timeout, what=f"{n} attempt log lines")
    except AssertionError:
        pass
    return attempt_logs(s, delivery_id)


# ----------------------------------------------------------------------------
# receivers


class Recorded:
    def __init__(self, method, path, headers, body, status, t):
        self.method = method
        self.path = path
        self.headers = headers  # list of (name, value)
        self.body = body
        self.status = status   # what the receiver answered
        self.t = t             # time.time() when the request was complete

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def msg_id(self):
        return self.header("webhook-id")

    @property
    def delivery_id(self):
        m = re.fullmatch(r"msg_(\d+)", self.msg_id or "")
        return int(m.group(1)) if m else None

    def __repr__(self):
        return f"<Recorded {self.method} {self.path} {self.header('X-Slotd-Event')} {self.msg_id} -> {self.status}>"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-receiver"

    def log_message(self, *a):  # quiet
        pass

    def _handle(self):
        rec = self.server.receiver
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        item = Recorded(self.command, self.path, list(self.headers.items()), body, None, time.time())
        status, extra_headers, resp_body, delay = rec._decide(item)
        item.status = status
        rec._record(item)
        with rec.lock:
            rec.active += 1
            rec.max_active = max(rec.max_active, rec.active)
        try:
            if delay:
                time.sleep(delay)
        finally:
            with rec.lock:
                rec.active -= 1
        try:
            self.send_response(status)
            for k, v in extra_headers:
                self.send_header(k, v)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(resp_body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(resp_body)
        except OSError:
            pass
        self.close_connection = True

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, family, receiver):
        self.address_family = family
        self.receiver = receiver
        super().__init__(addr, _Handler, bind_and_activate=False)
        if family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.server_bind()
        self.server_activate()

    def finish_request(self, request, client_address):
        rec = self.receiver
        with rec.lock:
            rec.connections += 1
        if rec.ssl_ctx is not None:  # the handshake happens here, in the request's thread
            try:
                request.settimeout(10)
                request = rec.ssl_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                with rec.lock:
                    rec.tls_failures.append(repr(e))
                return
        try:
            super().finish_request(request, client_address)
        finally:
            if rec.ssl_ctx is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):  # quiet
        pass


class Receiver:
    """A local webhook endpoint recording every request.

    statuses: list of statuses for the first requests (in arrival order), then `default`.
    decide:   optional fn(index, request) -> status | (status, headers, body, delay), overriding
              both (request: a Recorded whose .status is not set yet; called under the lock).
    tls:      (certfile, keyfile) for HTTPS; the URL then uses the name "localhost".
    Listens on 127.0.0.1 and, when available, [::1] on the same port (localhost may resolve to either).
    """

    def __init__(self, statuses=None, default=200, tls=None, decide=None, delay=0.0):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.requests = []
        self.connections = 0
        self.active = 0        # requests being answered right now (during their delay)
        self.max_active = 0
        self.tls_failures = []
        self.statuses = list(statuses or [])
        self.default = default
        self.decide = decide
        self.delay = delay
        self.ssl_ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.ssl_ctx = ctx
        self.servers = []
        self.threads = []
        srv = _Server(("127.0.0.1", 0), socket.AF_INET, self)
        self.port = srv.server_address[1]
        self.servers.append(srv)
        try:
            self.servers.append(_Server(("::1", self.port), socket.AF_INET6, self))
        except OSError:
            pass
        for s in self.servers:
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self.threads.append(t)

    def url(self, path="/hook", host=None):
        scheme = "https" if self.ssl_ctx else "http"
        host = host or ("localhost" if self.ssl_ctx else "127.0.0.1")
        return f"{scheme}://{host}:{self.port}{path}"

    def _decide(self, item):
        with self.lock:
            idx = len(self.requests)
            if self.decide:
                d = self.decide(idx, item)
            elif self.statuses:
                d = self.statuses.pop(0)
            else:
                d = self.default
        if isinstance(d, int):
            d = (d, [], b"ok", self.delay)
        return d

    def _record(self, item):
        with self.cond:
            self.requests.append(item)
            self.cond.notify_all()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def count(self):
        with self.lock:
            return len(self.requests)

    def wait(self, pred, timeout=15, what="requests"):
        """Wait until pred(list of requests) is truthy; return that list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                reqs = list(self.requests)
                if pred(reqs):
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: timed out after {timeout}s waiting for {what}; got {reqs}")
                self.cond.wait(min(left, 0.2))

    def wait_count(self, n, timeout=15, path=None):
        return self.wait(lambda rs: len([r for r in rs if path is None or r.path == path]) >= n, timeout,
                         what=f"{n} requests" + (f" to {path}" if path else ""))

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


def closed_port():
    """A local port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------
# certificates (openssl CLI)


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)} failed: {r.stderr}"


class Pki:
    """ca.pem (given to slotd), good (localhost), wronghost (wrong.example.test, same CA),
    unknownca (localhost, signed by a CA slotd does not trust). Each cert: (certfile, keyfile)."""

    def __init__(self, d):
        self.dir = str(d)
        os.makedirs(self.dir, exist_ok=True)
        self.ca = self._ca("ca", "slotd test CA")
        self._ca("otherca", "someone else's CA")
        self.good = self._leaf("good", "localhost", "ca")
        self.wronghost = self._leaf("wronghost", "wrong.example.test", "ca")
        self.unknownca = self._leaf("unknownca", "localhost", "otherca")

    def _ca(self, name, cn):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3", "-subj", f"/CN={cn}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        return os.path.join(self.dir, f"{name}.pem")

    def _leaf(self, name, dns, ca):
        with open(os.path.join(self.dir, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName=DNS:{dns}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={dns}", cwd=self.dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "3", "-extfile", f"{name}.ext", cwd=self.dir)
        return (os.path.join(self.dir, f"{name}.pem"), os.path.join(self.dir, f"{name}.key"))


# ----------------------------------------------------------------------------
# signatures


def slotd_signature(secret, body):
    """The seed's scheme: hex HMAC-SHA256 of the exact body, keyed by the whole secret string."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret):
    """Standard Webhooks key: base64 after whsec_, else the raw secret bytes."""
    if secret.startswith("whsec_"):
        try:
            k = base64.b64decode(secret[6:], validate=True)
            if k:
                return k
        except ValueError:
            pass
    return secret.encode()


def check_slotd_signature(rec, secret):
    sig = rec.header("X-Slotd-Signature")
    assert sig and HEX64.fullmatch(sig), f"bad X-Slotd-Signature {sig!r}"
    assert hmac.compare_digest(sig, slotd_signature(secret, rec.body)), \
        f"X-Slotd-Signature does not match the body with the secret ({rec!r})"


NODE_DIR = os.environ.get("SLOTD_TEST_NODE_DIR") or os.path.join(tempfile.gettempdir(), "slotd-test-node")
_VERIFY_JS = r"""
const path = require("path");
const { Webhook } = require(path.join(process.env.SWH_DIR, "node_modules", "standardwebhooks"));
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const out = [];
  for (const it of JSON.parse(input)) {
    try {
      const wh = it.raw ? new Webhook(it.secret, { format: "raw" }) : new Webhook(it.secret);
      const payload = Buffer.from(it.body_b64, "base64").toString("utf8");
      const parsed = wh.verify(payload, it.headers);
      out.push({ ok: true, event: parsed && parsed.event });
    } catch (e) {
      out.push({ ok: false, error: String((e && e.message) || e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def ensure_standardwebhooks():
    """The npm package standardwebhooks in NODE_DIR (installed with npm if missing). Fails the
    test with a clear message if node or npm are missing or the registry is unreachable."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the webhook signature tests need Node.js and npm (Debian: apt-get install nodejs npm)",
                    pytrace=False)
    os.makedirs(NODE_DIR, exist_ok=True)
    marker = os.path.join(NODE_DIR, "node_modules", "standardwebhooks", "package.json")
    with open(os.path.join(NODE_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(marker):
            try:
                r = subprocess.run([npm, "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund",
                                    "--loglevel=error", "standardwebhooks@^1"],
                                   capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                pytest.fail("`npm install standardwebhooks` timed out (is the npm registry reachable?)",
                            pytrace=False)
            if r.returncode != 0 or not os.path.exists(marker):
                pytest.fail(f"`npm install --prefix {NODE_DIR} standardwebhooks` failed (is the npm registry "
                            f"reachable?):\n{r.stdout[-2000:]}{r.stderr[-2000:]}", pytrace=False)
        js = os.path.join(NODE_DIR, "verify.js")
        with open(js + ".tmp", "w") as f:
            f.write(_VERIFY_JS)
        os.replace(js + ".tmp", js)
    return NODE_DIR


def standard_verify(items):
    """items: [(Recorded or (body, headers dict), secret)] -> [{"ok": bool, ...}] from the npm package.
    A secret not of the whsec_<base64> form is passed as a raw key (format: "raw")."""
    d = ensure_standardwebhooks()
    batch = []
    for rec, secret in items:
        if isinstance(rec, Recorded):
            body = rec.body
            headers = {k.lower(): v for k, v in rec.headers
                       if k.lower() in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        else:
            body, headers = rec
        raw = standard_key(secret) == secret.encode()
        batch.append({"secret": secret, "raw": raw, "headers": headers,
                      "body_b64": base64.b64encode(body).decode()})
    r = subprocess.run(["node", os.path.join(d, "verify.js")], input=json.dumps(batch), capture_output=True,
                       text=True, timeout=60, env={**os.environ, "SWH_DIR": d})
    assert r.returncode == 0, f"node verify.js failed: {r.stderr}"
    out = json.loads(r.stdout)
    assert len(out) == len(items)
    return out


def check_signatures(recs_and_secrets):
    """Both signatures of every (Recorded, secret): X-Slotd-Signature in Python, the Standard
    Webhooks ones with the npm package."""
    for rec, secret in recs_and_secrets:
        check_slotd_signature(rec, secret)
        assert re.fullmatch(r"msg_\d+", rec.header("webhook-id") or ""), rec.headers
        ts = rec.header("webhook-timestamp") or ""
        assert re.fullmatch(r"\d+", ts) and abs(int(ts) - time.time()) < 120, f"webhook-timestamp {ts!r}"
        sig = rec.header("webhook-signature") or ""
        assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", sig), f"webhook-signature {sig!r}"
        key = standard_key(secret)
        signed = f"{rec.header('webhook-id')}.{ts}.".encode() + rec.body
        mine = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert sig == f"v1,{mine}", "webhook-signature does not match (Python check)"
    res = standard_verify(recs_and_secrets)
    bad = [(rec, r) for (rec, _), r in zip(recs_and_secrets, res) if not r["ok"]]
    assert not bad, f"standardwebhooks rejected: {bad}"
    return res
