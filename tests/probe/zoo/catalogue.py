"""A seeded catalogue on PostgreSQL (SERIALIZABLE): products with stock, coupons addressed by their code.

Nothing is created through the API: the products and coupons exist already, found through `GET /products`
and `GET /coupons` (and the examples of the path parameters). Identities: static bearer tokens.

Vulnerable twin: a purchase reads the stock and writes the new value back in a second transaction, so
concurrent purchases overwrite each other (lost decrements); a coupon's use count is checked in one
statement and raised in another, so a burst redeems it past its limit. Only the writes are retried on
40001, not the reads they depend on. Hardened twin: one conditional UPDATE each (`... WHERE stock >= %s`,
`... WHERE uses < max_uses`), retried on 40001.
"""

from __future__ import annotations

from flask import abort, jsonify

from zoo import RACE, Backends, Built, Planted
from zoo.clients import Clients, succeeded, together
from zoo.storage import PostgresDatabase, run_transaction
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, login_required, me,
                     operation, path_parameter, static_tokens)

SEED_STOCK = 1000
COUPON_USES = 5
COUPONS = [f"SPRING-{n:02d}" for n in range(1, 13)]
SCHEMA = [
    ("CREATE TABLE products (sku text PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL,"
     " stock integer NOT NULL CHECK (stock >= 0))"),
    ("CREATE TABLE coupons (code text PRIMARY KEY, percent_off integer NOT NULL, max_uses integer NOT NULL,"
     " uses integer NOT NULL DEFAULT 0)"),
    (f"INSERT INTO products VALUES ('TEA-001', 'Green tea', 450, {SEED_STOCK}), ('MUG-002', 'Mug', 900, {SEED_STOCK}),"
     f" ('KET-003', 'Kettle', 3900, {SEED_STOCK})"),
    "INSERT INTO coupons (code, percent_off, max_uses) VALUES "
    + ", ".join(f"('{code}', 10, {COUPON_USES})" for code in COUPONS),
]

PLANTED = [
    Planted(RACE, "POST", "/products/{sku}/purchase",
            "stock read, then written back in another transaction: concurrent purchases lose decrements"),
    Planted(("PL403",), "POST", "/coupons/{code}/redeem",
            "use count checked, then raised in another statement: a burst redeems a coupon past max_uses"),
]
SOUND = []
KNOWN_FALSE_ALARMS = []

PRODUCT = {"type": "object", "properties": {
    "sku": {"type": "string"}, "name": {"type": "string"}, "price_cents": {"type": "integer"},
    "stock": {"type": "integer", "minimum": 0}}}
COUPON = {"type": "object", "properties": {
    "code": {"type": "string"}, "percent_off": {"type": "integer"}, "max_uses": {"type": "integer"},
    "uses": {"type": "integer"}}}
PURCHASE = {"type": "object", "required": ["quantity"], "additionalProperties": False,
            "properties": {"quantity": {"type": "integer", "minimum": 1, "maximum": 10}}}
REDEEM = {"type": "object", "additionalProperties": False, "properties": {}}
SKU = path_parameter("sku", {"type": "string", "example": "TEA-001"})
CODE = path_parameter("code", {"type": "string", "example": COUPONS[0]})
SPEC = document("Catalogue", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/products": {"get": operation("listProducts", {
        "200": answer("every product", {"type": "array", "items": PRODUCT}), **errors(401)})},
    "/products/{sku}": {"get": operation("getProduct", {
        "200": answer("the product", PRODUCT), **errors(401, 404)}, parameters=[SKU])},
    "/products/{sku}/purchase": {"post": operation("purchaseProduct", {
        "200": answer("bought: the stock left", PRODUCT), **errors(401, 404, 409, 422)},
        parameters=[SKU], body=PURCHASE)},
    "/coupons": {"get": operation("listCoupons", {
        "200": answer("every coupon", {"type": "array", "items": COUPON}), **errors(401)})},
    "/coupons/{code}": {"get": operation("getCoupon", {
        "200": answer("the coupon", COUPON), **errors(401, 404)}, parameters=[CODE])},
    "/coupons/{code}/redeem": {"post": operation("redeemCoupon", {
        "200": answer("redeemed: the coupon's uses so far", COUPON), **errors(401, 404, 409, 422)},
        parameters=[CODE], body=REDEEM)},
})


