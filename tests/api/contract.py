"""The API contract (openapi/openapi.json, built by openapi/build.py) as the tests use it.

- routes(): the router's routes from `slotd routes` ("METHOD PATTERN", in matching order).
- match(method, path): the pattern the router would choose, as src/http/router.c does (the first
  non-fallback entry whose segments match and which serves the method; HEAD falls back to GET;
  "/:slug" fallbacks only when no other pattern has the path) -> (pattern, "found"|"405") or None.
- check_response(method, path, status, headers, body): validates one response against the
  document's schema for the route's path template, method and status (exact status, else the
  "4XX"/"5XX" range, else "default"). A mismatch raises AssertionError naming the route, status,
  JSON pointer and the validator's message. Paths the router does not route (tests send garbage on
  purpose), OPTIONS, and a method the path lacks (405) are not checked.

Loaded once per process: the document, its schemas with every $ref inlined (jsonschema 4.10 has no
`referencing`; the components have no cycles), a validator per (operation, status, media type)
compiled on first use.
"""

import gzip
import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
DOC_PATH = ROOT / "openapi" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

_state = {}


def doc():
    if "doc" not in _state:
        _state["doc"] = json.loads(DOC_PATH.read_text())
    return _state["doc"]


def binary():
    return os.environ.get("SLOTD_BIN") or str(ROOT / "build" / "test" / "slotd")


def routes():
    """[(METHOD, pattern)] from `slotd routes`."""
    if "routes" not in _state:
        out = subprocess.run([binary(), "routes"], capture_output=True, text=True, timeout=30, check=True).stdout
        _state["routes"] = [tuple(line.split(" ", 1)) for line in out.splitlines() if line.strip()]
        _state["entries"] = [(m, p, _segments(p)) for m, p in _state["routes"]]
    return _state["routes"]


def normal(template):
    """A path template with its parameters' names erased: /a/:id and /a/{id} -> /a/{}."""
    return re.sub(r"\{[^}/]+\}|:[^/]+", "{}", template)


def _segments(path):
    return [] if path == "/" else path[1:].split("/")


def _fits(pattern_segs, segs):
    return len(pattern_segs) == len(segs) and all(
        (p.startswith(":") and s) or p == s for p, s in zip(pattern_segs, segs))


# src/api/validate.c api_reserved_slug(): a booking-page fallback never serves these first segments
# (the path is answered as unrouted, in the dialect of its prefix).
RESERVED = {"api", "v1", "v2", "mcp", "healthz", "readyz", "metrics", "booking", "bookings", "assets", "embed",
            "static", "admin", "login", "logout", "signup", "settings", "openapi", "docs", "public", "www", "auth",
            "cancel", "reschedule", "well-known"}


def match(method, path):
    routes()
    segs = _segments(path.split("?", 1)[0])
    want = {method, "GET"} if method == "HEAD" else {method}
    seen = None
    for m, p, ps in _state["entries"]:
        if p.startswith("/:"):  # the booking pages' fallbacks
            continue
        if _fits(ps, segs):
            seen = seen or p
            if m in want:
                return p, "found"
    if seen:
        return seen, "405"
    for m, p, ps in _state["entries"]:
        if p.startswith("/:") and m in want and _fits(ps, segs) and segs[0] not in RESERVED:
            return p, "found"
    return None


def operations():
    """{(METHOD, normal template): (doc path, operation)}"""
    if "ops" not in _state:
        ops = {}
        for p, item in doc()["paths"].items():
            for m, o in item.items():
                if m in METHODS:
                    ops[(m.upper(), normal(p))] = (p, o)
        _state["ops"] = ops
    return _state["ops"]


def inline(schema, components=None, depth=0):
    """The schema with every "#/components/schemas/X" $ref replaced by X (recursively)."""
    components = components if components is not None else doc()["components"]["schemas"]
    if depth > 50:
        raise ValueError("$ref cycle")
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = schema["$ref"]
            if not target.startswith("#/components/schemas/"):
                raise ValueError(f"unsupported $ref {target}")
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            resolved = inline(components[target.rsplit("/", 1)[1]], components, depth + 1)
            return {"allOf": [resolved, inline(rest, components, depth + 1)]} if rest else resolved
        return {k: inline(v, components, depth + 1) if k not in ("enum", "const", "example") else v
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(v, components, depth + 1) for v in schema]
    return schema


def _validator(key, schema):
    v = _state.setdefault("validators", {}).get(key)
    if v is None:
        v = jsonschema.Draft202012Validator(inline(schema))
        _state["validators"][key] = v
    return v


def prepare():
    """Load the document, the route list and every response's validator now (once per session), so
    no request of a test pays for it."""
    routes()
    for (method, _), (doc_path, operation) in operations().items():
        for key in operation.get("responses", {}):
            _, response = response_for(operation, key)
            for media, c in (response.get("content") or {}).items():
                if "json" in media:
                    _validator((method, doc_path, key, media), c.get("schema", {}))


def response_for(operation, status):
    responses = operation.get("responses", {})
    for k in (str(status), f"{str(status)[0]}XX", "default"):
        if k in responses:
            r = responses[k]
            if "$ref" in r:  # "#/components/responses/X"
                r = doc()["components"]["responses"][r["$ref"].rsplit("/", 1)[1]]
            return k, r
    return None, None


def _media(value):
    return (value or "").split(";", 1)[0].strip().lower()


def check_response(method, path, status, headers, body):
    method = method.upper()
    if method == "OPTIONS":
        return
    hit = match(method, path)
    if hit is None or hit[1] == "405":
        return
    pattern = hit[0]
    route = f"{method} {pattern} ({path.split('?', 1)[0]})"
    found = operations().get(("GET" if method == "HEAD" else method, normal(pattern)))
    if found is None:
        raise AssertionError(f"contract: {route} is routed but not in openapi/openapi.json")
    doc_path, operation = found
    key, response = response_for(operation, status)
    if response is None:
        raise AssertionError(f"contract: {route} answered {status}, which the document does not list "
                             f"(it has {sorted(operation.get('responses', {}))})")
    if method == "HEAD" or not body:
        return
    hdrs = {k.lower(): v for k, v in headers}
    ctype = _media(hdrs.get("content-type"))
    if (hdrs.get("content-encoding") or "").strip().lower() == "gzip":
        body = gzip.decompress(body)
    contents = response.get("content") or {}
    media = next((m for m in contents if _media(m) == ctype), None)
    if media is None:
        raise AssertionError(f"contract: {route} {status}: a {ctype or 'untyped'} body, but the document's "
                             f"response {key} has {sorted(contents) or 'no body'}")
    if "json" not in ctype:
        return
    try:
        value = json.loads(body)
    except ValueError as e:
        raise AssertionError(f"contract: {route} {status}: the body is not JSON ({e}): {body[:200]!r}")
    schema = contents[media].get("schema", {})
    v = _validator((method, doc_path, key, media), schema)
    error = jsonschema.exceptions.best_match(v.iter_errors(value))
    if error is not None:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"contract: {route} {status} (document: {method.lower()} {doc_path} {key}) "
                             f"does not match at {pointer}: {error.message}\nbody: {body[:1000]!r}")
