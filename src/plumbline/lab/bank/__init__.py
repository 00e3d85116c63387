"""The `bank` app: users, accounts, withdrawals, transfers, orders and sessions on CockroachDB or PostgreSQL.

`build(twin, server_url)` gives each twin its own database, created fresh from `<twin>.sql`,
and a pool whose connections run at SERIALIZABLE. vulnerable.py plants lost updates, missing
40001 retries, check-then-insert races, a partial transfer, SQL injection, BOLA/IDOR, mass
assignment and an error leak; hardened.py fixes each one behind the same HTTP API.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import psycopg

from plumbline.lab import TWINS
from plumbline.lab.backends import ensure_database
from plumbline.lab.bank.common import create_app, open_pool
from plumbline.lab.twin import TwinApp

POOL_SIZE = 20
SCHEMA_DIR = Path(__file__).resolve().parent


def schema_statements(twin: str) -> list[str]:
    """The statements of `<twin>.sql`, in order: `--` comments dropped, split at each `;` that ends a line."""
    lines = [line for line in (SCHEMA_DIR / f"{twin}.sql").read_text().splitlines() if not line.lstrip().startswith("--")]
    statements, current = [], []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    if "".join(current).strip():
        raise ValueError(f"{twin}.sql ends with an unterminated statement")
    return statements


def apply_schema(db_url: str, twin: str) -> None:
    """Recreate the twin's tables; every statement runs on its own, which both PostgreSQL and CockroachDB accept."""
    with psycopg.connect(db_url, autocommit=True, connect_timeout=10) as conn:
        for statement in schema_statements(twin):
            conn.execute(statement)


def build(twin: str, server_url: str) -> TwinApp:
    if twin not in TWINS:
        raise ValueError(f"unknown twin {twin!r}; expected one of {', '.join(TWINS)}")
    db_url = ensure_database(server_url, f"plumbline_lab_bank_{twin}")
    apply_schema(db_url, twin)
    pool = open_pool(db_url, POOL_SIZE)
    try:
        app = create_app(pool, name=f"plumbline.lab.bank.{twin}")
        app.register_blueprint(importlib.import_module(f"plumbline.lab.bank.{twin}").bp)
    except BaseException:
        pool.close()
        raise
    return TwinApp(app, close=pool.close, internals={"db_url": db_url, "pool": pool})
