"""A connection to the audited database that cannot write, cannot hang, and never shows the password.

Read-only by construction, three times over: the session's `default_transaction_read_only` is on, every
transaction the audit opens starts with `SET TRANSACTION READ ONLY` (on CockroachDB `SET TRANSACTION AS OF SYSTEM
TIME follower_read_timestamp()`, which is read-only by definition and reads a recent consistent snapshot without
contending with the application's traffic), and the audit only ever sends SELECT. A `statement_timeout` bounds
every statement. Messages name the database by its URL with the password masked.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Literal

import psycopg

from plumbline.lab.backends import BackendError, libpq_url, redact, sql_backend_of

Backend = Literal["postgres", "cockroachdb"]
APPLICATION_NAME = "plumbline-audit"
CONNECT_TIMEOUT_SECONDS = 10


class AuditError(Exception):
    """A database the audit cannot use at all (bad URL, refused, unknown host, authentication failed): one line,
    the password masked."""


@dataclass(frozen=True)
class Target:
    """The database to audit: the URL psycopg connects to, and how messages name it."""

    url: str
    shown: str

    @classmethod
    def parse(cls, dsn: str) -> "Target":
        """`postgresql://` or `cockroachdb://` (SQLAlchemy's spellings too); anything else is an AuditError."""
        try:
            sql_backend_of(dsn)
            url = libpq_url(dsn)
        except BackendError as exc:
            raise AuditError(str(exc)) from None
        return cls(url=url, shown=redact(dsn, dsn))

    def masked(self, text: str) -> str:
        """`text` (a driver's message) with the password masked wherever it may appear."""
        return redact(" ".join(text.split()), self.url)


class Database:
    """One read-only session. `reading()` opens each short transaction the audit reads in."""

    def __init__(self, connection: psycopg.Connection, backend: Backend, snapshot: str) -> None:
        self._connection = connection
        self.backend = backend
        self._snapshot = snapshot  # CockroachDB: the AS OF SYSTEM TIME expression data queries read at

    @classmethod
    def connect(cls, target: Target, statement_timeout: float) -> "Database":
        try:
            connection = psycopg.connect(target.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                         application_name=APPLICATION_NAME, prepare_threshold=None)
        except psycopg.Error as exc:
            raise AuditError(f"cannot connect to {target.shown}: {target.masked(str(exc))}") from None
        try:
            connection.execute("SET default_transaction_read_only = on")
            connection.execute(f"SET statement_timeout = '{max(1, round(statement_timeout * 1000))}ms'")
            version = connection.execute("SELECT version()").fetchone()[0]
            backend: Backend = "cockroachdb" if "cockroachdb" in version.lower() else "postgres"
            snapshot = _follower_read_time(connection) if backend == "cockroachdb" else ""
        except psycopg.Error as exc:
            connection.close()
            raise AuditError(f"cannot audit {target.shown}: {target.masked(str(exc))}") from None
        return cls(connection, backend, snapshot)

    @contextmanager
    def reading(self, *, snapshot: bool = True) -> Iterator[Database]:
        """A read-only transaction; on CockroachDB, at the follower-read snapshot when `snapshot` (data queries).
        It ends with the block: an error (a timeout, a missing permission) costs only that transaction."""
        with self._connection.transaction():
            if snapshot and self._snapshot:
                self._connection.execute(f"SET TRANSACTION AS OF SYSTEM TIME {self._snapshot}")
            else:
                self._connection.execute("SET TRANSACTION READ ONLY")
            yield self

    def rows(self, query, parameters: tuple | None = None) -> list[tuple]:
        """The query's rows. Without `parameters`, a `%` in it (a LIKE pattern, an identifier named `50%_off`) is
        sent as it is, not read as a placeholder."""
        return self._connection.execute(query, parameters).fetchall()

    @property
    def broken(self) -> bool:
        """The session is gone (the server went away or killed it): no further query can run."""
        return self._connection.broken or self._connection.closed

    def close(self) -> None:
        self._connection.close()


def _follower_read_time(connection: psycopg.Connection) -> str:
    """`follower_read_timestamp()` when the cluster serves follower reads; otherwise a snapshot five seconds old,
    which still keeps the audit's reads out of the way of the application's writes."""
    try:
        with connection.transaction():
            connection.execute("SELECT follower_read_timestamp()")
        return "follower_read_timestamp()"
    except psycopg.Error:
        return "'-5s'"
