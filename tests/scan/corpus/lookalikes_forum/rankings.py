"""Leaderboards are materialized views; their names are checked against an allow-list by the route."""

from sqlalchemy import text

from models import db

LEADERBOARDS = ("top_posters", "top_topics")


def leaderboard(view_name, limit):
    return _rows(view_name, limit)


def _rows(view_name, limit):
    return db.session.execute(text(f"SELECT name, score FROM {view_name} ORDER BY score DESC LIMIT :n"),  # ok: PL101  # known-false-alarm: the view name is checked against LEADERBOARDS in the route two calls up; the allow-list is not seen through the helpers
                              {"n": limit}).all()
