"""A plain API on PostgreSQL (SERIALIZABLE) whose spec has no links and no examples, and no 201 anywhere.

`POST /members` (public registration; the password is stored as a PBKDF2 hash) answers 200
`{"status": "registered"}` with no id: the member is named by the `username` it was sent
(`GET /members/{username}`, `GET /members`). A second registration of a taken username also answers 200,
`{"status": "already exists"}`. `POST /projects` answers 200 with the id in the body;
`POST /projects/{project_id}/tickets` hands out the project's next ticket number. Identities: static bearer
tokens.

Vulnerable twin: registration checks that the username is free, then inserts, in two transactions and with
no UNIQUE constraint, so a burst of one registration stores several members of that name; a ticket number
is read and written back + 1 in another transaction, so concurrent calls lose increments (and hand out the
same number twice). Hardened twin: UNIQUE (username) with `ON CONFLICT DO NOTHING` (a duplicate answers
200 "already exists" and stores nothing), it and `next_ticket = next_ticket + 1 ... RETURNING` retried on 40001.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from flask import abort, g, jsonify

from zoo import Backends, Built, Planted
from zoo.clients import Clients, together
from zoo.storage import PostgresDatabase, run_transaction
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, login_required, me,
                     operation, path_parameter, static_tokens)

PLANTED = [
    Planted(("PL402",), "POST", "/members",
            "username checked, then inserted in another transaction, no UNIQUE: a burst registers duplicates"),
    Planted(("PL401",), "POST", "/projects/{project_id}/tickets",
            "next_ticket read, then written back + 1 in another transaction: concurrent calls lose increments"),
]
SOUND = []
KNOWN_FALSE_ALARMS = []

USERNAME = {"type": "string", "pattern": "^[a-z0-9_]{3,30}$"}
MEMBER_IN = {"type": "object", "required": ["username", "display_name", "password"], "additionalProperties": False,
             "properties": {"username": USERNAME, "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                            "password": {"type": "string", "format": "password", "minLength": 8, "maxLength": 200}}}
HASH_ROUNDS = 20_000
MEMBER = {"type": "object", "properties": {"username": {"type": "string"}, "display_name": {"type": "string"}}}
STATUS = {"type": "object", "properties": {"status": {"type": "string", "enum": ["registered", "already exists"]}}}
PROJECT_IN = {"type": "object", "required": ["name"], "additionalProperties": False,
              "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 80}}}
PROJECT = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "owner": {"type": "string"},
                                            "name": {"type": "string"}, "next_ticket": {"type": "integer"}}}
TICKET_IN = {"type": "object", "required": ["summary"], "additionalProperties": False,
             "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": 200}}}
TICKET = {"type": "object", "properties": {"project_id": {"type": "string"}, "ticket": {"type": "integer"},
                                           "summary": {"type": "string"}}}


def schema(hardened: bool) -> list[str]:
    return [
        (f"CREATE TABLE members (id serial PRIMARY KEY, username text NOT NULL {'UNIQUE' if hardened else ''},"
         " display_name text NOT NULL, password_hash bytea NOT NULL)"),
        ("CREATE TABLE projects (id text PRIMARY KEY, owner text NOT NULL, name text NOT NULL,"
         " next_ticket integer NOT NULL DEFAULT 1)"),
    ]


SPEC = document("Members", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/members": {
        "get": operation("listMembers", {"200": answer("every member", {"type": "array", "items": MEMBER})},
                         public=True),
        "post": operation("register", {"200": answer("registered, or already there", STATUS), **errors(422)},
                          body=MEMBER_IN, public=True),
    },
    "/members/{username}": {"get": operation("getMember", {"200": answer("the member", MEMBER), **errors(404)},
                                             parameters=[path_parameter("username")], public=True)},
    "/projects": {"post": operation("createProject", {"200": answer("created", PROJECT), **errors(401, 422)},
                                    body=PROJECT_IN)},
    "/projects/{project_id}": {"get": operation("getProject", {"200": answer("the project", PROJECT),
                                                               **errors(401, 404)},
                                                parameters=[path_parameter("project_id")])},
    "/projects/{project_id}/tickets": {"post": operation("openTicket", {
        "200": answer("the new ticket's number", TICKET), **errors(401, 404, 422)},
        parameters=[path_parameter("project_id")], body=TICKET_IN)},
})


def password_hash(fields: dict) -> bytes:
    salt = secrets.token_bytes(16)
    return salt + hashlib.pbkdf2_hmac("sha256", fields["password"].encode(), salt, HASH_ROUNDS)


def build(twin: str, backends: Backends) -> Built:
    hardened = twin == "hardened"
    database = PostgresDatabase(backends.postgres_url, f"members_{twin}", schema(hardened))
    pool = database.pool
    tokens = static_tokens()
    app = create_app(f"zoo.members.{twin}", SPEC, tokens)

    def project_row(conn, project_id: str) -> dict:
        row = conn.execute("SELECT id, owner, name, next_ticket FROM projects WHERE id = %s AND owner = %s",
                           (project_id, g.user)).fetchone()
        if row is None:
            abort(404, "no such project")
        return dict(zip(("id", "owner", "name", "next_ticket"), row))

    app.add_url_rule("/me", "me", login_required(me))

    @app.get("/members")
    def list_members():
        with pool.connection() as conn:
            rows = conn.execute("SELECT username, display_name FROM members ORDER BY id").fetchall()
        return jsonify([{"username": row[0], "display_name": row[1]} for row in rows])

    @app.post("/members")
    def register():
        fields = json_body(MEMBER_IN)
        if hardened:  # at SERIALIZABLE even ON CONFLICT DO NOTHING can be refused with 40001: retried
            hashed = password_hash(fields)
            row = run_transaction(pool, lambda conn: conn.execute(
                "INSERT INTO members (username, display_name, password_hash) VALUES (%s, %s, %s)"
                " ON CONFLICT (username) DO NOTHING RETURNING id",
                (fields["username"], fields["display_name"], hashed)).fetchone())
            return jsonify(status="registered" if row else "already exists")
        with pool.connection() as conn:
            # Duplicate create: the check and the insert (after hashing the password) are separate transactions and
            # no constraint backs them.
            if conn.execute("SELECT 1 FROM members WHERE username = %s", (fields["username"],)).fetchone():
                return jsonify(status="already exists")
            conn.execute("INSERT INTO members (username, display_name, password_hash) VALUES (%s, %s, %s)",
                         (fields["username"], fields["display_name"], password_hash(fields)))
        return jsonify(status="registered")

    @app.get("/members/<username>")
    def get_member(username):
        with pool.connection() as conn:
            row = conn.execute("SELECT username, display_name FROM members WHERE username = %s ORDER BY id",
                               (username,)).fetchone()
        if row is None:
            abort(404, "no such member")
        return jsonify(username=row[0], display_name=row[1])

    @app.post("/projects")
    @login_required
    def create_project():
        project_id = str(uuid.uuid4())
        with pool.connection() as conn:
            conn.execute("INSERT INTO projects (id, owner, name) VALUES (%s, %s, %s)",
                         (project_id, g.user, json_body(PROJECT_IN)["name"]))
            return jsonify(project_row(conn, project_id))

    @app.get("/projects/<project_id>")
    @login_required
    def get_project(project_id):
        with pool.connection() as conn:
            return jsonify(project_row(conn, project_id))

    @app.post("/projects/<project_id>/tickets")
    @login_required
    def open_ticket(project_id):
        summary = json_body(TICKET_IN)["summary"]
        if hardened:
            def take(conn):
                project_row(conn, project_id)
                return conn.execute("UPDATE projects SET next_ticket = next_ticket + 1 WHERE id = %s"
                                    " RETURNING next_ticket - 1", (project_id,)).fetchone()[0]
            number = run_transaction(pool, take)
        else:
            with pool.connection() as conn:
                number = project_row(conn, project_id)["next_ticket"]
            # Lost update: the number read above is written back + 1 in a transaction of its own.
            run_transaction(pool, lambda conn: conn.execute("UPDATE projects SET next_ticket = %s WHERE id = %s",
                                                            (number + 1, project_id)))
        return jsonify(project_id=project_id, ticket=number, summary=summary)

    return Built(app, *bearer_identities(tokens), close=database.close)


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def duplicate_members(clients: Clients) -> str | None:
    anyone = clients["alice"]
    username = f"carol_{uuid.uuid4().hex[:8]}"
    member = {"username": username, "display_name": "Carol", "password": "correct horse battery"}
    together(lambda: anyone.post("/members", json=member), times=10)
    copies = sum(listed["username"] == username for listed in anyone.get("/members").json())
    return None if copies == 1 else f"{copies} members named {username}"


def lost_tickets(clients: Clients) -> str | None:
    alice = clients["alice"]
    project_id = alice.post("/projects", json={"name": "zoo"}).json()["id"]
    numbers = [response.json()["ticket"] for response in together(
        lambda: alice.post(f"/projects/{project_id}/tickets", json={"summary": "bug"})) if response.is_success]
    after = alice.get(f"/projects/{project_id}").json()["next_ticket"]
    if len(set(numbers)) == len(numbers) and after == 1 + len(numbers):
        return None
    return f"{len(numbers)} tickets got {len(set(numbers))} distinct numbers; next_ticket = {after}"


PROOFS = {("POST", "/members"): duplicate_members, ("POST", "/projects/{project_id}/tickets"): lost_tickets}