def build(twin: str, backends: Backends) -> Built:
    database = PostgresDatabase(backends.postgres_url, f"catalogue_{twin}", SCHEMA)
    pool = database.pool
    tokens = static_tokens()
    app = create_app(f"zoo.catalogue.{twin}", SPEC, tokens)
    hardened = twin == "hardened"

    def product_row(conn, sku: str) -> dict:
        row = conn.execute("SELECT sku, name, price_cents, stock FROM products WHERE sku = %s", (sku,)).fetchone()
        if row is None:
            abort(404, "no such product")
        return dict(zip(("sku", "name", "price_cents", "stock"), row))

    def coupon_row(conn, code: str) -> dict:
        row = conn.execute("SELECT code, percent_off, max_uses, uses FROM coupons WHERE code = %s",
                           (code,)).fetchone()
        if row is None:
            abort(404, "no such coupon")
        return dict(zip(("code", "percent_off", "max_uses", "uses"), row))

    app.add_url_rule("/me", "me", login_required(me))

    @app.get("/products")
    @login_required
    def list_products():
        with pool.connection() as conn:
            skus = [row[0] for row in conn.execute("SELECT sku FROM products ORDER BY sku")]
            return jsonify([product_row(conn, sku) for sku in skus])

    @app.get("/products/<sku>")
    @login_required
    def get_product(sku):
        with pool.connection() as conn:
            return jsonify(product_row(conn, sku))

    @app.post("/products/<sku>/purchase")
    @login_required
    def purchase(sku):
        quantity = json_body(PURCHASE)["quantity"]
        if hardened:
            def buy(conn):
                row = conn.execute("UPDATE products SET stock = stock - %s WHERE sku = %s AND stock >= %s"
                                   " RETURNING sku", (quantity, sku, quantity)).fetchone()
                product = product_row(conn, sku)
                if row is None:
                    abort(409, "not enough stock")
                return product
            return jsonify(run_transaction(pool, buy))
        with pool.connection() as conn:
            product = product_row(conn, sku)
            if product["stock"] < quantity:
                abort(409, "not enough stock")
        # Lost update: the stock was read above and is written back here in a transaction of its own (retried on
        # 40001, but the read is not), so concurrent purchases all write the same "new" stock.
        run_transaction(pool, lambda conn: conn.execute("UPDATE products SET stock = %s WHERE sku = %s",
                                                        (product["stock"] - quantity, sku)))
        with pool.connection() as conn:
            return jsonify(product_row(conn, sku))

    @app.get("/coupons")
    @login_required
    def list_coupons():
        with pool.connection() as conn:
            codes = [row[0] for row in conn.execute("SELECT code FROM coupons ORDER BY code")]
            return jsonify([coupon_row(conn, code) for code in codes])

    @app.get("/coupons/<code>")
    @login_required
    def get_coupon(code):
        with pool.connection() as conn:
            return jsonify(coupon_row(conn, code))

    @app.post("/coupons/<code>/redeem")
    @login_required
    def redeem(code):
        json_body(REDEEM)
        if hardened:
            def use(conn):
                row = conn.execute("UPDATE coupons SET uses = uses + 1 WHERE code = %s AND uses < max_uses"
                                   " RETURNING code", (code,)).fetchone()
                coupon = coupon_row(conn, code)
                if row is None:
                    abort(409, "coupon used up")
                return coupon
            return jsonify(run_transaction(pool, use))
        with pool.connection() as conn:
            coupon = coupon_row(conn, code)
            if coupon["uses"] >= coupon["max_uses"]:
                abort(409, "coupon used up")
        # Limit overrun: the check above and this increment (retried on 40001) commit separately, so a whole
        # burst passes the check.
        run_transaction(pool, lambda conn: conn.execute("UPDATE coupons SET uses = uses + 1 WHERE code = %s", (code,)))
        with pool.connection() as conn:
            return jsonify(coupon_row(conn, code))

    return Built(app, *bearer_identities(tokens), close=database.close)


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def lost_purchases(clients: Clients) -> str | None:
    alice = clients["alice"]
    before = alice.get("/products/TEA-001").json()["stock"]
    bought = succeeded(together(lambda: alice.post("/products/TEA-001/purchase", json={"quantity": 1})))
    after = alice.get("/products/TEA-001").json()["stock"]
    return None if after == before - bought else f"{bought} purchases took the stock from {before} to {after}"


def coupon_overrun(clients: Clients) -> str | None:
    alice = clients["alice"]
    redeemed = succeeded(together(lambda: alice.post(f"/coupons/{COUPONS[-1]}/redeem", json={})))
    coupon = alice.get(f"/coupons/{COUPONS[-1]}").json()
    if redeemed <= coupon["max_uses"] and coupon["uses"] <= coupon["max_uses"]:
        return None
    return f"{redeemed} redemptions of a coupon with max_uses {coupon['max_uses']}; uses = {coupon['uses']}"


PROOFS = {("POST", "/products/{sku}/purchase"): lost_purchases, ("POST", "/coupons/{code}/redeem"): coupon_overrun}
