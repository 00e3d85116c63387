"""Billing routes: all SQL lives in services.py."""

from decimal import Decimal

from flask import Flask, abort, g, jsonify, request

import services
from services import pay, pay_atomic, pool, register_customer

app = Flask(__name__)


def customer_required(view):
    def wrapper(*args, **kwargs):
        if getattr(g, "customer_id", None) is None:
            abort(401)
        return view(*args, **kwargs)
    wrapper.__name__ = view.__name__
    return wrapper


@app.get("/invoices/<int:invoice_id>")
@customer_required
def get_invoice(invoice_id):
    with pool.connection() as conn:
        row = services.find_invoice(conn, invoice_id)
    if row is None:
        abort(404)
    return jsonify(id=row[0], total=str(row[2]))


@app.get("/my/invoices/<int:invoice_id>")
@customer_required
def get_my_invoice(invoice_id):
    with pool.connection() as conn:
        row = services.find_customer_invoice(conn, invoice_id, g.customer_id)
    if row is None:
        abort(404)
    return jsonify(id=row[0], total=str(row[2]))


@app.get("/invoices/search")
@customer_required
def search():
    with pool.connection() as conn:
        rows = services.search_invoices(conn, g.customer_id, request.args.get("q", ""))
        open_count = services.count_by_status(conn, g.customer_id, services.OPEN)
    return jsonify(ids=[r[0] for r in rows], open=open_count)


@app.post("/invoices/<int:invoice_id>/pay")
@customer_required
def pay_invoice(invoice_id):
    amount = Decimal(request.json["amount"])
    with pool.connection() as conn:
        pay(conn, invoice_id, g.customer_id, amount)
    return "", 204


@app.post("/invoices/<int:invoice_id>/pay-atomic")
@customer_required
def pay_invoice_atomic(invoice_id):
    amount = Decimal(request.json["amount"])
    with pool.connection() as conn:
        if not pay_atomic(conn, invoice_id, g.customer_id, amount):
            abort(409)
    return "", 204


@app.post("/customers")
def create_customer():
    with pool.connection() as conn:
        created = register_customer(conn, request.json["email"], request.json["name"])
    if created is None:
        abort(409)
    return jsonify(id=created[0]), 201


@app.post("/invoices/<int:invoice_id>/settle")
@customer_required
def settle_invoice(invoice_id):
    amount = Decimal(request.json["amount"])
    services.mark_paid(invoice_id, g.customer_id)
    services.log_payment(invoice_id, amount)  # expect: PL106
    return "", 204


@app.post("/invoices/<int:invoice_id>/settle-atomic")
@customer_required
def settle_invoice_atomic(invoice_id):
    amount = Decimal(request.json["amount"])
    with pool.connection() as conn, conn.transaction():
        services.settle(conn, invoice_id, g.customer_id, amount)
    return "", 204
