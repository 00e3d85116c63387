"""A forum with form-encoded endpoints, a login form and a cookie session, on PostgreSQL (SERIALIZABLE).

Every write takes `application/x-www-form-urlencoded`; reads answer JSON. There are no bearer tokens.
What the probe needs to run as alice and bob is a login flow (`build` returns it in the format of the probe's
configuration file): `GET /login` sets the `session` cookie and shows a form whose hidden input `csrf_token` must come
back with `POST /login` (form-encoded `username`, `password`, `csrf_token`); the session cookie then goes
with every request, and the session's CSRF token (also in `GET /me`) with every POST, as the form field
`csrf_token` or in the `X-CSRF-Token` header (as Flask-WTF accepts it).

Vulnerable twin: a clap reads the count and writes count + 1 back in another transaction (lost claps); any
logged-in user edits any post (BOLA); the CSRF token is in the forms but never checked. Hardened twin:
`claps = claps + 1` in one UPDATE (retried on 40001), only the author edits, every POST checks the token.
"""

from __future__ import annotations

import html
import secrets
import uuid

from flask import abort, g, jsonify, request, session

from zoo import Backends, Built, KnownFalseAlarm, Planted, Sound
from zoo.clients import Clients, succeeded, together
from zoo.storage import PostgresDatabase, run_transaction
from zoo.web import (USERS, answer, create_app, document, errors, link, operation, path_parameter, secret_name,
                     valid)

SCHEMA = [("CREATE TABLE posts (id text PRIMARY KEY, author text NOT NULL, title text NOT NULL,"
           " body text NOT NULL, claps integer NOT NULL DEFAULT 0)")]
NEEDS_LOGIN = "needs the login flow of the module docstring (form login, session cookie, CSRF form field)"

PLANTED = [
    Planted(("PL401",), "POST", "/posts/{post_id}/clap",
            "claps read, then written back as count + 1 in another transaction: concurrent claps are lost"),
    Planted(("PL405",), "POST", "/posts/{post_id}/edit", "any logged-in user rewrites another user's post"),
]
FORM_TEXT = "form fields are text: 12345 and null arrive as the valid strings '12345' and 'null'"
PUBLIC_POSTS = "posts are public: everyone reads every post (GET /posts lists them all)"
CLAPS = "anyone claps anyone's post: that is what claps are for"
SOUND = [
    Sound("PL405", "GET", "/posts/{post_id}", PUBLIC_POSTS),
    Sound("PL405", "POST", "/posts/{post_id}/clap", CLAPS),
    Sound("PL407", "POST", "/posts", FORM_TEXT),
    Sound("PL407", "POST", "/posts/{post_id}/edit", FORM_TEXT),
    Sound("PL407", "POST", "/posts/{post_id}/clap", FORM_TEXT),
]
# Probe bugs once seen here, now fixed: PL405 on a clap (another identity raising a counter on a post that everyone
# is listed), PL407 on form bodies and PL405 on reading a public post.
KNOWN_FALSE_ALARMS: list[KnownFalseAlarm] = []

CSRF_HEADER = "X-CSRF-Token"
CSRF = {"type": "string", "minLength": 1, "description": f"the session's CSRF token; or send it in {CSRF_HEADER}"}
LOGIN = {"type": "object", "required": ["username", "password"], "properties": {
    "username": {"type": "string"}, "password": {"type": "string", "format": "password"}, "csrf_token": CSRF}}
POST_IN = {"type": "object", "required": ["title", "body"], "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 100}, "body": {"type": "string", "maxLength": 2000},
    "csrf_token": CSRF}}
CLAP = {"type": "object", "properties": {"csrf_token": CSRF}}
POST = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "author": {"type": "string"},
                                         "title": {"type": "string"}, "body": {"type": "string"},
                                         "claps": {"type": "integer", "minimum": 0}}}
ME = {"type": "object", "properties": {"id": {"type": "string"}, "username": {"type": "string"},
                                       "csrf_token": {"type": "string"}}}
FORM = "application/x-www-form-urlencoded"
POST_ID = path_parameter("post_id", {"type": "string", "format": "uuid"})
TO_POST = {"post_id": "$response.body#/id"}
SPEC = document("Forum", {
    "/login": {
        "get": operation("loginForm", {"200": answer("the login form, with a hidden csrf_token input",
                                                     {"type": "string"}, media="text/html")}, public=True),
        "post": operation("logIn", {"200": answer("logged in; the session cookie is set", ME, headers={
            "Set-Cookie": {"schema": {"type": "string"}}}), **errors(400, 401)}, body=LOGIN, media=FORM,
            public=True),
    },
    "/me": {"get": operation("getMe", {"200": answer("the caller and the session's CSRF token", ME),
                                       **errors(401)})},
    "/posts": {
        "get": operation("listPosts", {"200": answer("every post", {"type": "array", "items": POST}), **errors(401)}),
        "post": operation("createPost", {"201": answer("created", POST, links={
            "GetPost": link("getPost", TO_POST), "ClapPost": link("clapPost", TO_POST),
            "EditPost": link("editPost", TO_POST)}), **errors(400, 401, 422)}, body=POST_IN, media=FORM),
    },
    "/posts/{post_id}": {"get": operation("getPost", {"200": answer("the post", POST), **errors(401, 404)},
                                          parameters=[POST_ID])},
    "/posts/{post_id}/clap": {"post": operation("clapPost", {"200": answer("clapped: the post", POST),
                                                             **errors(400, 401, 404, 422)},
                                                parameters=[POST_ID], body=CLAP, media=FORM)},
    "/posts/{post_id}/edit": {"post": operation("editPost", {"200": answer("rewritten: the post", POST),
                                                             **errors(400, 401, 404, 422)},
                                                parameters=[POST_ID], body=POST_IN, media=FORM)},
}, schemes={"session": {"type": "apiKey", "in": "cookie", "name": "session"}})


