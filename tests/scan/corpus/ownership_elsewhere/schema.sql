CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE festivals (
    id BIGSERIAL PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL
);

CREATE TABLE stewards (
    id BIGSERIAL PRIMARY KEY,
    festival_id BIGINT NOT NULL REFERENCES festivals (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    can_scan BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (festival_id, user_id)
);

CREATE TABLE addresses (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    line TEXT NOT NULL
);

CREATE TABLE shipments (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    address_id BIGINT NOT NULL REFERENCES addresses (id)
);
