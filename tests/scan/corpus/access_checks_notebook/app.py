"""Notebooks whose handlers check ownership in helpers: by name (an access check), or by testing a helper that
compares the row with the caller."""

import psycopg
from flask import Flask, abort, request, session

app = Flask(__name__)
conn = psycopg.connect("postgresql://notes@localhost/notes")


def owns_notebook(notebook_id):
    row = conn.execute("SELECT owner_id FROM notebooks WHERE id = %s", (notebook_id,)).fetchone()
    return row is not None and row[0] == session["user_id"]


def assert_user_owns_notebook(notebook_id):
    if not owns_notebook(notebook_id):
        abort(403)


@app.post("/notebooks/<int:notebook_id>/rename")
def rename(notebook_id):
    assert_user_owns_notebook(notebook_id)
    conn.execute("UPDATE notebooks SET title = %s WHERE id = %s", (request.json["title"], notebook_id))  # ok: PL105
    conn.commit()
    return "", 204


@app.post("/notebooks/<int:notebook_id>/retitle")
def retitle(notebook_id):
    if not owns_notebook(notebook_id):
        abort(403)
    conn.execute("UPDATE notebooks SET title = %s WHERE id = %s", (request.json["title"], notebook_id))  # ok: PL105
    conn.commit()
    return "", 204


@app.post("/notebooks/<int:notebook_id>/steal")
def steal(notebook_id):
    if "user_id" not in session:
        abort(401)
    conn.execute("UPDATE notebooks SET title = %s WHERE id = %s", (request.json["title"], notebook_id))  # expect: PL105
    conn.commit()
    return "", 204
