"""The probe against hostile servers, specs and command lines: it reports an error, and nothing else.

No credential leaves the target's origin (a second server on another port receives nothing), no secret
reaches a report, no answer or spec holds the memory or the clock, and no input ends in a traceback.
Every server here is real and listens on 127.0.0.1.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
import yaml
from click.testing import CliRunner
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from interrupt_support import takes_ctrl_c
from plumbline.cli import main
from plumbline.probe.burst import PreparedRequest
from plumbline.probe.http import ANONYMOUS, GARBAGE, Http, Identity, TargetError
from plumbline.probe.spec import MAX_GENERATED_STRING, MAX_OPERATIONS, SpecError, example_of, load, parse

pytestmark = pytest.mark.hostile

TOKEN = "s3cr3t+t0ken/with=odd&chars"
ALICE = f"alice=Authorization: Bearer {TOKEN}"
BOB = "bob=Authorization: Bearer b0b-token-1234"
MIB = 2**20


# ---- servers -----------------------------------------------------------------------------------------


@contextmanager
def flask_server(app: Flask):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class RawServer:
    """A TCP listener whose every connection goes to `on_connection(conn)` on its own thread; counts them."""

    def __init__(self, on_connection=lambda conn: None) -> None:
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

        def serve() -> None:
            while not self._stop.is_set():
                try:
                    conn, _ = self._listener.accept()
                except (socket.timeout, OSError):
                    continue
                self.connections += 1
                self._open.append(conn)
                threading.Thread(target=self._handle, args=(on_connection, conn), daemon=True).start()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def _handle(self, on_connection, conn: socket.socket) -> None:
        try:
            on_connection(conn)
        except OSError:
            pass  # the client hung up: what a bounded client does
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for conn in self._open:
            conn.close()
        self._listener.close()


@contextmanager
def raw_server(on_connection=lambda conn: None):
    server = RawServer(on_connection)
    try:
        yield server
    finally:
        server.close()


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def answering(response: bytes):
    """A raw server's behaviour: read the request's head, then send `response` exactly as given."""
    def behaviour(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(response)
    return behaviour


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def spec_with(paths: dict, **extra) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "hostile", "version": "1"}, "paths": paths, **extra}


SECURED = {"security": [{"bearer": []}],
           "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


def probe_cli(*args: str) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr)."""
    result = CliRunner().invoke(main, ["probe", *args])
    return result.exit_code, result.output


def probe_json(*args: str) -> tuple[int, str, dict | None]:
    """Exit code, everything printed, and the JSON report written to stdout (None when there is none)."""
    result = CliRunner().invoke(main, ["probe", *args, "--format", "json"])
    return result.exit_code, result.output, json.loads(result.stdout) if result.stdout.startswith("{") else None


def assert_clean_usage_error(code: int, output: str, *fragments: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith(("Error:", "error:"))]
    assert len(errors) == 1, output
    for fragment in fragments:
        assert fragment in errors[0], output


