"""A real run of both engines on the bank lab's vulnerable twin: what the report tests read."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from plumbline.findings import FindingsDocument, HttpLocation
from plumbline.lab.tour import probe_twin, scan_twin
from plumbline.rules import get as rule
from plumbline.scan import ScanOptions, scan


@dataclass(frozen=True)
class BankRun:
    scan: FindingsDocument
    probe: FindingsDocument
    url: str  # the twin's base URL


@pytest.fixture(scope="session")
def bank_run(bank_lab) -> BankRun:
    """`plumbline scan` of the vulnerable bank twin's files and `plumbline probe --active` of it (about 10 s)."""
    twin = bank_lab["vulnerable"]
    return BankRun(scan_twin("bank", "vulnerable"), probe_twin(twin)[0], twin.url)


HOSTILE_APP = '''
from flask import Flask, request
import psycopg

app = Flask(__name__)
conn = psycopg.connect("")


@app.get("/users/search")
def search():
    email = request.args["email"]
    rows = conn.execute(f"SELECT id FROM users WHERE email = '{email}'").fetchall()  # </pre><script>alert("source")</script>\u202e
    return {"rows": rows}
'''


@pytest.fixture
def hostile_documents(tmp_path: Path) -> list[FindingsDocument]:
    """A real scan of a handler whose flagged line carries markup and a bidi override, and a probe finding whose
    route, message, answer and burst evidence carry markup, as a hostile target could send."""
    (tmp_path / "app.py").write_text(textwrap.dedent(HOSTILE_APP), encoding="utf-8")
    scanned = scan([tmp_path], ScanOptions(cache=False)).document
    assert [f.rule_id for f in scanned.findings] == ["PL101"]
    probed = rule("PL410").finding(
        location=HttpLocation(method="GET", route="/users/<img src=x onerror=alert('route')>",
                              url="http://127.0.0.1:9/users/%3Cimg%3E"),
        message="answered <script>alert('message')</script>", confidence="high", backend="any",
        evidence={"exchange": {"request": "GET /x", "as": "<b>alice</b>", "status": 500,
                               "response_body": "<script>alert('body')</script><img src=x onerror=alert('body')>"},
                  "bursts": [{"statuses": {"500": 1}, "requests": [{
                      "sent_ms": 0, "received_ms": 1.5, "status": 500, "error": "</title><script>alert('t')</script>"}],
                      "before": {"<i>n</i>": 1}, "expected_after": {"<i>n</i>": 2}, "after": {"<i>n</i>": 1}}],
                  "reproducer": "print('</pre><script>alert(\"reproducer\")</script>')"})
    return [scanned, FindingsDocument(findings=(probed,))]
