"""The bank API: accounts, transfers and API keys, psycopg 3 on CockroachDB."""

from flask import Flask, abort, g, jsonify, request
from psycopg import errors, sql

from auth import bearer_auth
from db import pool, run_in_txn

app = Flask(__name__)
ACCOUNT_FIELDS = {"balance": "balance", "limit": "overdraft_limit"}


@app.post("/transfers")
@bearer_auth
def transfer():
    data = request.get_json()
    amount = int(data["amount"])
    with pool.connection() as conn, conn.transaction():
        debited = conn.execute(  # expect: PL103
            "UPDATE accounts SET balance = balance - %s WHERE id = %s AND owner_id = %s AND balance >= %s",
            (amount, data["from"], g.user_id, amount),
        ).rowcount
        if not debited:
            abort(409, "insufficient funds")
        conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, data["to"]))
        conn.execute(
            "INSERT INTO transfers (from_account_id, to_account_id, amount) VALUES (%s, %s, %s)",
            (data["from"], data["to"], amount),
        )
    return jsonify(ok=True), 201


@app.post("/transfers/retried")
@bearer_auth
def transfer_retried():
    data = request.get_json()
    amount = int(data["amount"])

    def work(conn):
        debited = conn.execute(  # ok: PL103
            "UPDATE accounts SET balance = balance - %s WHERE id = %s AND owner_id = %s AND balance >= %s",
            (amount, data["from"], g.user_id, amount),
        ).rowcount
        if not debited:
            return False
        conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, data["to"]))
        conn.execute(
            "INSERT INTO transfers (from_account_id, to_account_id, amount) VALUES (%s, %s, %s)",
            (data["from"], data["to"], amount),
        )
        return True

    if not run_in_txn(work):
        abort(409, "insufficient funds")
    return jsonify(ok=True), 201


@app.post("/accounts/<account_id>/deposit")
@bearer_auth
def deposit(account_id):
    amount = int(request.get_json()["amount"])
    with pool.connection() as conn:
        # One statement: an implicit transaction that CockroachDB retries by itself.
        row = conn.execute(  # ok: PL103, PL102, PL105
            "UPDATE accounts SET balance = balance + %s WHERE id = %s AND owner_id = %s RETURNING balance",
            (amount, account_id, g.user_id),
        ).fetchone()
    if row is None:
        abort(404)
    return jsonify(balance=row[0])


@app.post("/accounts/<account_id>/withdraw")
@bearer_auth
def withdraw(account_id):
    amount = int(request.get_json()["amount"])
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT balance FROM accounts WHERE id = %s AND owner_id = %s", (account_id, g.user_id)
        ).fetchone()
    if row is None:
        abort(404)
    if row[0] < amount:
        abort(409, "insufficient funds")
    with pool.connection() as conn:
        conn.execute(  # expect: PL102
            "UPDATE accounts SET balance = %s WHERE id = %s AND owner_id = %s", (row[0] - amount, account_id, g.user_id)
        )
    return jsonify(balance=row[0] - amount)


@app.post("/accounts/<account_id>/withdraw-serializable")
@bearer_auth
def withdraw_serializable(account_id):
    amount = int(request.get_json()["amount"])

    def work(conn):
        row = conn.execute(
            "SELECT balance FROM accounts WHERE id = %s AND owner_id = %s", (account_id, g.user_id)
        ).fetchone()
        if row is None or row[0] < amount:
            return None
        # Same transaction at SERIALIZABLE (CockroachDB's only level), retried by run_in_txn: not a lost update.
        conn.execute(  # ok: PL102
            "UPDATE accounts SET balance = %s WHERE id = %s AND owner_id = %s", (row[0] - amount, account_id, g.user_id)
        )
        return row[0] - amount

    balance = run_in_txn(work)
    if balance is None:
        abort(409)
    return jsonify(balance=balance)


