"""The OpenAPI 3.1 contract (openapi/openapi.json, built by openapi/build.py): the document is
well formed, is what GET /openapi.json serves, and matches the router both ways. That every
response the suite receives matches it is checked by conftest.py's Slotd.request (contract.py)."""

import json
import re
import subprocess
import sys

import jsonschema
import pytest

import contract
from conftest import ROOT

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# The parts of the OpenAPI 3.1.0 specification's rules these checks rely on, as a JSON Schema
# (written from the specification's text, sections 4.8.1-4.8.17; not the published meta-schema).
_REF = {"type": "object", "required": ["$ref"], "properties": {"$ref": {"type": "string"}}}
OAS_SHAPE = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"const": "3.1.0"},
        "info": {"type": "object", "required": ["title", "version"],
                 "properties": {"title": {"type": "string"}, "version": {"type": "string"},
                                "license": {"type": "object", "required": ["name"],
                                            "not": {"required": ["identifier", "url"]}}}},
        "jsonSchemaDialect": {"type": "string"},
        "servers": {"type": "array", "items": {"type": "object", "required": ["url"]}},
        "tags": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "security": {"type": "array", "items": {"type": "object",
                                                "additionalProperties": {"type": "array", "items": {"type": "string"}}}},
        "paths": {
            "type": "object",
            "propertyNames": {"pattern": "^/"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"enum": list(HTTP_METHODS) + ["summary", "description", "servers", "parameters",
                                                                 "$ref"]},
                "additionalProperties": {"$ref": "#/$defs/operation"},
                "properties": {"summary": {"type": "string"}, "description": {"type": "string"},
                               "parameters": {"type": "array"}, "servers": {"type": "array"},
                               "$ref": {"type": "string"}},
            },
        },
        "components": {"type": "object", "properties": {
            "schemas": {"type": "object", "additionalProperties": {"type": ["object", "boolean"]}},
            "responses": {"type": "object", "additionalProperties": {"$ref": "#/$defs/response"}},
            "securitySchemes": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type"],
                "properties": {"type": {"enum": ["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"]}},
                "allOf": [{"if": {"properties": {"type": {"const": "apiKey"}}},
                           "then": {"required": ["name", "in"],
                                    "properties": {"in": {"enum": ["query", "header", "cookie"]}}}},
                          {"if": {"properties": {"type": {"const": "http"}}}, "then": {"required": ["scheme"]}}]}},
        }},
    },
    "$defs": {
        "operation": {
            "type": "object",
            "required": ["responses"],
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "summary": {"type": "string"}, "description": {"type": "string"},
                "operationId": {"type": "string"},
                "parameters": {"type": "array", "items": {"anyOf": [_REF, {"$ref": "#/$defs/parameter"}]}},
                "requestBody": {"anyOf": [_REF, {"type": "object", "required": ["content"],
                                                 "properties": {"content": {"$ref": "#/$defs/content"},
                                                                "required": {"type": "boolean"}}}]},
                "responses": {"type": "object", "minProperties": 1,
                              "propertyNames": {"pattern": "^([1-5][0-9X][0-9X]|default)$"},
                              "additionalProperties": {"anyOf": [_REF, {"$ref": "#/$defs/response"}]}},
                "security": {"type": "array", "items": {"type": "object"}},
                "deprecated": {"type": "boolean"},
            },
        },
        "parameter": {
            "type": "object",
            "required": ["name", "in"],
            "properties": {"name": {"type": "string"}, "in": {"enum": ["query", "header", "path", "cookie"]},
                           "required": {"type": "boolean"}, "schema": {"type": ["object", "boolean"]}},
            "oneOf": [{"required": ["schema"]}, {"required": ["content"]}],
            "if": {"properties": {"in": {"const": "path"}}},
            "then": {"required": ["required"], "properties": {"required": {"const": True}}},
        },
        "response": {
            "type": "object",
            "required": ["description"],
            "properties": {"description": {"type": "string"}, "content": {"$ref": "#/$defs/content"},
                           "headers": {"type": "object", "additionalProperties": {"type": "object"}}},
        },
        "content": {"type": "object", "propertyNames": {"pattern": "^[a-z*]+/[-+.a-z0-9*]+( *;.*)?$"},
                    "additionalProperties": {"type": "object",
                                             "properties": {"schema": {"type": ["object", "boolean"]}}}},
    },
}


def _doc():
    return json.loads((ROOT / "openapi" / "openapi.json").read_text())


def _walk(node, path=""):
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


