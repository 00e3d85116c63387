"""A club's noticeboard: notices (ariadne, schema-first) and teams (graphene), Flask-SQLAlchemy models."""

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Notice(db.Model):
    __tablename__ = "notice"
    id = db.Column(db.Integer, primary_key=True)
    headline = db.Column(db.String(200))  # expect: PL202
    body = db.Column(db.Text)  # ok: PL202
    pinned_by = db.Column(db.String(80))  # ok: PL202


class Team(db.Model):
    __tablename__ = "team"
    id = db.Column(db.Integer, primary_key=True)
    motto = db.Column(db.String(120))  # expect: PL202
    colours = db.Column(db.String(40))  # ok: PL202


class Fixture(db.Model):
    __tablename__ = "fixture"
    id = db.Column(db.Integer, primary_key=True)
    venue = db.Column(db.String(120))  # ok: PL202


class Booking(db.Model):
    __tablename__ = "booking"
    id = db.Column(db.Integer, primary_key=True)
    court = db.Column(db.String(40))  # expect: PL202


class Pin(db.Model):
    __tablename__ = "pin"
    id = db.Column(db.Integer, primary_key=True)
    section = db.Column(db.String(40))  # expect: PL202
    note = db.Column(db.String(200))  # ok: PL202


class Event(db.Model):
    __tablename__ = "event"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))  # expect: PL202
    subtitle = db.Column(db.String(200))  # ok: PL202


class Poster(db.Model):
    __tablename__ = "poster"
    id = db.Column(db.Integer, primary_key=True)
    caption = db.Column(db.String(200))  # ok: PL202
    wall = db.Column(db.String(10))  # expect: PL202
