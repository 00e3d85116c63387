CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL, -- expect: PL201
    name TEXT NOT NULL
);

CREATE TABLE invoices (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    total NUMERIC(12, 2) NOT NULL CHECK (total >= 0),
    memo TEXT,
    status TEXT NOT NULL DEFAULT 'open'
);

CREATE TABLE payments (
    id BIGSERIAL PRIMARY KEY,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    amount NUMERIC(12, 2) NOT NULL CHECK (amount > 0)
);
