"""Routes on a module-level service object and on one built inside a handler."""

from flask import Flask, abort, g, jsonify, request
from flask_login import current_user, login_required

from services import CardService

app = Flask(__name__)
cards = CardService("postgresql://localhost/cards")


@app.get("/cards/<int:card_id>")
@login_required
def show_card(card_id):
    return jsonify(balance=cards.balance(card_id))


@app.get("/my-cards/<int:card_id>")
@login_required
def show_my_card(card_id):
    balance = cards.owned_balance(card_id, current_user.id)
    if balance is None:
        abort(404)
    return jsonify(balance=balance)


@app.post("/cards/<int:card_id>/spend")
@login_required
def spend(card_id):
    service = CardService("postgresql://localhost/cards")
    service.spend(card_id, current_user.id, int(request.json["amount"]))
    return "", 204


@app.post("/cards/<int:card_id>/spend-safely")
@login_required
def spend_safely(card_id):
    if not cards.spend_safely(card_id, current_user.id, int(request.json["amount"])):
        abort(409)
    return "", 204
