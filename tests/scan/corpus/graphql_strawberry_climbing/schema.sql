CREATE TABLE members (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE passes (
    id BIGSERIAL PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    visits_left INT NOT NULL CHECK (visits_left >= 0)
);

CREATE TABLE routes (
    id BIGSERIAL PRIMARY KEY,
    wall TEXT NOT NULL,
    grade TEXT NOT NULL
);
