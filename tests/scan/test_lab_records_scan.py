"""The scan on the records lab (DynamoDB): every planted failure of the vulnerable twin is found with the rule that
describes it, and the hardened twin, read with the code both twins share, has no finding at all."""

from __future__ import annotations

from pathlib import Path

from plumbline.scan import ScanOptions, scan

RECORDS = Path(__file__).resolve().parents[2] / "src" / "plumbline" / "lab" / "records"
SHARED = ("common.py", "tables.py")

# (line, rule): each planted failure of vulnerable.py (see its comments and the package docstring).
PLANTED = {
    (33, "PL302"),  # mass assignment: the body is stored as the item (the client picks user_id, is_admin...)
    (56, "PL301"),  # BOLA: GET /records/<id> reads by a partition key taken from the client id
    (68, "PL301"),  # BOLA: the increment loads another user's record the same way
    (75, "PL303"),  # lost update: get_item, add in Python, put_item of the whole item
    (90, "PL301"),  # BOLA: the transfer's keys come from the body (one finding per table and handler)
    (90, "PL303"),  # no balance condition on the debit (SET balance = balance - :a): balances go negative
    (97, "PL304"),  # partial write: debit and credit are two separate update_item calls
    (146, "PL305"),  # non-idempotent stream consumer: ADD for every delivery, no eventID ledger
}


def findings(*names: str):
    result = scan([RECORDS / name for name in names], ScanOptions(cache=False))
    assert not result.document.errors, [f"{e.target}: {e.message}" for e in result.document.errors]
    return result.document.findings


def test_every_planted_failure_of_the_vulnerable_records_twin_is_found():
    found = {(f.location.line, f.rule_id) for f in findings("vulnerable.py", *SHARED)
             if Path(f.location.path).name == "vulnerable.py"}
    assert found == PLANTED


def test_the_vulnerable_twins_findings_name_the_dynamodb_fix():
    for finding in findings("vulnerable.py", *SHARED):
        assert finding.fix and any(word in finding.fix for word in ("Condition", "transact", "Take the partition",
                                                                    "Validate", "atomic", "eventID"))


def test_the_hardened_records_twin_has_no_finding():
    assert [(f.location.path, f.location.line, f.rule_id, f.message) for f in findings("hardened.py", *SHARED)] == []
