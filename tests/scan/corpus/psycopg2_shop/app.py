"""A small shop on psycopg2: one connection per request, commits by hand."""

import functools
import os

import psycopg2
import psycopg2.errors
from flask import Flask, abort, g, jsonify, request

app = Flask(__name__)
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://shop@localhost/shop")
SORTABLE = ("name", "price", "sku")
PAGE_SIZE = 50


def get_db():
    if "db" not in g:
        g.db = psycopg2.connect(DATABASE_URL)
    return g.db


@app.teardown_appcontext
def close_db(exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user_id") is None:
            abort(401)
        return view(*args, **kwargs)
    return wrapped


@app.get("/products/search")
def search_products():
    term = request.args.get("q", "")
    cur = get_db().cursor()
    cur.execute(f"SELECT id, name, price FROM products WHERE name ILIKE '%{term}%'")  # expect: PL101
    return jsonify(cur.fetchall())


@app.get("/products")
def list_products():
    sort = request.args.get("sort", "name")
    if sort not in SORTABLE:
        abort(400)
    limit = int(request.args.get("limit", PAGE_SIZE))
    cur = get_db().cursor()
    cur.execute(f"SELECT id, name, price FROM products ORDER BY {sort} LIMIT {limit}")  # ok: PL101
    return jsonify(cur.fetchall())


@app.get("/products/by-page")
def products_page():
    page = request.args.get("page", "0")
    cur = get_db().cursor()
    cur.execute("SELECT id, name FROM products ORDER BY id LIMIT %d OFFSET %d" % (PAGE_SIZE, int(page) * PAGE_SIZE))  # ok: PL101
    return jsonify(cur.fetchall())


@app.get("/products/<int:product_id>")
def get_product(product_id):
    cur = get_db().cursor()
    # A public catalogue: products belong to nobody, anyone may read them.
    cur.execute("SELECT id, name, price, stock FROM products WHERE id = %s", (product_id,))  # ok: PL105
    row = cur.fetchone()
    if row is None:
        abort(404)
    return jsonify(id=row[0], name=row[1], price=str(row[2]), stock=row[3])


@app.get("/products/<int:product_id>/reviews")
def product_reviews(product_id):
    order = request.args.get("order", "desc")
    direction = "DESC" if order == "desc" else "ASC"
    cur = get_db().cursor()
    cur.execute("SELECT id, body FROM reviews WHERE product_id = %s ORDER BY id " + direction, (product_id,))  # ok: PL101
    return jsonify(cur.fetchall())


@app.post("/orders")
@login_required
def place_order():
    data = request.get_json()
    db = get_db()
    cur = db.cursor()
    cur.execute("SELECT stock, price FROM products WHERE id = %s", (data["product_id"],))
    stock, price = cur.fetchone()
    if stock < data["quantity"]:
        abort(409, "out of stock")
    cur.execute("UPDATE products SET stock = %s WHERE id = %s", (stock - data["quantity"], data["product_id"]))  # expect: PL102
    cur.execute(
        "INSERT INTO orders (user_id, product_id, quantity, total) VALUES (%s, %s, %s, %s) RETURNING id",
        (g.user_id, data["product_id"], data["quantity"], price * data["quantity"]),
    )
    order_id = cur.fetchone()[0]
    db.commit()
    return jsonify(id=order_id), 201


@app.post("/orders/locked")
@login_required
def place_order_locked():
    data = request.get_json()
    db = get_db()
    with db:
        cur = db.cursor()
        cur.execute("SELECT stock, price FROM products WHERE id = %s FOR UPDATE", (data["product_id"],))
        stock, price = cur.fetchone()
        if stock < data["quantity"]:
            abort(409, "out of stock")
        cur.execute("UPDATE products SET stock = %s WHERE id = %s", (stock - data["quantity"], data["product_id"]))  # ok: PL102
        cur.execute(  # ok: PL106
            "INSERT INTO orders (user_id, product_id, quantity, total) VALUES (%s, %s, %s, %s)",
            (g.user_id, data["product_id"], data["quantity"], price * data["quantity"]),
        )
    return jsonify(ok=True), 201


@app.post("/cart/checkout")
@login_required
def checkout():
    data = request.get_json()
    db = get_db()
    cur = db.cursor()
    cur.execute("SELECT price FROM products WHERE id = %s", (data["product_id"],))
    (price,) = cur.fetchone()
    cur.execute(  # ok: PL102
        "UPDATE products SET stock = stock - %s WHERE id = %s AND stock >= %s",
        (data["quantity"], data["product_id"], data["quantity"]),
    )
    if cur.rowcount == 0:
        db.rollback()
        abort(409, "out of stock")
    cur.execute(  # ok: PL106
        "INSERT INTO orders (user_id, product_id, quantity, total) VALUES (%s, %s, %s, %s)",
        (g.user_id, data["product_id"], data["quantity"], price * data["quantity"]),
    )
    db.commit()
    return jsonify(ok=True), 201


@app.post("/register")
def register():
    data = request.get_json()
    db = get_db()
    cur = db.cursor()
    cur.execute("SELECT 1 FROM users WHERE username = %s", (data["username"],))
    if cur.fetchone():
        return jsonify(error="username taken"), 409
    cur.execute(  # expect: PL104
        "INSERT INTO users (email, username, password_hash) VALUES (%s, %s, %s)",
        (data["email"], data["username"], data["password_hash"]),
    )
    db.commit()
    return jsonify(ok=True), 201


@app.post("/register/by-email")
def register_by_email():
    data = request.get_json()
    db = get_db()
    cur = db.cursor()
    cur.execute("SELECT 1 FROM users WHERE email = %s", (data["email"],))
    if cur.fetchone():
        return jsonify(error="email taken"), 409
    try:
        cur.execute(  # ok: PL104
            "INSERT INTO users (email, username, password_hash) VALUES (%s, %s, %s)",
            (data["email"], data["email"], data["password_hash"]),
        )
        db.commit()
    except psycopg2.errors.UniqueViolation:
        db.rollback()
        return jsonify(error="email taken"), 409
    return jsonify(ok=True), 201


@app.get("/orders/<int:order_id>")
@login_required
def get_order(order_id):
    cur = get_db().cursor()
    cur.execute("SELECT id, product_id, quantity, status FROM orders WHERE id = %s", (order_id,))  # expect: PL105
    row = cur.fetchone()
    if row is None:
        abort(404)
    return jsonify(row)


@app.get("/my/orders/<int:order_id>")
@login_required
def get_my_order(order_id):
    cur = get_db().cursor()
    cur.execute(  # ok: PL105
        "SELECT id, product_id, quantity, status FROM orders WHERE id = %s AND user_id = %s",
        (order_id, g.user_id),
    )
    row = cur.fetchone()
    if row is None:
        abort(404)
    return jsonify(row)


@app.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id):
    db = get_db()
    cur = db.cursor()
    cur.execute(
        "UPDATE orders SET status = 'cancelled' WHERE id = %s AND user_id = %s AND status = 'pending' "
        "RETURNING product_id, quantity",
        (order_id, g.user_id),
    )
    row = cur.fetchone()
    if row is None:
        abort(404)
    db.commit()
    cur.execute("UPDATE products SET stock = stock + %s WHERE id = %s", (row[1], row[0]))  # expect: PL106
    db.commit()
    return jsonify(ok=True)
