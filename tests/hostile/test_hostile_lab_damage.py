"""`plumbline lab-damage` given server URLs that cannot work: one line, exit 2, no traceback, no password.
Nothing here needs a server: every URL is malformed, of another database, or points at a closed port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

PLUMBLINE = Path(sys.executable).with_name("plumbline")
SECRET = "S3cret-pa55"


@pytest.mark.parametrize(("dsn", "expected"), [
    (f"postgresql://u:{SECRET}@[::1/db", "not a valid URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1:99999/db", "not a valid URL"),
    (f"mysql://root:{SECRET}@127.0.0.1/db", "not a PostgreSQL or CockroachDB URL"),
    ("garbage", "not a PostgreSQL or CockroachDB URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1:1/db", "cannot seed postgresql://u:***@127.0.0.1:1/plumbline_lab_bank_"),
])
def test_an_unusable_server_is_one_line_and_exit_2(dsn, expected):
    run = subprocess.run([str(PLUMBLINE), "lab-damage", "--dsn", dsn], capture_output=True, text=True, timeout=25,
                         check=False)
    assert run.returncode == 2
    assert expected in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert SECRET not in run.stderr + run.stdout and "Traceback" not in run.stderr
