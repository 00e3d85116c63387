"""`plumbline audit --scan` judges the columns the code declares as the scan does, not by their names alone: an
owner column some insert leaves out is optional by design, a column the code lowers is an amount. Without
`--scan` the audit has only the names, and says what they suggest."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_postgres import start_server

from plumbline.audit import Audit, AuditOptions
from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.timeout(120)

SCHEMA = """
CREATE TABLE users (id SERIAL PRIMARY KEY, login TEXT NOT NULL UNIQUE);
CREATE TABLE vouchers (
  id SERIAL PRIMARY KEY,
  user_id INTEGER REFERENCES users (id),
  credit INTEGER NOT NULL DEFAULT 0,
  value INTEGER NOT NULL DEFAULT 0
);
"""

APP = '''
import psycopg
from flask import Flask, request

app = Flask(__name__)


def connect():
    return psycopg.connect("postgresql://localhost/shop")


@app.post("/vouchers")
def issue():
    # Vouchers start unclaimed: no insert names user_id.
    with connect() as conn:
        conn.execute("INSERT INTO vouchers (credit, value) VALUES (0, %s)", (int(request.json["value"]),))
    return {"ok": True}


@app.post("/vouchers/<int:voucher_id>/spend")
def spend(voucher_id):
    with connect() as conn:
        conn.execute("UPDATE vouchers SET value = value - %s WHERE id = %s", (int(request.json["amount"]), voucher_id))
    return {"ok": True}
'''

ROWS = "INSERT INTO vouchers (credit, value) VALUES (0, 5), (0, -3);"


@pytest.fixture(scope="module")
def database():
    for server in start_server():
        yield server.create_database("vouchers", SCHEMA + ROWS)


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vouchers-app")
    (root / "schema.sql").write_text(SCHEMA)
    (root / "app.py").write_text(APP)
    return root


def columns(document, rule: str) -> set[str]:
    return {f.location.column for f in document.findings if f.rule_id == rule and f.location.table == "vouchers"}


def test_with_the_code_the_audit_reports_what_the_scan_reports_on_the_same_columns(database, app):
    scanned = scan([app], ScanOptions(cache=False)).document
    document = Audit(AuditOptions(dsn=database, scan=(app,))).run()
    assert not document.errors
    for rule in ("PL201", "PL202", "PL203", "PL204"):
        in_code = {f.evidence.get("column") for f in scanned.findings if f.rule_id == rule
                   and f.evidence.get("table") == "vouchers"}
        assert columns(document, rule) == in_code, rule
    assert "user_id" not in columns(document, "PL202")  # an unclaimed voucher has no owner, by design
    assert "value" in columns(document, "PL203")  # the code lowers it: an amount, whatever its name
    assert "value" in columns(document, "PL212")  # and a row already went below zero


def test_without_the_code_the_audit_goes_by_the_names(database):
    document = Audit(AuditOptions(dsn=database)).run()
    assert "user_id" in columns(document, "PL202")
    assert "credit" in columns(document, "PL203") and "value" not in columns(document, "PL203")
