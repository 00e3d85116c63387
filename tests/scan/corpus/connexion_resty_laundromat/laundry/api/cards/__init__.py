"""GET and DELETE /cards/{card_id}: a package, so that /cards/{card_id}/top-ups can live in cards/top_ups.py."""

from laundry.db import pool


def get(card_id, user):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, balance FROM cards WHERE id = %s", (card_id,))  # expect: PL105
        return cur.fetchone()


def delete(card_id, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM cards WHERE id = %s AND member_id = %s", (card_id, user))  # ok: PL105
    return None, 204


def refund(card_id, amount):
    """Called by the support team's script, not by a request: no operation resolves to it."""
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT balance FROM cards WHERE id = %s", (card_id,))
        (balance,) = cur.fetchone()
        cur.execute("UPDATE cards SET balance = %s WHERE id = %s", (balance + amount, card_id))  # ok: PL102
