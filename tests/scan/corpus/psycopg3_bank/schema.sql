-- Bank schema for CockroachDB (cockroach sql --url "$DATABASE_URL" < schema.sql).

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL UNIQUE, -- ok: PL201
    login TEXT, -- expect: PL201, PL202
    full_name TEXT NOT NULL
);

CREATE TABLE accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id), -- ok: PL202, PL204
    balance INT8 NOT NULL CHECK (balance >= 0), -- ok: PL203
    overdraft_limit INT8 NOT NULL DEFAULT 0,
    closed BOOL NOT NULL DEFAULT false
);

CREATE TABLE transfers (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    from_account_id UUID NOT NULL REFERENCES accounts (id),
    to_account_id UUID NOT NULL REFERENCES accounts (id),
    amount INT8 NOT NULL, -- expect: PL203
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id),
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL -- expect: PL201
);

CREATE TABLE account_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id UUID NOT NULL, -- expect: PL204
    kind TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
