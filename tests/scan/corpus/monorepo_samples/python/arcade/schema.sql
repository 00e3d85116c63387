CREATE TABLE players (
    id BIGSERIAL PRIMARY KEY,
    nickname TEXT NOT NULL UNIQUE
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    player_id BIGINT NOT NULL REFERENCES players (id),
    balance INT NOT NULL DEFAULT 0 CHECK (balance >= 0)  -- ok: PL203
);

CREATE TABLE prizes (
    id BIGSERIAL PRIMARY KEY,
    stock INT NOT NULL  -- expect: PL203
);
