"""Identities that log in (JSON bearer login, form login with a cookie session and a CSRF token, registration),
log in again when their token expires, learn their own id, and keep every obtained secret out of reports;
request bodies as forms and multipart forms; the configuration file and its errors."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, jsonify, redirect, request, session
from werkzeug.serving import make_server

from plumbline.cli import main
from plumbline.probe import config
from plumbline.probe.auth import USELESS_REFRESHES
from plumbline.probe.encoders import FORM, MULTIPART
from plumbline.probe.http import Http, TargetError
from plumbline.probe.spec import parse

PASSWORDS = {"alice": "alice-pw-7f3a9c", "bob": "bob-pw-2d8e41"}


@dataclass
class Accounts:
    """What the server saw: logins per user, issued tokens, and the last bodies it was sent."""

    users: dict[str, dict] = field(default_factory=dict)  # name -> {"id", "password"}
    tokens: dict[str, dict] = field(default_factory=dict)  # token -> {"user", "uses"}
    logins: dict[str, int] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)
    token_lifetime: int = 1000  # requests a token serves before it expires (401)
    scheme: str = "Bearer"  # the only `Authorization: <scheme> <token>` the API accepts


SPEC = {
    "openapi": "3.0.3", "info": {"title": "accounts", "version": "1"},
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/me": {"get": {"operationId": "me", "responses": {"200": {"description": "the caller"}}}},
        "/notes": {"post": {
            "operationId": "createNote",
            "requestBody": {"content": {FORM: {"schema": {"type": "object", "properties": {
                "title": {"type": "string", "example": "hello"}, "pages": {"type": "integer", "example": 3}}}}}},
            "responses": {"200": {"description": "the note"}}}},
        "/uploads": {"post": {
            "operationId": "upload",
            "requestBody": {"content": {MULTIPART: {"schema": {"type": "object", "properties": {
                "caption": {"type": "string", "example": "cat"}}}}}},
            "responses": {"200": {"description": "stored"}}}},
    },
}


def accounts_app(state: Accounts) -> Flask:
    app = Flask("accounts")
    app.secret_key = secrets.token_hex(16)

    def user_of_token():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        held = state.tokens.get(token) if scheme == state.scheme else None
        if held is None or held["uses"] >= state.token_lifetime:
            return None
        held["uses"] += 1
        return held["user"]

    def caller():
        return user_of_token() or session.get("user")

    @app.get("/")
    def root():
        return jsonify(ok=True)

    @app.get("/openapi.json")
    def spec():
        return jsonify(SPEC)

    @app.post("/register")
    def register():
        body = request.get_json()
        if body["username"] in state.users:
            return jsonify(error="already exists"), 409
        state.users[body["username"]] = {"id": len(state.users) + 101, "password": body["password"]}
        return jsonify(user={"id": state.users[body["username"]]["id"], "name": body["username"]}), 201

    def check(username: str, password: str) -> bool:
        return username in state.users and state.users[username]["password"] == password

    @app.post("/login")
    def login():
        body = request.get_json()
        answer, status = login_answer(body.get("username"), body.get("password"))
        if status != 200:
            return jsonify(answer), status
        if body.get("with_id"):
            answer["uid"] = state.users[body["username"]]["id"]
        return jsonify(answer)

    @app.post("/users/login")
    def enveloped_login():
        """A RealWorld-style login: the credentials and the answer are wrapped in `user`."""
        sent = (request.get_json() or {}).get("user") or {}
        answer, status = login_answer(sent.get("username"), sent.get("password"))
        return jsonify(user={"token": answer["access_token"]} if status == 200 else answer), status

    def login_answer(username, password) -> tuple[dict, int]:
        if not check(username, password):
            return {"error": "wrong password"}, 401
        state.logins[username] = state.logins.get(username, 0) + 1
        token = secrets.token_urlsafe(24)
        state.tokens[token] = {"user": username, "uses": 0}
        return {"access_token": token, "token_type": "bearer"}, 200

    @app.get("/login-form")
    def login_form():
        session["csrf"] = secrets.token_urlsafe(16)
        return (f'<form method="post"><input name="username"><input type="password" name="password">'
                f'<input type="hidden" name="csrf_token" value="{session["csrf"]}"></form>')

    @app.post("/form-login")
    def form_login():
        if request.form.get("csrf_token") != session.get("csrf") or not request.form.get("csrf_token"):
            return "bad csrf", 400
        if not check(request.form.get("username"), request.form.get("password")):
            return "wrong password", 401
        state.logins[request.form["username"]] = state.logins.get(request.form["username"], 0) + 1
        session["user"] = request.form["username"]
        return redirect("/me")

    @app.get("/me")
    def me():
        user = caller()
        if user is None:
            return jsonify(error="log in"), 401
        # a careless API that echoes credentials: the report must not
        return jsonify(id=state.users[user]["id"], name=user, echo=request.headers.get("Authorization", ""),
                       jar=request.headers.get("Cookie", ""))

    @app.get("/always-401")
    def always_401():
        return jsonify(error="no"), 401

    @app.post("/notes")
    @app.post("/uploads")
    def receive():
        if caller() is None:
            return jsonify(error="log in"), 401
        state.received.append({"type": request.mimetype, "form": request.form.to_dict(flat=False),
                               "files": {k: f.read().decode() for k, f in request.files.items()},
                               "json": request.get_json(silent=True), "csrf": session.get("csrf")})
        return jsonify(stored=True)

    return app


@contextmanager
def serving(state: Accounts):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, accounts_app(state), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def accounts():
    state = Accounts()
    for number, (name, password) in enumerate(PASSWORDS.items()):
        state.users[name] = {"id": 101 + number, "password": password}
    with serving(state) as url:
        yield state, url


@pytest.fixture
def passwords(monkeypatch):
    for name, password in PASSWORDS.items():
        monkeypatch.setenv(f"{name.upper()}_PASSWORD", password)


def configure(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plumbline.toml"
    path.write_text(text, encoding="utf-8")
    return path


JSON_LOGIN = """
[probe.identities.{name}]
login = {{ path = "/login", body = {{ username = "{name}", password = "${{{upper}_PASSWORD}}"{more} }} }}
token = {{ json = "/access_token" }}
{extra}
"""


def json_login(name: str, more: str = "", extra: str = "") -> str:
    return JSON_LOGIN.format(name=name, upper=name.upper(), more=more, extra=extra)


def logged_in(url: str, path: Path) -> Http:
    http = Http(url, config.load(path))
    http.log_in()
    return http


# ---- logging in --------------------------------------------------------------------------------------


def test_json_login_issues_a_bearer_token_and_the_id_comes_from_the_answer(accounts, passwords, tmp_path):
    state, url = accounts
    path = configure(tmp_path, json_login("alice", ", with_id = true", 'id = "/uid"') + json_login("bob"))
    http = logged_in(url, path)
    try:
        assert state.logins == {"alice": 1, "bob": 1}
        alice_token = next(t for t, held in state.tokens.items() if held["user"] == "alice")
        assert http.headers("alice")["Authorization"] == f"Bearer {alice_token}"
        me = http.request("GET", "/me", identity="alice")
        assert me.status_code == 200 and me.json()["name"] == "alice"
        assert http.request("GET", "/me", identity="bob").json()["name"] == "bob"
        assert http.user_id("alice") == 101  # from the login's answer, at the pointer given
        assert http.user_id("bob") is None  # nothing said it: the engine looks for a /me operation
        assert http.request("GET", "/me", identity=None).status_code == 401
    finally:
        http.close()


def test_a_nested_json_login_and_a_token_sent_under_another_scheme(accounts, passwords, tmp_path):
    state, url = accounts
    state.scheme = "Token"  # `Authorization: Token <jwt>`, as the RealWorld backends want it
    path = configure(tmp_path, "".join(f"""
