"""Notes searched through the ORM with SQL fragments: `text()` inside a filter is SQL text as written, and a
request value converted by `request.args.get(..., type=float)` is a number, not text."""

from flask import Flask, request
from flask_login import current_user, login_required
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import or_, text

app = Flask(__name__)
db = SQLAlchemy(app)


class Note(db.Model):
    __tablename__ = "notes"
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)
    created = db.Column(db.Float, nullable=False)


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)


@app.get("/notes/search")
@login_required
def search_notes():
    q = request.args.get("q", "")
    notes = Note.query.filter(Note.owner_id == current_user.id, text(f"body LIKE '%{q}%'")).all()  # expect: PL101
    return {"ids": [note.id for note in notes]}


@app.get("/notes/either")
@login_required
def search_either():
    q = request.args.get("q", "")
    notes = Note.query.filter(or_(Note.id == 0, text("body LIKE '%" + q + "%'"))).all()  # expect: PL101
    return {"ids": [note.id for note in notes]}


@app.get("/notes/bound")
@login_required
def search_bound():
    q = request.args.get("q", "")
    notes = Note.query.filter(Note.owner_id == current_user.id, text("body LIKE :q")).params(q=f"%{q}%").all()  # ok: PL101
    return {"ids": [note.id for note in notes]}


@app.get("/notes/since")
@login_required
def notes_since():
    since = request.args.get("since", 0.0, type=float)
    rows = db.session.execute(text(f"SELECT id FROM notes WHERE created > {since}"))  # ok: PL101
    return {"ids": [row.id for row in rows]}


@app.get("/notes/tagged")
@login_required
def notes_tagged():
    tag = request.args.get("tag", type=str)
    rows = db.session.execute(text(f"SELECT id FROM notes WHERE body LIKE '%{tag}%'"))  # expect: PL101
    return {"ids": [row.id for row in rows]}
