"""Tasks with PATCH partial updates on PostgreSQL (SERIALIZABLE): one PATCH sets values, one adds to a counter.

`PATCH /tasks/{task_id}` sets any of `title`, `priority`, `done`: applying it twice is applying it once, so a
burst of it loses nothing, in either twin. `PATCH /tasks/{task_id}/time` adds `add_minutes` to
`minutes_spent`. Identities: static bearer tokens.

Vulnerable twin: the time PATCH reads `minutes_spent` and writes the sum back in another transaction, so
concurrent PATCHes lose minutes. Hardened twin: `minutes_spent = minutes_spent + %s` in one UPDATE, retried
on 40001. Both twins keep tasks to their owner and validate every field.
"""

from __future__ import annotations

import uuid

from flask import abort, g, jsonify

from zoo import Backends, Built, Planted, Sound
from zoo.clients import Clients, succeeded, together
from zoo.storage import PostgresDatabase, run_transaction
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, link, login_required, me,
                     operation, path_parameter, static_tokens)

SCHEMA = [("CREATE TABLE tasks (id text PRIMARY KEY, owner text NOT NULL, title text NOT NULL,"
           " priority integer NOT NULL, done boolean NOT NULL DEFAULT false,"
           " minutes_spent integer NOT NULL DEFAULT 0)")]
COLUMNS = ("id", "owner", "title", "priority", "done", "minutes_spent")

PLANTED = [
    Planted(("PL401",), "PATCH", "/tasks/{task_id}/time",
            "minutes_spent read, then written back with the sum in another transaction: concurrent PATCHes lose time"),
]
SET_IS_IDEMPOTENT = "a PATCH that sets values: a burst of the same one ends where one request ends"
SOUND = [Sound("PL401", "PATCH", "/tasks/{task_id}", SET_IS_IDEMPOTENT),
         Sound("PL403", "PATCH", "/tasks/{task_id}", SET_IS_IDEMPOTENT)]
KNOWN_FALSE_ALARMS = []

TITLE = {"type": "string", "minLength": 1, "maxLength": 100}
PRIORITY = {"type": "integer", "minimum": 1, "maximum": 5}
TASK_IN = {"type": "object", "required": ["title", "priority"], "additionalProperties": False,
           "properties": {"title": TITLE, "priority": PRIORITY}}
TASK_PATCH = {"type": "object", "minProperties": 1, "additionalProperties": False,
              "properties": {"title": TITLE, "priority": PRIORITY, "done": {"type": "boolean"}}}
TIME = {"type": "object", "required": ["add_minutes"], "additionalProperties": False,
        "properties": {"add_minutes": {"type": "integer", "minimum": 1, "maximum": 480}}}
TASK = {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "owner": {"type": "string"}, "title": TITLE, "priority": PRIORITY,
    "done": {"type": "boolean"}, "minutes_spent": {"type": "integer", "minimum": 0}}}
TASK_ID = path_parameter("task_id", {"type": "string", "format": "uuid"})
TO_TASK = {"task_id": "$response.body#/id"}
SPEC = document("Tasks", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/tasks": {"post": operation("createTask", {"201": answer("created", TASK, links={
        "GetTask": link("getTask", TO_TASK), "UpdateTask": link("updateTask", TO_TASK),
        "LogTime": link("logTime", TO_TASK)}), **errors(401, 422)}, body=TASK_IN)},
    "/tasks/{task_id}": {
        "get": operation("getTask", {"200": answer("the task", TASK), **errors(401, 404)}, parameters=[TASK_ID]),
        "patch": operation("updateTask", {"200": answer("updated: the task", TASK), **errors(401, 404, 422)},
                           parameters=[TASK_ID], body=TASK_PATCH),
    },
    "/tasks/{task_id}/time": {"patch": operation("logTime", {
        "200": answer("logged: the task", TASK), **errors(401, 404, 422)}, parameters=[TASK_ID], body=TIME)},
})


def build(twin: str, backends: Backends) -> Built:
    database = PostgresDatabase(backends.postgres_url, f"tasks_{twin}", SCHEMA)
    pool = database.pool
    tokens = static_tokens()
    app = create_app(f"zoo.tasks.{twin}", SPEC, tokens)
    hardened = twin == "hardened"

    def task_row(conn, task_id: str) -> dict:
        row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM tasks WHERE id = %s AND owner = %s",
                           (task_id, g.user)).fetchone()
        if row is None:
            abort(404, "no such task")
        return dict(zip(COLUMNS, row))

    app.add_url_rule("/me", "me", login_required(me))

    @app.post("/tasks")
    @login_required
    def create_task():
        fields = json_body(TASK_IN)
        task_id = str(uuid.uuid4())
        with pool.connection() as conn:
            conn.execute("INSERT INTO tasks (id, owner, title, priority) VALUES (%s, %s, %s, %s)",
                         (task_id, g.user, fields["title"], fields["priority"]))
            return jsonify(task_row(conn, task_id)), 201

    @app.get("/tasks/<task_id>")
    @login_required
    def get_task(task_id):
        with pool.connection() as conn:
            return jsonify(task_row(conn, task_id))

    @app.patch("/tasks/<task_id>")
    @login_required
    def update_task(task_id):
        changes = json_body(TASK_PATCH)
        assignments = ", ".join(f"{column} = %({column})s" for column in changes)  # names checked by TASK_PATCH

        def update(conn):
            task_row(conn, task_id)
            conn.execute(f"UPDATE tasks SET {assignments} WHERE id = %(id)s", {**changes, "id": task_id})
            return task_row(conn, task_id)
        return jsonify(run_transaction(pool, update))

    @app.patch("/tasks/<task_id>/time")
    @login_required
    def log_time(task_id):
        minutes = json_body(TIME)["add_minutes"]
        if hardened:
            def add(conn):
                conn.execute("UPDATE tasks SET minutes_spent = minutes_spent + %s WHERE id = %s AND owner = %s",
                             (minutes, task_id, g.user))
                return task_row(conn, task_id)
            return jsonify(run_transaction(pool, add))
        with pool.connection() as conn:
            spent = task_row(conn, task_id)["minutes_spent"]
        # Lost update: the sum of a value read in another transaction is written back.
        run_transaction(pool, lambda conn: conn.execute("UPDATE tasks SET minutes_spent = %s WHERE id = %s",
                                                        (spent + minutes, task_id)))
        with pool.connection() as conn:
            return jsonify(task_row(conn, task_id))

    return Built(app, *bearer_identities(tokens), close=database.close)


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def lost_minutes(clients: Clients) -> str | None:
    alice = clients["alice"]
    task_id = alice.post("/tasks", json={"title": "write the report", "priority": 2}).json()["id"]
    logged = succeeded(together(lambda: alice.patch(f"/tasks/{task_id}/time", json={"add_minutes": 1})))
    spent = alice.get(f"/tasks/{task_id}").json()["minutes_spent"]
    return None if spent == logged else f"{logged} PATCHes of 1 minute left minutes_spent = {spent}"


PROOFS = {("PATCH", "/tasks/{task_id}/time"): lost_minutes}