class PeakMemory:
    """The peak growth of this process's resident memory while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self._process = psutil.Process()
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MIB


# ---- the origin --------------------------------------------------------------------------------------


def off_origin_paths(port: int) -> list[str]:
    return [f":{port}/steal", f"@127.0.0.1:{port}/x", f"//127.0.0.1:{port}/x", f"http://127.0.0.1:{port}/x",
            f"\\\\127.0.0.1:{port}/x", f"/\\127.0.0.1:{port}/x", f" http://127.0.0.1:{port}/x"]


def echo_app(spec: dict) -> Flask:
    """Serves `spec` and answers every request with 200 and data; POST creates with an id that tries to escape."""
    app = Flask("echo")

    @app.get("/openapi.json")
    def openapi():
        return jsonify(spec)

    @app.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def anything(rest):
        if request.method == "POST":
            return jsonify({"id": f"@{trap_netloc}/../..//{trap_netloc}/x?#", "balance": 5}), 201
        return jsonify({"id": 1, "balance": 5, "name": "x"})

    trap_netloc = spec["x-trap"]
    return app


@pytest.mark.timeout(60)
@pytest.mark.parametrize("active", [False, True])
def test_spec_paths_off_the_origin_are_left_out_and_nothing_reaches_another_port(active):
    with raw_server() as trap:
        paths = {path: {"get": {"responses": {"200": {"description": "ok"}}}} for path in off_origin_paths(trap.port)}
        paths["/items"] = {"post": {"requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"name": {"type": "string"}}}}}},
            "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"id": {"type": "string"}}}}}}}}}
        paths["/items/{id}"] = {"get": {"parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                                        "responses": {"200": {"description": "ok"}}},
                                "delete": {"parameters": [{"name": "id", "in": "path"}],
                                           "responses": {"200": {"description": "ok"}}}}
        spec = spec_with(paths, **SECURED, **{"x-trap": f"127.0.0.1:{trap.port}"})
        with flask_server(echo_app(spec)) as target:
            code, output, report = probe_json(target, "--openapi", "/openapi.json", "--identity", ALICE,
                                              "--identity", BOB, *(["--active"] if active else []))
        assert trap.connections == 0
    assert code in (0, 1), output
    left_out = [e["message"] for e in report["errors"] if "not relative to the target" in e["message"]]
    assert len(left_out) == 1 and f"{len(off_origin_paths(trap.port))} path(s) left out" in left_out[0]
    assert not [e for e in report["errors"] if e["kind"] == "internal"]
    assert TOKEN not in output


@pytest.mark.timeout(30)
@pytest.mark.parametrize("base_url", ["http://127.0.0.1", "http://127.0.0.1:9/api"])
def test_a_request_off_the_origin_is_refused_before_sending(base_url):
    """Without a port in the base URL, `base + ":PORT/steal"` named the trap's port."""
    with raw_server() as trap:
        http = Http(base_url, {"alice": Identity.parse(ALICE)})
        try:
            for path in off_origin_paths(trap.port):
                with pytest.raises(TargetError, match="refused"):
                    http.request("GET", path, identity="alice")
                with pytest.raises(TargetError, match="refused"):
                    http.prepare("GET", path, identity="alice")
            forged = PreparedRequest("GET", f"{trap.url}/x", {"Authorization": f"Bearer {TOKEN}"})
            with pytest.raises(TargetError, match="not on the target's origin"):
                http.burst([forged], "alice")
        finally:
            http.close()
        assert trap.connections == 0 and http.sent == 0
        assert all(e.status is None and TOKEN not in json.dumps(e.as_evidence()) for e in http.exchanges)


def redirecting_app(location: str) -> Flask:
    app = Flask("redirects")
    seen = app.config.setdefault("AUTHORIZATION", [])

    @app.get("/openapi.json")
    def moved():
        seen.append(request.headers.get("Authorization"))
        return "", 302, {"Location": location}

    return app


@pytest.mark.timeout(30)
@pytest.mark.parametrize("form", ["absolute", "scheme-relative"])
def test_the_spec_fetch_never_follows_a_redirect_to_another_origin(form):
    with raw_server() as trap:
        location = f"http://127.0.0.1:{trap.port}/spec" if form == "absolute" else f"//127.0.0.1:{trap.port}/spec"
        with flask_server(redirecting_app(location)) as target:
            code, output = probe_cli(target, "--openapi", "/openapi.json", "--identity", ALICE)
            code_url, output_url = probe_cli("http://127.0.0.1:9", "--openapi", f"{target}/openapi.json")
        assert trap.connections == 0
    assert_clean_usage_error(code, output, "redirects to another origin")
    assert_clean_usage_error(code_url, output_url, "redirects to another origin")


@pytest.mark.timeout(30)
def test_a_spec_redirect_within_the_origin_is_followed_and_the_spec_fetch_carries_no_credentials():
    spec = spec_with({"/health": {"get": {"responses": {"200": {"description": "ok"}}}}})
    app = redirecting_app("/v2/openapi.json")
    app.add_url_rule("/v2/openapi.json", "spec", lambda: (seen.append(request.headers.get("Authorization")),
                                                          jsonify(spec))[1])
    seen = app.config["AUTHORIZATION"]
    with flask_server(app) as target:
        code, output = probe_cli(target, "--openapi", "/openapi.json", "--identity", ALICE)
    assert code == 0, output
    assert seen == [None, None]


@pytest.mark.timeout(30)
def test_credentials_in_the_base_url_are_refused_and_never_printed():
    code, output = probe_cli("http://user:pa55word@127.0.0.1:9", "--openapi", "/openapi.json")
    assert_clean_usage_error(code, output, "must not carry credentials")
    assert "pa55word" not in output


# ---- secrets -----------------------------------------------------------------------------------------


def leaking_app(spec: dict) -> Flask:
    """Echoes the credential it receives in every shape, next to a stack trace (a PL410 finding)."""
    app = Flask("leaks")

    @app.get("/openapi.json")
    def openapi():
        return jsonify(spec)

    @app.get("/items")
    def items():
        value = request.headers.get("Authorization") or request.headers.get("X-Api-Key", "")
        if not value or "garbage" in value:
            return jsonify({"error": "who are you?"}), 401
        scheme, _, token = value.partition(" ") if " " in value else ("", "", value)
        decoded = base64.b64decode(token).decode() if scheme == "Basic" else ""
        text = (f"Traceback (most recent call last): token {token}; quoted {quote(token, safe='')}; "
                f"plus {quote(token)}; header {value}; decoded {decoded}; password {decoded.partition(':')[2]}")
        return jsonify({"error": text, "echo": token, "nested": [{"t": token}]}), 500

    return app


