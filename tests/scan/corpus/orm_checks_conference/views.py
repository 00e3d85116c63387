"""Routes that check with the ORM first and write afterwards."""

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy import text

from models import Announcement, Attendee, Badge, Feedback, Invite, Workshop, db

bp = Blueprint("conference", __name__)


def badge_for(attendee_id, day):
    return Badge.query.filter_by(attendee_id=attendee_id, day=day).first()


@bp.post("/badges")
@login_required
def print_badge():
    day = request.json["day"]
    if Badge.query.filter_by(attendee_id=current_user.id, day=day).first():
        abort(409)
    Badge.create(attendee_id=current_user.id, day=day)  # expect: PL104
    return "", 201


@bp.post("/badges/again")
@login_required
def print_badge_via_helper():
    day = request.json["day"]
    if badge_for(current_user.id, day) is not None:
        abort(409)
    Badge(attendee_id=current_user.id, day=day).save()  # expect: PL104
    return "", 201


@bp.post("/workshops/<int:workshop_id>/enrol")
@login_required
def enrol(workshop_id):
    workshop = Workshop.query.get_or_404(workshop_id)
    attendee = Attendee.query.get(current_user.id)
    if workshop not in attendee.workshops:
        attendee.workshops.append(workshop)  # expect: PL104
    db.session.commit()
    return "", 204


@bp.post("/workshops/<int:workshop_id>/feedback")
@login_required
def leave_feedback(workshop_id):
    if Feedback.query.filter_by(attendee_id=current_user.id, workshop_id=workshop_id).first():
        abort(409)
    Feedback.create(attendee_id=current_user.id, workshop_id=workshop_id,  # expect: PL104 (low: UNIQUE holds, the violation is unhandled)
                    stars=int(request.json["stars"]))
    return "", 201


@bp.post("/invites/<code>/accept")
def accept_invite(code):
    invite = Invite.query.filter_by(code=code).first_or_404()
    if invite.used:
        abort(410)
    db.session.execute(text("UPDATE invites SET used = true WHERE code = :code"), {"code": code})  # expect: PL102
    db.session.add(Attendee(email=request.json["email"]))
    db.session.commit()
    return "", 201


@bp.post("/invites/<code>/accept-once")
def accept_invite_once(code):
    claimed = db.session.execute(  # ok: PL102
        text("UPDATE invites SET used = true WHERE code = :code AND used = false"), {"code": code}).rowcount
    if not claimed:
        abort(410)
    db.session.add(Attendee(email=request.json["email"]))
    db.session.commit()
    return "", 201


@bp.post("/workshops/<int:workshop_id>/open")
@login_required
def open_workshop(workshop_id):
    workshop = Workshop.query.get_or_404(workshop_id)
    if workshop.opened:
        abort(409)
    workshop.opened = True  # expect: PL102
    db.session.add(Announcement(workshop_id=workshop.id, body=f"{workshop.title} is open"))
    db.session.commit()
    return "", 204


@bp.get("/workshops/search")
@login_required
def search_workshops():
    term = request.args.get("q", "")
    found = Workshop.query.filter(text(f"title ILIKE '%{term}%'")).all()  # expect: PL101
    return {"titles": [w.title for w in found]}


@bp.get("/workshops/search-bound")
@login_required
def search_workshops_bound():
    term = request.args.get("q", "")
    found = Workshop.query.filter(Workshop.title.ilike(f"%{term}%")).all()  # ok: PL101
    return {"titles": [w.title for w in found]}
