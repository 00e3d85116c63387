"""API keys: connexion calls the apiKey info function and hands its `sub` to handlers as `user`."""

from laundry.db import pool


def member_for_key(key, required_scopes=None):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT member_id FROM api_keys WHERE key_hash = crypt(%s, key_hash)", (key,))
        row = cur.fetchone()
    return {"sub": row[0]} if row else None
