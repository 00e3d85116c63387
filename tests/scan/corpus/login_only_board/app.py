"""A team's shared board: every request must be signed in, but the code never asks who signs in, so every member
sees and edits every note (a shared board, not per-user rows): reaching a note by its id is the design."""

from flask import Flask, request
from flask_jwt_extended import JWTManager, jwt_required
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)
JWTManager(app)


class Note(db.Model):
    __tablename__ = "note"
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, nullable=False)
    text = db.Column(db.Text, nullable=False)


@app.get("/notes/<int:note_id>")
@jwt_required()
def show_note(note_id):
    note = Note.query.get(note_id)  # ok: PL105
    return {"text": note.text}


@app.put("/notes/<int:note_id>")
@jwt_required()
def edit_note(note_id):
    note = Note.query.get(note_id)  # ok: PL105
    note.text = request.get_json()["text"]
    db.session.commit()
    return {"ok": True}
