"""Wallet operations, bound through x-openapi-router-controller (operationId is the bare function name)."""

from lockers.db import pool


def top_up(body, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE wallets SET balance = balance + %s WHERE owner_id = %s",  # ok: PL102
                    (body["amount"], user))
    return None, 204


def pay_rent(body, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT balance FROM wallets WHERE owner_id = %s", (user,))
        (balance,) = cur.fetchone()
        if balance < body["amount"]:
            return {"error": "insufficient"}, 409
        cur.execute("UPDATE wallets SET balance = %s WHERE owner_id = %s",  # expect: PL102
                    (balance - body["amount"], user))
    return None, 204
