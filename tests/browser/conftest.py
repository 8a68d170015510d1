"""Browser tests of slotd's hosted pages and embed (issue 19): Debian's chromium, headless, driven
by playwright-core (npm, tests/browser/package.json) through driver.mjs; Python sets the scene
through the real HTTP API and judges the driver's report and the database.

The API harness (tests/api/conftest.py) is reused as it is: it is loaded by path under the name
"api_conftest" (two modules called `conftest` cannot both be imported under pytest's default
import mode) and everything it defines is re-exported here, fixtures included, so that the
helper modules of tests/api (`from conftest import Response, Slotd`) work unchanged and the
fixtures pg, db, slotd_factory, slotd and the autouse _watchdog/_binary apply to these tests.
Run `pytest tests/browser` on its own (tests/run does); together with tests/api in one pytest
session the two conftest modules would clash.

Environment (besides the API harness's SLOTD_BIN, SLOTD_TEST_PG*):
    SLOTD_BROWSER_ARTIFACTS  directory for the screenshots, one PNG per step named
                             <test>-<NN>-<step>.png, and each scenario's result as
                             <test>-<scenario>.json (default: a temporary directory)
    SLOTD_CHROMIUM           the browser binary (default /usr/bin/chromium)

Fixtures:
    site        one slotd (public rate limits lifted) on a fresh database for the session
    browser     run(scenario, config, allow_status=()) -> the driver's JSON result, with the
                console/page errors checked
    parent_site HTTP servers on other 127.0.0.1 ports serving parent pages (the embed tests)
"""

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
API_DIR = HERE.parent / "api"

if str(API_DIR) not in sys.path:
    sys.path.insert(0, str(API_DIR))

if "api_conftest" in sys.modules:
    _api = sys.modules["api_conftest"]
else:
    _spec = importlib.util.spec_from_file_location("api_conftest", API_DIR / "conftest.py")
    _api = importlib.util.module_from_spec(_spec)
    sys.modules["api_conftest"] = _api
    _spec.loader.exec_module(_api)

# everything, the underscore-named autouse fixtures included (not the module's dunders)
globals().update({k: v for k, v in vars(_api).items() if not (k.startswith("__") and k.endswith("__"))})

# the helper modules of tests/api import `conftest`: under pytest that is this module (re-exports
# above); imported some other way, point them at it all the same
sys.modules.setdefault("conftest", sys.modules[__name__])

from booking_util import NO_LIMITS, close_env  # noqa: E402  (needs the re-exports above)

