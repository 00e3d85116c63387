"""Invoice data access, called from routes.py."""

from psycopg_pool import ConnectionPool

pool = ConnectionPool("postgresql://billing@localhost/billing", open=False)
OPEN = "open"


def find_invoice(conn, invoice_id):
    return conn.execute("SELECT id, customer_id, total FROM invoices WHERE id = %s", (invoice_id,)).fetchone()  # expect: PL105


def find_customer_invoice(conn, invoice_id, customer_id):
    return conn.execute(  # ok: PL105
        "SELECT id, customer_id, total FROM invoices WHERE id = %s AND customer_id = %s", (invoice_id, customer_id)
    ).fetchone()


def search_invoices(conn, customer_id, term):
    return conn.execute(  # expect: PL101
        f"SELECT id, memo FROM invoices WHERE customer_id = %s AND memo LIKE '%{term}%'", (customer_id,)
    ).fetchall()


def count_by_status(conn, customer_id, status):
    return conn.execute(  # ok: PL101
        f"SELECT count(*) FROM invoices WHERE customer_id = %s AND status = '{status}'", (customer_id,)
    ).fetchone()[0]


def pay(conn, invoice_id, customer_id, amount):
    row = conn.execute(
        "SELECT total FROM invoices WHERE id = %s AND customer_id = %s", (invoice_id, customer_id)
    ).fetchone()
    conn.execute(  # expect: PL102
        "UPDATE invoices SET total = %s WHERE id = %s AND customer_id = %s", (row[0] - amount, invoice_id, customer_id)
    )


def pay_atomic(conn, invoice_id, customer_id, amount):
    return conn.execute(  # ok: PL102
        "UPDATE invoices SET total = total - %s WHERE id = %s AND customer_id = %s AND total >= %s",
        (amount, invoice_id, customer_id, amount),
    ).rowcount


def register_customer(conn, email, name):
    if conn.execute("SELECT id FROM customers WHERE email = %s", (email,)).fetchone():
        return None
    return conn.execute(  # expect: PL104
        "INSERT INTO customers (email, name) VALUES (%s, %s) RETURNING id", (email, name)
    ).fetchone()


def mark_paid(invoice_id, customer_id):
    with pool.connection() as conn:
        conn.execute("UPDATE invoices SET status = 'paid' WHERE id = %s AND customer_id = %s", (invoice_id, customer_id))


def log_payment(invoice_id, amount):
    with pool.connection() as conn:
        conn.execute("INSERT INTO payments (invoice_id, amount) VALUES (%s, %s)", (invoice_id, amount))  # ok: PL106 (the handler sequences the two helpers: reported on its line)


def settle(conn, invoice_id, customer_id, amount):
    conn.execute("UPDATE invoices SET status = 'paid' WHERE id = %s AND customer_id = %s", (invoice_id, customer_id))
    conn.execute("INSERT INTO payments (invoice_id, amount) VALUES (%s, %s)", (invoice_id, amount))  # ok: PL106
