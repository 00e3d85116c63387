CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL  -- expect: PL201  -- known-miss: schema files are merged across the scanned tree: the Java sample's db.sql (customers.email UNIQUE) answers for the wallet app
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    balance NUMERIC(12, 2) NOT NULL DEFAULT 0  -- expect: PL203  -- known-miss: schema files are merged across the scanned tree: the arcade app's accounts.balance CHECK and the Java sample's answer for the wallet app
);
