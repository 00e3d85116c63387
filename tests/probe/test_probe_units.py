"""The probe's parts: spec loading and links, identities and redaction, budget and rate, bad targets."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from click.testing import CliRunner

from plumbline.cli import main
from plumbline.probe.engine import Probe, Resource
from plumbline.probe.http import BudgetExhausted, Http, Identity
from plumbline.probe.spec import SpecError, load, parse
from plumbline.rules import matching

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "shop", "version": "1"},
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "NewItem": {"type": "object", "required": ["name", "stock"], "properties": {
                "name": {"type": "string", "maxLength": 20}, "stock": {"type": "integer", "minimum": 0}}},
            "Item": {"type": "object", "properties": {"item_id": {"type": "string"}, "stock": {"type": "integer"}}},
        },
    },
    "paths": {
        "/items": {"post": {
            "operationId": "CreateItem",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}}},
            "responses": {"201": {"description": "created", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"item_id": {"type": "string"}}}}}}},
        }},
        "/items/{item_id}": {
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"},
                            "example": "abc"}],
            "get": {"operationId": "GetItem", "responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}},
        },
        "/items/{item_id}/buy": {"post": {
            "operationId": "BuyItem",
            "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}},
        }},
        "/orders": {"post": {
            "operationId": "CreateOrder",
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"item_id": {"type": "string"}, "quantity": {"type": "integer"}}}}}},
            "responses": {"201": {"description": "created"}},
        }},
        "/health": {"get": {"operationId": "Health", "security": [], "responses": {"200": {"description": "ok"}}}},
    },
}


def test_spec_from_a_yaml_file_with_refs_examples_security_and_inferred_links(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    spec = load(str(path), "http://127.0.0.1:1")
    create = spec.operation("CreateItem")
    assert create.body_schema["required"] == ["name", "stock"]
    assert create.body_example == {"name": "plumbline", "stock": 1}
    assert create.secured and not spec.operation("Health").secured
    assert spec.operation("GetItem").parameter("item_id").example == "abc"
    links = {(link.target, tuple(link.parameters.items()), tuple(link.body.items())) for link in create.links}
    assert links == {
        ("GetItem", (("item_id", "$response.body#/item_id"),), ()),
        ("BuyItem", (("item_id", "$response.body#/item_id"),), ()),
        ("CreateOrder", (), (("item_id", "$response.body#/item_id"),)),
    }
    assert all(link.inferred for link in create.links)


def test_declared_links_are_used_and_not_inferred():
    document = json.loads(json.dumps(SPEC))
    document["paths"]["/items"]["post"]["responses"]["201"]["links"] = {
        "Get": {"operationId": "GetItem", "parameters": {"item_id": "$response.body#/item_id"}}}
    spec = parse(document)
    assert [(link.target, link.inferred) for link in spec.operation("CreateItem").links] == [("GetItem", False)]


def test_runtime_expressions_evaluate_against_the_creating_response():
    spec = parse(SPEC)
    resource = Resource(spec.operation("CreateItem"), "alice", {}, {"item_id": "i-1", "nested": {"id": 7}},
                        "/items/i-9")
    assert resource.evaluate("$response.body#/item_id") == "i-1"
    assert resource.evaluate("{$response.body#/nested/id}") == 7
    assert resource.evaluate("$response.header.Location") == "i-9"
    assert resource.evaluate("$response.body#/missing") is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"swagger": "2.0", "paths": {}}, "OpenAPI 3.0 or 3.1 is required (swagger 2.0)"),
        ({"openapi": "3.1.0"}, "'paths' is missing"),
        (["not", "an", "object"], "not an OpenAPI document"),
        ({"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/nowhere"}}}}}},
         "unresolvable $ref '#/nowhere'"),
    ],
)
def test_unusable_specs_are_clear_errors(document, message):
    with pytest.raises(SpecError, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        parse(document)


def test_a_spec_file_that_is_neither_json_nor_yaml(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text("{ this: is: not [ valid")
    with pytest.raises(SpecError, match="neither JSON nor YAML"):
        load(str(path), "http://127.0.0.1:1")


def test_identities_parse_and_never_reach_evidence():
    alice = Identity.parse("alice=Authorization: Bearer s3cr3t-token")
    assert (alice.name, alice.header, alice.value) == ("alice", "Authorization", "Bearer s3cr3t-token")
    with pytest.raises(ValueError, match="NAME=HEADER"):
        Identity.parse("alice")
    with pytest.raises(ValueError) as raised:
        Identity.parse("alice=Bearer s3cr3t-token")
    assert "s3cr3t" not in str(raised.value)
    http = Http("http://127.0.0.1:1", {"alice": alice})
    assert http.redact({"token": "abc", "note": "Bearer s3cr3t-token", "list": ["x Bearer s3cr3t-token"]}) == {
        "token": "<redacted>", "note": "<redacted:alice>", "list": ["x <redacted:alice>"]}
    assert http.redact("bare s3cr3t-token, encoded Bearer%20s3cr3t-token") == (
        "bare <redacted:alice>, encoded <redacted:alice>")
    http.close()


class Server:
    """A local HTTP server whose answers a test chooses; counts requests."""

    def __init__(self, respond) -> None:
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body, content_type = respond(self.path, self.headers)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop():
    server = Server(lambda path, headers: (200, json.dumps(SPEC), "application/json") if path == "/openapi.json"
                    else (200, json.dumps({"ok": True}), "application/json"))
    yield server
    server.close()


def test_budget_stops_the_run_and_is_reported(shop):
    http = Http(shop.url, {}, max_requests=3)
    for _ in range(3):
        http.request("GET", "/health", identity=None)
    with pytest.raises(BudgetExhausted):
        http.request("GET", "/health", identity=None)
    assert shop.requests == 3 and http.sent == 3
    http.close()
    http = Http(shop.url, {"alice": Identity("alice", "Authorization", "Bearer t1")}, max_requests=2)
    document = Probe(load("/openapi.json", shop.url), http, active=True, selected=matching(["PL4"])).run()
    assert any("request budget of 2 spent" in error.message for error in document.errors)
    assert http.sent <= 2
    http.close()


def test_rate_limit_spaces_requests(shop):
    http = Http(shop.url, {}, rate=20.0)
    started = time.monotonic()
    for _ in range(6):
        http.request("GET", "/health", identity=None)
    assert time.monotonic() - started >= 5 / 20.0 * 0.9, "6 requests at 20/s take at least 0.25 s"
    http.close()


def _probe(*args: str):
    result = CliRunner().invoke(main, ["probe", *args])
    return result.exit_code, result.output


def test_cli_runs_passively_and_prints_the_request_count(shop):
    code, output = _probe(shop.url, "--openapi", "/openapi.json", "--identity", "alice=Authorization: Bearer t1")
    assert code == 0, output
    assert "requests in" in output and "passive" in output
    assert "Traceback" not in output


def test_unreachable_target_is_exit_2():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = _probe(f"http://127.0.0.1:{port}", "--openapi", "/openapi.json")
    assert code == 2 and "cannot fetch the spec" in output and "Traceback" not in output


def test_target_that_never_answers_is_exit_2():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        code, output = _probe(f"http://127.0.0.1:{port}", "--openapi", "/openapi.json", "--timeout", "0.5")
    finally:
        listener.close()
    assert code == 2 and "no answer within 0.5 s" in output and "Traceback" not in output


def test_target_that_answers_garbage_is_exit_2():
    server = Server(lambda path, headers: (200, "<html>hello</html>", "text/html"))
    try:
        code, output = _probe(server.url, "--openapi", "/openapi.json")
    finally:
        server.close()
    assert code == 2 and "not an OpenAPI document" in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [(("ftp://x", "--openapi", "s.json"), "must be an http:// or https:// URL"),
     (("http://127.0.0.1:1", "--openapi", "missing.json"), "no such file"),
     (("http://127.0.0.1:1", "--openapi", "/o.json", "--identity", "nobody"), "--identity"),
     (("http://127.0.0.1:1", "--openapi", "/o.json", "--identity", "a=X: 1", "--identity", "a=Y: 2"), "own name")],
)
def test_usage_errors_are_exit_2(args, message):
    code, output = _probe(*args)
    assert code == 2 and message in output and "Traceback" not in output


PAYMENTS = {
    "openapi": "3.1.0", "info": {"title": "pay", "version": "1"},
    "paths": {"/payments": {"post": {
        "operationId": "Pay",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer", "minimum": 1}}}}}},
        "responses": {"201": {"description": "paid"}},
    }}},
}


@pytest.mark.parametrize("honours_key", [True, False])
def test_idempotency_key_replay(honours_key):
    payments: dict[str, int] = {}

    def respond(path, headers):
        if path == "/openapi.json":
            return 200, json.dumps(PAYMENTS), "application/json"
        key = headers.get("Idempotency-Key") if honours_key else f"fresh-{len(payments)}"
        payments.setdefault(key, len(payments) + 1)
        return 201, json.dumps({"payment_id": payments[key]}), "application/json"

    server = Server(respond)
    try:
        http = Http(server.url, {})
        document = Probe(load("/openapi.json", server.url), http, active=True, selected={"PL411"}).run()
        http.close()
    finally:
        server.close()
    assert [f.rule_id for f in document.findings] == ([] if honours_key else ["PL411"])


def test_probe_sarif_and_junit_are_valid(shop, tmp_path):
    import jsonschema
    from xml.etree import ElementTree

    schema = json.loads((Path(__file__).parents[1] / "data" / "sarif-2.1.0.json").read_text())
    sarif_file, junit_file = tmp_path / "probe.sarif", tmp_path / "probe.xml"
    base = [shop.url, "--openapi", "/openapi.json", "--identity", "alice=Authorization: Bearer t1", "--active"]
    code, _ = _probe(*base, "--format", "sarif", "--output", str(sarif_file))
    assert code == 1, "a server that answers anyone gives PL406 findings"
    sarif = json.loads(sarif_file.read_text())
    jsonschema.validate(sarif, schema, cls=jsonschema.Draft202012Validator)
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "PL406" and r["locations"][0]["logicalLocations"][0]["name"] == "GET /items/{item_id}"
               for r in results)
    _probe(*base, "--format", "junit", "--output", str(junit_file))
    suite = ElementTree.parse(junit_file).getroot().find("testsuite")
    assert suite.get("name") == "plumbline probe" and int(suite.get("failures")) >= 1
    assert any(case.find("failure") is not None and "PL406" in case.get("name") for case in suite.iter("testcase"))


def test_unique_examples_keep_what_the_schema_constrains():
    from plumbline.probe.engine import unique

    schema = {"properties": {"status": {"type": "string", "enum": ["active", "closed"]},
                             "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                             "name": {"type": "string", "maxLength": 12},
                             "email": {"type": "string", "format": "email"},
                             "note": {"type": "string"}}}
    first = unique({"status": "active", "code": "ABC", "name": "plumbline", "email": "a@x.example", "note": "n"},
                   schema)
    second = unique({"status": "active", "code": "ABC", "name": "plumbline", "email": "a@x.example", "note": "n"},
                    schema)
    assert first["status"] == "active" and first["code"] == "ABC"
    assert len(first["name"]) <= 12 and first["name"] != second["name"]
    assert first["email"].endswith("@x.example") and first["email"] != second["email"]
    assert first["note"] != "n"
    handle = unique({"username": "plumbline"}, {"properties": {"username": {"pattern": "^[a-z0-9_]{3,32}$"}}})
    assert handle["username"].startswith("plumbline_"), "a suffix the pattern allows"


def test_request_urls_are_a_checked_path_under_the_base_url():
    from plumbline.probe.origin import OffOriginError, Origin, fill_path

    origin = Origin.of("http://127.0.0.1:8080/api/")
    assert origin.url("/items/1", {"q": "a b"}) == "http://127.0.0.1:8080/api/items/1?q=a+b"
    assert Origin.of("https://[::1]:443").url("/x") == "https://[::1]/x"
    for path in (":9/x", "@evil:9/x", "//evil:9/x", "http://evil/x", "x", "/a?b", "/a#b", "/a\\b", "/a b", 7):
        with pytest.raises(OffOriginError):
            origin.url(path)
    assert fill_path("/items/{id}", {"id": "a/b?c#d@e f"}) == "/items/a%2Fb%3Fc%23d@e%20f"
    for base, message in (("http://u:p@h", "credentials"), ("http://h:99999", "not a valid URL"),
                          ("http://[::1", "not a valid URL"), ("http://h/?q", "query"), ("file:///x", "http://")):
        with pytest.raises(ValueError, match=message):
            Origin.of(base)


def test_every_shape_of_a_secret_is_redacted():
    import base64

    from plumbline.probe.redact import Redactor, secret_forms

    basic = "Basic " + base64.b64encode(b"alice:pa55/word").decode()
    assert {"pa55/word", "alice:pa55/word", "pa55%2Fword"} <= secret_forms(basic)
    assert secret_forms("Bearer abc") == {"Bearer abc", "Bearer%20abc", "Bearer+abc"}, "3 characters are too short"
    redact = Redactor({"alice": basic, "bob": "Bearer t0k+en/x"})
    assert redact({"echo": "t0k%2Ben%2Fx and pa55/word", "list": ["T0K+EN/X"]}) == {
        "echo": "<redacted:bob> and <redacted:alice>", "list": ["<redacted:bob>"]}


def test_json_answers_too_deep_or_invalid_are_not_json():
    from plumbline.probe.http import MAX_JSON_DEPTH, body_of, json_of

    assert json_of(b'{"a": [1]}') == {"a": [1]}
    assert json_of(b'{"broken') is None and json_of(b"\xff") is None
    assert json_of(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    assert json_of(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)) is None
    assert json_of(b"[" * 100_000 + b"]" * 100_000) is None
    assert body_of(b"[" * 100_000).startswith("[[[")
