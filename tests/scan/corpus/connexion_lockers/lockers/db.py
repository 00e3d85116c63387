"""One psycopg2 connection pool for the whole app."""

from psycopg2.pool import SimpleConnectionPool

pool = SimpleConnectionPool(1, 5, "postgresql://lockers@localhost/lockers")
