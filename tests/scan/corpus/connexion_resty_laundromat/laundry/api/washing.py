"""POST /cards/{card_id}/washes names its handler: x-swagger-router-controller + operationId start_wash."""

from laundry.db import pool

PRICE = 350


def start_wash(card_id, body, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE cards SET balance = balance - %s "  # ok: PL102, PL105
                    "WHERE id = %s AND member_id = %s AND balance >= %s RETURNING balance",
                    (PRICE, card_id, user, PRICE))
        if cur.fetchone() is None:
            return {"error": "insufficient balance"}, 409
        cur.execute("INSERT INTO washes (card_id, machine_id) VALUES (%s, %s)",  # ok: PL106
                    (card_id, body["machine_id"]))
    return None, 201
