"""Member routes."""

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy import delete as sql_delete

from club.models import Badge, Invite, Locker, Member, Rental, Towel, db
from club.store import fetch, fetch_locked, run, save

bp = Blueprint("club", __name__)


@bp.post("/locker/items")
@login_required
def store_item():
    locker = Locker.get_current_user_locker()
    if locker is None:
        abort(404)
    locker.items += 1  # expect: PL102
    db.session.commit()
    return "", 204


@bp.post("/locker/empty")
@login_required
def empty_locker():
    Locker.query.filter_by(member_id=current_user.id).update({Locker.items: 0})  # ok: PL102
    db.session.commit()
    return "", 204


@bp.post("/members/<int:member_id>/credits")
@login_required
def add_credits(member_id):
    member = fetch(Member, member_id)
    member.credits = member.credits + int(request.form["amount"])  # expect: PL102
    db.session.commit()
    return "", 204


@bp.post("/members/<int:member_id>/credits-locked")
@login_required
def add_credits_locked(member_id):
    member = fetch_locked(Member, member_id)
    member.credits = member.credits + int(request.form["amount"])  # ok: PL102
    db.session.commit()
    return "", 204


@bp.post("/members/me/badges/<kind>")
@login_required
def level_up(kind):
    member = Member.query.get_or_404(current_user.id)
    badge = next((b for b in member.badges if b.kind == kind), None)
    if badge is None:
        abort(404)
    badge.level += 1  # expect: PL102
    db.session.commit()
    return "", 204


@bp.put("/members/me/badges/<kind>/note")
@login_required
def annotate(kind):
    member = Member.query.get_or_404(current_user.id)
    for badge in member.badges:
        if badge.kind == kind:
            badge.note = request.json["note"]  # ok: PL102 (the client's text, nothing computed from the row)
    db.session.commit()
    return "", 204


@bp.post("/rentals/<int:rental_id>/return")
@login_required
def give_back(rental_id):
    rental = Rental.query.filter_by(id=rental_id, member_id=current_user.id).first_or_404()
    for line in rental.lines:
        towel = line.towel
        towel.stock += line.count  # expect: PL102
    rental.returned = True
    db.session.commit()
    return rental.label


@bp.delete("/members/me/badges")
@login_required
def forget_badges():
    run(sql_delete(Badge).where(Badge.member_id == request.args["member"]))  # ok: PL101
    db.session.commit()
    return "", 204


@bp.post("/join")
def join():
    invite = Invite.query.filter_by(code=request.form["code"]).first()
    if invite is None:
        abort(403)
    db.session.delete(invite)  # expect: PL102
    db.session.add(Member(email=request.form["email"]))
    db.session.commit()
    return "", 201


@bp.post("/join-locked")
def join_locked():
    invite = Invite.query.filter_by(code=request.form["code"]).with_for_update().first()
    if invite is None:
        abort(403)
    db.session.delete(invite)  # ok: PL102
    db.session.add(Member(email=request.form["email"]))
    db.session.commit()
    return "", 201


@bp.delete("/invites/<code>")
@login_required
def withdraw(code):
    invite = Invite.query.filter_by(code=code, created_by=current_user.id).first()
    if invite is None:
        abort(404)
    db.session.delete(invite)  # ok: PL102 (deleting twice buys nothing)
    db.session.commit()
    return "", 204


@bp.post("/towels/restock")
@login_required
def restock():
    for towel in Towel.query.filter(Towel.stock < 5).all():
        towel.stock = towel.stock + 10  # expect: PL102
    db.session.commit()
    return "", 204


@bp.post("/towels/restock-at-once")
@login_required
def restock_at_once():
    Towel.query.filter(Towel.stock < 5).update({Towel.stock: Towel.stock + 10})  # ok: PL102
    db.session.commit()
    return "", 204


@bp.post("/rentals/<int:rental_id>/recount")
@login_required
def recount(rental_id):
    rental = Rental.query.filter_by(id=rental_id, member_id=current_user.id).first_or_404()
    rental.recount()
    db.session.commit()
    return "", 204


@bp.post("/rentals/<int:rental_id>/renew")
@login_required
def renew(rental_id):
    rental = Rental.query.filter_by(id=rental_id, member_id=current_user.id).first_or_404()
    if rental.returned:
        abort(409)
    rental.returned = True  # expect: PL102
    save(Rental(member_id=current_user.id))
    db.session.commit()
    return "", 201


@bp.post("/rentals/<int:rental_id>/close")
@login_required
def close(rental_id):
    rental = Rental.query.filter_by(id=rental_id, member_id=current_user.id).first_or_404()
    if rental.returned:
        abort(409)
    rental.returned = True  # ok: PL102 (closing twice writes the same flag and nothing else)
    save(rental)
    db.session.commit()
    return "", 204
