"""Kiosk API: looking exhibits up by id is the whole point, and there is nobody to tie them to."""

import psycopg
from flask import Flask, request

app = Flask(__name__)
DSN = "postgresql://kiosk@localhost/museum"


@app.get("/exhibits/<int:exhibit_id>")
def show_exhibit(exhibit_id):
    with psycopg.connect(DSN) as conn:
        return {"exhibit": conn.execute("SELECT id, title FROM exhibits WHERE id = %s",  # ok: PL105
                                        (exhibit_id,)).fetchone()}


@app.post("/exhibits/<int:exhibit_id>/visit")
def count_visit(exhibit_id):
    with psycopg.connect(DSN) as conn:
        conn.execute("UPDATE exhibits SET visits = visits + 1 WHERE id = %s", (exhibit_id,))  # ok: PL105
    return "", 204


@app.post("/exhibits/<int:exhibit_id>/guestbook")
def sign_guestbook(exhibit_id):
    with psycopg.connect(DSN) as conn:
        conn.execute("INSERT INTO guestbook (exhibit_id, message) VALUES (%s, %s)",  # ok: PL105
                     (exhibit_id, request.json["message"]))
    return "", 201


@app.post("/guestbook/<int:entry_id>/like")
def like_entry(entry_id):
    with psycopg.connect(DSN) as conn:
        conn.execute("UPDATE guestbook SET likes = likes + 1 WHERE id = %s", (entry_id,))  # ok: PL105
    return "", 204
