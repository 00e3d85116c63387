from psycopg2.pool import ThreadedConnectionPool

pool = ThreadedConnectionPool(1, 8, "postgresql://laundry@localhost/laundry")
