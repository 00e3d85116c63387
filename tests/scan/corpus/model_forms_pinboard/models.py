"""A pin board: boards, pins and their notes; some nullable columns are deliberate, some are holes."""

from typing import Optional

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class CRUDMixin:
    @classmethod
    def create(cls, **fields):
        return cls(**fields).save()

    def save(self):
        db.session.add(self)
        db.session.commit()
        return self


class Member(CRUDMixin, db.Model):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(db.String(40), unique=True)
    api_token: Mapped[Optional[str]] = mapped_column(db.String(32), unique=True)  # ok: PL202
    display_name = db.Column(db.String(80))  # expect: PL202
    theme = db.Column(db.String(20))  # ok: PL202

    def __init__(self, login, display_name, theme="light"):
        self.login = login
        self.display_name = display_name
        self.theme = theme


class Board(CRUDMixin, db.Model):
    __tablename__ = "boards"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), nullable=False)
    slug = db.Column(db.String(80), unique=True, nullable=True)  # ok: PL202
    is_archived = db.Column(db.Boolean, nullable=False, default=False)

    def archive(self):
        self.is_archived = True
        db.session.commit()
        self.log("archived")

    def log(self, kind):
        BoardEvent.create(board_id=self.id, kind=kind)  # expect: PL106 (four calls deep: archive, log, create, save)


class BoardEvent(CRUDMixin, db.Model):
    __tablename__ = "board_events"
    id = db.Column(db.Integer, primary_key=True)
    board_id = db.Column(db.Integer, db.ForeignKey("boards.id"), nullable=False)
    kind = db.Column(db.String(20), nullable=False)


class Pin(CRUDMixin, db.Model):
    __tablename__ = "pins"
    id = db.Column(db.Integer, primary_key=True)
    board_id = db.Column(db.Integer, db.ForeignKey("boards.id"))  # expect: PL202
    board_rel = db.relationship(Board, backref="pins")
    url = db.Column(db.String(300), nullable=False)


class PinNote(CRUDMixin, db.Model):
    __tablename__ = "pin_notes"
    id = db.Column(db.Integer, primary_key=True)
    pin_id = db.Column(db.Integer, db.ForeignKey("pins.id"), nullable=False)
    text = db.Column(db.Text)
