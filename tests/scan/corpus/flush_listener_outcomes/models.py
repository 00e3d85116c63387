"""A crowdsourcing app: answers to tasks, and the outcome a mapper event listener keeps for each task."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

db = SQLAlchemy()


class Task(db.Model):
    __tablename__ = "tasks"
    id = db.Column(db.Integer, primary_key=True)
    question = db.Column(db.Text, nullable=False)


class Answer(db.Model):
    __tablename__ = "answers"
    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)


class Outcome(db.Model):
    """The latest outcome of a task is the one row with latest = true: nothing in the schema says so."""
    __tablename__ = "outcomes"
    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id"), nullable=False)
    latest = db.Column(db.Boolean, nullable=False)


class Tally(db.Model):
    __tablename__ = "tallies"
    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id"), unique=True, nullable=False)


@event.listens_for(Answer, "after_insert")
def record_outcome(mapper, connection, target):
    """Runs inside the flush of the request that stores an answer."""
    previous = connection.execute("SELECT id FROM outcomes WHERE task_id = %s AND latest" % target.task_id)
    for row in previous:
        if row:
            connection.execute("UPDATE outcomes SET latest = false WHERE id = %s" % row.id)
    connection.execute("INSERT INTO outcomes (task_id, latest) VALUES (%s, true)" % target.task_id)  # expect: PL104


@event.listens_for(Answer, "after_insert")
def open_tally(mapper, connection, target):
    found = connection.execute("SELECT id FROM tallies WHERE task_id = %s" % target.task_id).fetchone()
    if found is None:
        try:
            connection.execute("INSERT INTO tallies (task_id) VALUES (%s)" % target.task_id)  # ok: PL104
        except IntegrityError:
            pass
