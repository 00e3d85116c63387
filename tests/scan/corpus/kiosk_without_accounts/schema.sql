-- A museum's self-service kiosk: no users, no logins, every visitor sees the same exhibits.
CREATE TABLE exhibits (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    visits INT NOT NULL DEFAULT 0 CHECK (visits >= 0)
);

CREATE TABLE guestbook (
    id SERIAL PRIMARY KEY,
    exhibit_id INT NOT NULL REFERENCES exhibits (id),
    message TEXT NOT NULL,
    likes INT NOT NULL DEFAULT 0 CHECK (likes >= 0)
);
