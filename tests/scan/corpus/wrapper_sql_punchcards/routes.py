from flask import request, session

import cards
from db import app


@app.post("/clubs/<int:club_id>/cards")
def create_cards(club_id):
    cards.new_cards(club_id, int(request.form["count"]))
    return "", 201


@app.post("/cards/<card_id>/claim")
def claim_card(card_id):
    cards.claim(card_id, session["user_id"])
    return "", 204


@app.post("/clubs/<int:club_id>/stewards")
def add_steward(club_id):
    cards.add_steward(club_id, int(request.form["user_id"]))
    return "", 201


@app.post("/cards/<card_id>/punch")
def punch(card_id):
    cards.punch(card_id, session["user_id"], int(request.form["delta"]))
    return "", 204
