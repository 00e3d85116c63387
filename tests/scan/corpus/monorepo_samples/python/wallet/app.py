"""The Python wallet sample: its schema is schema.sql next to it."""

import psycopg
from flask import Flask, g, request

app = Flask(__name__)
DSN = "postgresql://wallet@localhost/wallet"


@app.post("/accounts/<int:account_id>/withdraw")
def withdraw(account_id):
    amount = request.json["amount"]
    with psycopg.connect(DSN) as conn:
        conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s AND customer_id = %s",  # ok: PL102, PL105
                     (amount, account_id, g.customer_id))
    return "", 204


@app.post("/customers")
def register():
    with psycopg.connect(DSN) as conn:
        conn.execute("INSERT INTO customers (email) VALUES (%s)", (request.json["email"],))
    return "", 201
