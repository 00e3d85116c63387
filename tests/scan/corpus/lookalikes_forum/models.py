"""A small forum whose schema is right where a quick reading says it is wrong."""

import secrets
from datetime import datetime
from typing import Optional

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Poster(db.Model):
    __tablename__ = "posters"
    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)  # ok: PL201, PL202
    password_hash: Mapped[Optional[str]] = mapped_column(String(128))  # ok: PL202
    # Minted on first request of an API token, never by sign-up: NULL means "no token yet"; unique once set.
    api_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)  # ok: PL202
    # A plain class attribute, not a column: the session token handed out at login, never stored.
    session_token = ""


class Topic(db.Model):
    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Reply(db.Model):
    __tablename__ = "replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    # Guests may reply: the author is optional by design, stated explicitly.
    author_id = db.Column(db.Integer, db.ForeignKey("posters.id"), nullable=True)  # ok: PL202
    body: Mapped[str]


class Integration(db.Model):
    __tablename__ = "integrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[int] = mapped_column(ForeignKey("posters.id"))
    # 160 random bits per key: a duplicate is not a realistic failure, so no UNIQUE is needed to stay correct.
    api_key: Mapped[str] = mapped_column(String(40), default=lambda: secrets.token_hex(20))  # ok: PL201
    # Left over from a removed webhook feature: no code writes or reads it any more.
    webhook_token = db.Column(db.String(64))  # ok: PL201, PL202  # known-false-alarm: an unused column (no code writes or reads it) is judged by its name alone when the code makes no insert into its table either
