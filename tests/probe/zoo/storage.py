"""Storage for the zoo's stateful twins: a fresh PostgreSQL database at SERIALIZABLE, or fresh DynamoDB tables.

Each started twin gets storage of its own, named with a random suffix, and drops it when it closes, so a
twin always starts from its seed and twins never see each other's rows.
"""

from __future__ import annotations

import random
import secrets
import time
from typing import Callable, TypeVar

import boto3
import psycopg
from botocore.config import Config
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

T = TypeVar("T")
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)
MAX_ATTEMPTS = 40
BACKOFF_BASE = 0.005
BACKOFF_CAP = 0.2


class PostgresDatabase:
    """A new database on `server_url` with `statements` applied, and a pool of SERIALIZABLE connections to it.

    Connections are in autocommit mode: a statement outside `with conn.transaction():` commits on its own.
    The pool opens all its connections up front so that a burst does not queue while it grows."""

    def __init__(self, server_url: str, name: str, statements: list[str], pool_size: int = 20) -> None:
        self.server_url = server_url
        self.name = f"zoo_{name}_{secrets.token_hex(4)}"
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        params = conninfo_to_dict(server_url)
        params["dbname"] = self.name
        url = make_conninfo(**params)
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(statement)
        self.pool = ConnectionPool(url, min_size=pool_size, max_size=pool_size, kwargs={"autocommit": True},
                                   configure=_serializable, timeout=60, open=False)
        self.pool.open(wait=True, timeout=30)

    def close(self) -> None:
        self.pool.close()
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


def _serializable(conn) -> None:
    conn.execute("SET default_transaction_isolation = 'serializable'")


def run_transaction(pool: ConnectionPool, work: Callable[[psycopg.Connection], T]) -> T:
    """Run `work(conn)` in one transaction, again from the start (after a random pause) while PostgreSQL answers
    40001 or 40P01: at SERIALIZABLE even one contended UPDATE can be refused and must be retried by the client."""
    attempt = 0
    while True:
        try:
            with pool.connection() as conn, conn.transaction():
                return work(conn)
        except RETRYABLE:
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


class DynamoTables:
    """Fresh DynamoDB tables (string hash key, optional string range key) on `endpoint`, deleted on close."""

    def __init__(self, endpoint: str, name: str, tables: dict[str, tuple[str, ...]]) -> None:
        self.client = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="zoo",
            aws_secret_access_key="zoo",
            config=Config(max_pool_connections=64, retries={"max_attempts": 2, "mode": "standard"}))
        prefix = f"zoo-{name}-{secrets.token_hex(4)}-"
        self.names = {table: prefix + table for table in tables}
        for table, keys in tables.items():
            key_types = ("HASH", "RANGE")
            self.client.create_table(
                TableName=self.names[table], BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in zip(keys, key_types)],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys])

    def close(self) -> None:
        for name in self.names.values():
            self.client.delete_table(TableName=name)
