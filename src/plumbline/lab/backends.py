"""Database servers the lab runs on: embedded ones for a laptop or CI, or real ones by URL.

Embedded PostgreSQL (from the pgserver wheel) stands in for CockroachDB: every lab connection
runs at SERIALIZABLE, CockroachDB's default, so the same SQLSTATE 40001 contract applies.
One difference matters: CockroachDB retries a contended single-statement implicit transaction
itself, PostgreSQL does not.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

SqlBackend = Literal["postgres", "cockroach"]

COCKROACH_SCHEMES = ("cockroachdb", "cockroachdb+psycopg", "cockroachdb+psycopg2", "cockroachdb+asyncpg")
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2")
COCKROACH_DEFAULT_PORT = 26257


class BackendError(Exception):
    """A database or DynamoDB endpoint the lab cannot use; the message says why."""


def sql_backend_of(url: str) -> SqlBackend:
    scheme = urlsplit(url).scheme.lower()
    if scheme in COCKROACH_SCHEMES:
        return "cockroach"
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    raise BackendError(f"not a PostgreSQL or CockroachDB URL: {url!r} (use postgresql://... or cockroachdb://...)")


def libpq_url(url: str) -> str:
    """The URL psycopg understands: SQLAlchemy-style `cockroachdb://` becomes `postgresql://`."""
    parts = urlsplit(url)
    backend = sql_backend_of(url)
    netloc = parts.netloc
    if backend == "cockroach" and parts.hostname and parts.port is None:
        netloc = f"{netloc}:{COCKROACH_DEFAULT_PORT}"
    return urlunsplit(("postgresql", netloc, parts.path, parts.query, parts.fragment))


def database_url(server_url: str, database: str) -> str:
    """`server_url` pointed at another database on the same server."""
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(libpq_url(server_url))
    params["dbname"] = database
    return psycopg.conninfo.make_conninfo(**params)


def ensure_database(server_url: str, database: str) -> str:
    """Create `database` if missing (portable: PostgreSQL has no CREATE DATABASE IF NOT EXISTS)."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(libpq_url(server_url), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.Error as exc:
        raise BackendError(f"cannot prepare database {database!r} on {redact_url(server_url)}: {exc}".strip()) from exc
    return database_url(server_url, database)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class EmbeddedPostgres:
    """PostgreSQL from the pgserver wheel, reachable only through a Unix socket in a private directory."""

    def __init__(self) -> None:
        self._workdir: str | None = None
        self._server = None
        self.url: str | None = None

    def start(self) -> str:
        self._workdir = tempfile.mkdtemp(prefix="plumbline-pg-")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns at import when XDG_RUNTIME_DIR is unset
            import pgserver

            logging.getLogger("pgserver").setLevel(logging.WARNING)
            try:
                self._server = pgserver.get_server(self._workdir, cleanup_mode="delete")
            except Exception as exc:
                shutil.rmtree(self._workdir, ignore_errors=True)
                raise BackendError(f"embedded PostgreSQL did not start: {exc}") from exc
        self.url = self._server.get_uri()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class DynamoConfig:
    """Where a twin's DynamoDB tables live; `table_prefix` keeps twins apart on one endpoint."""

    endpoint_url: str
    table_prefix: str
    region: str = "us-east-1"

    def _session_args(self) -> dict:
        args = {"endpoint_url": self.endpoint_url, "region_name": self.region}
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            args.update(aws_access_key_id="plumbline-lab", aws_secret_access_key="plumbline-lab")
        return args

    def client(self, service: str = "dynamodb"):
        import boto3

        return boto3.client(service, config=self._config(), **self._session_args())

    def resource(self):
        import boto3

        return boto3.resource("dynamodb", config=self._config(), **self._session_args())

    @staticmethod
    def _config():
        from botocore.config import Config

        return Config(
            max_pool_connections=64, connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}
        )

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}{name}"


class _OneOperationAtATime:
    """Serialise moto's request handling: DynamoDB makes every single operation atomic, moto alone does not."""

    def __init__(self, app) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedDynamoDB:
    """moto's DynamoDB and DynamoDB Streams on 127.0.0.1, on a free port."""

    def __init__(self) -> None:
        self._server = None
        self._thread: threading.Thread | None = None
        self.endpoint_url: str | None = None

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = _OneOperationAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-dynamodb", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> "EmbeddedDynamoDB":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
