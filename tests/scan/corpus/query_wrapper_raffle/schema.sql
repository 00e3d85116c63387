CREATE TABLE entrants (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    raffle_id INTEGER REFERENCES raffles (id) NOT NULL
);

CREATE TABLE prizes (
    id SERIAL PRIMARY KEY,
    stock INTEGER NOT NULL CHECK (stock >= 0)  -- ok: PL203
);
