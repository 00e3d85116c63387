"""Routes that look a row up, then insert it when none is found."""

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import RSVP, VIP, Badge, Basket, Club, Label, Locker, Medal, Member, Tag, db
from models import Seat as SeatModel

bp = Blueprint("club", __name__)


@bp.post("/clubs/<int:club_id>/follow")
@login_required
def follow(club_id):
    club = Club.query.get_or_404(club_id)
    club.follow(Member.query.get(current_user.id))
    db.session.commit()
    return "", 204


@bp.post("/clubs/<int:club_id>/sponsor")
@login_required
def sponsor(club_id):
    club = Club.query.get_or_404(club_id)
    club.sponsor(request.json["sponsor"])
    db.session.commit()
    return "", 204


@bp.post("/clubs/<int:club_id>/first-seat")
@login_required
def first_seat(club_id):
    if SeatModel.query.filter_by(club_id=club_id).first():
        abort(409)
    try:
        db.session.add(SeatModel(club_id=club_id, number=1))  # expect: PL104
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(409)
    return "", 201


@bp.post("/clubs/<int:club_id>/seats/<int:number>")
@login_required
def take_seat(club_id, number):
    if SeatModel.query.filter_by(club_id=club_id, number=number).first():
        abort(409)
    try:
        db.session.add(SeatModel(club_id=club_id, number=number))  # ok: PL104
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(409)
    return "", 201


@bp.get("/vip")
@login_required
def my_vip_status():
    vip = VIP.query.filter_by(username=current_user.username).first()
    return {"vip": vip is not None}


@bp.get("/rsvps/<username>")
def rsvps_of(username):
    return {"count": RSVP.query.filter_by(username=username).count()}


@bp.post("/tags")
@login_required
def add_tags():
    for name in request.json["tags"]:
        if not Tag.query.filter_by(name=name).first():
            db.session.add(Tag(name))  # expect: PL104
    db.session.commit()
    return "", 201


@bp.post("/labels")
@login_required
def add_labels():
    for name in request.json["labels"]:
        if not Label.query.filter_by(name=name).first():
            try:
                db.session.add(Label(name))  # ok: PL104
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
    return "", 201


@bp.post("/basket")
@login_required
def open_basket():
    basket = Basket.get_current_user_basket()
    if basket is None:
        Basket.create(owner_id=current_user.id)  # expect: PL104
    return "", 204


@bp.post("/locker")
@login_required
def open_locker():
    locker = Locker.get_current_user_locker()
    if locker is None:
        try:
            db.session.add(Locker(owner_id=current_user.id))  # ok: PL104
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    return "", 204


@bp.post("/exports")
@login_required
def start_export():
    if current_user.task_in_progress("export"):
        abort(409)
    current_user.start_task("export")  # expect: PL104
    db.session.commit()
    return "", 202


@bp.put("/members/<email>/notes/welcome")
@login_required
def welcome_note(email):
    member = db.first_or_404(select(Member).where(Member.email == email))
    member.set_note("welcome", request.json["body"])
    db.session.commit()
    return "", 204


@bp.put("/me/roles")
@login_required
def my_roles():
    member = db.first_or_404(select(Member).where(Member.id == current_user.id))
    member.set_roles(request.json["roles"])
    db.session.commit()
    return "", 204


@bp.post("/me/badges/<kind>")
@login_required
def award_badge(kind):
    member = Member.query.get(current_user.id)
    if not next((badge for badge in member.badges if badge.kind == kind), None):
        db.session.add(Badge(kind=kind, member_id=member.id))  # expect: PL104
        db.session.commit()
    return "", 204


@bp.post("/me/medals/<kind>")
@login_required
def award_medal(kind):
    member = Member.query.get(current_user.id)
    if not any(medal.kind == kind for medal in member.medals):
        try:
            db.session.add(Medal(kind=kind, member_id=member.id))  # ok: PL104
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    return "", 204
