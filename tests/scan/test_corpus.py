"""The scan fixture corpus: every finding the engine reports must be marked, and every mark must be found.

Marks, semgrep-rules style, on the line where a finding is (or must not be) reported:

    # expect: PL102, PL106        a finding of each rule must be reported on this line
    # ok: PL102                   a safe look-alike: no finding of that rule may land on this line
    -- expect: PL201 / -- ok: PL201   the same in .sql files

Known limits of the engine are written down instead of left out, so the corpus doubles as a to-do list:

    # expect: PL105  # known-miss: <reason>           a defect the engine does not report yet
    # ok: PL101  # known-false-alarm: <reason>        a safe line the engine wrongly reports today

The test reports each as a warning instead of failing, and fails once the engine's answer becomes right (the
miss is found, the false alarm is gone), so the note gets dropped and the mark promoted to a plain one. A note
applies to the marks of its own kind on that line; neither counts towards the five marks each rule needs.
Each directory of `corpus/` is one scenario app, scanned on its own with every rule on.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from plumbline.rules import all_rules
from plumbline.scan import ScanOptions, scan

CORPUS = Path(__file__).resolve().parent / "corpus"
LAB = Path(__file__).resolve().parents[2] / "src" / "plumbline" / "lab" / "bank"
MARK = re.compile(r"(?:#|--)\s*(expect|ok):\s*(PL\d{3}(?:\s*,\s*PL\d{3})*)")
KNOWN_NOTE = {  # a note's reason runs to the next `#` or the end of the line
    "expect": re.compile(r"known-miss:\s*([^#]*[^#\s])"),
    "ok": re.compile(r"known-false-alarm:\s*([^#]*[^#\s])"),
}
DIRECTORIES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
RULE_IDS = sorted(rule.id for rule in all_rules() if rule.engine == "scan")

Key = tuple[str, int, str]  # (path relative to the scanned directory, line, rule id)


@dataclass
class Marks:
    expect: set[Key]
    ok: set[Key]
    known_miss: dict[Key, str]  # expected findings the engine does not report yet, with the reason
    known_false_alarm: dict[Key, str]  # safe lines the engine still reports, with the reason
    lines: dict[tuple[str, int], str]

    def all_keys(self) -> set[Key]:
        return self.expect | self.ok | set(self.known_miss) | set(self.known_false_alarm)


def collect_marks(directory: Path) -> Marks:
    marks = Marks(set(), set(), {}, {}, {})
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".py", ".sql") or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(directory).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            marks.lines[(relative, number)] = line.strip()
            for kind, rules in MARK.findall(line):
                note = KNOWN_NOTE[kind].search(line)
                if kind == "expect":
                    plain, known = marks.expect, marks.known_miss
                else:
                    plain, known = marks.ok, marks.known_false_alarm
                for rule_id in (r.strip() for r in rules.split(",")):
                    key = (relative, number, rule_id)
                    if note:
                        known[key] = note.group(1).strip()
                    else:
                        plain.add(key)
    return marks


def run_scan(paths: list[Path], backend: str = "auto"):
    result = scan(paths, ScanOptions(backend=backend, cache=False))
    assert not result.document.errors, [f"{e.target}: {e.message}" for e in result.document.errors]
    return result.document.findings


def _diff(directory: Path, marks: Marks, findings) -> list[str]:
    found = {(f.location.path, f.location.line, f.rule_id): f for f in findings}
    problems = []
    for key in sorted(marks.expect - set(found)):
        path, line, rule_id = key
        problems.append(f"missing    {rule_id} at {path}:{line}: {marks.lines.get((path, line), '')}")
    for key in sorted(set(found) - marks.expect - set(marks.known_miss) - set(marks.known_false_alarm)):
        path, line, rule_id = key
        where = "on an `ok` line" if key in marks.ok else "unexpected"
        problems.append(f"{where:<10} {rule_id} at {path}:{line}: {found[key].message}\n"
                        f"           source: {marks.lines.get((path, line), '')}")
    for key in sorted(set(marks.known_miss) & set(found)):
        path, line, rule_id = key
        problems.append(f"now found  {rule_id} at {path}:{line} is marked known-miss: drop the known-miss note")
    for key in sorted(set(marks.known_false_alarm) - set(found)):
        path, line, rule_id = key
        problems.append(f"now quiet  {rule_id} at {path}:{line} is marked known-false-alarm: drop the note")
    return problems


@pytest.mark.parametrize("name", DIRECTORIES)
def test_corpus_directory_findings_match_marks_exactly(name):
    directory = CORPUS / name
    marks = collect_marks(directory)
    assert marks.all_keys(), f"{name} has no marks"
    both = (marks.expect | set(marks.known_miss)) & (marks.ok | set(marks.known_false_alarm))
    assert not both, f"lines marked both expect and ok: {sorted(both)}"
    findings = run_scan([directory])
    problems = _diff(directory, marks, findings)
    for (path, line, rule_id), reason in sorted(marks.known_miss.items()):
        warnings.warn(f"known miss: {rule_id} at {name}/{path}:{line}: {reason}", stacklevel=1)
    for (path, line, rule_id), reason in sorted(marks.known_false_alarm.items()):
        warnings.warn(f"known false alarm: {rule_id} at {name}/{path}:{line}: {reason}", stacklevel=1)
    assert not problems, f"{name}: findings differ from the marks:\n" + "\n".join(problems)


def test_corpus_has_five_positives_and_five_negatives_per_rule():
    expect = {rule_id: 0 for rule_id in RULE_IDS}
    ok = {rule_id: 0 for rule_id in RULE_IDS}
    for name in DIRECTORIES:
        marks = collect_marks(CORPUS / name)
        for _, _, rule_id in marks.expect:
            expect[rule_id] = expect.get(rule_id, 0) + 1
        for _, _, rule_id in marks.ok:
            ok[rule_id] = ok.get(rule_id, 0) + 1
    short = {rule_id: (expect[rule_id], ok[rule_id]) for rule_id in RULE_IDS
             if expect[rule_id] < 5 or ok[rule_id] < 5}
    assert not short, f"rules with fewer than 5 plain `expect` or 5 plain `ok` marks: {short}"


def test_marks_name_known_rules_only():
    for name in DIRECTORIES:
        marks = collect_marks(CORPUS / name)
        unknown = {key for key in marks.all_keys() if key[2] not in RULE_IDS}
        assert not unknown, unknown


# ---- the bank lab must keep its result ---------------------------------------------------------------


VULNERABLE_BANK = {
    ("vulnerable.py", 27, "PL104"), ("vulnerable.py", 40, "PL101"), ("vulnerable.py", 63, "PL105"),
    ("vulnerable.py", 76, "PL105"), ("vulnerable.py", 85, "PL102"), ("vulnerable.py", 96, "PL105"),
    ("vulnerable.py", 104, "PL102"), ("vulnerable.py", 109, "PL106"), ("vulnerable.py", 140, "PL105"),
    ("vulnerable.py", 158, "PL104"), ("vulnerable.sql", 8, "PL201"), ("vulnerable.sql", 18, "PL203"),
    ("vulnerable.sql", 25, "PL202"), ("vulnerable.sql", 25, "PL204"), ("vulnerable.sql", 26, "PL202"),
    ("vulnerable.sql", 26, "PL203"),
}


def test_vulnerable_bank_lab_findings_are_unchanged():
    findings = run_scan([LAB / "vulnerable.py", LAB / "vulnerable.sql", LAB / "common.py"], backend="cockroachdb")
    assert {(Path(f.location.path).name, f.location.line, f.rule_id) for f in findings} == VULNERABLE_BANK


@pytest.mark.parametrize("backend", ["cockroachdb", "postgres"])
def test_hardened_bank_lab_has_no_findings(backend):
    findings = run_scan([LAB / "hardened.py", LAB / "hardened.sql", LAB / "common.py"], backend=backend)
    assert [(f.location.path, f.location.line, f.rule_id, f.message) for f in findings] == []


def test_scanning_the_whole_lab_keeps_each_twin_to_its_own_schema():
    """Both twins' schemas sit in one directory: each applies to the module named like it, so the vulnerable twin
    keeps every planted finding (no "the UNIQUE constraint holds" borrowed from hardened.sql) and the hardened
    twin gains none."""
    findings = run_scan([LAB.parent], backend="cockroachdb")
    bank = {(f.location.path.removeprefix("bank/"), f.location.line, f.rule_id) for f in findings
            if f.location.path.startswith("bank/")}
    assert bank == VULNERABLE_BANK


def test_columns_declared_on_one_line_are_each_reported(tmp_path):
    """One finding per rule and line, except that each column of a one-line CREATE TABLE is reported on its own."""
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT, username TEXT NOT NULL, bio TEXT);\n")
    found = sorted((f.rule_id, f.evidence.get("column")) for f in run_scan([tmp_path]))
    assert ("PL201", "email") in found and ("PL201", "username") in found
    assert found.count(("PL201", "email")) == 1
    assert not any(column == "bio" for _, column in found)
