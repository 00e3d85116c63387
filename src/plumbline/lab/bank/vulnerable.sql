-- Schema of the vulnerable bank twin. Portable between PostgreSQL 13+ and CockroachDB.
-- Each statement ends with a semicolon at the end of a line: build() applies them one by one.
DROP TABLE IF EXISTS sessions, orders, accounts, users CASCADE;

-- Check-then-insert: nothing in the schema keeps two users from registering the same email.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Overdraft: no CHECK keeps a balance from going below zero.
CREATE TABLE accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id),
    balance BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Mass assignment and invalid data: no NOT NULL, no CHECK, no foreign key.
CREATE TABLE orders (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID,
    amount BIGINT,
    note TEXT,
    created_at TIMESTAMPTZ DEFAULT now()
);

-- Check-then-insert: without UNIQUE (user_id, device) concurrent first refreshes each add a row.
CREATE TABLE sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id),
    device TEXT NOT NULL,
    refreshes BIGINT NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
