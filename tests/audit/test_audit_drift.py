"""`plumbline audit --scan`: a small app whose declared schema (schema.sql) is ahead of the live database (its
migrations never ran), audited on embedded PostgreSQL. The drift (PL206) with the rows that prove it, the columns
the code's inserts require checked for NULLs, and the scan's findings cited on the same column."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audit_postgres import start_server

from plumbline.audit import Audit, AuditOptions
from plumbline.audit.connection import AuditError
from plumbline.report.correlate import correlate
from plumbline.report.html import render
from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.timeout(120)

PLUMBLINE = Path(sys.executable).with_name("plumbline")

DECLARED = """
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  display_name TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE accounts (
  id SERIAL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  balance INTEGER NOT NULL CHECK (balance >= 0)
);
CREATE TABLE transfers (
  id SERIAL PRIMARY KEY,
  account_id INTEGER REFERENCES accounts (id),
  amount INTEGER
);
CREATE TABLE rentals (
  id SERIAL PRIMARY KEY,
  renter_id INTEGER REFERENCES users (id),
  title TEXT NOT NULL,
  UNIQUE (renter_id, title)
);
CREATE TABLE audit_log (
  id SERIAL PRIMARY KEY,
  message TEXT NOT NULL
);
"""

APP = '''
import psycopg
from flask import Flask, request

app = Flask(__name__)


def connect():
    return psycopg.connect("postgresql://localhost/bank")


@app.post("/accounts/<int:account_id>/transfers")
def transfer(account_id):
    amount = int(request.json["amount"])
    with connect() as conn:
        conn.execute("INSERT INTO transfers (account_id, amount) VALUES (%s, %s)", (account_id, amount))
        conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, account_id))
    return {"ok": True}


@app.post("/users")
def register():
    with connect() as conn:
        conn.execute("INSERT INTO users (email, display_name) VALUES (%s, %s)",
                     (request.json["email"], request.json.get("name")))
    return {"ok": True}
'''

# The first migration only: no created_at, no audit_log, and none of the constraints but the primary keys.
LIVE = """
CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT, display_name TEXT);
CREATE TABLE accounts (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE transfers (id SERIAL PRIMARY KEY, account_id INTEGER, amount INTEGER);
CREATE TABLE rentals (id SERIAL PRIMARY KEY, renter_id INTEGER, title TEXT NOT NULL);
INSERT INTO users (email, display_name) VALUES ('ann@example.com', 'Ann'), ('ann@example.com', 'Ann again'),
  (NULL, 'Nobody'), ('bob@example.com', NULL);
INSERT INTO accounts (user_id, balance) VALUES (1, 10), (2, -5), (99, 0);
INSERT INTO transfers (account_id, amount) VALUES (1, 5), (1, NULL), (7, 3);
INSERT INTO rentals (renter_id, title) VALUES (1, 'Dune'), (NULL, 'Emma'), (55, 'Ulysses'), (1, 'Dune');
"""


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("drift-app")
    (root / "schema.sql").write_text(DECLARED)
    (root / "app.py").write_text(APP)
    return root


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def findings(url: str, app: Path) -> list[dict]:
    document = Audit(AuditOptions(dsn=url, scan=(app,))).run()
    assert not document.errors
    return [f.model_dump(mode="json") for f in document.findings]


def places(found: list[dict], rule: str) -> dict[tuple[str, str | None], list[dict]]:
    grouped: dict[tuple[str, str | None], list[dict]] = {}
    for f in found:
        if f["rule_id"] == rule:
            grouped.setdefault((f["location"]["table"], f["location"]["column"]), []).append(f)
    return grouped


def test_drift_names_what_the_migrations_never_added(server, app):
    found = findings(server.create_database("drifted", LIVE), app)
    drift = places(found, "PL206")
    missing = {key: sorted(f["evidence"]["missing"] for f in group) for key, group in drift.items()}
    assert missing == {
        ("audit_log", None): ["missing table"], ("users", "created_at"): ["missing column"],
        ("users", "email"): ["NOT NULL", "UNIQUE"], ("accounts", "user_id"): ["FOREIGN KEY"],
        ("accounts", "balance"): ["CHECK"], ("transfers", "account_id"): ["FOREIGN KEY"],
        ("rentals", "renter_id"): ["FOREIGN KEY"], ("rentals", None): ["UNIQUE"],
    }
    assert drift[("rentals", None)][0]["evidence"]["columns"] == ["renter_id", "title"]
    declared = drift[("accounts", "balance")][0]["evidence"]["declared_at"]
    assert declared == f"schema.sql:{line_of(DECLARED, 'balance INTEGER')}"
    # The drift replaces the heuristics' findings of the same gap: one finding, one proof.
    assert not places(found, "PL201") and ("users", "email") not in places(found, "PL202")
    assert not places(found, "PL204") and ("accounts", "balance") not in places(found, "PL203")


def test_rows_prove_the_drift(server, app):
    found = findings(server.create_database("drifted_rows", LIVE), app)
    proofs = {(f["rule_id"], f["location"]["table"], f["location"]["column"]): f["evidence"] for f in found
              if f["rule_id"] >= "PL210"}
    assert proofs[("PL210", "users", "email")]["sample_keys"] == ["ann@example.com"]
    assert proofs[("PL210", "users", "email")]["proves"] == "PL206"
    assert proofs[("PL211", "users", "email")]["null_rows"] == 1
    assert proofs[("PL212", "accounts", "balance")]["negative_rows"] == 1
    assert proofs[("PL213", "accounts", "user_id")]["orphan_values"] == 1
    assert proofs[("PL213", "transfers", "account_id")]["sample_keys"] == ["7"]
    # transfers.amount is nullable in the code too, but every insert writes it: the code requires it.
    assert proofs[("PL211", "transfers", "amount")]["null_rows"] == 1
    assert proofs[("PL211", "transfers", "amount")]["proves"] == "PL202"
    assert ("PL211", "users", "display_name") not in proofs  # nothing requires it: its NULL is no damage
    # rentals.renter_id refers to users, the table of callers: it says whose rental it is, and NULL is nobody's.
    assert proofs[("PL211", "rentals", "renter_id")]["proves"] == "PL202"
    assert proofs[("PL213", "rentals", "renter_id")]["sample_keys"] == ["55"]


def test_findings_cite_the_scan_findings_on_the_same_column(server, app):
    found = findings(server.create_database("drifted_cited", LIVE), app)
    required = places(found, "PL202")[("transfers", "amount")][0]
    amount_line = line_of(DECLARED, "amount INTEGER")
    assert required["evidence"]["required_at"] == f"schema.sql:{amount_line}"
    # Every scan finding on transfers.amount is cited, by each audit finding on it.
    cited = [{"rule": rule, "at": f"schema.sql:{amount_line}"} for rule in ("PL202", "PL203")]
    assert required["evidence"]["scan_findings"] == cited
    assert places(found, "PL203")[("transfers", "amount")][0]["evidence"]["scan_findings"] == cited
    assert all("scan_findings" not in f["evidence"] for f in places(found, "PL206")[("users", "email")])


def test_a_database_migrated_as_declared_has_no_drift_and_no_damage(server, app):
    url = server.create_database("migrated", DECLARED + """
INSERT INTO users (email) VALUES ('ann@example.com'), ('bob@example.com');
INSERT INTO accounts (user_id, balance) VALUES (1, 10), (2, 0);
INSERT INTO transfers (account_id, amount) VALUES (1, 5), (2, 3);
INSERT INTO rentals (renter_id, title) VALUES (1, 'Dune'), (2, 'Dune');
""")
    found = findings(url, app)
    assert not [f for f in found if f["rule_id"] == "PL206" or f["rule_id"] >= "PL210"]
    # the scan's own findings on the declared schema are the live schema's too
    assert {(f["rule_id"], f["location"]["column"]) for f in found} >= {("PL202", "amount"), ("PL203", "amount")}


def test_a_scan_path_that_does_not_exist_is_a_usage_error(server, tmp_path):
    with pytest.raises(AuditError, match="no such file"):
        Audit(AuditOptions(dsn=server.url(), scan=(tmp_path / "missing",)))
    empty = tmp_path / "empty"
    empty.mkdir()
    run = subprocess.run([str(PLUMBLINE), "audit", "--dsn", server.url(), "--scan", str(empty)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "--scan" in run.stderr and "Traceback" not in run.stderr


def test_the_report_shows_a_scan_finding_and_the_audit_findings_on_its_column_as_one_issue(server, app):
    url = server.create_database("drifted_report", LIVE)
    audited = Audit(AuditOptions(dsn=url, scan=(app,))).run()
    scanned = scan([app], ScanOptions()).document
    issues = {issue.operation: issue for issue in correlate([*scanned.findings, *audited.findings])}
    amount = issues["transfers.amount"]
    assert {f.rule_id for f in amount.scan} == {"PL202", "PL203"} and all(f.engine == "scan" for f in amount.scan)
    assert {f.rule_id for f in amount.audit} == {"PL202", "PL203", "PL211"}
    assert "confirmed in the live database" in amount.headline() and "1 row with amount NULL" in amount.headline()
    assert "users.email" not in issues  # the scan found nothing there: the drift stands alone
    page = render([scanned, audited])
    assert "on transfers.amount" in page and "confirmed in the live database" in page


def test_text_sarif_and_junit_name_the_code_that_has_the_same_defect(server, app):
    """Issue 12: audit findings are correlated with scan findings in every output format, not only the HTML page."""
    from plumbline.report import junit, sarif, text
    from rich.console import Console

    audited = Audit(AuditOptions(dsn=server.create_database("drifted_formats", LIVE), scan=(app,))).run()
    amount_line = line_of(DECLARED, "amount INTEGER")
    cited = f"PL202 at schema.sql:{amount_line}, PL203 at schema.sql:{amount_line}"
    console = Console(record=True, width=400)
    text.render(audited, console)
    shown = [line for line in console.export_text().splitlines() if line.startswith("transfers.amount: PL211")]
    assert shown and shown[0].endswith(f"(found in code too: {cited})")
    results = sarif.render(audited)
    messages = [r["message"]["text"] for r in json.loads(results)["runs"][0]["results"]
                if r["ruleId"] == "PL211" and r["message"]["text"].startswith("transfers.amount")]
    assert len(messages) == 1 and f"Found in code too: {cited}" in messages[0]
    assert f"Found in code too: {cited}" in junit.render(audited, ["PL211"])
    # A finding that names no scan finding (the drift on users.email) says nothing of the code.
    email = [r["message"]["text"] for r in json.loads(results)["runs"][0]["results"]
             if r["ruleId"] == "PL206" and r["message"]["text"].startswith("users.email")]
    assert email and not any("Found in code too" in m for m in email)
