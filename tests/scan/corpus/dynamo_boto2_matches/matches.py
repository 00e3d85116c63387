"""Board-game matches on boto 2: the session names the player."""

import uuid

from boto.dynamodb2.items import Item
from boto.dynamodb2.layer1 import DynamoDBConnection
from boto.dynamodb2.table import Table
from flask import Flask, abort, request, session

app = Flask(__name__)
matches = Table("matches")
connection = DynamoDBConnection()


def login_required(view):
    def wrapper(*args, **kwargs):
        if "player" not in session:
            abort(401)
        return view(*args, **kwargs)
    return wrapper


@app.get("/matches/<match_id>")
@login_required
def show_match(match_id):
    match = matches.get_item(match_id=match_id)  # expect: PL301
    return dict(match)


@app.post("/matches")
@login_required
def open_match():
    match = Item(matches, data={"match_id": str(uuid.uuid4()), "host": session["player"]})
    match.save()  # ok: PL303
    return "", 201


@app.post("/matches/<match_id>/finish")
@login_required
def finish(match_id):
    match = matches.get_item(match_id=match_id)
    if match["host"] != session["player"]:
        abort(404)
    match["state"] = "finished"
    match.save()  # ok: PL301, PL303
    return "", 204


@app.post("/matches/<match_id>/force")
@login_required
def force_finish(match_id):
    match = matches.get_item(match_id=match_id)
    if match["host"] != session["player"]:
        abort(404)
    match["state"] = "finished"
    match.save(overwrite=True)  # expect: PL303  # ok: PL301
    return "", 204


@app.post("/matches/<match_id>/move")
@login_required
def move(match_id):
    cell = request.form["cell"]
    connection.update_item("matches", key={"match_id": {"S": match_id}},  # expect: PL302  # ok: PL301
                           attribute_updates={cell: {"Action": "PUT", "Value": {"S": "X"}}},
                           expected={"turn": {"Value": {"S": session["player"]}}})
    return "", 204


@app.post("/matches/<match_id>/mark")
@login_required
def mark(match_id):
    connection.update_item("matches", key={"match_id": {"S": match_id}},  # ok: PL302, PL301
                           attribute_updates={"marked": {"Action": "PUT", "Value": {"S": "yes"}}},
                           expected={"turn": {"Value": {"S": session["player"]}}})
    return "", 204


@app.post("/rematch")
@login_required
def rematch():
    match_id = request.form["match_id"]
    matches.put_item(data={"match_id": match_id, "host": session["player"]}, overwrite=True)  # expect: PL301, PL303
    return "", 201
