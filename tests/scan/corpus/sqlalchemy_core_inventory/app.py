"""Inventory service: SQLAlchemy Core on PostgreSQL."""

from flask import Flask, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import create_engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from tables import items, reservations, users

app = Flask(__name__)
engine = create_engine("postgresql+psycopg://inventory@localhost/inventory")
ITEMS_TABLE = "items"


@app.get("/items/<int:item_id>")
def get_item(item_id):
    with engine.connect() as conn:
        row = conn.execute(select(items).where(items.c.id == item_id)).first()  # ok: PL105
    if row is None:
        abort(404)
    return jsonify(dict(row._mapping))


@app.get("/items/search")
def search_items():
    prefix = request.args.get("prefix", "")
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, sku FROM items WHERE sku LIKE '{prefix}%'")).all()  # expect: PL101
    return jsonify([list(r) for r in rows])


@app.get("/items/by-sku")
def item_by_sku():
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, sku FROM items WHERE sku = :sku"), {"sku": request.args["sku"]}).first()  # ok: PL101
    return jsonify(list(row) if row else None)


@app.get("/items/count")
def count_items():
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM {ITEMS_TABLE}")).scalar_one()  # ok: PL101
    return jsonify(count=total)


@app.post("/items/<int:item_id>/reserve")
@login_required
def reserve(item_id):
    qty = int(request.get_json()["qty"])
    with engine.begin() as conn:
        row = conn.execute(select(items.c.on_hand).where(items.c.id == item_id)).one()
        if row.on_hand < qty:
            abort(409, "not enough stock")
        conn.execute(update(items).where(items.c.id == item_id).values(on_hand=row.on_hand - qty))  # expect: PL102
        conn.execute(insert(reservations).values(item_id=item_id, user_id=current_user.id, qty=qty,
                                                 external_ref=request.get_json()["ref"]))
    return "", 201


@app.post("/items/<int:item_id>/reserve-locked")
@login_required
def reserve_locked(item_id):
    qty = int(request.get_json()["qty"])
    with engine.begin() as conn:
        row = conn.execute(select(items.c.on_hand).where(items.c.id == item_id).with_for_update()).one()
        if row.on_hand < qty:
            abort(409, "not enough stock")
        conn.execute(update(items).where(items.c.id == item_id).values(on_hand=row.on_hand - qty))  # ok: PL102
    return "", 201


@app.post("/items/<int:item_id>/restock")
@login_required
def restock(item_id):
    qty = int(request.get_json()["qty"])
    with engine.begin() as conn:
        conn.execute(update(items).where(items.c.id == item_id).values(on_hand=items.c.on_hand + qty))  # ok: PL102
    return "", 204


@app.post("/reservations")
@login_required
def create_reservation():
    data = request.get_json()
    with engine.connect() as conn:
        seen = conn.execute(select(reservations.c.id).where(reservations.c.external_ref == data["ref"])).first()
        if seen is not None:
            return jsonify(id=seen.id), 200
        conn.execute(insert(reservations).values(  # expect: PL104
            item_id=data["item_id"], user_id=current_user.id, qty=int(data["qty"]), external_ref=data["ref"]))
        conn.commit()
    return "", 201


@app.post("/users")
def create_user():
    data = request.get_json()
    try:
        with engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == data["username"])).first():
                return jsonify(error="username taken"), 409
            conn.execute(insert(users).values(username=data["username"], email=data["email"]))  # ok: PL104
    except IntegrityError:
        return jsonify(error="username taken"), 409
    return "", 201


@app.delete("/reservations/<int:reservation_id>")
@login_required
def cancel_reservation(reservation_id):
    with engine.begin() as conn:
        conn.execute(delete(reservations).where(reservations.c.id == reservation_id))  # expect: PL105
    return "", 204


@app.delete("/my/reservations/<int:reservation_id>")
@login_required
def cancel_my_reservation(reservation_id):
    with engine.begin() as conn:
        conn.execute(  # ok: PL105
            delete(reservations).where(reservations.c.id == reservation_id, reservations.c.user_id == current_user.id)
        )
    return "", 204


@app.post("/items/<int:item_id>/move")
@login_required
def move_item(item_id):
    data = request.get_json()
    qty = int(data["qty"])
    with engine.connect() as conn:
        conn.execute(update(items).where(items.c.id == item_id, items.c.on_hand >= qty)
                     .values(on_hand=items.c.on_hand - qty))
        conn.commit()
        conn.execute(update(items).where(items.c.id == data["to_item_id"]).values(on_hand=items.c.on_hand + qty))  # expect: PL106
        conn.commit()
    return "", 204


@app.post("/items/<int:item_id>/move-atomic")
@login_required
def move_item_atomic(item_id):
    data = request.get_json()
    qty = int(data["qty"])
    with engine.begin() as conn:
        conn.execute(update(items).where(items.c.id == item_id, items.c.on_hand >= qty)
                     .values(on_hand=items.c.on_hand - qty))
        conn.execute(update(items).where(items.c.id == data["to_item_id"]).values(on_hand=items.c.on_hand + qty))  # ok: PL106
    return "", 204
