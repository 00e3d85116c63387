"""The hardened bank twin: the same API as vulnerable.py, with every planted failure fixed.

Read it beside vulnerable.py: same routes, same function names, same order. Each fix carries
a comment saying why it holds.
"""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar
from uuid import UUID

from flask import Blueprint, abort, current_app, g, jsonify, request
from psycopg import Connection, errors
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from plumbline.lab.bank.common import db_pool, issue_token, login_required
from plumbline.lab.faults import fault_point

T = TypeVar("T")

bp = Blueprint("bank_hardened", __name__)

MAX_CENTS = 10**12
MAX_ATTEMPTS = 30
BACKOFF_BASE = 0.005
BACKOFF_CAP = 0.25
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
# PostgreSQL text cannot hold NUL: refusing it in validation keeps such input a 422 instead of a database error.
TEXT = r"^[^\x00]*$"
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+$"


def run_transaction(pool: ConnectionPool, work: Callable[[Connection], T]) -> T:
    """Run `work(conn)` in one transaction; retry it from the start when the database asks for a retry.

    CockroachDB requires client-side retry of multi-statement transactions: when it cannot
    serialize a transaction it aborts it with SQLSTATE 40001 and the client must run it again.
    PostgreSQL at SERIALIZABLE returns 40001 even for one contended statement (CockroachDB
    retries those itself), and 40P01 when it breaks a deadlock. Each retry waits a random time
    up to an exponentially growing cap (full jitter), so contending requests spread out instead
    of colliding again; the connection goes back to the pool while it waits. After the last
    attempt the error is re-raised. `work` must have no effects outside the transaction.
    """
    attempt = 0
    while True:
        try:
            with pool.connection() as conn, conn.transaction():
                return work(conn)
        except RETRYABLE:
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: StrictStr = Field(min_length=3, max_length=254, pattern=EMAIL)
    name: StrictStr = Field(min_length=1, max_length=100, pattern=TEXT)


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    balance: StrictInt = Field(ge=0, le=MAX_CENTS)


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0, le=MAX_CENTS)


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_account: UUID
    to_account: UUID
    amount: StrictInt = Field(gt=0, le=MAX_CENTS)


class NewOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(gt=0, le=MAX_CENTS)
    note: StrictStr | None = Field(default=None, max_length=500, pattern=TEXT)


class SessionRefresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: StrictStr = Field(min_length=1, max_length=100, pattern=TEXT)


@bp.post("/users")
def create_user():
    body = NewUser.model_validate(request.get_json())
    token, token_hash = issue_token()

    def insert_user(conn: Connection):
        return conn.execute(
            "INSERT INTO users (email, name, token_hash) VALUES (%s, %s, %s) RETURNING id",
            (body.email, body.name, token_hash),
        ).fetchone()

    try:
        row = run_transaction(db_pool(), insert_user)
    except errors.UniqueViolation:
        # UNIQUE (email) decides among concurrent registrations: exactly one INSERT can commit.
        return jsonify(error="email already registered"), 409
    return jsonify(id=str(row[0]), token=token), 201


@bp.get("/users/search")
@login_required
def search_users():
    email = request.args.get("email")
    if not email:
        abort(400, "query parameter 'email' is required")
    if len(email) > 254:
        abort(400, "query parameter 'email' is longer than 254 characters")
    if "\x00" in email:
        abort(400, "query parameter 'email' contains a NUL character")
    with db_pool().connection() as conn:
        # A bound parameter is sent apart from the SQL text: the input is only ever compared, never parsed.
        rows = conn.execute("SELECT id, email, name FROM users WHERE email = %s", (email,)).fetchall()
    return jsonify([{"id": str(row[0]), "email": row[1], "name": row[2]} for row in rows])


@bp.post("/accounts")
@login_required
def create_account():
    # The model admits only an integer number of cents in [0, 10**12]; anything else is a 422.
    body = NewAccount.model_validate(request.get_json())
    with db_pool().connection() as conn:
        row = conn.execute(
            "INSERT INTO accounts (owner_id, balance) VALUES (%s, %s) RETURNING id",
            (g.user_id, body.balance),
        ).fetchone()
    return jsonify(id=str(row[0])), 201


@bp.get("/accounts/<uuid:account_id>")
@login_required
def get_account(account_id: UUID):
    with db_pool().connection() as conn:
        # The owner predicate is part of the lookup: someone else's account is indistinguishable from none (404).
        # The uuid converter answers 404 for a malformed id before any SQL runs.
        row = conn.execute(
            "SELECT id, owner_id, balance FROM accounts WHERE id = %s AND owner_id = %s",
            (account_id, g.user_id),
        ).fetchone()
    if row is None:
        return jsonify(error="account not found"), 404
    return jsonify(id=str(row[0]), owner_id=str(row[1]), balance=row[2])


