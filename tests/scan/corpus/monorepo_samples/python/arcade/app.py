"""A second Flask sample in the same tree, with its own database: arcade tokens and prizes."""

import psycopg
from flask import Flask, abort, g
from flask_login import login_required

app = Flask(__name__)
DSN = "postgresql://arcade@localhost/arcade"


@app.post("/prizes/<int:prize_id>/claim")
@login_required
def claim_prize(prize_id):
    with psycopg.connect(DSN) as conn:
        row = conn.execute("SELECT stock FROM prizes WHERE id = %s", (prize_id,)).fetchone()
        if row is None or row[0] < 1:
            abort(409)
        conn.execute("UPDATE prizes SET stock = %s WHERE id = %s", (row[0] - 1, prize_id))  # expect: PL102
        conn.execute("UPDATE accounts SET balance = balance - 10 WHERE player_id = %s AND balance >= 10",
                     (g.player_id,))
    return "", 204
