"""The lab's damage step: the bank twins' races written into their databases, then audited as `make demo` does.
The vulnerable twin's database takes every write and the audit proves the damage (PL210-PL213); the hardened
twin's refuses every damaging write, and its audit finds no damage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plumbline.lab.backends import BackendError
from plumbline.lab.bank.damage import seed_damage, twin_database_url
from plumbline.lab.runner import Lab
from plumbline.lab.tour import audit_bank_twin

pytestmark = pytest.mark.timeout(180)

PLUMBLINE = Path(sys.executable).with_name("plumbline")
DATA_RULES = {"PL210", "PL211", "PL212", "PL213"}


@pytest.fixture(scope="module")
def lab():
    """Both bank twins on an embedded PostgreSQL of their own (the damage must not reach the session's)."""
    with Lab(apps=("bank",)) as running:
        yield running


@pytest.fixture(scope="module")
def audited(lab):
    return {twin: audit_bank_twin(lab, twin) for twin in ("vulnerable", "hardened")}


def test_the_vulnerable_twins_database_takes_every_write_and_the_audit_proves_the_damage(audited):
    writes, document = audited["vulnerable"]
    assert writes and all(write.accepted for write in writes)
    proofs = {(f.rule_id, f.location.table, f.location.column): f.evidence for f in document.findings
              if f.rule_id in DATA_RULES}
    assert proofs[("PL210", "users", "email")]["duplicate_rows"] >= 2
    assert proofs[("PL212", "accounts", "balance")]["lowest"] == -60  # 100, then two withdrawals of 80
    assert proofs[("PL212", "orders", "amount")]["negative_rows"] >= 1
    assert proofs[("PL213", "orders", "user_id")]["orphan_rows"] >= 1
    assert proofs[("PL211", "orders", "user_id")]["null_rows"] >= 1
    assert not document.errors
    # Audited with the twin's code: the scan's findings on the same column are cited.
    cited = {c["rule"] for f in document.findings if f.location.table == "users" and f.location.column == "email"
             for c in f.evidence.get("scan_findings", [])}
    assert "PL201" in cited


def test_the_hardened_twins_database_refuses_the_damage_and_gives_no_data_finding(audited):
    writes, document = audited["hardened"]
    refused = {write.refused_by for write in writes if not write.accepted}
    assert {"users_email_key", "accounts_balance_check", "orders_user_id_fkey", "orders_amount_check"} <= refused
    assert len(refused) == len(writes) - 3  # the first registration, the account and the first withdrawal pass
    assert not [f for f in document.findings if f.rule_id in DATA_RULES or f.rule_id == "PL206"]
    assert not document.errors


def test_lab_damage_command_seeds_a_twin_and_says_how_to_audit_it(lab):
    run = subprocess.run([str(PLUMBLINE), "lab-damage", "--dsn", lab.sql_url], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert "duplicate registration" in run.stdout and "plumbline audit --dsn" in run.stdout
    assert "plumbline_lab_bank_vulnerable" in run.stdout


def test_seeding_a_database_without_the_bank_twin_is_a_clear_error(lab):
    with pytest.raises(BackendError, match="holds no bank twin"):
        seed_damage(twin_database_url(lab.sql_url, "vulnerable").replace("plumbline_lab_bank_vulnerable", "postgres"))
    run = subprocess.run([str(PLUMBLINE), "lab-damage", "--dsn", "postgresql://lab:pw@127.0.0.1:1/x"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "pw@" not in run.stderr
