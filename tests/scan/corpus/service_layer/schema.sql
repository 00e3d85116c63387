-- Gift cards: a balance per card, owned by a user.
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE cards (
    id BIGINT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    balance BIGINT NOT NULL CHECK (balance >= 0)
);
