"""The lab's damage step for the records (DynamoDB) twins: the damaging writes sent through each twin's API, then
the twin's tables audited with its code, as `make demo` does. DynamoDB enforces nothing but keys, so the
vulnerable twin stores every write and the audit finds the damage (PL310, PL312, PL316), citing the code that let
it in; the hardened twin's handlers refuse every write, and its tables (deletion protection and point-in-time
recovery on) give no finding at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plumbline.lab.backends import BackendError
from plumbline.lab.records.damage import seed_damage
from plumbline.lab.runner import Lab
from plumbline.lab.tour import audit_records_twin

pytestmark = pytest.mark.timeout(180)

PLUMBLINE = Path(sys.executable).with_name("plumbline")


@pytest.fixture(scope="module")
def lab():
    with Lab(apps=("records",)) as running:
        yield running


@pytest.fixture(scope="module")
def audited(lab):
    return {twin: audit_records_twin(lab, twin) for twin in ("vulnerable", "hardened")}


def _found(document, rule_id: str, column: str):
    return next(f for f in document.findings if f.rule_id == rule_id and f.location.table.endswith("-records")
                and f.location.column == column)


def test_the_vulnerable_twin_stores_every_write_and_the_audit_finds_the_damage(audited):
    writes, document = audited["vulnerable"]
    assert len(writes) == 4 and all(write.accepted for write in writes)
    orphan = _found(document, "PL312", "user_id")  # the partition key: a record of a user who does not exist
    assert orphan.evidence["orphan_items"] >= 1 and orphan.evidence["complete"]
    drift = _found(document, "PL310", "version")
    assert drift.evidence["types"].keys() == {"N", "S"} and drift.evidence["missing_items"] >= 1
    negative = _found(document, "PL316", "balance")
    assert negative.evidence["lowest"] == "-50" and negative.severity == "high"  # 100 - 150
    assert {f.rule_id for f in document.findings if f.location.column is None} == {"PL314", "PL315"}
    assert not document.errors


def test_the_vulnerable_twins_findings_cite_the_code_that_let_the_damage_in(audited):
    _, document = audited["vulnerable"]
    cited = {rule_id: {c["rule"] for c in _found(document, rule_id, column).evidence["scan_findings"]}
             for rule_id, column in (("PL312", "user_id"), ("PL310", "version"), ("PL316", "balance"))}
    assert cited["PL312"] == {"PL301", "PL302"}  # a key the client chose, the body stored as sent
    assert cited["PL310"] == {"PL302"}
    assert "PL302" in cited["PL316"]
    debits = {c["at"] for c in _found(document, "PL316", "balance").evidence["scan_findings"] if c["rule"] == "PL303"}
    assert any(place.endswith("vulnerable.py:90") for place in debits)  # the debit no condition guards
    at = {c["at"] for c in _found(document, "PL312", "user_id").evidence["scan_findings"] if c["rule"] == "PL301"}
    assert at and all(place.endswith("vulnerable.py:90") for place in at)  # the write, not the reads, of a client key


def test_the_hardened_twin_refuses_every_write_and_its_tables_give_no_finding(audited):
    writes, document = audited["hardened"]
    assert writes and not any(write.accepted for write in writes)
    assert {write.refused_by.split()[2] for write in writes} == {"422", "409"}
    assert document.findings == () and not document.errors


def test_lab_damage_through_a_records_twins_api_and_an_audit_by_table_pattern(lab):
    running = lab.twins["records"]["vulnerable"]
    run = subprocess.run([str(PLUMBLINE), "lab-damage", "--records", running.url, "--token",
                          running.identities["bob"]], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "4/4 writes accepted" in run.stdout
    tables = lab.describe()["records"]["vulnerable"]["dynamodb"]
    prefix = os.path.commonprefix(tables["tables"])
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab"}
    audit = [str(PLUMBLINE), "audit", "--dynamodb", "--endpoint", tables["endpoint"], "--region", tables["region"],
             "--format", "json"]
    found = subprocess.run([*audit, "--table", f"{prefix}*"], capture_output=True, text=True, timeout=60, env=env)
    assert found.returncode == 1, found.stderr
    assert f'"{prefix}records"' in found.stdout and "PL316" in found.stdout
    assert f'"{prefix.replace("vulnerable", "hardened")}records"' not in found.stdout  # the pattern, not every table
    none = subprocess.run([*audit, "--table", "no-such-*"], capture_output=True, text=True, timeout=60, env=env)
    assert none.returncode == 2 and "--table no-such-*: no table" in none.stderr and "Traceback" not in none.stderr


def test_lab_damage_needs_exactly_one_twin_and_a_reachable_one(lab):
    for arguments in ([], ["--dsn", "postgresql://x@127.0.0.1:1/x", "--records", "http://127.0.0.1:1", "--token", "t"],
                      ["--records", "http://127.0.0.1:1"]):
        run = subprocess.run([str(PLUMBLINE), "lab-damage", *arguments], capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and "Traceback" not in run.stderr
    with pytest.raises(BackendError, match="does not know this token"):
        seed_damage(lab.twins["records"]["vulnerable"].url, "not-a-token")
    run = subprocess.run([str(PLUMBLINE), "lab-damage", "--records", "http://127.0.0.1:1", "--token", "t"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "cannot seed the records twin" in run.stderr and "Traceback" not in run.stderr