def build(twin: str, backends: Backends) -> Built:
    database = PostgresDatabase(backends.postgres_url, f"forum_{twin}", SCHEMA)
    pool = database.pool
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    app = create_app(f"zoo.forum.{twin}", SPEC)
    app.secret_key = secrets.token_bytes(32)
    hardened = twin == "hardened"

    def csrf_token() -> str:
        session.setdefault("csrf", secrets.token_urlsafe(24))
        return session["csrf"]

    def form(schema: dict) -> dict:
        fields = valid(request.form.to_dict(), schema)
        # CSRF (vulnerable): the token is in every form, but only the hardened twin compares it with the session's.
        sent = fields.get("csrf_token") or request.headers.get(CSRF_HEADER, "")
        if hardened and not (sent and secrets.compare_digest(sent, session.get("csrf", ""))):
            abort(400, "missing or wrong CSRF token")
        return fields

    @app.before_request
    def logged_in():
        if request.endpoint in ("loginForm", "logIn", "openapi"):
            return None
        if session.get("user") not in USERS:
            return jsonify(error="log in first"), 401
        g.user = session["user"]
        return None

    def post_row(conn, post_id: str) -> dict:
        row = conn.execute("SELECT id, author, title, body, claps FROM posts WHERE id = %s", (post_id,)).fetchone()
        if row is None:
            abort(404, "no such post")
        return dict(zip(("id", "author", "title", "body", "claps"), row))

    @app.get("/login", endpoint="loginForm")
    def login_form():
        return (f'<form method="post" action="/login"><input name="username"><input name="password" type="password">'
                f'<input type="hidden" name="csrf_token" value="{html.escape(csrf_token())}"></form>')

    @app.post("/login", endpoint="logIn")
    def log_in():
        fields = form(LOGIN)
        expected = passwords.get(fields["username"])
        if expected is None or not secrets.compare_digest(fields["password"], expected):
            abort(401, "wrong user name or password")
        session["user"] = fields["username"]
        return jsonify(id=session["user"], username=session["user"], csrf_token=csrf_token())

    @app.get("/me")
    def get_me():
        return jsonify(id=g.user, username=g.user, csrf_token=csrf_token())

    @app.get("/posts")
    def list_posts():
        with pool.connection() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM posts ORDER BY id")]
            return jsonify([post_row(conn, post_id) for post_id in ids])

    @app.post("/posts")
    def create_post():
        fields = form(POST_IN)
        post_id = str(uuid.uuid4())
        with pool.connection() as conn:
            conn.execute("INSERT INTO posts (id, author, title, body) VALUES (%s, %s, %s, %s)",
                         (post_id, g.user, fields["title"], fields["body"]))
            return jsonify(post_row(conn, post_id)), 201

    @app.get("/posts/<post_id>")
    def get_post(post_id):
        with pool.connection() as conn:
            return jsonify(post_row(conn, post_id))

    @app.post("/posts/<post_id>/clap")
    def clap(post_id):
        form(CLAP)
        if hardened:
            run_transaction(pool, lambda conn: conn.execute("UPDATE posts SET claps = claps + 1 WHERE id = %s",
                                                            (post_id,)))
        else:
            with pool.connection() as conn:
                claps = post_row(conn, post_id)["claps"]
            # Lost update: the count read above is written back + 1 in a transaction of its own.
            run_transaction(pool, lambda conn: conn.execute("UPDATE posts SET claps = %s WHERE id = %s",
                                                            (claps + 1, post_id)))
        with pool.connection() as conn:
            return jsonify(post_row(conn, post_id))

    @app.post("/posts/<post_id>/edit")
    def edit(post_id):
        fields = form(POST_IN)
        with pool.connection() as conn:
            post = post_row(conn, post_id)
            # BOLA (vulnerable): nobody checks that the caller wrote the post.
            if hardened and post["author"] != g.user:
                abort(404, "no such post")
            conn.execute("UPDATE posts SET title = %s, body = %s WHERE id = %s",
                         (fields["title"], fields["body"], post_id))
            return jsonify(post_row(conn, post_id))

    identities = {user: {
        "login": {"path": "/login", "encoding": "form",
                  "body": {"username": user, "password": f"${{{secret_name(user, 'password')}}}"},
                  "csrf": {"page": "/login", "field": "csrf_token", "header": CSRF_HEADER}},
        "send": {"as": "cookie"},
        "me": "/me",
    } for user in USERS}
    environment = {secret_name(user, "password"): password for user, password in passwords.items()}
    return Built(app, identities, environment, close=database.close)


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def _alices_post(clients: Clients) -> str:
    response = clients["alice"].post("/posts", data={"title": "hello", "body": "first post"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def lost_claps(clients: Clients) -> str | None:
    post_id = _alices_post(clients)
    bob = clients["bob"]
    clapped = succeeded(together(lambda: bob.post(f"/posts/{post_id}/clap")))
    claps = bob.get(f"/posts/{post_id}").json()["claps"]
    return None if claps == clapped else f"{clapped} claps counted as {claps}"


def bob_edits(clients: Clients) -> str | None:
    post_id = _alices_post(clients)
    clients["bob"].post(f"/posts/{post_id}/edit", data={"title": "bob was here", "body": ""})
    title = clients["alice"].get(f"/posts/{post_id}").json()["title"]
    return "bob rewrote alice's post" if title == "bob was here" else None


PROOFS = {("POST", "/posts/{post_id}/clap"): lost_claps, ("POST", "/posts/{post_id}/edit"): bob_edits}
