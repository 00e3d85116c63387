"""`--baseline` files that are not baselines, and trees whose names and code a baseline must still carry."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from plumbline import baseline
from plumbline.cli import main

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

APP = '''from flask import request
import psycopg

conn = psycopg.connect("postgresql://localhost/shop", autocommit=True)


def search():
    name = request.args["name"]
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()
'''


def scan(*args: str):
    return CliRunner().invoke(main, ["scan", "--no-cache", *args])


def one_line_exit_2(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "app.py").write_text(APP)
    return tmp_path / "tree"


def test_a_fifo_as_baseline_is_refused_without_blocking(tree, tmp_path):
    fifo = tmp_path / "base.json"
    os.mkfifo(fifo)
    one_line_exit_2(scan(str(tree), "--baseline", str(fifo)), "not a regular file")


def test_an_oversized_baseline_is_not_read_whole(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(baseline, "MAX_BYTES", 1000)
    (tmp_path / "base.json").write_text(json.dumps({"schema": baseline.SCHEMA, "pad": "x" * 2000}))
    one_line_exit_2(scan(str(tree), "--baseline", str(tmp_path / "base.json")), "larger than")


@pytest.mark.parametrize(("content", "expected"), [
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b'{"schema": "plumbline/baseline@1", "\xff": 1}', "not JSON"),
    (b'["plumbline/baseline@1"]', "not a plumbline baseline"),
    (b'{"schema": "plumbline/baseline@1", "fingerprint": "plumbline/v1", "findings": {"a": 1}}', "must be a list"),
    (b'{"schema": "plumbline/baseline@1", "fingerprint": "plumbline/v1", "findings": [{"fingerprint": '
     b'"\\u001b[2J0123456789abcdef0123456789ab"}]}', "32-hex"),
])
def test_malformed_baselines_are_one_line_errors(tree, tmp_path, content, expected):
    (tmp_path / "base.json").write_bytes(content)
    one_line_exit_2(scan(str(tree), "--baseline", str(tmp_path / "base.json")), expected)


def test_a_baseline_name_with_terminal_controls_is_printed_escaped(tree, tmp_path):
    result = scan(str(tree), "--baseline", str(tmp_path / "\x1b[2Jbase.json"))
    one_line_exit_2(result, "\\x1b[2Jbase.json")
    assert "\x1b" not in result.stderr


def test_a_file_name_that_is_not_utf8_is_recorded_and_matched(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / os.fsdecode(b"caf\xe9.py")).write_text(APP)
    written = scan(str(tree), "--write-baseline", str(tmp_path / "base.json"))
    assert written.exit_code == 0, written.output
    assert json.loads((tmp_path / "base.json").read_text(encoding="ascii"))["findings"][0]["rule_id"] == "PL101"
    again = scan(str(tree), "--baseline", str(tmp_path / "base.json"), "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["findings"] == []
