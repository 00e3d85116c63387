"""Forum routes."""

import secrets
from datetime import datetime, timezone

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from models import Poster, Topic, db
from rankings import LEADERBOARDS, leaderboard

bp = Blueprint("forum", __name__)


@bp.get("/leaderboards/<name>")
@login_required
def show_leaderboard(name):
    if name not in LEADERBOARDS:
        abort(404)
    return {"rows": [list(row) for row in leaderboard(name, 20)]}


@bp.get("/topics")
@login_required
def recent_topics():
    since = request.args.get("since", 0.0, type=float)
    after = datetime.fromtimestamp(since, tz=timezone.utc)
    topics = Topic.query.filter(Topic.created_at > after).order_by(Topic.created_at).all()  # ok: PL101
    return {"titles": [t.title for t in topics]}


@bp.post("/login")
def login():
    poster = Poster.query.filter_by(handle=request.json["handle"]).first()
    if poster is None:
        abort(401)
    poster.session_token = poster.session_token or f"{poster.id}.{request.json['nonce']}"  # ok: PL102 (session_token is a plain class attribute, not a mapped column: nothing is written back)
    return {"token": poster.session_token}


@bp.post("/me/api-token")
@login_required
def mint_api_token():
    poster = db.session.get(Poster, current_user.id)
    poster.api_token = secrets.token_urlsafe(32)  # ok: PL102
    db.session.commit()
    return "", 204
