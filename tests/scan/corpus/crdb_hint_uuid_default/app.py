"""Allotment harvests; nothing names a database product except gen_random_uuid() defaults in schema.sql."""

import os

import psycopg
from flask import Flask, request
from flask_login import login_required

app = Flask(__name__)


@app.post("/plots/<uuid:plot_id>/harvests")
@login_required
def record_harvest(plot_id):
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO harvests (plot_id, kilos) VALUES (%s, %s)",  # expect: PL103
                     (plot_id, request.json["kilos"]))
        conn.execute("UPDATE plots SET last_harvest = now() WHERE id = %s", (plot_id,))
    return "", 201
