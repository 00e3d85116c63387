"""Answers come in through one route; the listeners in models.py do the rest."""

from flask import Blueprint, request
from flask_login import login_required

from models import Answer, db

bp = Blueprint("answers", __name__)


@bp.post("/tasks/<int:task_id>/answers")
@login_required
def answer(task_id):
    db.session.add(Answer(task_id=task_id, body=request.json["body"]))
    db.session.commit()
    return "", 201