def _resolve(doc, pointer):
    node = doc
    for part in pointer.lstrip("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def _schemas(doc):
    """Every Schema Object in the document, with where it is."""
    for name, s in doc["components"]["schemas"].items():
        yield f"#/components/schemas/{name}", s
    for p, item in doc["paths"].items():
        for m, o in item.items():
            if m not in HTTP_METHODS:
                continue
            for i, prm in enumerate(o.get("parameters", [])):
                if "schema" in prm:
                    yield f"{m} {p} parameter {prm['name']}", prm["schema"]
            for media, c in o.get("requestBody", {}).get("content", {}).items():
                yield f"{m} {p} request {media}", c["schema"]
            for status, r in o["responses"].items():
                r = _resolve(doc, r["$ref"]) if "$ref" in r else r
                for media, c in r.get("content", {}).items():
                    yield f"{m} {p} {status} {media}", c["schema"]


def test_build_script_output_is_committed():
    r = subprocess.run([sys.executable, str(ROOT / "openapi" / "build.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout


def test_document_is_openapi_3_1():
    doc = _doc()
    assert doc["openapi"] == "3.1.0"
    errors = sorted(jsonschema.Draft202012Validator(OAS_SHAPE).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])


def test_every_ref_resolves_and_every_schema_is_draft_2020_12():
    doc = _doc()
    bad = []
    for where, node in _walk(doc):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                _resolve(doc, node["$ref"])
            except (KeyError, IndexError, TypeError):
                bad.append(f"{where}: $ref {node['$ref']} does not resolve")
    for where, schema in _schemas(doc):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            bad.append(f"{where}: {e.message}")
    assert not bad, "\n".join(bad)
    # and the inlined forms the response check compiles are valid too (no cycles)
    for name in doc["components"]["schemas"]:
        jsonschema.Draft202012Validator.check_schema(contract.inline({"$ref": f"#/components/schemas/{name}"}))


def test_operations_are_well_formed():
    doc = _doc()
    seen_ids, normals, problems = set(), {}, []
    for p, item in doc["paths"].items():
        n = contract.normal(p)
        if n in normals:
            problems.append(f"{p} and {normals[n]} are the same template")
        normals[n] = p
        names = re.findall(r"\{([^}]+)\}", p)
        for m, o in item.items():
            if m not in HTTP_METHODS:
                continue
            declared = [x["name"] for x in o.get("parameters", []) if x["in"] == "path"]
            if sorted(declared) != sorted(names):
                problems.append(f"{m} {p}: path parameters {declared} for template names {names}")
            if o.get("operationId") in seen_ids:
                problems.append(f"{m} {p}: operationId {o['operationId']} twice")
            seen_ids.add(o.get("operationId"))
            if not any(s.startswith("2") or s.startswith("3") for s in o["responses"]) and p != "/mcp":
                problems.append(f"{m} {p}: no success response")
            if not any(s[0] in "45" or s == "default" for s in o["responses"]):
                problems.append(f"{m} {p}: no error response")
    assert not problems, "\n".join(problems)


def test_router_and_document_agree():
    """Every route `slotd routes` prints is documented, and every documented operation is routed."""
    routed = {(m, contract.normal(p)): p for m, p in contract.routes()}
    documented = {(m.upper(), contract.normal(p)): p for p, item in _doc()["paths"].items()
                  for m in item if m in HTTP_METHODS}
    missing = sorted(f"{m} {p}" for (m, n), p in routed.items() if (m, n) not in documented)
    extra = sorted(f"{m} {p}" for (m, n), p in documented.items() if (m, n) not in routed)
    assert not missing, "routed but not documented:\n" + "\n".join(missing)
    assert not extra, "documented but not routed:\n" + "\n".join(extra)
    assert len(routed) == len(contract.routes()), "a route is listed twice"


def test_routes_command(slotd):
    r = subprocess.run([contract.binary(), "routes"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert "GET /healthz" in lines and "GET /openapi.json" in lines and "POST /api/book/:slug/:event_slug" in lines
    assert all(re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /\S*", line) for line in lines), lines
    assert "routes" in subprocess.run([contract.binary(), "--help"], capture_output=True, text=True).stdout


def test_served_document_is_the_repository_file(slotd):
    r = slotd.get("/openapi.json")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert r.body == (ROOT / "openapi" / "openapi.json").read_bytes()
    etag = r.header("ETag")
    assert etag and etag.startswith('"') and "max-age" in (r.header("Cache-Control") or "")
    again = slotd.get("/openapi.json", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    gz = slotd.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert gz.status == 200 and gz.header("Content-Encoding") == "gzip"
    import gzip
    assert gzip.decompress(gz.body) == r.body


def test_the_check_catches_a_wrong_body():
    """The validation hook is not vacuous: a booking without its uid, an error without its code and a
    routed path the document lacks all fail; an unrouted path does not."""
    good = {"error": "event type not found", "code": "NOT_FOUND"}
    contract.check_response("GET", "/api/event-types/5", 404, [("Content-Type", "application/json")],
                            json.dumps(good).encode())
    with pytest.raises(AssertionError, match=r"code"):
        contract.check_response("GET", "/api/event-types/5", 404, [("Content-Type", "application/json")],
                                b'{"error": "event type not found"}')
    with pytest.raises(AssertionError, match=r"/slots"):
        contract.check_response("GET", "/api/availability/a/b?start=x", 200, [("Content-Type", "application/json")],
                                b'{"slots": []}')
    with pytest.raises(AssertionError, match=r"RATE_LIMIT_EXCEEDED|error"):
        contract.check_response("GET", "/api/event-types", 429, [("Content-Type", "application/json")],
                                json.dumps(good).encode())
    with pytest.raises(AssertionError, match="does not list"):
        contract.check_response("GET", "/api/event-types", 302, [("Content-Type", "application/json")], b"{}")
    contract.check_response("GET", "/api/no/such/thing", 404, [("Content-Type", "application/json")], b"[]")
