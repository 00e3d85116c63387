"""Album routes: every insert fills studio_id and title from required input; likes live in an array column."""

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from models import Album, Photographer, db

bp = Blueprint("albums", __name__)


@bp.post("/albums")
@login_required
def create_album():
    data = request.get_json()
    album = Album(photographer_id=current_user.id, studio_id=data["studio_id"], title=data["title"],
                  caption=data.get("caption"))
    db.session.add(album)
    db.session.commit()
    return {"id": album.id}, 201


@bp.post("/albums/<int:album_id>/like")
@login_required
def like_album(album_id):
    album = Album.query.get_or_404(album_id)
    if current_user.id in album.liked_by:
        abort(409)
    album.liked_by = album.liked_by + [current_user.id]  # expect: PL102
    db.session.commit()
    return "", 204


@bp.post("/signup")
def sign_up():
    photographer = Photographer(email=request.json["email"])
    photographer.is_admin = Photographer.query.count() == 0  # expect: PL102  # known-miss: a COUNT(*) read then acted on (first sign-up becomes admin) is not a read-modify-write the engine tracks
    db.session.add(photographer)
    db.session.commit()
    return "", 201
