CREATE TABLE members (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id)
);

CREATE TABLE machines (
    id BIGSERIAL PRIMARY KEY,
    room TEXT NOT NULL,
    status TEXT NOT NULL
);

CREATE TABLE cards (
    id BIGSERIAL PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    balance BIGINT NOT NULL CHECK (balance >= 0)
);

CREATE TABLE washes (
    id BIGSERIAL PRIMARY KEY,
    card_id BIGINT NOT NULL REFERENCES cards (id),
    machine_id BIGINT NOT NULL REFERENCES machines (id)
);