[probe.identities.{name}]
login = {{ path = "/users/login", body = {{ user = {{ username = "{name}", password = "${{{name.upper()}_PASSWORD}}" }} }} }}
token = {{ json = "/user/token" }}
send = {{ as = "bearer", scheme = "Token" }}
""" for name in ("alice", "bob")))
    http = logged_in(url, path)
    try:
        assert state.logins == {"alice": 1, "bob": 1}
        assert http.headers("alice")["Authorization"].startswith("Token ")
        assert http.request("GET", "/me", identity="alice").json()["name"] == "alice"
        assert http.request("GET", "/me", identity="bob").json()["name"] == "bob"
    finally:
        http.close()


def test_registration_then_login_and_the_id_from_the_registration(accounts, passwords, tmp_path, monkeypatch):
    state, url = accounts
    monkeypatch.setenv("CAROL_PASSWORD", "carol-pw-91b2")
    path = configure(tmp_path, """
[probe.identities.carol]
register = { path = "/register", body = { username = "carol", password = "${CAROL_PASSWORD}" } }
login = { path = "/login", body = { username = "carol", password = "${CAROL_PASSWORD}" } }
token = { json = "/access_token" }
""")
    http = logged_in(url, path)
    try:
        assert state.users["carol"]["password"] == "carol-pw-91b2" and state.logins == {"carol": 1}
        assert http.user_id("carol") == state.users["carol"]["id"] == 103  # /user/id of the registration's answer
        assert http.request("GET", "/me", identity="carol").json()["name"] == "carol"
    finally:
        http.close()
    again = logged_in(url, path)  # a second run: the registration answers 409, the login still works
    try:
        assert state.logins == {"carol": 2}
        assert again.request("GET", "/me", identity="carol").status_code == 200
    finally:
        again.close()


def test_the_id_from_a_me_operation(accounts, passwords, tmp_path):
    _, url = accounts
    http = logged_in(url, configure(tmp_path, json_login("bob", extra='me = "/me"')))
    try:
        assert http.user_id("bob") == 102
    finally:
        http.close()


def test_form_login_with_a_cookie_session_and_a_csrf_token(accounts, passwords, tmp_path):
    state, url = accounts
    form_login = """
