"""Raffle routes: every statement goes through db.query / db.run."""

from flask import Flask, request

from db import query, run

app = Flask(__name__)


@app.post("/raffles/<int:raffle_id>/enter")
def enter(raffle_id):
    email = request.json["email"]
    if query("SELECT id FROM entrants WHERE email = %s AND raffle_id = %s", (email, raffle_id)):
        return {"error": "already entered"}, 409
    run("INSERT INTO entrants (email, raffle_id) VALUES (%s, %s)", (email, raffle_id))  # expect: PL104
    return "", 201


@app.post("/prizes/<int:prize_id>/claim")
def claim(prize_id):
    rows = query("SELECT stock FROM prizes WHERE id = %s", (prize_id,))
    run("UPDATE prizes SET stock = %s WHERE id = %s", (rows[0][0] - 1, prize_id))  # expect: PL102
    return "", 204


@app.post("/prizes/<int:prize_id>/claim-atomically")
def claim_atomically(prize_id):
    run("UPDATE prizes SET stock = stock - 1 WHERE id = %s AND stock > 0", (prize_id,))  # ok: PL102
    return "", 204


@app.get("/entrants")
def search():
    name = request.args["q"]
    return {"rows": query(f"SELECT id FROM entrants WHERE email LIKE '%{name}%'")}  # expect: PL101


@app.get("/entrants/safe")
def search_safely():
    return {"rows": query("SELECT id FROM entrants WHERE email LIKE %s", ("%" + request.args["q"] + "%",))}  # ok: PL101

