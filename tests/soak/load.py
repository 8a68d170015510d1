"""The soak's load: hosts seeded through the API, then worker threads sending a paced mix of
availability reads (many invitee time zones), bookings, cancels, reschedules and host reads
through haproxy, recording every request and what the client now believes about each booking.

Every POST carries an Idempotency-Key (as a careful client would, and as haproxy requires before
it retries a POST on another instance). A booking's notes carry the key of the request that
made it, so the database can be matched to what the client was told.
"""

import datetime as dt
import http.client
import json
import random
import threading
import time
import uuid

PASSWORD = "correct horse battery"
EVENTS = ["booking.created", "booking.cancelled", "booking.rescheduled"]
# hosts' own zones (schedules 07:00-22:00 every day on their wall clock: DST moves them)
HOST_ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC", "America/Los_Angeles",
              "Asia/Tokyo", "Pacific/Auckland", "America/Sao_Paulo", "Africa/Cairo", "Europe/London", "Asia/Kathmandu"]
# invitees' zones for availability reads and bookings (half- and quarter-hour offsets, both hemispheres,
# the date line)
INVITEE_ZONES = HOST_ZONES + ["America/St_Johns", "Australia/Adelaide", "Pacific/Chatham", "Pacific/Kiritimati",
                              "Pacific/Pago_Pago", "Asia/Tehran", "America/Chicago", "Europe/Moscow", "Asia/Singapore",
                              "America/Anchorage", "Atlantic/Azores", "Australia/Lord_Howe", "America/Caracas"]

# kind -> statuses that are a normal outcome of it (anything else is "unexpected")
EXPECTED = {
    "avail": {200},
    "book": {201, 409},            # 409: someone else took the slot first
    "cancel-host": {200},
    "cancel-token": {200},
    "resched-host": {200, 409},    # 409: the new slot was taken meanwhile
    "resched-token": {200, 409},
    "get": {200},
    "setup": {200, 201},
}


class Req:
    __slots__ = ("kind", "status", "t0", "t1", "server", "code", "key")

    def __init__(self, kind, status, t0, t1, server, code=None, key=None):
        self.kind, self.status, self.t0, self.t1, self.server, self.code, self.key = kind, status, t0, t1, server, code, key