[probe.identities.{name}]
login = {{ path = "/form-login", encoding = "form", body = {{ username = "{name}", password = "${{{upper}_PASSWORD}}" }}, csrf = {{ page = "/login-form" }} }}
send = {{ as = "cookie" }}
me = "/me"
"""
    text = "".join(form_login.format(name=name, upper=name.upper()) for name in ("alice", "bob"))
    http = logged_in(url, configure(tmp_path, text))
    try:
        assert state.logins == {"alice": 1, "bob": 1}
        assert (http.user_id("alice"), http.user_id("bob")) == (101, 102)
        assert http.request("GET", "/me", identity="bob").json()["name"] == "bob"
        assert http.request("GET", "/me", identity="<anonymous>").status_code == 401  # no session of theirs
        # a burst carries the session too: its requests are prepared with the Cookie header
        prepared = http.prepare("GET", "/me", identity="alice")
        assert prepared.headers["Cookie"].startswith("session=")
        assert [r.status for r in http.burst([prepared] * 3, "alice").responses] == [200, 200, 200]
    finally:
        http.close()


def test_a_form_field_for_the_csrf_token_carries_the_identitys_token(accounts, passwords, tmp_path):
    state, url = accounts
    path = configure(tmp_path, """
[probe.identities.alice]
login = { path = "/form-login", encoding = "form", body = { username = "alice", password = "${ALICE_PASSWORD}" }, csrf = { page = "/login-form", field = "csrf_token" } }
send = { as = "cookie" }
""")
    http = logged_in(url, path)
    try:
        for generated in ("generated-by-the-probe", 12345):
            http.request("POST", "/notes", identity="alice", json_body={"title": "t", "csrf_token": generated},
                         media_type=FORM)
        http.request("POST", "/notes", identity="alice", json_body={"title": "no token"}, media_type=FORM)
        with_string, with_number, without = state.received
        assert with_string["form"]["csrf_token"] == [with_string["csrf"]] and with_string["csrf"]
        assert with_number["form"]["csrf_token"] == ["12345"]  # an invalid-input test keeps its value
        assert "csrf_token" not in without["form"]
        recorded = json.dumps([e.as_evidence() for e in http.exchanges])
        assert with_string["csrf"] not in recorded, recorded
    finally:
        http.close()


def test_a_csrf_token_that_is_not_sent_back_fails_the_login_with_a_clear_error(accounts, passwords, tmp_path):
    _, url = accounts
    path = configure(tmp_path, """
