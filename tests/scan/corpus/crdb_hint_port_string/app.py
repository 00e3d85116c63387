"""Club budget transfers over psycopg2; the only sign of CockroachDB is port="26257" written as a string."""

import psycopg2
from flask import Flask, g, request

app = Flask(__name__)


def connect():
    return psycopg2.connect(host="db", port="26257", dbname="clubs", user="treasurer")


@app.post("/budgets/<int:club_id>/rename")
def rename_budget(club_id):
    conn = connect()
    conn.autocommit = True  # this connection only: each statement commits on its own
    with conn.cursor() as cur:
        cur.execute("UPDATE budgets SET label = %s WHERE club_id = %s AND treasurer_id = %s",  # ok: PL103
                    (request.json["label"], club_id, g.user_id))
    return "", 204


@app.post("/budgets/<int:club_id>/transfer")
def transfer(club_id):
    amount = int(request.json["amount"])
    conn = connect()  # default psycopg2 connection: both updates share one transaction, committed once
    with conn.cursor() as cur:
        cur.execute("UPDATE budgets SET remaining = remaining - %s "  # expect: PL103
                    "WHERE club_id = %s AND treasurer_id = %s AND remaining >= %s",
                    (amount, club_id, g.user_id, amount))
        cur.execute("UPDATE budgets SET remaining = remaining + %s WHERE club_id = %s",  # ok: PL106
                    (amount, request.json["to_club"]))
    conn.commit()
    return "", 204
