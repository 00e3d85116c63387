"""Routes on a module-level store."""

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from store import Store

app = Flask(__name__)
db = SQLAlchemy(app)
store = Store(db)


@app.post("/pops")
def add_pop():
    store.add(request.json["name"])
    return "", 201


@app.post("/pops/generated")
def add_generated_pop():
    store.add_generated(request.json["name"])  # ok: PL103
    return "", 201
