"""Locker rentals; the arguments connexion passes (path, query, body) are client data, `user` the caller."""

from lockers.db import pool


def show_locker(locker_id, user):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, zone, renter_id FROM lockers WHERE id = %s", (locker_id,))  # expect: PL105
        return cur.fetchone()


def show_my_locker(locker_id, user):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, zone FROM lockers WHERE id = %s AND renter_id = %s",  # ok: PL105
                    (locker_id, user))
        return cur.fetchone()


def extend_rental(locker_id, body, user):
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("SELECT paid_days FROM lockers WHERE id = %s AND renter_id = %s", (locker_id, user))
        (paid_days,) = cur.fetchone()
        cur.execute("UPDATE lockers SET paid_days = %s WHERE id = %s",  # expect: PL102
                    (paid_days + body["days"], locker_id))
    return {"paid_days": paid_days + body["days"]}


def search_lockers(zone, user):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute(f"SELECT id FROM lockers WHERE zone = '{zone}' AND renter_id IS NULL")  # expect: PL101
        return [row[0] for row in cur.fetchall()]
