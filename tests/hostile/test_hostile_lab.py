"""`plumbline lab` cleans up whatever happens: a signal during start-up, SIGKILL once it serves, a bad DSN.

Each lab runs as a real process in a session of its own, with TMPDIR pointed at a folder of the test's own, so
its PostgreSQL data folder and every process naming that folder belong to this test and to no other run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.hostile

PLUMBLINE = str(Path(sys.executable).with_name("plumbline"))
CLEANUP_SECONDS = 15  # the watchdog's reaping; an immediate shutdown of PostgreSQL takes well under a second


@pytest.fixture
def temp_base():
    """A short TMPDIR for the lab: pgserver puts its Unix socket in the data folder only when the path fits."""
    base = Path(tempfile.mkdtemp(prefix="pl-lab-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


class LabProcess:
    """`plumbline lab --json` in its own session, its output read by threads so that nothing blocks."""

    def __init__(self, temp_base: Path, *args: str) -> None:
        self.temp_base = temp_base
        self.proc = subprocess.Popen(
            [PLUMBLINE, "lab", "--json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(temp_base)},
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=lambda: self.stdout.extend(self.proc.stdout), daemon=True),
            threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def data_folders(self) -> list[Path]:
        return sorted(self.temp_base.glob("plumbline-pg-*"))

    def naming_temp_base(self) -> list[psutil.Process]:
        """Live processes whose command line names the lab's TMPDIR: pg_ctl, initdb, the postmaster."""
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if any(str(self.temp_base) in arg for arg in process.info["cmdline"] or ()) and alive(process):
                found.append(process)
        return found

    def started(self) -> list[psutil.Process]:
        """Every process the lab started that runs now: its descendants, PostgreSQL (which pg_ctl detaches) and
        the postmaster's backends."""
        processes = {}
        for root in [psutil.Process(self.proc.pid), *self.naming_temp_base()]:
            try:
                processes.update((p.pid, p) for p in [root, *root.children(recursive=True)])
            except psutil.NoSuchProcess:
                pass
        processes.pop(self.proc.pid, None)
        return list(processes.values())

    def wait_until(self, what: str, condition, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"the lab exited ({self.proc.returncode}) before {what}: {''.join(self.stderr)}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.02)

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def name_of(process: psutil.Process) -> str | None:
    try:
        return process.name()
    except psutil.NoSuchProcess:
        return None


def command_named(name: str):
    return lambda lab: any(name_of(process) == name for process in lab.naming_temp_base())


MOMENTS = {
    "initdb runs": command_named("initdb"),
    "PostgreSQL runs": command_named("postgres"),
    "ready": lambda lab: bool(lab.stdout),
}


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    ("signum", "moment", "expected_code"),
    [
        (signal.SIGTERM, "PostgreSQL runs", 130),
        (signal.SIGINT, "initdb runs", 130),
        (signal.SIGINT, "PostgreSQL runs", 130),
        (signal.SIGKILL, "initdb runs", -signal.SIGKILL),
        (signal.SIGKILL, "ready", -signal.SIGKILL),
    ],
    ids=["sigterm-postgres-runs", "sigint-initdb-runs", "sigint-postgres-runs", "sigkill-initdb-runs", "sigkill-ready"],
)
def test_no_process_or_data_folder_survives(temp_base, signum, moment, expected_code):
    lab = LabProcess(temp_base)
    lab.wait_until(moment, lambda: MOMENTS[moment](lab))
    started = lab.started()
    started_names = {name_of(process) for process in started}
    folders = lab.data_folders()
    lab.proc.send_signal(signum)
    code = lab.finish()

    assert folders, "the lab should have made its data folder by then"
    assert {"postgres", "initdb"} & started_names, started_names
    assert code == expected_code, "".join(lab.stderr)
    if expected_code == 130:
        assert lab.stdout == [], "the signal should have come during start-up, before the JSON line"
        assert "interrupted during start-up" in "".join(lab.stderr)
        assert "Traceback" not in "".join(lab.stderr)
    deadline = time.monotonic() + CLEANUP_SECONDS
    while time.monotonic() < deadline:
        survivors = [p for p in started if alive(p)] + lab.naming_temp_base()
        if not survivors and not lab.data_folders():
            break
        time.sleep(0.1)
    assert not [p for p in started if alive(p)], "a process the lab started survived it"
    assert not lab.naming_temp_base(), "a process still runs from the lab's data folder"
    assert not lab.data_folders(), "the data folder survived the lab"


SECRET = "S3cretPassw0rd"


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    "args",
    [
        ["--dsn", f"postgresql://u:{SECRET}@127.0.0.1:1/x"],
        ["--dsn", f"postgresql://u@127.0.0.1:1/x?password={SECRET}&sslmode=disable"],
        ["--dsn", f"cockroachdb://u:{SECRET}@127.0.0.1:1/x?sslmode=disable"],
        ["--dsn", f"postgresql://u:{SECRET}%zz@127.0.0.1:1/x"],  # psycopg quotes a badly encoded token
        ["--dsn", f"postgresql://u:{SECRET}@[::1/x"],
        ["--dsn", f"cockroachdb://u:{SECRET}@localhost:99999/x"],
        ["--dsn", f"mysql://u:{SECRET}@127.0.0.1/x"],
        ["--dsn", f"host=127.0.0.1 password={SECRET}"],
        ["--backend", "cockroach", "--dsn", f"postgresql://u:{SECRET}@127.0.0.1:1/x"],
        ["--dynamodb-endpoint", f"http://key:{SECRET}@127.0.0.1:1/?password={SECRET}"],
    ],
    ids=["userinfo", "query", "cockroach", "bad-percent", "bad-ipv6", "bad-port", "scheme", "conninfo",
         "backend-mismatch", "dynamodb-endpoint"],
)
def test_a_bad_dsn_or_endpoint_never_prints_its_password(temp_base, args):
    lab = LabProcess(temp_base, *args)
    code = lab.finish(timeout=80)
    output = "".join(lab.stdout + lab.stderr)
    assert code == 2, output
    assert SECRET not in output
    assert "Traceback" not in output
    assert output.startswith("error: ") and output.count("\n") == 1, output
    assert not lab.data_folders()
