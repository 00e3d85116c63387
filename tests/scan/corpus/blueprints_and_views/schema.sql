CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE, -- ok: PL201, PL202
    api_token TEXT -- expect: PL201, PL202
);

CREATE TABLE folders (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE notes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id), -- ok: PL202, PL204
    folder_id BIGINT REFERENCES folders (id), -- ok: PL204
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    share_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE labels (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    note_id BIGINT NOT NULL, -- expect: PL204
    name TEXT NOT NULL
);

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    note_id BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    storage_key TEXT NOT NULL,
    size_bytes BIGINT NOT NULL
);
