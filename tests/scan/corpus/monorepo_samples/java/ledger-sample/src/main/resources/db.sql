-- The Java sample's schema (loaded by its Spring app, never by the Python samples).
CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    email VARCHAR(254) NOT NULL UNIQUE  -- ok: PL201
);

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    balance DECIMAL(12, 2) NOT NULL CHECK (balance >= 0)  -- ok: PL203
);
