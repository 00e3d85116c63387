"""A maintenance script and the helpers an app calls: SQL text built from parameters whose values nobody shows."""

import psycopg

conn = psycopg.connect("postgresql://sync@localhost/catalogue")


def rename_supplier(old_name, new_name):
    # Called by an operator's tooling outside this tree: nothing says the names are safe to paste.
    conn.execute(f"UPDATE suppliers SET name = '{new_name}' WHERE name = '{old_name}'")  # expect: PL101


def trim_history(days):
    conn.execute(f"DELETE FROM price_history WHERE age_days > {int(days)}")  # ok: PL101


def count_rows(table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # ok: PL101


def report():
    return {name: count_rows(name) for name in ("suppliers", "price_history")}


class Exporter:
    def __init__(self, prefix):
        self.prefix = prefix

    def export(self):
        return conn.execute(f"SELECT * FROM {self.prefix}_items").fetchall()  # ok: PL101
