"""GET /machines -> list_all (the resolver's collection name), GET /machines/{machine_id} -> get."""

from laundry.db import pool


def list_all(room):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, status FROM machines WHERE room = %s", (room,))  # ok: PL101
        return cur.fetchall()


def get(machine_id):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT id, room, status FROM machines WHERE id = %s", (machine_id,))  # ok: PL105
        return cur.fetchone()
