"""Task routes as class-based views and functions; the caller comes from flask_jwt_extended."""

import uuid

from flask import Flask, abort, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt_identity, jwt_required
from models import Board, Recipe, Tag, Task
from pynamodb.transactions import TransactWrite

app = Flask(__name__)


class TaskView(MethodView):
    decorators = [jwt_required()]

    def get(self, owner_id, task_id):
        task = Task.get(owner_id, task_id)  # expect: PL301
        return jsonify(title=task.title)

    def delete(self, owner_id, task_id):
        task = Task.get(get_jwt_identity(), task_id)  # ok: PL301
        task.delete()
        return "", 204


app.add_url_rule("/users/<owner_id>/tasks/<task_id>", view_func=TaskView.as_view("task"))


@app.post("/tasks")
@jwt_required()
def create_task():
    data = request.get_json()
    Task(**data).save()  # expect: PL302
    return "", 201


@app.post("/tasks/quick")
@jwt_required()
def create_quick_task():
    title = request.get_json()["title"]
    Task(get_jwt_identity(), str(uuid.uuid4()), title=title).save()  # ok: PL302, PL303
    return "", 201


@app.post("/tasks/<task_id>/done")
@jwt_required()
def finish(task_id):
    task = Task.get(get_jwt_identity(), task_id)
    task.done = 1
    task.save()  # expect: PL303
    return "", 204


@app.post("/tasks/<task_id>/reopen")
@jwt_required()
def reopen(task_id):
    task = Task.get(get_jwt_identity(), task_id)
    task.update(actions=[Task.done.set(0)], condition=Task.done == 1)  # ok: PL303
    return "", 204


@app.post("/boards/<board_id>/name")
@jwt_required()
def rename_board(board_id):
    board = Board.get(board_id)
    if board.owner_id != get_jwt_identity():
        abort(404)
    board.name = request.get_json()["name"]
    board.save()  # ok: PL301, PL303
    return "", 204


@app.post("/tags")
@jwt_required()
def claim_tag():
    tag = request.get_json()["tag"]
    Tag(tag, owner_id=get_jwt_identity()).save()  # expect: PL303
    return "", 201


@app.post("/tags/<tag>/use")
@jwt_required()
def use_tag(tag):
    Tag(tag).update(actions=[Tag.uses.add(1)])  # expect: PL301  # ok: PL303
    return "", 204


@app.post("/boards/<board_id>/tasks")
@jwt_required()
def add_board_task(board_id):
    board = Board.get(board_id)
    if board.owner_id != get_jwt_identity():
        abort(404)
    task = Task(get_jwt_identity(), str(uuid.uuid4()), title=request.get_json()["title"])
    task.save()
    board.update(actions=[Board.name.set(board.name)])  # expect: PL304
    return "", 201


@app.post("/boards/<board_id>/tasks/atomic")
@jwt_required()
def add_board_task_atomically(board_id):
    board = Board.get(board_id)
    if board.owner_id != get_jwt_identity():
        abort(404)
    with TransactWrite() as transaction:
        transaction.save(Task(get_jwt_identity(), str(uuid.uuid4()), title="new"))
        transaction.update(board, actions=[Board.name.set("busy")])  # ok: PL304
    return "", 201


@app.get("/recipes/<slug>")
@jwt_required()
def show_recipe(slug):
    recipe = Recipe.get(slug)  # ok: PL301
    return jsonify(title=recipe.title)


@app.post("/tasks/bulk")
@jwt_required()
def import_tasks():
    titles = request.get_json()["titles"]
    with Task.batch_write() as batch:
        for title in titles:
            batch.save(Task(get_jwt_identity(), str(uuid.uuid4()), title=title))  # expect: PL304
    return "", 201


@app.post("/boards")
@jwt_required()
def create_board():
    board = Board(str(uuid.uuid4()), owner_id=get_jwt_identity(), name="new")
    board.save()
    try:
        Task(get_jwt_identity(), str(uuid.uuid4()), title="first task").save()  # expect: PL304
    except Exception:
        board.delete()  # ok: PL304
        raise
    return "", 201
