"""Routes that lean on the model mixins and model methods instead of touching the session."""

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required

from database import db
from models import Fill, Holding, Trader

bp = Blueprint("trades", __name__)


@bp.post("/buy")
@login_required
def buy():
    symbol, count, price = request.json["symbol"], int(request.json["count"]), request.json["price"]
    trader = Trader.query.get(current_user.id)
    trader.spend(count * price)
    trader.save()
    Fill.create(trader_id=trader.id, symbol=symbol, unit_price=price)  # expect: PL106
    return jsonify(cash=str(trader.cash)), 201


@bp.get("/holdings/<int:holding_id>")
@login_required
def show_holding(holding_id):
    holding = Holding.find(holding_id)  # ok: PL105 (reported in Holding.find, where the unscoped lookup is)
    return jsonify(symbol=holding.symbol, shares=holding.shares)


@bp.get("/holdings/<int:holding_id>/mine")
@login_required
def show_my_holding(holding_id):
    holding = Holding.of_trader(current_user.id, holding_id)  # ok: PL105
    if holding is None:
        abort(404)
    return jsonify(symbol=holding.symbol, shares=holding.shares)


@bp.post("/holdings/<int:holding_id>/rename")
@login_required
def relabel_holding(holding_id):
    holding = Holding.of_trader(current_user.id, holding_id)
    if holding is None:
        abort(404)
    holding.update(symbol=request.json["symbol"])  # ok: PL102, PL106
    return "", 204


@bp.post("/holdings/<int:holding_id>/sell")
@login_required
def sell(holding_id):
    holding = Holding.of_trader(current_user.id, holding_id)
    count = int(request.json["count"])
    if holding is None or holding.shares < count:
        abort(409)
    holding.shares = holding.shares - count  # expect: PL102
    db.session.commit()
    return "", 204