@pytest.mark.timeout(60)
@pytest.mark.parametrize("identity", [ALICE, "alice=Authorization: Basic " + base64.b64encode(
    b"alice:pa55-w0rd/secret").decode(), "alice=X-Api-Key: key+with/odd=chars"])
def test_a_secret_echoed_in_any_shape_never_reaches_the_report(identity, tmp_path):
    spec = spec_with({"/items": {"get": {"parameters": [{"name": "q", "in": "query", "required": True,
                                                         "schema": {"type": "string"}}],
                                         "responses": {"200": {"description": "ok"}}}}}, **SECURED)
    report = tmp_path / "report.json"
    with flask_server(leaking_app(spec)) as target:
        code, output = probe_cli(target, "--openapi", "/openapi.json", "--identity", identity,
                                 "--format", "json", "--output", str(report))
    written = report.read_text()
    assert code == 1, output
    assert "PL410" in written and "<redacted:alice>" in written
    value = identity.partition(":")[2].strip()
    token = value.partition(" ")[2] or value
    shapes = {value, token, quote(token, safe=""), quote(token)}
    if value.startswith("Basic"):
        shapes |= {"pa55-w0rd/secret", "alice:pa55-w0rd/secret"}
    for shape in shapes:
        assert shape not in written and shape not in output


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("identity", "message"), [
    ("alice=Bearer s3cr3tvalue", "expected NAME=HEADER: VALUE"),
    ("alice=X-Token: s3cr3tvalue\u00e9", "printable ASCII"),
    ("alice=X-Token: s3cr3tvalue\r\nHost: evil", "printable ASCII"),
    ("alice=Content-Length: 5", "cannot carry credentials"),
    ("alice=Host: s3cr3tvalue", "cannot carry credentials"),
    ("alice=Bad Header: s3cr3tvalue", "not a valid header name"),
    ("al ice=Authorization: Bearer s3cr3tvalue", "identity name"),
    ("=Authorization: Bearer s3cr3tvalue", "expected NAME=HEADER: VALUE"),
])
def test_malformed_identities_are_usage_errors_that_never_print_the_secret(identity, message):
    code, output = probe_cli("http://127.0.0.1:9", "--openapi", "/openapi.json", "--identity", identity)
    assert_clean_usage_error(code, output, "--identity", message)
    assert "s3cr3tvalue" not in output


# ---- answers that never end --------------------------------------------------------------------------


def endless_body(conn):
    read_head(conn)
    conn.sendall(head(Content_Type="application/json", Content_Length=str(2**30)))
    block = b" " * 65536
    while True:
        conn.sendall(block)


def endless_chunks(conn):
    read_head(conn)
    conn.sendall(head(Content_Type="text/plain", Transfer_Encoding="chunked"))
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while True:
        conn.sendall(chunk)


def endless_until_close(conn):
    read_head(conn)
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    while True:
        conn.sendall(b"y" * 65536)


