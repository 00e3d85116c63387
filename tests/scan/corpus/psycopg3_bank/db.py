"""Connection pool and the transaction runner of the bank service (psycopg 3 on CockroachDB)."""

import os
import random
import time

from psycopg import errors
from psycopg_pool import ConnectionPool

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://root@localhost:26257/bank?sslmode=disable")
pool = ConnectionPool(DATABASE_URL, open=False)


def run_in_txn(work, attempts=8):
    """Run `work(conn)` in one transaction, again on 40001 with backoff and jitter."""
    for attempt in range(attempts):
        try:
            with pool.connection() as conn, conn.transaction():
                return work(conn)
        except errors.SerializationFailure:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(1.0, 0.02 * 2 ** attempt)))
    return None
