"""The databases the audit's tests seed: a schema without constraints, its damage, clean rows, and the schema
with every constraint the rules ask for."""

# No constraint but the primary keys: what a schema without its migrations looks like.
LOOSE_SCHEMA = """
CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT, username TEXT NOT NULL, balance NUMERIC(12, 2) NOT NULL);
CREATE TABLE products (id SERIAL PRIMARY KEY, sku TEXT NOT NULL, stock INTEGER NOT NULL);
CREATE TABLE orders (id SERIAL PRIMARY KEY, user_id INTEGER, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL);
CREATE TABLE api_clients (id SERIAL PRIMARY KEY, api_key TEXT NOT NULL);
CREATE TABLE ledger (user_id INTEGER NOT NULL, amount INTEGER NOT NULL);
"""

# The damage: 2 e-mails held twice and one three times (3 values, 7 rows), 2 users without an e-mail, 2 negative
# balances, 1 negative stock, 3 orders without a user, 4 orders of users that do not exist (ids 900 and 901),
# 2 orders of a product that does not exist (id 77, under a foreign key added NOT VALID), a duplicated API key.
DAMAGE = """
INSERT INTO users (email, username, balance) VALUES
  ('ann@example.com', 'ann', 10), ('ann@example.com', 'ann2', 5), ('bob@example.com', 'bob', -5.25),
  ('bob@example.com', 'bob2', 0), ('cy@example.com', 'cy', 1), ('cy@example.com', 'cy2', 1),
  ('cy@example.com', 'cy3', -0.01), ('dee@example.com', 'dee', 3), (NULL, 'nobody', 0), (NULL, 'ghost', 0);
INSERT INTO products (sku, stock) VALUES ('A-1', 5), ('B-2', -1), ('C-3', 0);
INSERT INTO orders (user_id, product_id, quantity) VALUES
  (1, 1, 1), (2, 2, 1), (NULL, 1, 1), (NULL, 2, 1), (NULL, 3, 1), (900, 1, 1), (900, 2, 1), (900, 3, 1),
  (901, 1, 1), (3, 77, 1), (4, 77, 2);
ALTER TABLE orders ADD CONSTRAINT orders_product_fk FOREIGN KEY (product_id) REFERENCES products (id) NOT VALID;
INSERT INTO api_clients (api_key) VALUES ('sk_live_secret_one'), ('sk_live_secret_one'), ('sk_live_other');
INSERT INTO ledger VALUES (1, 5), (2, 7);
"""

# The same rows, none of them damaged.
CLEAN_ROWS = """
INSERT INTO users (email, username, balance) VALUES ('ann@example.com', 'ann', 10), ('bob@example.com', 'bob', 0);
INSERT INTO products (sku, stock) VALUES ('A-1', 5), ('B-2', 0);
INSERT INTO orders (user_id, product_id, quantity) VALUES (1, 1, 1), (2, 2, 3);
INSERT INTO api_clients (api_key) VALUES ('sk_live_secret_one'), ('sk_live_other');
INSERT INTO ledger VALUES (1, 5), (2, 7);
"""

# Every constraint the rules ask for.
HARDENED_SCHEMA = """
CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT NOT NULL,
                    balance NUMERIC(12, 2) NOT NULL CHECK (balance >= 0));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE TABLE products (id SERIAL PRIMARY KEY, sku TEXT NOT NULL UNIQUE, stock INTEGER NOT NULL CHECK (stock >= 0));
CREATE TABLE orders (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
                     product_id INTEGER NOT NULL REFERENCES products (id),
                     quantity INTEGER NOT NULL CHECK (quantity > 0));
CREATE TABLE api_clients (id SERIAL PRIMARY KEY, api_key TEXT NOT NULL UNIQUE);
CREATE TABLE ledger (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
                     amount INTEGER NOT NULL CHECK (amount > 0));
"""

# A schema that exercises each exception of the PL2xx heuristics, one column per line (the scan reports one finding
# of a rule per line): the scan of this file and the audit of the database it creates must agree.
HEURISTICS_SCHEMA = """
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  email TEXT,
  username TEXT NOT NULL,
  balance NUMERIC(12, 2) NOT NULL
);
CREATE TABLE teams (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE posts (
  id SERIAL PRIMARY KEY,
  username TEXT NOT NULL,
  slug TEXT NOT NULL,
  user_id INTEGER REFERENCES users (id),
  parent_id INTEGER
);
CREATE TABLE login_events (
  id SERIAL PRIMARY KEY,
  email TEXT,
  user_id INTEGER NOT NULL
);
CREATE TABLE devices (
  id SERIAL PRIMARY KEY,
  token TEXT NOT NULL DEFAULT md5(random()::text),
  owner_id INTEGER
);
CREATE TABLE coupons (
  id SERIAL PRIMARY KEY,
  coupon_code TEXT NOT NULL,
  team_id INTEGER NOT NULL,
  uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
  discount_value INTEGER NOT NULL,
  UNIQUE (team_id, coupon_code)
);
CREATE TABLE wallets (
  id SERIAL PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users (id),
  price TEXT,
  team_id INTEGER NOT NULL REFERENCES teams (id)
);
"""