[probe.identities.alice]
login = { path = "/form-login", encoding = "form", body = { username = "alice", password = "${ALICE_PASSWORD}" } }
send = { as = "cookie" }
""")
    http = Http(url, config.load(path))
    try:
        with pytest.raises(TargetError, match=r"^identity alice: the login \(POST /form-login\) answered 400$"):
            http.log_in()
    finally:
        http.close()


def test_an_expired_token_logs_in_again_once(accounts, passwords, tmp_path):
    state, url = accounts
    state.token_lifetime = 2
    http = logged_in(url, configure(tmp_path, json_login("alice")))
    try:
        statuses = [http.request("GET", "/me", identity="alice").status_code for _ in range(5)]
        assert statuses == [200] * 5
        assert state.logins == {"alice": 3}  # the first token served 2 requests, the second 2, the third 1
        assert [e.status for e in http.exchanges if e.url.endswith("/me")] == [200, 200, 401, 200, 200, 401, 200]
    finally:
        http.close()


def test_logging_in_again_stops_when_it_does_not_help(accounts, passwords, tmp_path):
    state, url = accounts
    http = logged_in(url, configure(tmp_path, json_login("alice")))
    try:
        for _ in range(USELESS_REFRESHES + 3):
            assert http.request("GET", "/always-401", identity="alice").status_code == 401
        assert state.logins == {"alice": 1 + USELESS_REFRESHES}
        assert http.request("GET", "/me", identity="alice").status_code == 200
    finally:
        http.close()


def test_a_wrong_password_is_a_usage_error_that_names_the_step_not_the_password(accounts, tmp_path, monkeypatch):
    _, url = accounts
    monkeypatch.setenv("ALICE_PASSWORD", "not-the-password-5501")
    path = configure(tmp_path, json_login("alice"))
    result = CliRunner().invoke(main, ["probe", url, "--openapi", "/openapi.json", "--config", str(path)])
    assert result.exit_code == 2
    assert "identity alice: the login (POST /login) answered 401" in result.output
    assert "not-the-password-5501" not in result.output


# ---- secrets -----------------------------------------------------------------------------------------


def test_secrets_obtained_by_logging_in_never_reach_the_report(accounts, passwords, tmp_path):
    state, url = accounts
    text = json_login("alice") + """
