CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE lockers (
    id BIGSERIAL PRIMARY KEY,
    zone TEXT NOT NULL,
    renter_id BIGINT REFERENCES users (id),  -- ok: PL202
    paid_days INT NOT NULL DEFAULT 0 CHECK (paid_days >= 0)  -- ok: PL203
);

CREATE TABLE wallets (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL UNIQUE REFERENCES users (id),
    balance BIGINT NOT NULL DEFAULT 0  -- expect: PL203
);

CREATE TABLE bookings (
    id BIGSERIAL PRIMARY KEY,
    class_name TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES users (id)  -- ok: PL202, PL204
);
