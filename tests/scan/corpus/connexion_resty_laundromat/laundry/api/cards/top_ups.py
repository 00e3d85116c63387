"""POST /cards/{card_id}/top-ups -> laundry.api.cards.top_ups.post (RestyResolver turns `-` into `_`)."""

from laundry.db import pool


def post(card_id, body, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT balance FROM cards WHERE id = %s AND member_id = %s", (card_id, user))
        (balance,) = cur.fetchone()
        cur.execute("UPDATE cards SET balance = %s WHERE id = %s AND member_id = %s",  # expect: PL102
                    (balance + body["amount"], card_id, user))
    return {"balance": balance + body["amount"]}
