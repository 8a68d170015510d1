"""/metrics content and the JSON request log."""

import json
import re

from conftest import metric_value, parse_metrics, request_bytes, wait_until

REQUIRED_METRICS = [
    "slotd_http_requests_total",
    "slotd_http_request_duration_seconds_bucket",
    "slotd_http_request_duration_seconds_sum",
    "slotd_http_request_duration_seconds_count",
    "slotd_http_connections_open",
    "slotd_http_connections_rejected_total",
    "slotd_db_pool_size",
    "slotd_db_pool_ready",
    "slotd_db_pool_in_use",
    "slotd_db_pool_waiting",
    "slotd_db_errors_total",
    "slotd_draining",
]


def requests_total(samples, route, method, status):
    return metric_value(samples, "slotd_http_requests_total", route=route, method=method, status=status) or 0


def test_metrics_format_and_names(slotd):
    slotd.get("/healthz")
    r = slotd.get("/metrics")
    assert r.status == 200
    ct = r.header("Content-Type", "")
    assert ct.split(";")[0].strip() == "text/plain", ct
    assert "version=0.0.4" in ct.replace(" ", ""), ct
    text = r.body.decode()
    samples = parse_metrics(text)
    names = {n for n, _, _ in samples}
    missing = [n for n in REQUIRED_METRICS if n not in names]
    assert not missing, f"missing metrics {missing}\n{text}"
    assert metric_value(samples, "slotd_draining") == 0
    assert metric_value(samples, "slotd_db_pool_size") == 4
    assert metric_value(samples, "slotd_http_connections_open") >= 1
    # histogram for /healthz has the documented first bucket and a +Inf bucket equal to _count
    b = metric_value(samples, "slotd_http_request_duration_seconds_bucket", route="/healthz", le="0.001")
    assert b is not None, text
    inf = metric_value(samples, "slotd_http_request_duration_seconds_bucket", route="/healthz", le="+Inf")
    cnt = metric_value(samples, "slotd_http_request_duration_seconds_count", route="/healthz")
    assert inf is not None and cnt is not None and inf == cnt >= 1
    assert metric_value(samples, "slotd_http_request_duration_seconds_sum", route="/healthz") >= 0


def test_metrics_histogram_buckets_cumulative(slotd):
    for _ in range(3):
        slotd.get("/readyz")
    samples = parse_metrics(slotd.get("/metrics").body.decode())
    buckets = [(l["le"], v) for n, l, v in samples
               if n == "slotd_http_request_duration_seconds_bucket" and l.get("route") == "/readyz"]
    assert buckets, "no buckets for /readyz"
    les = [float("inf") if le == "+Inf" else float(le) for le, _ in buckets]
    vals = [v for _, v in sorted(zip(les, [v for _, v in buckets]))]
    assert vals == sorted(vals), f"buckets not cumulative: {buckets}"
    assert "+Inf" in [le for le, _ in buckets]


def test_metrics_counters_increase(slotd):
    before = parse_metrics(slotd.get("/metrics").body.decode())
    for _ in range(3):
        assert slotd.get("/healthz").status == 200
    for _ in range(2):  # three segments: no booking page's path (/:slug and /:slug/:event_slug are)
        assert slotd.get("/definitely/unknown/path").status == 404
    assert slotd.request("POST", "/healthz", body=b"").status == 405
    after = parse_metrics(slotd.get("/metrics").body.decode())
    assert requests_total(after, "/healthz", "GET", "200") - requests_total(before, "/healthz", "GET", "200") == 3
    assert requests_total(after, "unmatched", "GET", "404") - requests_total(before, "unmatched", "GET", "404") == 2
    assert requests_total(after, "/healthz", "POST", "405") - requests_total(before, "/healthz", "POST", "405") == 1
    c_before = metric_value(before, "slotd_http_request_duration_seconds_count", route="/healthz") or 0
    c_after = metric_value(after, "slotd_http_request_duration_seconds_count", route="/healthz")
    assert c_after - c_before >= 3
    # the /metrics request that produced `before` is counted by the time of `after`
    assert requests_total(after, "/metrics", "GET", "200") >= 1


