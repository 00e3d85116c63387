-- STRING is CockroachDB's name for TEXT: this schema only loads on CockroachDB.
CREATE TABLE recipes (
    id INT8 PRIMARY KEY DEFAULT unique_rowid(),
    title STRING NOT NULL,
    servings INT8 NOT NULL CHECK (servings > 0),
    rating_count INT8 NOT NULL DEFAULT 0 CHECK (rating_count >= 0)
);

CREATE TABLE ratings (
    id INT8 PRIMARY KEY DEFAULT unique_rowid(),
    recipe_id INT8 NOT NULL REFERENCES recipes (id),
    stars INT8 NOT NULL CHECK (stars BETWEEN 1 AND 5)
);
