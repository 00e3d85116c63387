-- Schema of the hardened bank twin. Portable between PostgreSQL 13+ and CockroachDB.
-- Each statement ends with a semicolon at the end of a line: build() applies them one by one.
DROP TABLE IF EXISTS sessions, orders, accounts, users CASCADE;

-- UNIQUE (email) makes the database, not a prior SELECT, decide which registration wins.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The CHECK is the last line of defence: a write that would overdraw fails instead of committing.
CREATE TABLE accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id),
    balance BIGINT NOT NULL CHECK (balance >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX accounts_owner_idx ON accounts (owner_id);

-- Every order belongs to a real user and has a positive amount, whatever a handler does.
CREATE TABLE orders (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    note TEXT CHECK (char_length(note) <= 500),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX orders_user_idx ON orders (user_id);

-- UNIQUE (user_id, device) is the conflict target of the upsert: one row per device, always.
CREATE TABLE sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id),
    device TEXT NOT NULL CHECK (char_length(device) BETWEEN 1 AND 100),
    refreshes BIGINT NOT NULL CHECK (refreshes > 0),
    last_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, device)
);
