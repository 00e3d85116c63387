"""`plumbline scan|probe --format html` and `plumbline report` as a user drives them: files written, exit codes,
and one clear line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUMBLINE = [sys.executable, "-m", "plumbline"]

APP = '''
from flask import Flask, request
import psycopg

app = Flask(__name__)
conn = psycopg.connect("")


@app.post("/counters/<int:counter_id>/add")
def add(counter_id):
    row = conn.execute("SELECT n FROM counters WHERE id = %s", (counter_id,)).fetchone()
    conn.execute("UPDATE counters SET n = %s WHERE id = %s", (row[0] + 1, counter_id))
    return {"ok": True}
'''


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PLUMBLINE, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    return folder


def test_scan_writes_an_html_report_with_the_code(tree, tmp_path):
    output = tmp_path / "scan.html"
    result = run("scan", str(tree), "--no-cache", "--format", "html", "--output", str(output))
    assert result.returncode == 1, result.stderr  # findings at or above the default --fail-on
    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "PL102" in page and 'class="line marked"' in page
    assert "UPDATE counters SET n = %s WHERE id = %s" in page.replace("&#34;", '"')


def test_report_merges_documents_and_reads_the_code_from_a_moved_tree(tree, tmp_path):
    scanned = run("scan", str(tree), "--no-cache", "--format", "json")
    assert scanned.returncode == 1
    document = tmp_path / "scan.json"
    document.write_text(scanned.stdout, encoding="utf-8")
    empty = tmp_path / "empty.json"
    empty.write_text('{"schema": "plumbline/findings@1", "errors": [{"target": "t", "message": "could not <b>"}]}')
    moved = tree.rename(tmp_path / "moved")
    output = tmp_path / "report.html"
    result = run("report", str(document), str(empty), "-o", str(output), "--root", str(moved))
    assert result.returncode == 0, result.stderr
    assert f"1 findings from 2 documents: {output}" in result.stderr
    page = output.read_text(encoding="utf-8")
    assert 'class="line marked"' in page and "could not &lt;b&gt;" in page
    without_root = run("report", str(document))
    assert without_root.returncode == 0 and "is not there any more" in without_root.stdout


@pytest.mark.parametrize("content, expected", [
    (None, "no such file or directory"),
    ("not json", "not JSON"),
    ("{}", 'it has no "schema"'),
    ('{"schema": "plumbline/findings@9"}', 'not a plumbline/findings@1 document'),
    ('{"schema": "plumbline/findings@1", "findings": [{"rule_id": "X1"}]}', "findings.0.rule_id"),
])
def test_report_refuses_what_is_not_a_findings_document_in_one_line(tmp_path, content, expected):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    result = run("report", str(path), "-o", str(tmp_path / "out.html"))
    assert result.returncode == 2 and expected in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out.html").exists()


def test_report_reads_a_later_versions_document_ignoring_the_fields_it_does_not_know(tmp_path):
    document = {"schema": "plumbline/findings@1", "added_later": {"x": 1}, "tool": {"name": "plumbline", "version": "9"},
                "findings": [{"rule_id": "PL316", "rule_name": "negative-amount-attribute", "severity": "high",
                              "confidence": "high", "engine": "audit", "message": "balance below zero",
                              "priority": 3, "location": {"kind": "schema", "table": "wallets", "column": "balance",
                                                          "partition": "eu"}}],
                "errors": [{"target": "t", "message": "m", "retry_after": 5}]}
    path = tmp_path / "later.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("report", str(path), "-o", str(tmp_path / "out.html"))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "balance below zero" in page and "wallets" in page
    wrong = {**document, "findings": [{**document["findings"][0], "severity": "apocalyptic"}]}
    path.write_text(json.dumps(wrong), encoding="utf-8")
    refused = run("report", str(path), "-o", str(tmp_path / "out2.html"))
    assert refused.returncode == 2 and "findings.0.severity" in refused.stderr  # a known field is still checked


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_report_refuses_a_pipe_instead_of_waiting_on_it(tmp_path):
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    result = run("report", str(pipe))
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_probe_writes_an_html_report(bank_lab, tmp_path):
    twin = bank_lab["vulnerable"]
    output = tmp_path / "probe.html"
    result = run("probe", twin.url, "--openapi", "/openapi.json", "--identity",
                 f"alice=Authorization: Bearer {twin.identities['alice']}", "--identity",
                 f"bob=Authorization: Bearer {twin.identities['bob']}", "--format", "html", "--output", str(output))
    assert result.returncode == 1, result.stderr
    page = output.read_text(encoding="utf-8")
    assert "PL405" in page and f"GET {twin.url}/accounts/" in page
    assert twin.identities["alice"] not in page  # redacted as in every other format
