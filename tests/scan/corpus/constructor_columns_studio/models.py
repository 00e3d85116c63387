"""A photo studio's sessions and albums; several columns are required only by the code that fills them."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import ARRAY

db = SQLAlchemy()


class Photographer(db.Model):
    __tablename__ = "photographers"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    is_admin = db.Column(db.Boolean, nullable=False, default=False)


class Album(db.Model):
    __tablename__ = "albums"
    id = db.Column(db.Integer, primary_key=True)
    photographer_id = db.Column(db.Integer, db.ForeignKey("photographers.id"))  # expect: PL202
    studio_id = db.Column(db.Integer, db.ForeignKey("studios.id"))  # expect: PL202
    title = db.Column(db.String(120))  # expect: PL202  # known-miss: a plain column that every constructor call fills from data["title"] (KeyError as validation) is not taken as required; only money and FK columns are
    caption = db.Column(db.String(500))  # ok: PL202
    liked_by = db.Column(ARRAY(db.Integer), nullable=False, default=list)


class Studio(db.Model):
    __tablename__ = "studios"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)
