"""Database servers the lab runs on: embedded ones for a laptop or CI, or real ones by URL.

Embedded PostgreSQL (from the pgserver wheel) stands in for CockroachDB: every lab connection
runs at SERIALIZABLE, CockroachDB's default, so the same SQLSTATE 40001 contract applies.
One difference matters: CockroachDB retries a contended single-statement implicit transaction
itself, PostgreSQL does not.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from plumbline.lab.watchdog import Watchdog, reap

SqlBackend = Literal["postgres", "cockroach"]

COCKROACH_SCHEMES = ("cockroachdb", "cockroachdb+psycopg", "cockroachdb+psycopg2", "cockroachdb+asyncpg")
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2")
COCKROACH_DEFAULT_PORT = 26257


class BackendError(Exception):
    """A database or DynamoDB endpoint the lab cannot use; the message says why."""


MASK = "***"
# A password in a URL's userinfo (`scheme://user:PASSWORD@`) and in a `password=` parameter, whether in a URL
# query or a libpq key=value string (quoted or not).
USERINFO_PASSWORD = re.compile(r"(?P<keep>://[^/@\s:]*:)(?P<secret>[^/\s]+)(?=@)")  # an empty one hides nothing
PASSWORD_PARAMETER = re.compile(r"(?P<keep>password\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^&\s'\"]*)", re.IGNORECASE)


def redact(text: str, *urls: str | None) -> str:
    """`text` with every password masked: those of `urls` wherever they appear, and any URL userinfo password
    or `password=` value left in it."""
    for password in sorted(set().union(*(_passwords_in(url) for url in urls if url)), key=len, reverse=True):
        text = text.replace(password, MASK)
    for pattern in (USERINFO_PASSWORD, PASSWORD_PARAMETER):
        text = pattern.sub(rf"\g<keep>{MASK}", text)
    return text


def _passwords_in(url: str) -> set[str]:
    """The passwords in a URL or libpq string, in each form a driver may echo: as written, decoded, unquoted."""
    found = set()
    for pattern in (USERINFO_PASSWORD, PASSWORD_PARAMETER):
        for match in pattern.finditer(url):
            written = match["secret"]
            found.update({written, unquote(written), written.strip("'")})
    found.discard("")
    return found


def _split(url: str) -> SplitResult:
    """urlsplit, with a malformed URL (`postgresql://[::1`, port 99999) reported as a BackendError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily: an out-of-range port raises here
    except ValueError as exc:
        raise BackendError(f"not a valid URL: {redact(url, url)!r} ({exc})") from None
    return parts


def sql_backend_of(url: str) -> SqlBackend:
    scheme = _split(url).scheme.lower()
    if scheme in COCKROACH_SCHEMES:
        return "cockroach"
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    raise BackendError(
        f"not a PostgreSQL or CockroachDB URL: {redact(url, url)!r} (use postgresql://... or cockroachdb://...)"
    )


def libpq_url(url: str) -> str:
    """The URL psycopg understands: SQLAlchemy-style `cockroachdb://` becomes `postgresql://`."""
    parts = _split(url)
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
        return database_url(server_url, database)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())  # libpq's messages run over several lines
        raise BackendError(
            redact(f"cannot prepare database {database!r} on {server_url}: {reason}", server_url)
        ) from None  # the chained error would show the URL again, unmasked


class EmbeddedPostgres:
    """PostgreSQL from the pgserver wheel, reachable only through a Unix socket in a private directory.

    Whatever happens, the server is stopped and its data folder deleted: `stop()` does it after a normal run and
    after a failed or interrupted start (Ctrl-C, SIGTERM); a watchdog process does it if this process dies
    without running `stop()`, SIGKILL included (plumbline.lab.watchdog says how).
    """

    def __init__(self) -> None:
        self._watchdog: Watchdog | None = None
        self._workdir: Path | None = None
        self._server = None
        self.url: str | None = None

    def start(self) -> str:
        try:
            self._watchdog = Watchdog()
            # Named, guarded, then created: mkdir with mode 0o700 fails on an existing path, as mkdtemp would.
            # Resolved, because the postmaster's command line names the resolved path and reap() looks for it.
            self._workdir = Path(tempfile.gettempdir()).resolve() / f"plumbline-pg-{secrets.token_hex(16)}"
            self._watchdog.guard(self._workdir)
            self._workdir.mkdir(mode=0o700)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pgserver warns at import when XDG_RUNTIME_DIR is unset
                import pgserver

                logging.getLogger("pgserver").setLevel(logging.WARNING)
                self._server = pgserver.get_server(self._workdir, cleanup_mode="delete")
            self.url = self._server.get_uri()
        except Exception as exc:
            self.stop()
            raise BackendError(f"embedded PostgreSQL did not start: {exc}") from exc
        except BaseException:  # KeyboardInterrupt: Ctrl-C, or SIGTERM turned into one by the caller
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop the server and delete its data folder; after a failed or interrupted start too."""
        server, self._server = self._server, None
        try:
            if server is not None:
                server.cleanup()  # pg_ctl stop, then pgserver deletes the folder
        finally:
            if self._workdir is not None:
                reap(self._workdir)  # what a failed or interrupted start left running, and the folder
                self._workdir = None
            if self._watchdog is not None:
                self._watchdog.close()
                self._watchdog = None

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

    def credentials(self) -> tuple[str, str] | None:
        """The lab's own keys, when the environment has none (a local endpoint takes any); None: the environment's."""
        return None if os.environ.get("AWS_ACCESS_KEY_ID") else ("plumbline-lab", "plumbline-lab")

    def _session_args(self) -> dict:
        keys = dict(zip(("aws_access_key_id", "aws_secret_access_key"), self.credentials() or ()))
        return {"endpoint_url": self.endpoint_url, "region_name": self.region, **keys}

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