@functools.lru_cache(maxsize=1)
def bomb() -> bytes:
    """About 500 KB of gzip that decode to 512 MiB of zeros (compressed a MiB at a time)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * MIB
    return b"".join(compressor.compress(zeros) for _ in range(512)) + compressor.flush()


def gzip_bomb(conn):
    read_head(conn)
    data = bomb()
    conn.sendall(head(Content_Type="application/json", Content_Encoding="gzip", Content_Length=str(len(data))))
    conn.sendall(data)


def endless_gzip(conn):
    read_head(conn)
    conn.sendall(head(Content_Type="application/json", Content_Encoding="gzip", Transfer_Encoding="chunked"))
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * MIB
    while True:
        data = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
        conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def trickle_head(conn):
    read_head(conn)
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


def trickle_body(conn):
    read_head(conn)
    conn.sendall(head(Content_Type="text/plain", Content_Length="1000"))
    for _ in range(1000):
        conn.sendall(b"z")
        time.sleep(0.5)


def silent(conn):
    read_head(conn)
    time.sleep(60)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("behaviour", [endless_body, endless_chunks, endless_until_close, gzip_bomb, endless_gzip],
                         ids=lambda f: f.__name__)
def test_bodies_are_capped_in_memory_and_time(behaviour):
    bomb()  # built before the clock and the memory are measured
    with raw_server(behaviour) as server:
        http = Http(server.url, {}, timeout=10)
        try:
            with PeakMemory() as memory:
                started = time.monotonic()
                response = http.request("GET", "/", identity=None)
                took = time.monotonic() - started
        finally:
            http.close()
    assert len(response.content) == 4 * MIB
    assert http.exchanges[-1].error == "body cut at 4 MiB"
    assert memory.growth_mib < 100, f"grew by {memory.growth_mib:.0f} MiB"
    assert took < 10


@pytest.mark.timeout(60)
@pytest.mark.parametrize("behaviour", [endless_body, endless_chunks, endless_until_close],
                         ids=lambda f: f.__name__)
def test_burst_bodies_are_capped(behaviour):
    with raw_server(behaviour) as server:
        http = Http(server.url, {}, timeout=10, max_body=MIB)
        try:
            with PeakMemory() as memory:
                result = http.burst([http.prepare("GET", "/", identity=None)] * 5, None)
        finally:
            http.close()
    assert all(len(r.body) == MIB and "cut" in r.error for r in result.responses)
    assert memory.growth_mib < 100, f"grew by {memory.growth_mib:.0f} MiB"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("behaviour", [trickle_head, trickle_body, silent], ids=lambda f: f.__name__)
def test_a_trickling_or_silent_server_cannot_hold_a_request_past_the_timeout(behaviour):
    with raw_server(behaviour) as server:
        http = Http(server.url, {}, timeout=2)
        try:
            started = time.monotonic()
            with pytest.raises(TargetError, match="no answer within 2 s"):
                http.request("GET", "/", identity=None)
            single = time.monotonic() - started
            started = time.monotonic()
            result = http.burst([http.prepare("POST", "/", identity=None, json_body={"a": 1})] * 4, None)
            burst = time.monotonic() - started
        finally:
            http.close()
    assert single < 3.5 and burst < 3.5, (single, burst)
    assert all(r.error and "timed out after 2 s" in r.error for r in result.responses)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("behaviour", "message"), [(endless_body, "larger than 16 MiB"),
                                                    (gzip_bomb, "larger than 16 MiB"),
                                                    (trickle_body, "no answer within 3 s")], ids=["endless", "gzip", "trickle"])
def test_a_spec_that_never_ends_is_a_clear_error(behaviour, message):
    bomb()
    with raw_server(behaviour) as server:
        with PeakMemory() as memory:
            started = time.monotonic()
            code, output = probe_cli(server.url, "--openapi", "/openapi.json", "--timeout", "3")
            took = time.monotonic() - started
    assert_clean_usage_error(code, output, "the spec", message)
    assert took < 8 and memory.growth_mib < 100, (took, memory.growth_mib)


# ---- the target must answer HTTP ---------------------------------------------------------------------


def garbage(conn):
    read_head(conn)
    conn.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec_with({"/health": {"get": {"responses": {"200": {"description": "ok"}}}}})))
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("behaviour", [None, silent, garbage], ids=["unreachable", "silent", "garbage"])
def test_a_target_that_does_not_answer_http_is_exit_2_whatever_the_spec_source(behaviour, spec_file):
    spec = spec_with({"/health": {"get": {"responses": {"200": {"description": "ok"}}}}})
    with raw_server(behaviour or (lambda conn: None)) as server, flask_server(echo_app({**spec, "x-trap": "-"})) as good:
        target = server.url
        if behaviour is None:
            server.close()
        for source in (str(spec_file), f"{good}/openapi.json"):
            started = time.monotonic()
            code, output = probe_cli(target, "--openapi", source, "--timeout", "1")
            assert_clean_usage_error(code, output, "GET ")
            assert time.monotonic() - started < 5


# ---- hostile specs -----------------------------------------------------------------------------------


def fan_out_spec() -> dict:
    """About 1 KB: 30 schemas, each with two properties of the next: 2**30 leaves when expanded."""
    schemas = {f"S{i}": {"type": "object", "properties": {"a": {"$ref": f"#/components/schemas/S{i + 1}"},
                                                           "b": {"$ref": f"#/components/schemas/S{i + 1}"}}}
               for i in range(30)}
    schemas["S30"] = {"type": "string"}
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}
    return spec_with({"/things": {"post": {"requestBody": body, "responses": {
        "201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}},
        "/things/{thing_id}": {"get": {"parameters": [{"name": "thing_id", "in": "path"}],
                                      "responses": {"200": {"description": "ok"}}}}},
        components={"schemas": schemas})


BILLION_LAUGHS = """
openapi: "3.0.3"
info: {title: laughs, version: "1"}
x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
x-g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
x-h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
x-i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            example: {laughs: *i}
            schema: {type: object, properties: {laughs: {type: array, example: *i}}, example: *i}
      responses: {"201": {description: ok}}
    get:
      parameters: [{name: q, in: query, required: true, example: *i, schema: {enum: *i}}]
      responses: {"200": {description: ok}}
