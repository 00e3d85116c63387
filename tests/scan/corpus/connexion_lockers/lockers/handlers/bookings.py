"""Class-session bookings, found by RestyResolver from the path (no operationId in the spec)."""

from lockers.db import pool


def get(booking_id, user):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, class_name, member_id FROM bookings WHERE id = %s",  # expect: PL105
                    (booking_id,))
        return cur.fetchone()


def delete(booking_id, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM bookings WHERE id = %s AND member_id = %s", (booking_id, user))  # ok: PL105
    return None, 204