@bp.post("/accounts/<uuid:account_id>/withdraw")
@login_required
def withdraw(account_id: UUID):
    # Only a positive integer amount passes, so a withdrawal can never deposit.
    body = Withdrawal.model_validate(request.get_json())

    def debit(conn: Connection) -> int:
        # Check and write are one guarded statement: the database compares and subtracts on the row it holds,
        # so no concurrent withdrawal can slip in between, and the owner predicate refuses other users' accounts.
        row = conn.execute(
            "UPDATE accounts SET balance = balance - %s "
            "WHERE id = %s AND owner_id = %s AND balance >= %s RETURNING balance",
            (body.amount, account_id, g.user_id, body.amount),
        ).fetchone()
        if row is not None:
            return row[0]
        owned = conn.execute(
            "SELECT 1 FROM accounts WHERE id = %s AND owner_id = %s", (account_id, g.user_id)
        ).fetchone()
        if owned is None:
            abort(404, "account not found")
        abort(409, "insufficient funds")

    # 40001 under contention is retried here instead of surfacing as a 500.
    balance = run_transaction(db_pool(), debit)
    return jsonify(id=str(account_id), balance=balance)


@bp.post("/transfers")
@login_required
def create_transfer():
    body = Transfer.model_validate(request.get_json())
    if body.from_account == body.to_account:
        abort(400, "from_account and to_account must differ")

    def move(conn: Connection) -> tuple[int, int | None]:
        # Both rows are locked in id order before either is written, so two opposite transfers queue
        # instead of deadlocking; run_transaction would also retry a deadlock (40P01).
        rows = conn.execute(
            "SELECT id, owner_id FROM accounts WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
            (body.from_account, body.to_account),
        ).fetchall()
        owners = {row[0]: str(row[1]) for row in rows}
        # Money leaves only an account of the caller's; someone else's looks exactly like a missing one.
        if owners.get(body.from_account) != g.user_id:
            abort(404, "from_account not found")
        if body.to_account not in owners:
            abort(404, "to_account not found")
        debited = conn.execute(
            "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s RETURNING balance",
            (body.amount, body.from_account, body.amount),
        ).fetchone()
        if debited is None:
            abort(409, "insufficient funds")
        # Still inside the transaction: a crash here rolls the debit back with everything else.
        fault_point("transfer.after_debit")
        credited = conn.execute(
            "UPDATE accounts SET balance = balance + %s WHERE id = %s RETURNING balance",
            (body.amount, body.to_account),
        ).fetchone()
        # The recipient's balance is theirs: it is returned only when the caller owns that account too.
        return debited[0], credited[0] if owners[body.to_account] == g.user_id else None

    from_balance, to_balance = run_transaction(db_pool(), move)
    return jsonify(
        from_account={"id": str(body.from_account), "balance": from_balance},
        to_account={"id": str(body.to_account), "balance": to_balance},
    )


@bp.post("/orders")
@login_required
def create_order():
    # extra="forbid" turns a user_id in the body into a 422; the owner always comes from the token.
    body = NewOrder.model_validate(request.get_json())
    with db_pool().connection() as conn:
        row = conn.execute(
            "INSERT INTO orders (user_id, amount, note) VALUES (%s, %s, %s) RETURNING id",
            (g.user_id, body.amount, body.note),
        ).fetchone()
    return jsonify(id=str(row[0])), 201


@bp.get("/orders/<uuid:order_id>")
@login_required
def get_order(order_id: UUID):
    with db_pool().connection() as conn:
        # Scoped to the caller in the query itself: someone else's order is a 404.
        row = conn.execute(
            "SELECT id, user_id, amount, note FROM orders WHERE id = %s AND user_id = %s", (order_id, g.user_id)
        ).fetchone()
    if row is None:
        return jsonify(error="order not found"), 404
    return jsonify(id=str(row[0]), user_id=str(row[1]), amount=row[2], note=row[3])


@bp.put("/sessions")
@login_required
def refresh_session():
    body = SessionRefresh.model_validate(request.get_json())

    def upsert(conn: Connection):
        # One statement against UNIQUE (user_id, device): the first refresh inserts, every concurrent or later
        # one updates that same row. On PostgreSQL a contended upsert can return 40001, hence the retry.
        return conn.execute(
            "INSERT INTO sessions (user_id, device, refreshes) VALUES (%s, %s, 1) "
            "ON CONFLICT (user_id, device) DO UPDATE SET refreshes = sessions.refreshes + 1, last_seen = now() "
            "RETURNING id, device, refreshes",
            (g.user_id, body.device),
        ).fetchone()

    row = run_transaction(db_pool(), upsert)
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
    # The client learns only that the request failed; the exception and its SQL stay in the server log.
    current_app.logger.error("unhandled exception in %s %s", request.method, request.path, exc_info=exc)
    return jsonify(error="internal error"), 500
