"""Quiz scores; the database URL comes from the environment, requirements.txt names the CockroachDB dialect."""

import os

from flask import Flask, request
from flask_login import login_required
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)


@app.post("/quizzes/<int:quiz_id>/answers")
@login_required
def answer(quiz_id):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO answers (quiz_id, choice) VALUES (:quiz, :choice)"),  # expect: PL103
                     {"quiz": quiz_id, "choice": request.json["choice"]})
        conn.execute(text("UPDATE quizzes SET answered = answered + 1 WHERE id = :quiz"), {"quiz": quiz_id})
    return "", 201


@app.post("/quizzes/<int:quiz_id>/close")
@login_required
def close(quiz_id):
    with engine.begin() as conn:
        conn.execute(text("UPDATE quizzes SET open = false WHERE id = :quiz"), {"quiz": quiz_id})  # ok: PL103
    return "", 204
