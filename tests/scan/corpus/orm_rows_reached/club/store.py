"""Helpers shared by every model: each takes the model class it loads."""

from sqlalchemy import select

from club.models import db


def fetch(cls, uid):
    return db.session.execute(select(cls).where(cls.id == uid)).scalar()


def fetch_locked(model, uid):
    return db.session.get(model, uid, with_for_update=True)


def run(statement):
    return db.session.execute(statement)  # ok: PL101 (a statement built by SQLAlchemy, values bound)


def save(obj):
    db.session.add(obj)