@app.post("/accounts/<account_id>/close")
@bearer_auth
def close_account(account_id):
    with pool.connection() as conn:
        conn.execute(
            "UPDATE accounts SET closed = true WHERE id = %s AND owner_id = %s AND balance = 0", (account_id, g.user_id)
        )
    with pool.connection() as conn:
        conn.execute("INSERT INTO account_events (account_id, kind) VALUES (%s, 'closed')", (account_id,))  # expect: PL106
    return "", 204


@app.get("/accounts/<account_id>/summary")
@bearer_auth
def account_summary(account_id):
    with pool.connection() as conn, conn.transaction():
        # Read-only: two SELECTs in one transaction do not need a retry loop to stay correct here.
        account = conn.execute(  # ok: PL103, PL105
            "SELECT id, balance FROM accounts WHERE id = %s AND owner_id = %s", (account_id, g.user_id)
        ).fetchone()
        if account is None:
            abort(404)
        transfers = conn.execute(
            "SELECT id, amount FROM transfers WHERE from_account_id = %s ORDER BY created_at DESC LIMIT 20",
            (account_id,),
        ).fetchall()
    return jsonify(balance=account[1], transfers=[list(t) for t in transfers])


@app.get("/accounts/<account_id>/field")
@bearer_auth
def account_field(account_id):
    name = request.args.get("name", "balance")
    column = ACCOUNT_FIELDS.get(name)
    if column is None:
        abort(400)
    query = sql.SQL("SELECT {} FROM accounts WHERE id = %s AND owner_id = %s").format(sql.Identifier(column))
    with pool.connection() as conn:
        row = conn.execute(query, (account_id, g.user_id)).fetchone()  # ok: PL101
    return jsonify(value=row[0] if row else None)


@app.get("/keys")
@bearer_auth
def find_keys():
    label = request.args.get("label", "")
    with pool.connection() as conn:
        rows = conn.execute(  # expect: PL101
            "SELECT id, label FROM api_keys WHERE user_id = '%s' AND label = '%s'" % (g.user_id, label)
        ).fetchall()
    return jsonify([list(r) for r in rows])


@app.post("/keys")
@bearer_auth
def create_key():
    data = request.get_json()
    with pool.connection() as conn:
        exists = conn.execute(  # expect: PL103
            "SELECT 1 FROM api_keys WHERE user_id = %s AND label = %s", (g.user_id, data["label"])
        ).fetchone()
        if exists:
            return jsonify(error="label in use"), 409
        conn.execute(  # expect: PL104
            "INSERT INTO api_keys (user_id, label, token_hash) VALUES (%s, %s, %s)",
            (g.user_id, data["label"], data["token_hash"]),
        )
    return "", 201


@app.put("/keys/by-label")
@bearer_auth
def put_key():
    data = request.get_json()
    with pool.connection() as conn:
        conn.execute(  # ok: PL104, PL103
            "INSERT INTO api_keys (user_id, label, token_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT (user_id, label) DO UPDATE SET token_hash = excluded.token_hash",
            (g.user_id, data["label"], data["token_hash"]),
        )
    return "", 204


@app.delete("/keys/<key_id>")
@bearer_auth
def delete_key(key_id):
    with pool.connection() as conn:
        conn.execute("DELETE FROM api_keys WHERE id = %s", (key_id,))  # expect: PL105
    return "", 204


@app.get("/keys/<key_id>")
@bearer_auth
def get_key(key_id):
    with pool.connection() as conn:
        row = conn.execute("SELECT id, user_id, label FROM api_keys WHERE id = %s", (key_id,)).fetchone()  # ok: PL105
    if row is None or row[1] != g.user_id:
        abort(404)
    return jsonify(id=str(row[0]), label=row[2])


@app.post("/signup")
def signup():
    data = request.get_json()
    try:
        with pool.connection() as conn:
            conn.execute("INSERT INTO users (email, full_name) VALUES (%s, %s)", (data["email"], data["name"]))
    except errors.UniqueViolation:
        return jsonify(error="email already registered"), 409
    return "", 201
