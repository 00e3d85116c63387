"""Lending routes: state read through the ORM, tested in Python, then written."""

from datetime import datetime, timezone

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy.orm.attributes import flag_modified

from models import Inspection, Member, Notice, Repair, Shelf, Tool, db

bp = Blueprint("lending", __name__)


@bp.post("/tools/<int:tool_id>/borrow")
@login_required
def borrow(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    if tool.lent_to is not None:
        abort(409)
    tool.lent_to = current_user.id  # expect: PL102
    db.session.commit()
    return "", 204


@bp.post("/tools/<int:tool_id>/borrow-locked")
@login_required
def borrow_locked(tool_id):
    tool = Tool.query.filter_by(id=tool_id).with_for_update().first_or_404()
    if tool.lent_to is not None:
        abort(409)
    tool.lent_to = current_user.id  # ok: PL102
    db.session.commit()
    return "", 204


@bp.post("/tools/<int:tool_id>/borrow-guarded")
@login_required
def borrow_guarded(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    if tool.retired:
        abort(410)
    taken = Tool.query.filter_by(id=tool_id, lent_to=None).update({"lent_to": current_user.id})  # ok: PL102
    db.session.commit()
    return ("", 204) if taken else ("", 409)


@bp.post("/tools/<int:tool_id>/retire")
@login_required
def retire(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    if tool.retired:
        abort(409)
    tool.retired = True  # expect: PL102
    db.session.add(Notice(tool_id=tool.id, body="retired"))
    db.session.commit()
    return "", 204


@bp.post("/tools/<int:tool_id>/oiled")
@login_required
def oiled(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    if tool.needs_oil:
        tool.needs_oil = False  # ok: PL102 (both requests write the same value and nothing else hangs on the check)
        db.session.commit()
    return "", 204


@bp.put("/tools/<int:tool_id>/label")
@login_required
def relabel(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    if tool.label != request.json["label"]:
        tool.label = request.json["label"]  # ok: PL102 (the client's edit, not a state the check protects)
    db.session.commit()
    return "", 204


@bp.post("/members/me/ping")
@login_required
def ping():
    member = Member.query.get_or_404(current_user.id)
    if not member.active:
        abort(403)
    member.last_seen = datetime.now(timezone.utc)  # ok: PL102 (another attribute than the one tested)
    db.session.commit()
    return "", 204


@bp.post("/tools/<int:tool_id>/queue")
@login_required
def join_queue(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    member = Member.query.get_or_404(current_user.id)
    if tool not in member.queued:
        member.queued.append(tool)  # expect: PL104  # known-miss: favourites also joins members and tools; without reading relationship(secondary=...) the scan cannot tell which table `queued` fills, and stays quiet
    db.session.commit()
    return "", 204


@bp.post("/tools/<int:tool_id>/like")
@login_required
def like(tool_id):
    tool = Tool.query.get_or_404(tool_id)
    member = Member.query.get_or_404(current_user.id)
    if tool not in member.liked:
        member.liked.append(tool)  # ok: PL104 (the pair is the primary key of favourites)
    db.session.commit()
    return "", 204


@bp.post("/shelves/<int:shelf_id>/watch")
@login_required
def watch(shelf_id):
    shelf = Shelf.query.get_or_404(shelf_id)
    shelf.watcher_ids.append(current_user.id)  # expect: PL102
    flag_modified(shelf, "watcher_ids")
    db.session.commit()
    return "", 204


@bp.post("/shelves/<int:shelf_id>/watch-locked")
@login_required
def watch_locked(shelf_id):
    shelf = Shelf.query.filter_by(id=shelf_id).with_for_update().first_or_404()
    shelf.watcher_ids.append(current_user.id)  # ok: PL102
    flag_modified(shelf, "watcher_ids")
    db.session.commit()
    return "", 204


@bp.post("/repairs/<int:repair_id>/close")
@login_required
def close_repair(repair_id):
    repair = Repair.query.get_or_404(repair_id)
    return ("", 204) if repair.close() else ("", 409)


@bp.post("/inspections/<int:inspection_id>/pass")
@login_required
def pass_inspection(inspection_id):
    inspection = Inspection.query.get_or_404(inspection_id)
    if inspection.passed is not None:
        abort(409)
    inspection.passed = True  # ok: PL102 (version_id_col: a concurrent change fails the flush)
    db.session.commit()
    return "", 204
