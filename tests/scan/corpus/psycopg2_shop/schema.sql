-- Shop schema (PostgreSQL). Applied by `flask init-db`.

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE, -- ok: PL201, PL202
    username TEXT NOT NULL, -- expect: PL201
    password_hash TEXT NOT NULL,
    display_name TEXT
);

CREATE TABLE products (
    id SERIAL PRIMARY KEY,
    sku TEXT NOT NULL, -- ok: PL201
    name TEXT NOT NULL,
    price NUMERIC(10, 2) NOT NULL CHECK (price >= 0), -- ok: PL203
    stock INTEGER NOT NULL -- expect: PL203
);

CREATE UNIQUE INDEX products_sku_key ON products (sku);

CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id), -- ok: PL202, PL204
    product_id INTEGER NOT NULL, -- expect: PL204
    quantity INTEGER NOT NULL, -- ok: PL203
    total NUMERIC(10, 2), -- expect: PL202, PL203
    status TEXT NOT NULL DEFAULT 'pending',
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0)
);

CREATE TABLE reviews (
    id SERIAL PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id), -- ok: PL204
    author_id INTEGER REFERENCES users (id), -- expect: PL202
    body TEXT NOT NULL
);
