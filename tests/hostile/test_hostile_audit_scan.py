"""`plumbline audit --scan` given code that fights back: unreadable files, identifiers full of quotes and braces,
code nested too deeply to analyse, paths that hold nothing. One line and exit 2 when nothing can be analysed;
otherwise the audit runs, the files it could not read are error entries, and nothing crashes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(60)]

PLUMBLINE = Path(sys.executable).with_name("plumbline")

# Identifiers a careless message template or SQL builder would trip on.
DECLARED = '''
CREATE TABLE "we{ir}d" (
  id SERIAL PRIMARY KEY,
  "e""mail{code}" TEXT NOT NULL UNIQUE,
  "Amount" INTEGER CHECK ("Amount" >= 0)
);
CREATE TABLE "ghost%s" (id SERIAL PRIMARY KEY);
'''
LIVE = '''
CREATE TABLE "we{ir}d" (id SERIAL PRIMARY KEY, "e""mail{code}" TEXT, "Amount" INTEGER);
INSERT INTO "we{ir}d" ("e""mail{code}", "Amount") VALUES ('a', 1), ('a', -2), (NULL, 3);
'''


def audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLUMBLINE), "audit", *args], capture_output=True, text=True, timeout=50, check=False)


@pytest.fixture(scope="module")
def database(postgres_url) -> str:
    name = f"hostile_scan_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.replace("/postgres?", f"/{name}?", 1)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(LIVE)
    return url


def test_hostile_code_is_analysed_as_far_as_it_can_be(database, tmp_path):
    (tmp_path / "schema.sql").write_text(DECLARED)
    (tmp_path / "binary.py").write_bytes(b"\x00\xff\xfe\x00 not python")
    (tmp_path / "deep.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    (tmp_path / "latin1.sql").write_bytes("CREATE TABLE caf\xe9 (id INT);".encode("latin-1"))
    run = audit("--dsn", database, "--scan", str(tmp_path), "--format", "json")
    assert run.returncode == 1, run.stderr  # findings, and no internal error (exit 3)
    assert "Traceback" not in run.stderr
    document = json.loads(run.stdout)
    assert {error["target"] for error in document["errors"]} >= {"binary.py", "deep.py"}
    assert not [error for error in document["errors"] if error["kind"] == "internal"]
    proofs = {(f["rule_id"], f["location"]["column"]) for f in document["findings"] if f["rule_id"] >= "PL210"}
    assert ('PL210', 'e"mail{code}') in proofs and ("PL212", "Amount") in proofs
    drift = [f["message"] for f in document["findings"] if f["rule_id"] == "PL206"]
    assert any('e"mail{code} is declared UNIQUE in the code (schema.sql:' in message for message in drift)


@pytest.mark.parametrize("target", ["missing", "empty", "garbage"])
def test_a_scan_path_with_nothing_to_analyse_is_one_line_and_exit_2(database, tmp_path, target):
    path = tmp_path / target
    if target != "missing":
        path.mkdir()
    if target == "garbage":
        (path / "x.py").write_bytes(b"\x00" * 64)
    run = audit("--dsn", database, "--scan", str(path))
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: --scan") and len(run.stderr.strip().splitlines()) == 1
