"""Bearer-token authentication for the bank API."""

import functools
import hashlib

from flask import abort, g, request

from db import pool


def bearer_auth(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401)
        digest = hashlib.sha256(header[7:].encode()).hexdigest()
        with pool.connection() as conn:
            row = conn.execute("SELECT user_id FROM api_keys WHERE token_hash = %s", (digest,)).fetchone()
        if row is None:
            abort(401)
        g.user_id = row[0]
        return view(*args, **kwargs)
    return wrapper
