"""The old points-transfer endpoint, still on psycopg2 with CockroachDB's client-side retry protocol."""

import psycopg2
import psycopg2.errors
from flask import Blueprint, g, request

legacy = Blueprint("legacy", __name__)
DSN = "postgresql://root@localhost:26257/flights?sslmode=disable"


@legacy.post("/legacy/points/transfer")
def transfer_points():
    amount = int(request.json["amount"])
    conn = psycopg2.connect(DSN)
    with conn:
        with conn.cursor() as cur:
            while True:
                try:
                    cur.execute("SAVEPOINT cockroach_restart")
                    cur.execute(  # ok: PL103, PL105
                        "UPDATE loyalty_accounts SET points = points - %s WHERE user_id = %s AND points >= %s",
                        (amount, g.user_id, amount),
                    )
                    cur.execute(
                        "UPDATE loyalty_accounts SET points = points + %s WHERE user_id = %s",
                        (amount, request.json["to_user"]),
                    )
                    cur.execute("RELEASE SAVEPOINT cockroach_restart")
                    break
                except psycopg2.errors.SerializationFailure:
                    cur.execute("ROLLBACK TO SAVEPOINT cockroach_restart")
    return "", 204


@legacy.post("/legacy/points/gift")
def gift_points():
    amount = int(request.json["amount"])
    conn = psycopg2.connect(DSN)
    with conn:
        with conn.cursor() as cur:
            cur.execute(  # expect: PL103
                "UPDATE loyalty_accounts SET points = points - %s WHERE user_id = %s AND points >= %s",
                (amount, g.user_id, amount),
            )
            cur.execute(
                "UPDATE loyalty_accounts SET points = points + %s WHERE user_id = %s",
                (amount, request.json["to_user"]),
            )
    return "", 204
