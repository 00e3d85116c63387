"""Boards whose slug a column default picks by looking the table up, and keys drawn at random."""

import secrets
import uuid

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def make_slug(context):
    slug = context.current_parameters["name"].lower()
    tries = 1
    while Board.query.filter(Board.slug == slug).first() is not None:
        slug = f"{context.current_parameters['name'].lower()}-{tries}"
        tries += 1
    return slug


class Board(db.Model):
    __tablename__ = "boards"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    slug = db.Column(db.String(90), nullable=False, default=make_slug)  # expect: PL201


class Sticker(db.Model):
    __tablename__ = "stickers"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    slug = db.Column(db.String(90), nullable=False, unique=True, default=make_slug)


class AccessKey(db.Model):
    __tablename__ = "access_keys"
    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(36), nullable=False, default=uuid.uuid4)  # ok: PL201
    api_key = db.Column(db.String(40), nullable=False, default=lambda: secrets.token_urlsafe(30))  # ok: PL201
