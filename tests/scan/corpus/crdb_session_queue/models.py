"""A service-desk queue on CockroachDB through Flask-SQLAlchemy (no run_transaction anywhere)."""

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Visitor(db.Model):
    __tablename__ = "visitors"
    id = db.Column(db.Integer, primary_key=True)
    desk_id = db.Column(db.Integer, db.ForeignKey("desks.id"), nullable=False)
    state = db.Column(db.String(16), nullable=False, default="waiting")


class Desk(db.Model):
    __tablename__ = "desks"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)


class Stage(db.Model):
    __tablename__ = "stages"
    id = db.Column(db.Integer, primary_key=True)
    visitor_id = db.Column(db.Integer, db.ForeignKey("visitors.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    closed = db.Column(db.Boolean, nullable=False, default=False)
