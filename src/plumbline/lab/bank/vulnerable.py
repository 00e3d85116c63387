"""The vulnerable bank twin: every route of the API, with the integrity failures planted.

Read it beside hardened.py: same routes, same function names, same order. Each planted flaw
carries a comment naming its failure class and what goes wrong.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from plumbline.lab.bank.common import db_pool, issue_token, login_required
from plumbline.lab.faults import fault_point

bp = Blueprint("bank_vulnerable", __name__)


@bp.post("/users")
def create_user():
    data = request.get_json()
    token, token_hash = issue_token()
    with db_pool().connection() as conn:
        # Check-then-insert: the SELECT and the INSERT commit separately and no UNIQUE (email) backs them,
        # so concurrent registrations of one email all find it free and all insert a user.
        taken = conn.execute("SELECT 1 FROM users WHERE email = %s", (data["email"],)).fetchone()
        if taken is not None:
            return jsonify(error="email already registered"), 409
        row = conn.execute(
            "INSERT INTO users (email, name, token_hash) VALUES (%s, %s, %s) RETURNING id",
            (data["email"], data["name"], token_hash),
        ).fetchone()
    return jsonify(id=str(row[0]), token=token), 201


@bp.get("/users/search")
@login_required
def search_users():
    email = request.args.get("email", "")
    with db_pool().connection() as conn:
        # SQL injection: the query string is built from the input, so `' OR '1'='1` returns every user.
        rows = conn.execute(f"SELECT id, email, name FROM users WHERE email = '{email}'").fetchall()
    return jsonify([{"id": str(row[0]), "email": row[1], "name": row[2]} for row in rows])


@bp.post("/accounts")
@login_required
def create_account():
    data = request.get_json()
    with db_pool().connection() as conn:
        # Unvalidated input: a negative opening balance is stored as sent, garbage reaches the database.
        row = conn.execute(
            "INSERT INTO accounts (owner_id, balance) VALUES (%s, %s) RETURNING id",
            (g.user_id, data["balance"]),
        ).fetchone()
    return jsonify(id=str(row[0])), 201


@bp.get("/accounts/<account_id>")
@login_required
def get_account(account_id):
    with db_pool().connection() as conn:
        # BOLA/IDOR: the account is looked up by id alone, so any authenticated caller reads anyone's balance.
        # A non-UUID id fails in the database and surfaces as a 500.
        row = conn.execute("SELECT id, owner_id, balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
    if row is None:
        return jsonify(error="account not found"), 404
    return jsonify(id=str(row[0]), owner_id=str(row[1]), balance=row[2])


@bp.post("/accounts/<account_id>/withdraw")
@login_required
def withdraw(account_id):
    data = request.get_json()
    amount = data["amount"]
    with db_pool().connection() as conn:
        # BOLA/IDOR: no owner_id predicate, so bob can withdraw from alice's account.
        row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
        if row is None:
            return jsonify(error="account not found"), 404
        # Unvalidated input: a negative amount passes this check and the UPDATE below deposits it.
        if row[0] < amount:
            return jsonify(error="insufficient funds"), 409
        new_balance = row[0] - amount
        # Lost update: the balance was read in one transaction and is written back in another,
        # so concurrent withdrawals overwrite each other's result (or fail with 40001 and a 500).
        conn.execute("UPDATE accounts SET balance = %s WHERE id = %s", (new_balance, account_id))
    return jsonify(id=account_id, balance=new_balance)


@bp.post("/transfers")
@login_required
def create_transfer():
    data = request.get_json()
    source, target, amount = data["from_account"], data["to_account"], data["amount"]
    with db_pool().connection() as conn:
        # BOLA/IDOR: from_account is not checked against the caller, so anyone can move anyone's money.
        row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (source,)).fetchone()
        if row is None:
            return jsonify(error="from_account not found"), 404
        if conn.execute("SELECT 1 FROM accounts WHERE id = %s", (target,)).fetchone() is None:
            return jsonify(error="to_account not found"), 404
        # Overdraft: the funds check ran in its own transaction; a concurrent debit can land before ours.
        if row[0] < amount:
            return jsonify(error="insufficient funds"), 409
        debited = conn.execute(
            "UPDATE accounts SET balance = balance - %s WHERE id = %s RETURNING balance", (amount, source)
        ).fetchone()
        # Partial write: the debit has already committed on its own; a crash here loses the money.
        fault_point("transfer.after_debit")
        credited = conn.execute(
            "UPDATE accounts SET balance = balance + %s WHERE id = %s RETURNING balance", (amount, target)
        ).fetchone()
    # Excessive data exposure: the recipient's balance is returned even when the account is someone else's.
    return jsonify(
        from_account={"id": source, "balance": debited[0]},
        to_account={"id": target, "balance": credited[0]},
    )


@bp.post("/orders")
@login_required
def create_order():
    data = request.get_json()
    # Mass assignment: a user_id in the body is trusted, so alice can file orders as bob.
    user_id = data.get("user_id", g.user_id)
    with db_pool().connection() as conn:
        # Unvalidated input: null, negative and string amounts are stored (PostgreSQL casts "12" to 12),
        # and the table has no NOT NULL or CHECK to refuse them.
        row = conn.execute(
            "INSERT INTO orders (user_id, amount, note) VALUES (%s, %s, %s) RETURNING id",
            (user_id, data.get("amount"), data.get("note")),
        ).fetchone()
    return jsonify(id=str(row[0])), 201


@bp.get("/orders/<order_id>")
@login_required
def get_order(order_id):
    with db_pool().connection() as conn:
        # BOLA/IDOR: the order is looked up by id alone, so any caller reads any order.
        row = conn.execute("SELECT id, user_id, amount, note FROM orders WHERE id = %s", (order_id,)).fetchone()
    if row is None:
        return jsonify(error="order not found"), 404
    return jsonify(id=str(row[0]), user_id=None if row[1] is None else str(row[1]), amount=row[2], note=row[3])


@bp.put("/sessions")
@login_required
def refresh_session():
    data = request.get_json()
    device = data["device"]
    with db_pool().connection() as conn:
        # Check-then-insert: the SELECT and the INSERT commit separately and there is no UNIQUE (user_id, device),
        # so concurrent first refreshes of one device each insert their own row.
        row = conn.execute(
            "SELECT id FROM sessions WHERE user_id = %s AND device = %s", (g.user_id, device)
        ).fetchone()
        if row is None:
            row = conn.execute(
                "INSERT INTO sessions (user_id, device, refreshes) VALUES (%s, %s, 1) RETURNING id, device, refreshes",
                (g.user_id, device),
            ).fetchone()
        else:
            row = conn.execute(
                "UPDATE sessions SET refreshes = refreshes + 1, last_seen = now() WHERE id = %s "
                "RETURNING id, device, refreshes",
                (row[0],),
            ).fetchone()
    return jsonify(id=str(row[0]), device=row[1], refreshes=row[2])


@bp.get("/sessions")
@login_required
def list_sessions():
    with db_pool().connection() as conn:
        rows = conn.execute(
            "SELECT id, device, refreshes FROM sessions WHERE user_id = %s ORDER BY device, id", (g.user_id,)
        ).fetchall()
    return jsonify([{"id": str(row[0]), "device": row[1], "refreshes": row[2]} for row in rows])


@bp.app_errorhandler(Exception)
def internal_error(exc):
    # Error leak: the exception class and text (SQL, SQLSTATE message, values) go back to the client.
    return jsonify(error=f"{type(exc).__name__}: {exc}"), 500
