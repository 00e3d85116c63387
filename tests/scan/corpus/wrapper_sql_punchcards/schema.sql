-- A café's punch cards: statements go through db.run(), a wrapper around the session's execute.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    login TEXT UNIQUE NOT NULL
);

CREATE TABLE clubs (
    id SERIAL PRIMARY KEY,
    owner_id INTEGER REFERENCES users NOT NULL,
    title TEXT NOT NULL
);

CREATE TABLE cards (
    id UUID PRIMARY KEY,
    club_id INTEGER REFERENCES clubs NOT NULL,
    user_id INTEGER REFERENCES users, -- ok: PL202 (only set once a card is claimed: no insert writes it)
    value INTEGER DEFAULT 0, -- expect: PL203
    visits INTEGER DEFAULT 0 -- ok: PL203
);

CREATE TABLE stewards (
    id SERIAL PRIMARY KEY,
    club_id INTEGER REFERENCES clubs, -- expect: PL202
    user_id INTEGER REFERENCES users, -- expect: PL202
    note TEXT,
    UNIQUE (club_id, user_id)
);

CREATE TABLE punches (
    id SERIAL PRIMARY KEY,
    card_id UUID REFERENCES cards, -- expect: PL202
    steward_id INTEGER NULL REFERENCES users, -- ok: PL202 (declared NULL on purpose)
    delta INTEGER -- ok: PL203
);
