"""Parcel lockers on SQLAlchemy; the URL is assembled with .format(**settings) and the dialect name is data."""

import os

from flask import Flask, request
from flask_login import login_required
from sqlalchemy import create_engine, text

SETTINGS = {"engine": "cockroachdb", "user": "parcels", "host": os.environ["DB_HOST"],
            "port": os.environ["DB_PORT"], "database": "parcels"}
engine = create_engine("{engine}://{user}@{host}:{port}/{database}".format(**SETTINGS))
app = Flask(__name__)


@app.post("/parcels/<int:parcel_id>/collect")
@login_required
def collect(parcel_id):
    with engine.begin() as conn:
        conn.execute(text("UPDATE parcels SET collected = true WHERE id = :id"), {"id": parcel_id})  # expect: PL103
        conn.execute(text("UPDATE lockers SET parcel_id = NULL WHERE parcel_id = :id"), {"id": parcel_id})
    return "", 204


@app.post("/parcels/<int:parcel_id>/label")
@login_required
def relabel(parcel_id):
    with engine.begin() as conn:
        conn.execute(text("UPDATE parcels SET label = :label WHERE id = :id"),  # ok: PL103
                     {"label": request.json["label"], "id": parcel_id})
    return "", 204
