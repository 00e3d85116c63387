"""An embedded PostgreSQL (the pgserver wheel's binaries) on 127.0.0.1 and a free port, with password
authentication over TCP and every statement logged, for the audit's tests.

The lab's EmbeddedPostgres listens on a Unix socket and trusts every local user; the audit needs what a real
server has: a TCP address, roles with passwords and privileges, a refused password. `log_statement = all`, with
each line prefixed by the session's application name, lets a test read back every statement the audit sent.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pgserver warns at import when XDG_RUNTIME_DIR is unset
    import pgserver
    from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

BINARIES = Path(pgserver.__file__).parent / "pginstall" / "bin"
SUPERUSER = "postgres"
_LOGGED_STATEMENT = re.compile(r"LOG:\s+(statement|execute [^:]*): ")


@dataclass
class Server:
    port: int
    password: str  # the superuser's
    log: Path

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)

    def create_database(self, name: str, ddl: str) -> str:
        """A new database `name` holding `ddl` (and its rows); its superuser URL."""
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        with self.admin(name) as connection:
            connection.execute(ddl)
        return self.url(name)

    def statements_of(self, application: str, user: str) -> list[str]:
        """Every statement a session named `application` of role `user` sent, from the server's log (each line is
        prefixed `[application|user] `; a statement spans lines up to the next prefixed line). Simple queries are
        logged as `statement: `, the extended protocol's as `execute <name>: ` (psycopg sends parameters so)."""
        statements, current = [], None
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("["):
                if current is not None:
                    statements.append(current.strip())
                name, _, rest = line[1:].partition("] ")
                logged = _LOGGED_STATEMENT.search(rest)
                current = rest[logged.end():] if name == f"{application}|{user}" and logged else None
            elif current is not None:
                current += "\n" + line
        if current is not None:
            statements.append(current.strip())
        return statements


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(binary: str, *args: str, owner: str | None) -> None:
    subprocess.run([str(BINARIES / binary), *args], check=True, capture_output=True, timeout=60,
                   **({"user": owner} if owner else {}))


def start_server():
    """Start a server; yields it, then stops it and deletes its folder (a generator for a pytest fixture)."""
    owner = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: pgserver's own unprivileged user runs it
        owner = "pgserver"
        ensure_user_exists(owner)
    folder = Path(tempfile.mkdtemp(prefix="plumbline-audit-pg-"))
    data, password = folder / "data", secrets.token_urlsafe(16)
    (folder / "password").write_text(password)
    if owner:
        ensure_prefix_permissions(folder)
        shutil.chown(folder, owner)
        shutil.chown(folder / "password", owner)
    server = Server(port=_free_port(), password=password, log=folder / "server.log")
    try:
        _run("initdb", "-D", str(data), "-U", SUPERUSER, f"--pwfile={folder / 'password'}", "--auth-local=trust",
             "--auth-host=scram-sha-256", "--encoding=utf8", owner=owner)
        options = (f"-h 127.0.0.1 -p {server.port} -k '' -c log_statement=all -c log_line_prefix='[%a|%u] ' "
                   "-c max_connections=40 -c fsync=off -c shared_buffers=16MB")
        _run("pg_ctl", "-D", str(data), "-l", str(server.log), "-o", options, "-w", "-t", "60", "start", owner=owner)
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            _run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", owner=owner)
        shutil.rmtree(folder, ignore_errors=True)


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)
