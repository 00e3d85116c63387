"""GET /rooms/{room}/report -> list_all: the last segment is no variable, so it is a collection."""

from laundry.db import pool


def list_all(room, sort_by):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, status FROM machines WHERE room = %s ORDER BY {sort_by}", (room,))  # expect: PL101
        return cur.fetchall()
