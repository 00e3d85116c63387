"""The damage the bank twin's races leave in its database, written as they write it, so that an audit has something
to find after a demo run (`plumbline lab-damage`, and the tour's audit step).

Each race ends with writes that each handler would make on its own, in the interleaving that breaks the invariant:
two registrations of one e-mail that both saw no user, two withdrawals that both saw the funds, orders whose owner
the client chose (one of a user that does not exist) or left out, with amounts nobody validated. Here those writes
are sent one after the other, each in its own transaction, through the twin's own schema: the vulnerable twin's
database accepts every one; the hardened twin's refuses every one that would break an invariant (UNIQUE, CHECK,
FOREIGN KEY, NOT NULL), which is its fix at work.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg

from plumbline.lab.backends import BackendError, libpq_url, redact, sql_backend_of
from plumbline.lab.damage import Write

DATABASE = "plumbline_lab_bank_{twin}"  # the database bank.build() gives each twin


def twin_database_url(server_url: str, twin: str) -> str:
    """The URL of a bank twin's database on the lab's server (`server_url` names any database of that server);
    BackendError when `server_url` is no PostgreSQL or CockroachDB URL."""
    sql_backend_of(server_url)
    libpq_url(server_url)  # a malformed host or port
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + DATABASE.format(twin=twin)))


def seed_damage(database_url: str) -> list[Write]:
    """Write the races' damage into a bank twin's database; each write as the twin's database answered it.
    BackendError (one line, password masked) when the database cannot be reached or holds no bank twin."""
    try:
        with psycopg.connect(libpq_url(database_url), autocommit=True, connect_timeout=10) as connection:
            if connection.execute("SELECT to_regclass('users') IS NULL").fetchone()[0]:
                raise BackendError(f"{redact(database_url, database_url)} holds no bank twin: run the lab (or "
                                   "`plumbline demo`) against this server first")
            return _Seeder(connection).run()
    except psycopg.Error as exc:
        raise BackendError(redact(f"cannot seed {database_url}: {' '.join(str(exc).split())}", database_url)) from None


class _Seeder:
    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection
        self.writes: list[Write] = []
        self.run_id = secrets.token_hex(4)

    def run(self) -> list[Write]:
        email = f"twice-{self.run_id}@lab.example"
        registered = [self._register(email, name) for name in ("Ann", "Ann again")]  # both saw no user
        owner = next(user for user in registered if user is not None)
        account = self._write("overdraft", "an account with a balance of 100",
                              "INSERT INTO accounts (owner_id, balance) VALUES (%s, 100) RETURNING id", (owner,))
        for _ in range(2):  # both withdrawals saw 100 and passed the funds check
            self._write("overdraft", "a withdrawal of 80 from a balance of 100",
                        "UPDATE accounts SET balance = balance - 80 WHERE id = %s", (account,))
        self._write("mass assignment", "an order filed for a user_id the client chose, of no user",
                    "INSERT INTO orders (user_id, amount, note) VALUES (%s, 25, 'for a user that does not exist')",
                    (str(uuid.uuid4()),))
        self._write("unvalidated input", "an order without its owner",
                    "INSERT INTO orders (user_id, amount, note) VALUES (NULL, 10, 'nobody''s')")
        self._write("unvalidated input", "an order of a negative amount",
                    "INSERT INTO orders (user_id, amount, note) VALUES (%s, -40, 'a refund by the back door')",
                    (owner,))
        return self.writes

    def _register(self, email: str, name: str):
        token_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        return self._write("duplicate registration", f"a user registering {email}",
                           "INSERT INTO users (email, name, token_hash) VALUES (%s, %s, %s) RETURNING id",
                           (email, name, token_hash))

    def _write(self, race: str, statement: str, query: str, parameters: tuple = ()):
        """Send one write in its own transaction; the first column it returns, if any."""
        try:
            with self.connection.transaction():
                cursor = self.connection.execute(query, parameters)
                row = cursor.fetchone() if cursor.description else None
        except psycopg.errors.IntegrityError as exc:  # UNIQUE, CHECK, FOREIGN KEY, NOT NULL
            refused_by = exc.diag.constraint_name or f"NOT NULL {exc.diag.column_name or ''}".strip()
            self.writes.append(Write(race, statement, refused_by))
            return None
        self.writes.append(Write(race, statement))
        return row[0] if row else None