CHROMIUM = os.environ.get("SLOTD_CHROMIUM") or "/usr/bin/chromium"
DRIVER = HERE / "driver.mjs"
ARTIFACTS = os.environ.get("SLOTD_BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="slotd-browser-artifacts-")
DRIVER_TIMEOUT = 90  # seconds one scenario (one chromium) may take


# ----------------------------------------------------------------------------
# Node.js + playwright-core, installed with `npm ci` on first use


def _ensure_node_modules():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the browser tests need Node.js and npm (Debian: apt-get install nodejs npm)", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need chromium at {CHROMIUM} (Debian: apt-get install chromium)",
                    pytrace=False)
    lock_json = (HERE / "package-lock.json").read_bytes()
    want = hashlib.sha256(lock_json).hexdigest()
    stamp = HERE / "node_modules" / ".slotd-lock-sha256"
    with open(HERE / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = stamp.read_text().strip() if stamp.exists() else ""
        if have != want or not (HERE / "node_modules" / "playwright-core" / "package.json").exists():
            try:
                r = subprocess.run([npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"],
                                   capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                pytest.fail("`npm ci` in tests/browser timed out (is the npm registry reachable?)", pytrace=False)
            if r.returncode != 0:
                pytest.fail(f"`npm ci --prefix {HERE}` failed (is the npm registry reachable?):\n"
                            f"{r.stdout[-2000:]}{r.stderr[-2000:]}", pytrace=False)
            stamp.write_text(want + "\n")
    return node


# ----------------------------------------------------------------------------
# the server under test


class Site:
    """The slotd the browser talks to: .s (Slotd), .db (Database), .base ('http://127.0.0.1:port')."""


@pytest.fixture(scope="session")
def site(pg, tmp_path_factory):
    db = pg.create_db("browser")
    s = Slotd(tmp_path_factory.mktemp("slotd-browser"), db.url, name="slotd-browser",
              env={**NO_LIMITS, "SLOTD_DB_POOL": "8"})
    s.env["SLOTD_PUBLIC_URL"] = f"http://127.0.0.1:{s.port}"
    s.start()
    e = Site()
    e.s, e.db, e.base = s, db, f"http://127.0.0.1:{s.port}"
    try:
        yield e
    finally:
        close_env(e)


# ----------------------------------------------------------------------------
# running a scenario


# The browser logs every non-2xx fetch as a console error ("Failed to load resource: the server
# responded with a status of 409 (Conflict)"); a scenario that provokes such an answer on purpose
# says which statuses it expects.
_FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


def console_problems(result, allow_status=()):
    """The console errors, page errors, CSP violations and failed loads (HTTP status >= 400, network
    errors) of a driver result that are not an expected HTTP status of the scenario."""
    bad = []
    for c in result.get("console", []):
        m = _FAILED_LOAD.search(c.get("text", ""))
        if m and int(m.group(1)) in allow_status:
            continue
        if c.get("type") == "http" and c.get("status") in allow_status:
            continue
        bad.append(c)
    return bad


class Browser:
    def __init__(self, node, test_name):
        self.node = node
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)[:80]
        os.makedirs(ARTIFACTS, exist_ok=True)
        for pattern in (f"{self.test_name}-*.png", f"{self.test_name}-*.json"):
            for old in Path(ARTIFACTS).glob(pattern):
                old.unlink()

    def run(self, scenario, config, allow_status=(), check_console=True):
        cfg = {"chromium": CHROMIUM, "artifacts": ARTIFACTS, "prefix": self.test_name, **config}
        try:
            r = subprocess.run([self.node, str(DRIVER), scenario], input=json.dumps(cfg), capture_output=True,
                               text=True, timeout=DRIVER_TIMEOUT, cwd=str(HERE))
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"scenario {scenario} did not finish within {DRIVER_TIMEOUT}s; "
                                 f"stderr: {(e.stderr or '')[-3000:]}")
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
        assert lines, f"scenario {scenario}: no result line (exit {r.returncode}); stdout: {r.stdout[-2000:]}" \
                      f"\nstderr: {r.stderr[-3000:]}"
        res = json.loads(lines[-1])
        # what the browser saw, next to the screenshots
        with open(os.path.join(ARTIFACTS, f"{self.test_name}-{scenario}.json"), "w") as f:
            json.dump(res, f, indent=1)
        shots = f"screenshots: {ARTIFACTS}/{self.test_name}-*.png"
        assert res.get("ok"), (f"scenario {scenario} failed at step {res.get('step')!r}: {res.get('error')}\n"
                               f"console: {json.dumps(res.get('console', []), indent=1)[:3000]}\n{shots}")
        if check_console:
            bad = console_problems(res, allow_status)
            assert not bad, f"scenario {scenario}: console errors / CSP violations:\n{json.dumps(bad, indent=1)}\n{shots}"
        return res


@pytest.fixture(scope="session")
def node_bin():
    return _ensure_node_modules()


@pytest.fixture
def browser(node_bin, request):
    return Browser(node_bin, request.node.name)


# ----------------------------------------------------------------------------
# parent pages on other origins (the embed)


class PageServer:
    """A tiny HTTP server on its own 127.0.0.1 port (so its own origin) serving fixed pages."""

    def __init__(self):
        self.pages = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def page_server():
    servers = []

    def make():
        srv = PageServer()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()
