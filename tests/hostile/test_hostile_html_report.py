"""`plumbline report` fed hostile findings documents: files outside the tree, absurd line numbers, deep nesting,
text that would act on a terminal or reorder itself, many findings. Each ends in seconds with a report or one line of error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile

PLUMBLINE = [sys.executable, "-m", "plumbline"]


def finding(path: str, line: int = 1, end_line: int | None = None, **extra) -> dict:
    return {"rule_id": "PL101", "rule_name": "sql-injection", "severity": "critical", "confidence": "high",
            "engine": "scan", "location": {"kind": "source", "path": path, "line": line, "end_line": end_line},
            "message": "m", **extra}


def report(tmp_path: Path, document: dict | str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    source = tmp_path / "findings.json"
    source.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    output = tmp_path / "report.html"
    result = subprocess.run([*PLUMBLINE, "report", str(source), "-o", str(output), *args], capture_output=True,
                            text=True, timeout=60)
    assert "Traceback" not in result.stderr
    return result, output.read_text(encoding="utf-8") if output.exists() else ""


@pytest.mark.timeout(60)
def test_a_document_cannot_make_the_report_show_files_outside_the_tree_or_secrets(tmp_path):
    tree, secrets = tmp_path / "tree", tmp_path / "secrets"
    tree.mkdir(), secrets.mkdir()
    (secrets / "leak.py").write_text("TOKEN = 'hunter2-in-code'\n")
    (secrets / ".env").write_text("PASSWORD=hunter2-in-env\n")
    (secrets / "id_rsa").write_text("-----BEGIN hunter2-in-key-----\n")
    document = {"schema": "plumbline/findings@1", "root": str(tree), "findings": [
        finding("../secrets/leak.py"), finding(str(secrets / ".env")), finding(str(secrets / "id_rsa")),
        finding("../secrets/.env")]}
    result, page = report(tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in page
    assert page.count("is outside the scanned tree") == 1 and page.count("is not a kind of file a scan reads") == 3


@pytest.mark.timeout(60)
def test_absurd_line_numbers_show_a_note_or_a_bounded_excerpt(tmp_path):
    (tmp_path / "app.py").write_text("".join(f"x{n} = {n}\n" for n in range(1, 101)))
    document = {"schema": "plumbline/findings@1", "root": str(tmp_path), "findings": [
        finding("app.py", line=10**9), finding("app.py", line=5, end_line=10**9)]}
    result, page = report(tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert "has 101 lines, not 1000000000" in page
    assert 0 < page.count('class="line marked"') <= 30 and page.count('<span class="no">') <= 40


@pytest.mark.timeout(60)
def test_a_deeply_nested_document_is_refused_in_one_line(tmp_path):
    nested = '{"a":' * 100_000 + "1" + "}" * 100_000
    document = '{"schema": "plumbline/findings@1", "findings": [' + json.dumps(finding("a.py"))[:-1] + \
               ', "evidence": ' + nested + "}]}"
    result, _ = report(tmp_path, document)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("Error: ")


@pytest.mark.timeout(60)
def test_controls_and_bidi_overrides_are_written_as_escapes_and_lone_surrogates_refused(tmp_path):
    document = ('{"schema": "plumbline/findings@1", "errors": [{"target": "t\\u001b[2J", '
                '"message": "\\u202e\\u0000 gone"}]}')
    result, page = report(tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in page and "\u202e" not in page and "\x00" not in page
    assert "t\\u001b[2J" in page and "\\u202e\\u0000 gone" in page
    result, _ = report(tmp_path, document.replace("t\\u001b", "\\udc80"))
    assert result.returncode == 2 and "surrogate" in result.stderr


@pytest.mark.timeout(120)
def test_many_findings_make_one_report_in_seconds(tmp_path):
    (tmp_path / "app.py").write_text("x = 1\n" * 50)
    document = {"schema": "plumbline/findings@1", "root": str(tmp_path),
                "findings": [finding("app.py", line=1 + n % 50) for n in range(3000)]}
    result, page = report(tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert page.count('<section class="finding"') == 3000