class Client:
    """One keep-alive connection to haproxy; reconnects after any error."""

    def __init__(self, port, timeout=60):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """-> (status, headers dict lower-case, parsed JSON or None); raises OSError/HTTPException."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif method == "POST":
            data = b""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        hd = {k.lower(): v for k, v in r.getheaders()}
        if hd.get("connection", "").lower() == "close":
            self.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return r.status, hd, doc

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Booking:
    __slots__ = ("uid", "id", "host", "cancel_token", "reschedule_token", "start", "status", "certain", "key",
                 "rescheds", "cancels")

    def __init__(self, uid, bid, host, ct, rt, start, key):
        self.uid, self.id, self.host = uid, bid, host
        self.cancel_token, self.reschedule_token = ct, rt
        self.start = start          # RFC 3339 UTC, as the client last saw it
        self.status = "confirmed"
        self.certain = True         # every operation on it had a definite answer
        self.key = key
        self.rescheds = 0           # reschedules answered 200
        self.cancels = 0            # cancels answered 200


class Ledger:
    """What the client knows: every request, every booking answered 201, and the pool of
    bookings that workers may act on (taken out while one works on it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reqs = []
        self.bookings = {}       # uid -> Booking
        self.pool = []           # uids of confirmed, certain bookings no worker holds
        self.book_keys = {}      # Idempotency-Key of every booking POST -> "201" | "definite" | "uncertain"
        self.errors = []         # (time, kind, description) of unexpected answers, for the report

    def record(self, req):
        self.reqs.append(req)    # list.append is atomic under the GIL

    def add(self, b):
        with self.lock:
            self.bookings[b.uid] = b
            self.pool.append(b.uid)

    def take(self, rnd):
        with self.lock:
            if not self.pool:
                return None
            i = rnd.randrange(len(self.pool))
            self.pool[i], self.pool[-1] = self.pool[-1], self.pool[i]
            return self.bookings[self.pool.pop()]

    def peek(self, rnd):
        with self.lock:
            if not self.pool:
                return None
            return self.bookings[self.pool[rnd.randrange(len(self.pool))]]

    def give_back(self, b):
        with self.lock:
            if b.status == "confirmed" and b.certain:
                self.pool.append(b.uid)

    def note(self, kind, desc):
        with self.lock:
            if len(self.errors) < 200:
                self.errors.append((time.time(), kind, desc))


def utc(ts):
    """RFC 3339 with any offset -> the same instant as 'YYYY-MM-DDTHH:MM:SSZ' (the bookings' form)."""
    t = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uncertain_answer(status, doc):
    """An answer that leaves the request's outcome unknown: a 5xx, no answer at all, or the
    Idempotency-Key protocol saying that an earlier attempt of it is still running or died after
    writing (what a retry by haproxy meets when the instance that had the request was killed)."""
    if status == "ERR" or status >= 500:
        return True
    if status == 409 and isinstance(doc, dict):
        if doc.get("code") == "IDEMPOTENCY_OUTCOME_UNKNOWN":
            return True
        if doc.get("code") == "CONFLICT" and "still in progress" in str(doc.get("error", "")):
            return True
    return False


# ----------------------------------------------------------------------------- seeding


def seed_hosts(port, n, receiver_url, secret, ledger):
    """n hosts through the API: register, log in, an API key, a schedule 07:00-22:00 every day in
    the host's zone, a 30-minute event type, a webhook for booking.created/cancelled/rescheduled."""
    c = Client(port)
    tag = uuid.uuid4().hex[:8]
    hosts = []

    def call(method, path, body=None, headers=None, want=(200, 201)):
        t0 = time.time()
        st, hd, doc = c.request(method, path, body, headers)
        ledger.record(Req("setup", st, t0, time.time(), hd.get("x-soak-server")))
        if st not in want:
            raise RuntimeError(f"setup: {method} {path} -> {st} {doc}")
        return hd, doc

    for i in range(n):
        zone = HOST_ZONES[i % len(HOST_ZONES)]
        email = f"soak-{tag}-{i}@example.com"
        _, reg = call("POST", "/api/auth/register",
                      {"email": email, "password": PASSWORD, "name": f"Soak Host {i}", "timezone": zone})
        hd, _ = call("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        cookie = hd["set-cookie"].split(";")[0]
        _, k = call("POST", "/api/api-keys", {"label": "soak"}, {"Cookie": cookie})
        auth = {"X-API-Key": k["key"]}
        _, scheds = call("GET", "/api/availability-schedules", None, auth)
        sid = [s for s in scheds if s["is_default"] in (1, True)][0]["id"]
        call("PUT", f"/api/availability-schedules/{sid}",
             {"rules": [{"day": d, "start": "07:00", "end": "22:00"} for d in range(7)], "timezone": zone}, auth)
        _, et = call("POST", "/api/event-types", {"name": "Soak call", "slug": "soak-call", "duration_minutes": 30,
                                                  "min_notice_hours": 0, "max_future_days": 90}, auth)
        _, wh = call("POST", "/api/webhooks", {"url": f"{receiver_url}/h{i}", "events": EVENTS, "secret": secret}, auth)
        hosts.append({"i": i, "id": reg["user"]["id"], "slug": reg["bookingSlug"], "et": et["slug"], "zone": zone,
                      "auth": auth, "webhook": wh["id"]})
    c.close()
    return hosts


# ----------------------------------------------------------------------------- the workers


class Pacer:
    """Spreads actions evenly over time across all workers (rate per second in total); a worker
    that falls behind does not bank more than a second of catch-up."""

    def __init__(self, rate):
        self.gap = 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self, stop):
        with self.lock:
            now = time.monotonic()
            t = max(self.next, now - 1.0)
            self.next = t + self.gap
        d = t - time.monotonic()
        if d > 0:
            stop.wait(d)


class Worker(threading.Thread):
    MIX = [("avail", 50), ("book", 22), ("resched", 10), ("cancel", 7), ("get", 11)]

    def __init__(self, n, port, hosts, ledger, pacer, stop, seed):
        super().__init__(name=f"worker{n}", daemon=True)
        self.crashed = None
        self.c = Client(port)
        self.hosts, self.ledger, self.pacer, self.stop = hosts, ledger, pacer, stop
        self.rnd = random.Random(seed)
        self.today = dt.datetime.now(dt.timezone.utc).date()
        kinds, weights = zip(*self.MIX)
        self.kinds, self.cum = kinds, [sum(weights[: i + 1]) for i in range(len(weights))]

    def run(self):
        try:
            self.loop()
        except Exception as e:  # a bug of the soak itself: reported, and the run fails
            self.crashed = f"{type(e).__name__}: {e}"
            raise
        finally:
            self.c.close()

    def loop(self):
        if True:
            while not self.stop.is_set():
                self.pacer.wait(self.stop)
                if self.stop.is_set():
                    break
                x = self.rnd.uniform(0, self.cum[-1])
                kind = next(k for k, c in zip(self.kinds, self.cum) if x <= c)
                getattr(self, "do_" + kind)()

    # -- one request, recorded --
    def req(self, kind, method, path, body=None, headers=None, key=None, client=None):
        t0 = time.time()
        try:
            st, hd, doc = (client or self.c).request(method, path, body, headers)
            server = hd.get("x-soak-server")
        except (OSError, http.client.HTTPException) as e:
            st, doc, server = "ERR", {"error": f"{type(e).__name__}: {e}"}, None
        t1 = time.time()
        code = doc.get("code") if isinstance(doc, dict) else None
        if uncertain_answer(st, doc) and st != "ERR" and st < 500:
            code = "IDEM:" + str(code)
        self.ledger.record(Req(kind, st, t0, t1, server, code, key))
        if st == "ERR" or st not in EXPECTED[kind]:
            self.ledger.note(kind, f"{method} {path} -> {st} {json.dumps(doc)[:200]} (server {server})")
        return st, doc

    def day(self, lo=1, hi=60):
        return self.today + dt.timedelta(days=self.rnd.randint(lo, hi))

    def slots(self, host, day, zone):
        """format=range availability of one day -> list of slot starts (RFC 3339)."""
        st, doc = self.req("avail", "GET", f"/api/availability/{host['slug']}/{host['et']}?start={day}&end={day}"
                                           f"&timezone={zone}&format=range")
        if st != 200 or not isinstance(doc, dict):
            return None
        return [utc(s["start"]) for v in (doc.get("slots") or {}).values() for s in v]

    # -- the actions --
    def do_avail(self):
        h = self.rnd.choice(self.hosts)
        zone = self.rnd.choice(INVITEE_ZONES)
        start = self.day()
        end = start + dt.timedelta(days=self.rnd.randint(0, 6))
        fmt = "&format=range" if self.rnd.random() < 0.3 else ""
        self.req("avail", "GET", f"/api/availability/{h['slug']}/{h['et']}?start={start}&end={end}&timezone={zone}{fmt}")

    def do_book(self):
        """Book a free slot picked from availability; 15% of the time two clients race for the
        same slot at once (different keys and e-mails; haproxy's round robin usually sends them to
        different instances): one must get 201, the other 409."""
        race = self.rnd.random() < 0.15
        h = self.hosts[self.rnd.randrange(2)] if race else self.rnd.choice(self.hosts)
        zone = self.rnd.choice(INVITEE_ZONES)
        starts = self.slots(h, self.day(), zone)
        if not starts:
            return
        start = self.rnd.choice(starts)
        if not race:
            self.post_book(self.c, h, start, zone)
            return
        other = Client(self.c.port)
        barrier = threading.Barrier(2)
        t = threading.Thread(target=self.post_book, args=(other, h, start, zone, barrier))
        t.start()
        self.post_book(self.c, h, start, zone, barrier)
        t.join()
        other.close()

    def post_book(self, client, h, start, zone, barrier=None):
        key = str(uuid.uuid4())
        body = {"name": "Soak Invitee", "email": f"invitee+{key[:8]}@example.com", "start_time": start,
                "timezone": zone, "notes": key}
        if barrier is not None:
            try:
                barrier.wait(5)
            except threading.BrokenBarrierError:
                pass
        st, doc = self.req("book", "POST", f"/api/book/{h['slug']}/{h['et']}", body, {"Idempotency-Key": key},
                           key=key, client=client)
        if st == 201:
            b = doc["booking"]
            self.ledger.book_keys[key] = "201"
            self.ledger.add(Booking(b["uid"], b["id"], h["i"], b["cancel_token"], b["reschedule_token"], b["start"], key))
        else:
            self.ledger.book_keys[key] = "uncertain" if uncertain_answer(st, doc) else "definite"

    def do_cancel(self):
        b = self.ledger.take(self.rnd)
        if b is None:
            return
        key = str(uuid.uuid4())
        if self.rnd.random() < 0.5:
            kind, path, hdr = "cancel-host", f"/api/bookings/{b.id}/cancel", dict(self.hosts[b.host]["auth"])
        else:
            kind, path, hdr = "cancel-token", f"/api/cancel/{b.cancel_token}/confirm", {}
        hdr["Idempotency-Key"] = key
        st, doc = self.req(kind, "POST", path, {"reason": "soak"}, hdr, key=key)
        if st == 200:
            b.status = "cancelled"
            b.cancels += 1
        elif uncertain_answer(st, doc):
            b.certain = False
        else:
            b.certain = False  # an unexpected definite answer: reported; the booking leaves the pool
        self.ledger.give_back(b)

    def do_resched(self):
        b = self.ledger.take(self.rnd)
        if b is None:
            return
        try:
            h = self.hosts[b.host]
            starts = self.slots(h, self.day(), self.rnd.choice(INVITEE_ZONES))
            starts = [s for s in (starts or []) if s != b.start]
            if not starts:
                return
            start = self.rnd.choice(starts)
            key = str(uuid.uuid4())
            if self.rnd.random() < 0.5:
                kind, path, hdr = "resched-host", f"/api/bookings/{b.id}/reschedule", dict(h["auth"])
            else:
                kind, path, hdr = "resched-token", f"/api/reschedule/{b.reschedule_token}", {}
            hdr["Idempotency-Key"] = key
            st, doc = self.req(kind, "POST", path, {"start_time": start}, hdr, key=key)
            if st == 200:
                nb = doc["booking"]
                if nb["uid"] != b.uid or nb["start"] != start:
                    self.ledger.note(kind, f"reschedule of {b.uid} to {start} answered {nb['uid']} at {nb['start']}")
                    b.certain = False
                b.start = nb["start"]
                b.rescheds += 1
            elif st == 409 and not uncertain_answer(st, doc):
                pass  # the slot went to someone else: nothing changed
            else:
                b.certain = False
        finally:
            self.ledger.give_back(b)

    def do_get(self):
        b = self.ledger.peek(self.rnd)
        if b is None:
            return
        self.req("get", "GET", f"/api/bookings/{b.id}", None, self.hosts[b.host]["auth"])
