"""Greenhouse sensor calibration; CockroachDB is announced only by its cloud host name and verify-full TLS."""

import os

import psycopg2
from flask import Flask, request
from flask_login import login_required

app = Flask(__name__)
conn = psycopg2.connect(
    host="green-house-4821.j77.cockroachlabs.cloud",
    port=os.environ["DB_PORT"],
    dbname="greenhouse",
    user=os.environ["DB_USER"],
    sslmode="verify-full",
    sslrootcert=os.path.expanduser("~/.postgresql/root.crt"),
)


@app.post("/sensors/<int:sensor_id>/calibrate")
@login_required
def calibrate(sensor_id):
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE sensors SET offset_c = %s WHERE id = %s",  # expect: PL103
                    (request.json["offset"], sensor_id))
        cur.execute("INSERT INTO calibrations (sensor_id, offset_c) VALUES (%s, %s)",
                    (sensor_id, request.json["offset"]))
    return "", 204


@app.post("/sensors/<int:sensor_id>/ping")
@login_required
def ping(sensor_id):
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE sensors SET last_seen = now() WHERE id = %s", (sensor_id,))  # ok: PL103
    return "", 204
