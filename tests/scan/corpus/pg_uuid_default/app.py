"""The same allotment app on PostgreSQL 13+, which has gen_random_uuid() too: no CockroachDB retry needed."""

import psycopg
from flask import Flask, request
from flask_login import login_required

app = Flask(__name__)
DSN = "postgresql://allotments@localhost:5432/allotments"


@app.post("/plots/<uuid:plot_id>/harvests")
@login_required
def record_harvest(plot_id):
    with psycopg.connect(DSN) as conn:
        conn.execute("INSERT INTO harvests (plot_id, kilos) VALUES (%s, %s)",  # ok: PL103
                     (plot_id, request.json["kilos"]))
        conn.execute("UPDATE plots SET last_harvest = now() WHERE id = %s", (plot_id,))
    return "", 201