"""

MERGE_BOMB = "openapi: '3.0.3'\npaths: {}\nx0: &x0 {a: 1, b: 2}\n" + "".join(
    f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}]}}\n" for i in range(1, 40))


def many_paths_spec(count: int = 10_000) -> dict:
    paths = {}
    for index in range(count):
        paths[f"/r{index}s"] = {"post": {"responses": {"201": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}}},
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                f"r{(index + 1) % count}_id": {"type": "string"}, "name": {"type": "string"}}}}}}}}
        paths[f"/r{index}s/{{id}}"] = {"get": {"parameters": [{"name": "id", "in": "path"}],
                                               "responses": {"200": {"description": "ok"}}}}
    return spec_with(paths)


@pytest.mark.timeout(60)
def test_a_ref_fan_out_parses_in_linear_time_and_generates_a_bounded_value():
    started = time.monotonic()
    spec = parse(fan_out_spec())
    create = spec.operation("post_things")
    assert create.body_schema["properties"]["a"]["properties"]["b"]["type"] == "object"
    assert len(json.dumps(create.body_example)) < 200_000
    assert [link.target for link in create.links] == ["get_things_thing_id"]
    assert time.monotonic() - started < 5


@pytest.mark.timeout(60)
def test_billion_laughs_parse_fast_and_oversized_examples_are_ignored(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    with PeakMemory() as memory:
        spec = load(str(path), "http://127.0.0.1:9")
    create, search = spec.operation("post_things"), spec.operation("get_things")
    assert create.body_example is None or len(json.dumps(create.body_example)) < 1_000_000
    assert "example" not in create.body_schema["properties"]["laughs"]
    assert search.parameters[0].example is None and "enum" not in search.parameters[0].schema
    assert time.monotonic() - started < 5 and memory.growth_mib < 100


@pytest.mark.timeout(60)
def test_a_yaml_merge_key_chain_parses_in_linear_time(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(MERGE_BOMB)
    started = time.monotonic()
    assert load(str(path), "http://127.0.0.1:9").operations == []
    assert time.monotonic() - started < 5


@pytest.mark.timeout(60)
def test_ten_thousand_paths_parse_in_seconds_and_the_operations_are_capped():
    started = time.monotonic()
    spec = parse(many_paths_spec())
    took = time.monotonic() - started
    assert len(spec.operations) == MAX_OPERATIONS
    assert any(f"the spec has 20000 operations: only the first {MAX_OPERATIONS}" in note for note in spec.notes)
    assert took < 10, took
    creator = spec.operation("post_r1s")
    assert {link.target for link in creator.links} == {"get_r1s_id", "post_r0s"}


@pytest.mark.timeout(60)
def test_a_huge_min_length_is_capped():
    with PeakMemory() as memory:
        value = example_of({"type": "string", "minLength": 3e9})
        spec = parse(spec_with({"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"s": {"type": "string", "minLength": 3_000_000_000}}}}}},
            "responses": {"201": {"description": "ok"}}}}}))
    assert len(value) == MAX_GENERATED_STRING
    assert len(spec.operation("post_a").body_example["s"]) == MAX_GENERATED_STRING
    assert memory.growth_mib < 100


ODD_DOCUMENTS = {
    "parameters-not-a-list": {"/a": {"parameters": 5, "get": {"parameters": "x", "responses": {}}}},
    "content-is-a-list": {"/a": {"post": {"requestBody": {"content": ["application/json"]}, "responses": {}}}},
    "content-key-not-a-string": {"/a": {"post": {"requestBody": {"content": {5: {"schema": {}}}}}}},
    "responses-is-a-list": {"/a": {"get": {"responses": ["200"]}}},
    "links-is-a-list": {"/a": {"post": {"responses": {"201": {"description": "x", "links": ["y"]}}}}},
    "link-parameters-a-list": {"/a": {"post": {"responses": {"201": {"links": {"l": {
        "operationId": "get_a", "parameters": ["id"], "requestBody": 5}}}}}, "get": {"responses": {}}}},
    "link-expression-a-number": {"/a": {"post": {"responses": {"201": {"links": {"l": {
        "operationId": "get_a_id", "parameters": {"id": 5}}}}}}}, "/a/{id}": {"get": {"responses": {}}}},
    "security-a-number": {"/a": {"get": {"security": 5, "responses": {}}}},
    "security-entries-strings": {"/a": {"get": {"security": ["x", 5], "responses": {}}}},
    "properties-a-list": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "properties": ["x", "y"], "required": 7}}}}, "responses": {"201": {}}}}},
    "property-schemas-odd": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {
        "properties": {"a": 5, "b": {"type": 5}, "c": {"type": ["string", 5]}, "d": {"enum": {"x": 1}},
                       "e": {"enum": "abc"}, "f": {"minLength": "abc", "maxLength": -4, "format": ["x"]},
                       "g": {"type": "integer", "minimum": "x", "maximum": float("inf"), "exclusiveMinimum": "y"},
                       "h": {"type": "number", "minimum": float("nan")}, "i": {"type": "array", "items": []},
                       "j": {"allOf": 5, "oneOf": [5, {"type": "string"}]}}}}}}, "responses": {"201": {}}}}},
    "operation-id-a-dict": {"/a": {"get": {"operationId": {"a": 1}, "responses": {}}}},
    "parameter-odd": {"/a/{id}": {"get": {"parameters": [{"name": 5, "in": "path"}, {"name": "id", "in": []},
                                                        {"name": "q", "in": "query", "schema": [1]}]}}},
    "path-item-a-list": {"/a": ["get"]},
    "method-a-string": {"/a": {"get": "yes"}},
    "request-body-a-string": {"/a": {"post": {"requestBody": "x", "responses": {"201": {"$ref": 5}}}}},
    "ref-to-a-list-item": {"/a": {"get": {"parameters": [{"name": "q", "in": "query"}],
                                          "responses": {"200": {"$ref": "#/paths/~1a/get/parameters/0"}}}}},
    "ref-to-another-file": {"/a": {"get": {"responses": {"200": {"$ref": "other.yaml#/x"}}}}},
    "ref-to-an-anchor": {"/a": {"get": {"responses": {"200": {"$ref": "#anchor"}}}}},
    "self-reference": {"/a": {"get": {"responses": {"200": {"$ref": "#/paths/~1a/get/responses/200"}}}}},
}

ODD_TEXTS = {
    "yaml-dates-and-int-keys": "openapi: 3.0.3\npaths:\n  /a:\n    post:\n      requestBody:\n        content:\n"
                               "          application/json:\n            example: {when: 2024-01-01, at: 2024-01-01"
                               "T10:00:00Z}\n      responses: {201: {description: ok}}\n  123: {get: {}}\n",
    "yaml-binary-and-sets": "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters: [{name: q, in: query, "
                            "required: true, example: !!binary aGVsbG8=}, {name: s, in: query, required: true, "
                            "example: !!set {a, b}}]\n",
    "nested-too-deeply": '{"openapi": "3.0.3", "paths": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "a-huge-number": '{"openapi": "3.0.3", "paths": {}, "x": ' + "9" * 10_000 + "}",
    "openapi-a-float": "openapi: 3.0\npaths: {}\n",
    "not-utf8": b"\xff\xfe\x00o\x00p".decode("latin-1"),
    "yaml-list": "- a\n- b\n",
    "two-yaml-documents": "openapi: 3.0.3\n---\nopenapi: 3.0.3\n",
}


@pytest.fixture(scope="module")
def permissive_target():
    """Answers every request with 201 and a JSON object, as a permissive API would."""
    app = Flask("permissive")

    @app.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    @app.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def anything(rest):
        return jsonify({"id": "1", "a": 1, "when": "x"}), 201

    with flask_server(app) as url:
        yield url


def probe_spec_file(path: Path, target: str) -> tuple[int, str, dict | None]:
    return probe_json(target, "--openapi", str(path), "--active", "--identity", ALICE, "--identity", BOB,
                      "--max-requests", "300", "--rate", "1000")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [*ODD_DOCUMENTS, *ODD_TEXTS])
def test_odd_value_types_give_a_spec_error_or_a_sane_run(name, tmp_path, permissive_target):
    path = tmp_path / "spec.yaml"
    if name in ODD_DOCUMENTS:
        path.write_text(yaml.safe_dump(spec_with(ODD_DOCUMENTS[name]), allow_unicode=True))
    else:
        path.write_text(ODD_TEXTS[name], encoding="latin-1" if name == "not-utf8" else "utf-8")
    started = time.monotonic()
    try:
        load(str(path), permissive_target)
    except SpecError:
        code, output, _ = probe_spec_file(path, permissive_target)
        assert_clean_usage_error(code, output)
    else:
        code, output, report = probe_spec_file(path, permissive_target)
        assert code in (0, 1), output
        assert not [error for error in report["errors"] if error["kind"] == "internal"], report["errors"]
    assert "Traceback" not in output
    assert time.monotonic() - started < 60


@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec", [fan_out_spec, many_paths_spec], ids=["ref-fan-out", "10000-paths"])
def test_hostile_specs_run_end_to_end_in_bounded_time(spec, tmp_path, permissive_target):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec()))
    started = time.monotonic()
    with PeakMemory() as memory:
        code, output, _ = probe_spec_file(path, permissive_target)
    assert code in (0, 1), output
    assert "Traceback" not in output
    assert time.monotonic() - started < 60 and memory.growth_mib < 300, memory.growth_mib


# ---- odd answers -------------------------------------------------------------------------------------


def users_spec() -> dict:
    user = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    return spec_with({"/users": {
        "post": {"requestBody": {"content": {"application/json": {"schema": user}}},
                 "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {
                     "type": "object", "properties": {"id": {"type": "string"}}}}}}}},
        "get": {"parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}},
        "/users/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}], "responses": {"200": {}}},
                        "post": {"parameters": [{"name": "id", "in": "path"}], "responses": {"200": {}}}}})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("body", ['{"broken', "[" * 50_000 + "]" * 50_000, "\xff\xfe not text", ""],
                         ids=["invalid-json", "nested-json", "binary", "empty"])
def test_odd_json_answers_are_data_not_tracebacks(body):
    app = Flask("odd")

    @app.get("/openapi.json")
    def openapi():
        return jsonify(users_spec())

    @app.route("/<path:rest>", methods=["GET", "POST"])
    def anything(rest):
        status = 201 if request.method == "POST" and rest == "users" else 200
        return body.encode("latin-1"), status, {"Content-Type": "application/json"}

    with flask_server(app) as target:
        code, output, report = probe_json(target, "--openapi", "/openapi.json", "--active", "--identity", ALICE,
                                          "--max-requests", "400", "--rate", "1000")
    assert code in (0, 1), output
    assert not [error for error in report["errors"] if error["kind"] == "internal"], report["errors"]


@pytest.mark.timeout(60)
def test_each_identity_has_its_own_cookie_jar():
    seen: list[tuple[str, str | None]] = []
    app = Flask("cookies")

    @app.get("/login")
    def login():
        who = request.headers.get("Authorization", "nobody")
        seen.append((who, request.headers.get("Cookie")))
        response = jsonify({"ok": True})
        if who == f"Bearer {TOKEN}":
            response.set_cookie("session", "alice-session")
        return response

    with flask_server(app) as target:
        http = Http(target, {"alice": Identity.parse(ALICE), "bob": Identity.parse(BOB)})
        try:
            for who in ("alice", "bob", ANONYMOUS, GARBAGE, None, "alice"):
                http.request("GET", "/login", identity=who)
        finally:
            http.close()
    cookies = [cookie for _, cookie in seen]
    assert cookies == [None, None, None, None, None, "session=alice-session"]


# ---- the command line --------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("base_url", "message"), [
    ("http://[::1", "not a valid URL"),
    ("http://127.0.0.1:99999", "not a valid URL"),
    ("http://127.0.0.1:0", "port 0"),
    ("http://", "has no host"),
    ("ftp://127.0.0.1", "must be an http:// or https:// URL"),
    ("http://127.0.0.1:9/api?x=1", "query or a fragment"),
    ("http://127.0.0.1:9/a b", "spaces"),
    ("http://127.0.0.1:1:2/", "not a valid URL"),
])
def test_malformed_base_urls_are_usage_errors(base_url, message):
    code, output = probe_cli(base_url, "--openapi", "/openapi.json")
    assert_clean_usage_error(code, output, "BASE_URL", message)


@pytest.mark.timeout(30)
def test_an_unwritable_output_is_refused_before_any_request(tmp_path):
    with raw_server() as server:
        code, output = probe_cli(server.url, "--openapi", "/openapi.json", "--output",
                                 str(tmp_path / "missing" / "report.json"))
        assert server.connections == 0
    assert_clean_usage_error(code, output, "--output", "does not exist")


@pytest.mark.timeout(60)
def test_active_without_identity_runs_what_it_can_and_says_what_it_skipped(permissive_target, tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(users_spec()))
    code, output = probe_cli(permissive_target, "--openapi", str(path), "--active", "--max-requests", "300",
                             "--rate", "1000")
    assert code in (0, 1), output
    assert "Traceback" not in output
    assert "needs 2 --identity options: skipped" in output


SLOW_SPEC = spec_with({
    "/items": {"get": {"responses": {"200": {"description": "ok"}}}},
    "/search": {"get": {"parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                        "security": [], "responses": {"200": {"description": "ok"}}}},
}, **SECURED)


def slow_app(started: threading.Event) -> Flask:
    app = Flask("slow")

    @app.get("/openapi.json")
    def openapi():
        return jsonify(SLOW_SPEC)

    @app.get("/items")
    def items():
        return jsonify([{"id": 1, "secret": "data"}])

    @app.get("/search")
    def search():
        started.set()
        time.sleep(20)
        return jsonify([])

    @app.get("/")
    def root():
        return "ok"

    return app


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_probe_exits_130_with_the_findings_so_far(sig, tmp_path):
    started = threading.Event()
    report = tmp_path / "report.json"
    with flask_server(slow_app(started)) as target:
        process = subprocess.Popen([sys.executable, "-m", "plumbline", "probe", target, "--openapi", "/openapi.json",
                                    "--identity", ALICE, "--format", "json", "--output", str(report)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=takes_ctrl_c)
        try:
            assert started.wait(30), process.stderr.read() if process.poll() is not None else "no request yet"
            process.send_signal(sig)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    document = json.loads(report.read_text())
    assert [f["rule_id"] for f in document["findings"]] == ["PL406"]
    assert document["errors"][-1]["kind"] == "interrupted"


# ---- identities that log in --------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_login_answer_cannot_inject_a_header_through_its_token(tmp_path, monkeypatch):
    """The token of a login answer goes into a header line (raw, in a burst): CR, LF and the like are refused."""
    from plumbline.probe import config

    app = Flask("injecting-login")
    seen: list[dict] = []

    @app.post("/login")
    def login():
        return jsonify(access_token="abc\r\nX-Injected: 1")

    @app.get("/me")
    def me():
        seen.append(dict(request.headers))
        return jsonify(id=1)

    monkeypatch.setenv("MALLORY_PASSWORD", "mallory-pw-0042")
    path = tmp_path / "plumbline.toml"
    path.write_text('[probe.identities.mallory]\nlogin = { path = "/login", body = { password = '
                    '"${MALLORY_PASSWORD}" } }\ntoken = { json = "/access_token" }\nme = "/me"\n', encoding="utf-8")
    with flask_server(app) as url:
        http = Http(url, config.load(path))
        try:
            with pytest.raises(TargetError, match="identity mallory: the token at JSON /access_token in the login's "
                                                  "answer is not printable ASCII"):
                http.log_in()
        finally:
            http.close()
    assert seen == []  # nothing was sent with the token


@pytest.mark.timeout(30)
def test_login_paths_and_pages_that_leave_the_origin_are_refused(tmp_path):
    """A login, registration, CSRF page or `me` path must be a path on the target: nothing else is accepted."""
    for where in ('login = { path = "//elsewhere.example/login" }', 'login = { path = "@elsewhere/login" }',
                  'login = { path = "/login", csrf = { page = ":8081/form" } }',
                  'register = { path = "/r\\\\x" }\nlogin = { path = "/l" }'):
        path = tmp_path / "plumbline.toml"
        path.write_text(f'[probe.identities.mallory]\n{where}\ntoken = {{ json = "/t" }}\n', encoding="utf-8")
        result = CliRunner().invoke(main, ["probe", "http://127.0.0.1:1", "--openapi", "/openapi.json",
                                           "--config", str(path)])
        assert result.exit_code == 2 and "a path" in result.output and "Traceback" not in result.output, where


@pytest.mark.timeout(30)
def test_a_header_value_that_is_not_ascii_is_kept_not_a_crash():
    """Found by bench/fuzz.py: the bounded client rebuilt the response from decoded headers and failed re-encoding."""

    with raw_server(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nLocation: /caf\xe9\x80\r\n\r\n{}")) as server:
        http = Http(server.url, {}, timeout=10)
        try:
            response = http.request("GET", "/", identity=None)
        finally:
            http.close()
    assert response.status_code == 200 and dict(response.headers.raw)[b"Location"] == b"/caf\xe9\x80"


@pytest.mark.timeout(30)
def test_a_cookie_set_with_non_ascii_bytes_is_dropped_not_sent_back():
    """Found by bench/fuzz.py: a stored non-ASCII cookie made every later request of that identity fail to encode."""

    # Connection: close: the raw server answers once per connection, so the client must not reuse it (a reused one
    # raced with the server's close and was reset under load).
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nSet-Cookie: s=\xff\xfe\r\n\r\n{}"
    with raw_server(answering(answer)) as server:
        http = Http(server.url, {}, timeout=10)
        try:
            statuses = [http.request("GET", "/", identity=None).status_code for _ in range(2)]
        finally:
            http.close()
    assert statuses == [200, 200]
