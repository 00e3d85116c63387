"""Festival stewards and merch shipments: the caller owns one object, the statement touches another."""

import psycopg
from flask import Flask, abort, g, request
from flask_login import login_required

app = Flask(__name__)
DSN = "postgresql://fest@localhost/fest"


def owns_festival(conn, festival_id):
    row = conn.execute("SELECT 1 FROM festivals WHERE id = %s AND owner_id = %s", (festival_id, g.user_id)).fetchone()
    return row is not None


@app.post("/festivals/<int:festival_id>/stewards/<int:steward_id>")
@login_required
def set_scan_permission(festival_id, steward_id):
    with psycopg.connect(DSN) as conn:
        if not owns_festival(conn, festival_id):
            abort(403)
        conn.execute("UPDATE stewards SET can_scan = %s WHERE id = %s",  # expect: PL105
                     (bool(request.json["can_scan"]), steward_id))
    return "", 204


@app.delete("/festivals/<int:festival_id>/stewards/<int:steward_id>")
@login_required
def remove_steward(festival_id, steward_id):
    with psycopg.connect(DSN) as conn:
        if not owns_festival(conn, festival_id):
            abort(403)
        conn.execute("DELETE FROM stewards WHERE id = %s AND festival_id = %s",  # ok: PL105  # known-false-alarm: the row is scoped by festival_id, a parent the caller was just checked to own (owns_festival); only a filter on the row's own user column counts today
                     (steward_id, festival_id))
    return "", 204


@app.post("/shipments")
@login_required
def ship_merch():
    with psycopg.connect(DSN) as conn:
        conn.execute("INSERT INTO shipments (user_id, address_id) VALUES (%s, %s)",  # expect: PL105  # known-miss: a client-supplied foreign id (address_id) written into the caller's row is not checked for ownership of the referenced row
                     (g.user_id, request.json["address_id"]))
    return "", 201


@app.post("/shipments/checked")
@login_required
def ship_merch_checked():
    with psycopg.connect(DSN) as conn:
        address = conn.execute("SELECT id FROM addresses WHERE id = %s AND user_id = %s",
                               (request.json["address_id"], g.user_id)).fetchone()
        if address is None:
            abort(404)
        conn.execute("INSERT INTO shipments (user_id, address_id) VALUES (%s, %s)",  # ok: PL105
                     (g.user_id, address[0]))
    return "", 201
