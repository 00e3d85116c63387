CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL  -- expect: PL201
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    balance NUMERIC(12, 2) NOT NULL DEFAULT 0  -- expect: PL203
);
