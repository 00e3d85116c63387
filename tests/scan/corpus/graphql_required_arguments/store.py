"""The one helper that saves what a resolver built."""

from models import db


def save(row):
    db.session.add(row)
    db.session.commit()
