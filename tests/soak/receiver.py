"""The soak's webhook receiver: a local HTTP server that refuses a share of deliveries.

    python3 receiver.py PORT FAIL_RATE LOG_FILE      (secret in SOAK_WEBHOOK_SECRET)

Answers every POST with 500 with probability FAIL_RATE (each attempt drawn independently) and
with 200 otherwise, and writes one JSON line per request to LOG_FILE:
    {"t": unix time, "st": status answered, "id": webhook-id, "ev": X-Slotd-Event,
     "event": payload's "event", "uid": payload's data.booking.uid, "sig": signature valid}
The signature check is X-Slotd-Signature = hex HMAC-SHA256(secret, body) (README "Webhooks").
Runs until SIGTERM. Listens on 127.0.0.1 only.
"""

import hashlib
import hmac
import http.server
import json
import os
import random
import signal
import sys
import threading
import time


def main():
    port, fail_rate, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    secret = os.environ["SOAK_WEBHOOK_SECRET"].encode()
    out = open(path, "a", buffering=1)
    lock = threading.Lock()
    rnd = random.Random()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
            rec = {"t": time.time(), "id": self.headers.get("webhook-id"), "ev": self.headers.get("X-Slotd-Event"),
                   "sig": hmac.compare_digest(sig, self.headers.get("X-Slotd-Signature") or "")}
            try:
                doc = json.loads(body)
                rec["event"] = doc.get("event")
                rec["uid"] = ((doc.get("data") or {}).get("booking") or {}).get("uid")
            except (ValueError, AttributeError):
                rec["event"] = None
            with lock:
                fail = rnd.random() < fail_rate
            st = 500 if fail else 200
            rec["st"] = st
            # recorded before the answer: a 200 written here was (about to be) accepted
            with lock:
                out.write(json.dumps(rec) + "\n")
            reply = b'{"ok":false}' if fail else b'{"ok":true}'
            self.send_response(st)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever(poll_interval=0.2)
    out.close()


if __name__ == "__main__":
    main()
