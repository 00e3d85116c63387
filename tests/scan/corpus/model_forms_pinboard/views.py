import secrets

from flask import Blueprint, request
from flask.views import MethodView
from flask_login import current_user, login_required

import models
from forms import NoteForm, PinForm

bp = Blueprint("boards", __name__)


class NewPin(MethodView):
    decorators = [login_required]
    form = PinForm

    def post(self, board_id):
        form = self.form()
        board = models.Board.query.get_or_404(board_id)
        form.save(board)
        board.title = form.url.data  # expect: PL106
        board.save()
        return "", 201


class NewNote(MethodView):
    decorators = [login_required]
    form = NoteForm

    def post(self, pin_id):
        form = self.form()
        form.save(pin_id)  # ok: PL106
        return "", 201


bp.add_url_rule("/boards/<int:board_id>/pins", view_func=NewPin.as_view("new_pin"))
bp.add_url_rule("/pins/<int:pin_id>/notes", view_func=NewNote.as_view("new_note"))


@bp.post("/boards/<int:board_id>/edit")
@login_required
def edit_board(board_id):
    board = models.Board.query.get_or_404(board_id)
    form = PinForm(request.form)
    form.populate_obj(board)
    board.save()
    models.PinNote(pin_id=int(request.form["pin_id"]), text="board renamed").save()  # expect: PL106
    return "", 204


@bp.post("/boards/<int:board_id>/rename")
@login_required
def rename_board(board_id):
    board = models.Board.query.get_or_404(board_id)
    form = PinForm(request.form)
    form.populate_obj(board)
    board.save()  # ok: PL106
    return "", 204


@bp.post("/boards/<int:board_id>/pins/quick")
@login_required
def quick_pin(board_id):
    board = models.Board.query.get_or_404(board_id)
    pin = models.Pin(board_rel=board, url=request.form["url"])
    models.db.session.add(pin)
    models.db.session.commit()  # ok: PL106
    return "", 201


@bp.post("/boards/<int:board_id>/archive")
@login_required
def archive_board(board_id):
    board = models.Board.query.get_or_404(board_id)
    board.archive()
    return "", 204


@bp.post("/pins")
@login_required
def import_pin():
    fields = {"url": request.json["url"]}
    fields["board_id"] = int(request.json["board"])
    pin = models.Pin(**fields)
    models.db.session.add(pin)
    models.db.session.commit()
    return "", 201


@bp.post("/members")
def sign_up():
    member = models.Member(request.form["login"], request.form["display_name"])
    member.save()
    return "", 201


@bp.post("/members/me/token")
@login_required
def mint_token():
    member = models.Member.query.get(current_user.id)
    member.api_token = secrets.token_hex(16)
    member.save()
    return {"token": member.api_token}
