"""`plumbline audit` on real PostgreSQL databases seeded with known damage: the schema findings (PL201-PL205), the
data findings that prove them (PL210-PL213) with the seeded counts, and clean databases (sampling:
test_audit_sampling.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit_postgres import start_server
from audit_seeds import CLEAN_ROWS, DAMAGE, HARDENED_SCHEMA, HEURISTICS_SCHEMA, LOOSE_SCHEMA
from plumbline.audit import Audit, AuditOptions
from plumbline.findings import FindingsDocument

pytestmark = pytest.mark.timeout(120)

PLUMBLINE = Path(sys.executable).with_name("plumbline")


@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def damaged(server) -> str:
    return server.create_database("damaged", LOOSE_SCHEMA + DAMAGE)


def audit(url: str, **options) -> FindingsDocument:
    return Audit(AuditOptions(dsn=url, **options)).run()


def by_place(document: FindingsDocument) -> dict[tuple[str, str, str | None], dict]:
    """rule, table, column -> the finding, as JSON; each place holds one finding of a rule."""
    found = {}
    for finding in document.findings:
        key = (finding.rule_id, finding.location.table, finding.location.column)
        assert key not in found, f"two findings of {key}"
        found[key] = finding.model_dump(mode="json")
    return found


def test_schema_findings_name_each_missing_constraint(damaged):
    found = by_place(audit(damaged))
    schema = {key for key in found if key[0] < "PL210"}
    assert schema == {
        ("PL201", "users", "email"), ("PL201", "users", "username"), ("PL201", "products", "sku"),
        ("PL201", "api_clients", "api_key"),
        ("PL202", "users", "email"), ("PL202", "orders", "user_id"),
        ("PL203", "users", "balance"), ("PL203", "products", "stock"), ("PL203", "orders", "quantity"),
        ("PL203", "ledger", "amount"),
        ("PL204", "orders", "user_id"), ("PL204", "orders", "product_id"), ("PL204", "ledger", "user_id"),
        ("PL205", "ledger", None),
    }
    assert all(f["engine"] == "audit" and f["location"]["kind"] == "schema" and f["fix"] for f in found.values())
    assert "NOT VALID" in found[("PL204", "orders", "product_id")]["message"]
    assert "no FOREIGN KEY" in found[("PL204", "orders", "user_id")]["message"]


def test_the_audit_and_the_scan_judge_one_schema_alike(server, tmp_path):
    """One source of truth: PL201-PL204 of the audit on a live database are those of the scan on its DDL."""
    (tmp_path / "schema.sql").write_text(HEURISTICS_SCHEMA)
    scanned = subprocess.run([str(PLUMBLINE), "scan", str(tmp_path), "--format", "json", "--no-cache"],
                             capture_output=True, text=True, timeout=60, check=False)
    from_scan = {(f.rule_id, f.evidence["table"], f.evidence["column"])
                 for f in FindingsDocument.from_json(scanned.stdout).findings}
    from_audit = {place for place in by_place(audit(server.create_database("heuristics", HEURISTICS_SCHEMA)))
                  if place[0] in ("PL201", "PL202", "PL203", "PL204")}
    # The scan reads column defaults from models, not from DDL: only it flags a token drawn at random per row.
    assert from_audit == from_scan - {("PL201", "devices", "token")}
    assert {("PL201", "users", "email"), ("PL204", "posts", "parent_id"), ("PL203", "coupons", "discount_value"),
            ("PL204", "login_events", "user_id")} <= from_audit
    exempt = {("PL201", "posts", "username"), ("PL201", "login_events", "email"), ("PL201", "devices", "token"),
              ("PL201", "coupons", "coupon_code"), ("PL203", "coupons", "uses_left"), ("PL204", "wallets", "team_id")}
    assert not exempt & from_audit


def test_data_findings_count_the_seeded_damage_and_name_what_they_prove(damaged):
    found = by_place(audit(damaged))
    data = {key: finding["evidence"] for key, finding in found.items() if key[0] >= "PL210"}
    assert set(data) == {("PL210", "users", "email"), ("PL210", "api_clients", "api_key"),
                         ("PL211", "users", "email"), ("PL211", "orders", "user_id"),
                         ("PL212", "users", "balance"), ("PL212", "products", "stock"),
                         ("PL213", "orders", "user_id"), ("PL213", "orders", "product_id")}
    emails = data[("PL210", "users", "email")]
    assert (emails["duplicated_values"], emails["duplicate_rows"]) == (3, 7)
    assert emails["sample_keys"] == ["cy@example.com", "ann@example.com", "bob@example.com"]
    assert emails["proves"] == "PL201" and emails["sampled"] is False and emails["rows_examined"] == 8
    assert data[("PL211", "users", "email")]["null_rows"] == 2
    owners = data[("PL211", "orders", "user_id")]
    assert (owners["null_rows"], owners["proves"], owners["rows_examined"]) == (3, "PL202", 11)
    balance = data[("PL212", "users", "balance")]
    assert (balance["negative_rows"], balance["lowest"], balance["proves"]) == (2, "-5.25", "PL203")
    assert data[("PL212", "products", "stock")]["negative_rows"] == 1
    users = data[("PL213", "orders", "user_id")]
    assert (users["orphan_rows"], users["orphan_values"], users["sample_keys"]) == (4, 2, ["900", "901"])
    assert users["proves"] == "PL204" and users["references"] == "users.id"
    products = data[("PL213", "orders", "product_id")]
    assert (products["orphan_rows"], products["orphan_values"], products["sample_keys"]) == (2, 1, ["77"])


def test_a_secret_is_shown_as_a_digest_never_as_its_value(damaged):
    document = audit(damaged)
    keys = by_place(document)[("PL210", "api_clients", "api_key")]["evidence"]["sample_keys"]
    assert len(keys) == 1 and keys[0].startswith("sha256:")
    assert "sk_live_secret_one" not in document.to_json()


def test_undamaged_rows_give_schema_findings_and_no_data_finding(server):
    url = server.create_database("loose_clean", LOOSE_SCHEMA + CLEAN_ROWS)
    rules = {finding.rule_id for finding in audit(url).findings}
    assert {"PL201", "PL202", "PL203", "PL204", "PL205"} <= rules
    assert not {rule for rule in rules if rule >= "PL210"}


def test_a_hardened_schema_gives_no_finding(server):
    url = server.create_database("hardened", HARDENED_SCHEMA + CLEAN_ROWS.replace(
        "INSERT INTO ledger VALUES", "INSERT INTO ledger (user_id, amount) VALUES"))
    document = audit(url)
    assert document.findings == () and document.errors == ()


def test_select_and_ignore_choose_what_is_reported_and_read(damaged):
    document = audit(damaged, selected=frozenset({"PL210"}))
    assert {(f.rule_id, f.location.table) for f in document.findings} == {("PL210", "users"), ("PL210", "api_clients")}


@pytest.mark.parametrize("output_format", ["json", "sarif", "junit", "text"])
def test_every_output_format_carries_the_findings(damaged, output_format):
    result = subprocess.run([str(PLUMBLINE), "audit", "--dsn", damaged, "--format", output_format],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    password = damaged.split(":")[2].split("@")[0]
    assert password not in result.stdout + result.stderr
    if output_format == "json":
        document = FindingsDocument.from_json(result.stdout)
        assert ("PL213", "orders", "user_id") in by_place(document)
    elif output_format == "sarif":
        run = json.loads(result.stdout)["runs"][0]
        names = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]) for r in run["results"]}
        assert ("PL210", "users.email") in names and ("PL205", "ledger") in names
        assert {"PL205", "PL210", "PL213"} <= {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    elif output_format == "junit":
        assert 'classname="plumbline.audit.PL212"' in result.stdout and "users.balance" in result.stdout
    else:
        assert "users.email: PL210 [high]" in result.stdout


def test_a_percent_sign_in_a_table_or_column_name_is_audited_like_any_other(server):
    url = server.create_database("percent", '''
        CREATE TABLE "50%_off" (id serial PRIMARY KEY, "e%mail" text, balance integer);
        INSERT INTO "50%_off" ("e%mail", balance) VALUES ('a@x.example', 1), ('a@x.example', -5), ('b@x.example', 2);
    ''')
    document = audit(url)
    assert not document.errors
    found = {(f.rule_id, f.location.column) for f in document.findings if f.location.table == "50%_off"}
    assert {("PL212", "balance"), ("PL203", "balance")} <= found