[probe.identities.bob]
login = { path = "/form-login", encoding = "form", body = { username = "bob", password = "${BOB_PASSWORD}" }, csrf = { page = "/login-form" } }
send = { as = "cookie" }
"""
    path = configure(tmp_path, text)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["probe", url, "--openapi", "/openapi.json", "--config", str(path), "--active",
                                       "--format", "json", "--output", str(report)])
    assert result.exit_code in (0, 1), result.output
    written = report.read_text() + result.output
    secrets_seen = [*PASSWORDS.values(), *state.tokens]
    assert state.tokens and all(secret not in written for secret in secrets_seen)
    # the session cookie bob was given, which /me echoed back to him
    http = logged_in(url, path)
    try:
        cookie = http.cookies("bob")["session"]
        assert cookie not in written
        assert "<redacted:bob>" in json.dumps(http.redact(http.request("GET", "/me", identity="bob").json()))
    finally:
        http.close()


def test_a_login_answer_is_redacted_before_it_is_recorded(accounts, passwords, tmp_path):
    state, url = accounts
    http = logged_in(url, configure(tmp_path, json_login("alice")))
    try:
        token = next(iter(state.tokens))
        recorded = json.dumps([exchange.as_evidence() for exchange in http.exchanges])
        assert token not in recorded and PASSWORDS["alice"] not in recorded
        assert "POST" in recorded and "/login" in recorded
    finally:
        http.close()


# ---- bodies beyond JSON ------------------------------------------------------------------------------


def test_form_and_multipart_bodies_arrive_as_the_spec_declares(accounts, passwords, tmp_path):
    state, url = accounts
    spec = parse(SPEC, "spec")
    notes = next(op for op in spec.operations if op.operation_id == "createNote")
    upload = next(op for op in spec.operations if op.operation_id == "upload")
    assert (notes.body_media_type, upload.body_media_type) == (FORM, MULTIPART)
    assert set(notes.body_schema["properties"]) == {"title", "pages"}
    http = logged_in(url, configure(tmp_path, json_login("alice")))
    try:
        body = {"title": "a & b = c", "pages": 3, "tags": ["x", "y"], "draft": True}
        http.request("POST", "/notes", identity="alice", json_body=body, media_type=notes.body_media_type)
        http.request("POST", "/uploads", identity="alice", json_body={"caption": "ü \"quoted\"", "file": b"bytes!"},
                     media_type=upload.body_media_type)
        prepared = http.prepare("POST", "/notes", identity="alice", json_body={"title": "raced"}, media_type=FORM)
        http.burst([prepared] * 2, "alice")
        form, multipart, *raced = state.received
        assert form == {"type": FORM, "form": {"title": ["a & b = c"], "pages": ["3"], "tags": ["x", "y"],
                                               "draft": ["true"]}, "files": {}, "json": None, "csrf": None}
        assert multipart == {"type": MULTIPART, "form": {"caption": ["ü \"quoted\""]}, "files": {"file": "bytes!"},
                             "json": None, "csrf": None}
        assert [r["form"] for r in raced] == [{"title": ["raced"]}] * 2
        burst_evidence = [e.request_body for e in http.exchanges if e.url.endswith("/notes")]
        assert burst_evidence[-2:] == [{"title": "raced"}] * 2
    finally:
        http.close()


# ---- the configuration file --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "error"), [
    (json_login("alice").replace("ALICE_PASSWORD", "NOT_SET_ANYWHERE"),
     "identities.alice.login.body.password: environment variable NOT_SET_ANYWHERE is not set"),
    ('[probe.identities.alice]\nlogin = { path = "//evil.example/login" }\ntoken = { json = "/t" }\n',
     "identities.alice.login.path: a path must start with a single '/'"),
    ('[probe.identities.alice]\nlogin = { path = "/login" }\n',
     "identities.alice: say where the token is"),
    ('[probe.identities.alice]\nlogin = { path = "/login" }\ntoken = { json = "/t", cookie = "s" }\n',
     "identities.alice.token: give exactly one of"),
    ('[probe.identities.alice]\nheader = "Authorization: Bearer ${ALICE_PASSWORD}"\nme = "/me"\n',
     "identities.alice.me: Extra inputs are not permitted"),
    ('[probe.identities."a b"]\nheader = "X-Key: 1"\n', "identity name 'a b'"),
    ('[probe.identities.alice]\nlogin = { path = "/login", method = "DELETE" }\ntoken = { json = "/t" }\n',
     "identities.alice.login.method: Input should be"),
    ('[probe]\nidentity = {}\n', "identity: unknown key"),
    ('[probe.identities.alice]\nheader = "Host: ${ALICE_PASSWORD}"\n', "the Host header cannot carry credentials"),
    ('[probe\n', "not valid TOML"),
    ('[probe.identities.alice]\nlogin = { path = "/login", encoding = "form", body = { user = { a = "1" } } }\n'
     'token = { json = "/t" }\n', "identities.alice.login: body.user: a form body is flat"),
    ('[probe.identities.alice]\nheader = "X-Key: 1"\n[probe.identities.bob]\nlogin = { path = "/login" }\n'
     'token = { json = "/t" }\nsend = { scheme = "Token x" }\n', "identities.bob.send.scheme: `scheme` is one word"),
])
def test_configuration_errors_are_one_line_usage_errors_without_secrets(text, error, passwords, tmp_path):
    path = configure(tmp_path, text)
    result = CliRunner().invoke(main, ["probe", "http://127.0.0.1:1", "--openapi", "/openapi.json",
                                       "--config", str(path)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())  # click wraps long lines
    assert error in message and "Traceback" not in message
    assert all(password not in result.output for password in PASSWORDS.values())


def test_the_configuration_is_found_in_pyproject_and_identities_add_up(accounts, passwords, tmp_path, monkeypatch):
    state, url = accounts
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.plumbline]\nfail-on = "high"\n\n' + json_login("alice").replace("[probe.", "[tool.plumbline.probe."),
        encoding="utf-8")
    monkeypatch.chdir(project / "sub")
    found = config.load(None)
    assert list(found) == ["alice"] and found["alice"].header == "Authorization"
    from plumbline.scan.config import (
        load as scan_config,  # the scan reads the same section, minus the probe's
    )
    assert scan_config(project)[0].fail_on == "high"
    result = CliRunner().invoke(main, ["probe", url, "--openapi", "/openapi.json", "--identity",
                                       "alice=X-Key: k-123456"])
    assert result.exit_code == 2 and "each identity needs its own name" in result.output
    result = CliRunner().invoke(main, ["probe", url, "--openapi", "/openapi.json", "--identity",
                                       "bob=Authorization: Bearer static-bob-token", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert state.logins == {"alice": 1} and "static-bob-token" not in result.output


def test_the_documented_example_is_a_valid_configuration(tmp_path, monkeypatch):
    documented = (Path(__file__).parents[2] / "docs" / "probe.md").read_text(encoding="utf-8")
    example = documented.split("## Identities that log in", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    for name in ("ALICE_PASSWORD", "BOB_PASSWORD", "CAROL_TOKEN"):
        monkeypatch.setenv(name, f"{name.lower()}-value")
    identities = config.load(configure(tmp_path, example))
    assert {name: auth.header for name, auth in identities.items()} == {
        "alice": "Authorization", "bob": "Cookie", "carol": "Authorization"}