def test_metrics_pool_size_configured(slotd_factory):
    s = slotd_factory(env={"SLOTD_DB_POOL": "2"})
    samples = s.metrics()
    assert metric_value(samples, "slotd_db_pool_size") == 2
    wait_until(lambda: metric_value(s.metrics(), "slotd_db_pool_ready") == 2, 10, what="pool ready == 2")
    assert metric_value(samples, "slotd_db_pool_in_use") >= 0
    assert metric_value(samples, "slotd_db_pool_waiting") == 0


def test_listening_log_line(slotd):
    lines = slotd.wait_log(lambda l: l.get("msg") == "listening", what="listening line")
    assert lines[0].get("addr") == f"127.0.0.1:{slotd.port}", lines[0]


def test_request_log_line_fields(slotd_factory):
    s = slotd_factory(env={"SLOTD_INSTANCE": "inst-A"})
    st = s.stream()
    st.send(request_bytes("GET", "/healthz?x=1", {"X-Request-Id": "log-fields-1"}))
    r = st.read_response()
    assert r.status == 200
    local_port = st.sock.getsockname()[1]
    line = s.wait_log(lambda l: l.get("request_id") == "log-fields-1", what="request log line")
    assert len(line) == 1, line
    l = line[0]
    assert l["msg"] == "request"
    assert l["level"] == "info"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", l["ts"]), l["ts"]
    assert l["method"] == "GET"
    assert l["path"] in ("/healthz", "/healthz?x=1")
    assert l["route"] == "/healthz"
    assert l["status"] == 200
    assert isinstance(l["duration_ms"], (int, float)) and l["duration_ms"] >= 0
    assert l["bytes"] == len(r.body) or l["bytes"] >= len(r.body)
    assert isinstance(l["bytes"], int)
    assert l["peer"] == f"127.0.0.1:{local_port}", l
    assert l["instance"] == "inst-A"


def test_log_404_route_unmatched(slotd):
    slotd.get("/nope/not/here", headers={"X-Request-Id": "log-404"})
    l = slotd.wait_log(lambda l: l.get("request_id") == "log-404")[0]
    assert l["status"] == 404 and l["route"] == "unmatched" and l["path"] == "/nope/not/here"
    # a one-segment path is a booking page's (an unknown one: a 404 page), labelled by its route
    slotd.get("/nope", headers={"X-Request-Id": "log-404-page"})
    l = slotd.wait_log(lambda l: l.get("request_id") == "log-404-page")[0]
    assert l["status"] == 404 and l["route"] == "/:slug" and l["path"] == "/nope"


def test_one_log_line_per_request(slotd):
    ids = [f"one-{i}" for i in range(6)]
    st = slotd.stream()
    st.send(b"".join(request_bytes("GET", "/healthz" if i % 2 else "/readyz", {"X-Request-Id": rid})
                     for i, rid in enumerate(ids)))
    for _ in ids:
        st.read_response()
    wait_until(lambda: all(slotd.request_logs(rid) for rid in ids), 5, what="all request lines")
    for rid in ids:
        assert len(slotd.request_logs(rid)) == 1, slotd.request_logs(rid)


def test_generated_request_id_logged(slotd):
    r = slotd.get("/healthz")
    rid = r.header("X-Request-Id")
    slotd.wait_log(lambda l: l.get("request_id") == rid and l.get("msg") == "request")


def test_log_level_warn_suppresses_request_lines(slotd_factory):
    s = slotd_factory(env={"SLOTD_LOG_LEVEL": "warn"})
    s.get("/healthz", headers={"X-Request-Id": "quiet-1"})
    s.get("/healthz", headers={"X-Request-Id": "quiet-2"})
    # make sure the process has written whatever it was going to
    s.stop()
    assert not s.request_logs(), s.stderr()


def test_all_stderr_lines_are_json(slotd):
    for p in ("/healthz", "/readyz", "/nope", "/metrics"):
        slotd.get(p)
    slotd.check_clean_exit()
    lines = [l for l in slotd.stderr().splitlines() if l.strip()]
    assert lines
    for line in lines:
        obj = json.loads(line)
        assert isinstance(obj, dict) and "ts" in obj and "level" in obj and "msg" in obj, line
