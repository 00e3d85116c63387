"""`plumbline audit` given URLs and options that cannot work: one line, exit 2, no traceback, no password.

Nothing here needs a database: every URL is malformed, of another database, or points at a closed port of
127.0.0.1 (tests/audit/ covers refused passwords, missing privileges and locked tables on a real server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

PLUMBLINE = Path(sys.executable).with_name("plumbline")
SECRET = "S3cret-pa55"


def audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLUMBLINE), "audit", *args], capture_output=True, text=True, timeout=25, check=False)


@pytest.mark.parametrize(("dsn", "expected"), [
    (f"mysql://root:{SECRET}@127.0.0.1/db", "not a PostgreSQL or CockroachDB URL"),
    (f"postgresql://u:{SECRET}@[::1/db", "not a valid URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1:99999/db", "not a valid URL"),
    ("", "not a PostgreSQL or CockroachDB URL"),
    (f"host=127.0.0.1 password={SECRET}", "not a PostgreSQL or CockroachDB URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1:1/db", "cannot connect to postgresql://u:***@127.0.0.1:1/db"),
    (f"cockroachdb://root:{SECRET}@127.0.0.1:1/db?sslmode=disable",
     "cannot connect to cockroachdb://root:***@127.0.0.1:1/db"),
    (f"postgresql://u:{SECRET.replace('-', '%2D')}%40x@127.0.0.1:1/db", "cannot connect"),
    (f"postgresql://u:{SECRET}@127.0.0.1:1/db\x1b[2J\u202e", "cannot connect"),
    (f"postgresql://u@127.0.0.1:1/db?password={SECRET}", "cannot connect to postgresql://u@127.0.0.1:1/db?password=***"),
    (f"postgresql://u:{SECRET}@127.0.0.1:1/db?bogus=1", "invalid URI query parameter"),
])
def test_an_unusable_url_is_one_clear_line_without_its_password(dsn, expected):
    result = audit("--dsn", dsn)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert output.startswith("error: ") and output.count("\n") == 1 and expected in output
    assert SECRET not in output and SECRET.replace("-", "%2D") not in output
    assert "\x1b" not in output and "\u202e" not in output and "Traceback" not in output


@pytest.mark.parametrize(("args", "expected"), [
    (["--select", "PL4"], "no audit rule is selected"),
    (["--select", "PL210", "--ignore", "PL21"], "no audit rule is selected"),
    (["--sample-rows", "0"], "--sample-rows"),
    (["--statement-timeout", "0"], "--statement-timeout"),
    (["--output", "/nonexistent-folder/report.json"], "does not exist"),
])
def test_a_bad_option_is_a_usage_error_before_any_connection(args, expected):
    result = audit("--dsn", f"postgresql://u:{SECRET}@127.0.0.1:1/db", *args)
    output = result.stdout + result.stderr
    assert result.returncode == 2 and expected in output and "cannot connect" not in output, output
    assert SECRET not in output and "Traceback" not in output


def test_no_dsn_at_all_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("PLUMBLINE_AUDIT_DSN", raising=False)
    result = audit()
    assert result.returncode == 2 and "--dsn" in result.stderr and "Traceback" not in result.stderr
