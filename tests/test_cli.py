"""The `plumbline` command as a user runs it: a real process, real servers, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from plumbline import __version__

PLUMBLINE = [sys.executable, "-m", "plumbline"]


def embedded_postgres_pids() -> set[int]:
    """Running postmasters that EmbeddedPostgres started (their data directory is plumbline-pg-*)."""
    pids = set()
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and "plumbline-pg-" in cmdline and " -D " in f" {cmdline} ":
            pids.add(proc.pid)
    return pids


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*PLUMBLINE, *args], capture_output=True, text=True, timeout=timeout)


class Background:
    """A `plumbline` process whose stdout lines are read by a thread, so reads never block the test."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*PLUMBLINE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, predicate, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.lines):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"plumbline exited early ({self.proc.returncode}): {self.proc.stderr.read()}")
            time.sleep(0.1)
        self.proc.kill()
        pytest.fail(f"timed out; stdout so far: {self.lines}")

    def stop(self, sig: int, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_lab_json_prints_one_line_serves_and_cleans_up_on_sigterm():
    before = embedded_postgres_pids()
    lab = Background("lab", "--json")
    try:
        lab.wait_for(lambda lines: len(lines) >= 1)
        during = embedded_postgres_pids() - before
        description = json.loads(lab.lines[0])
        assert set(description) == {"bank", "records"}
        for app, twins in description.items():
            assert set(twins) == {"vulnerable", "hardened"}
            for twin, info in twins.items():
                assert set(info) == {"url", "identities"} | ({"dynamodb"} if app == "records" else set())
                assert info["url"].startswith("http://127.0.0.1:")
                assert set(info["identities"]) == {"alice", "bob"}
                spec = httpx.get(f"{info['url']}/openapi.json", timeout=10)
                assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
                me = {
                    name: httpx.get(f"{info['url']}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
                    for name, token in info["identities"].items()
                }
                assert all(r.status_code == 200 for r in me.values()), (app, twin, me)
                assert me["alice"].json()["id"] != me["bob"].json()["id"]
                assert httpx.get(f"{info['url']}/me", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert during, "the lab should have started its own embedded PostgreSQL"
    finally:
        code = lab.stop(signal.SIGTERM)
    assert code == 0, lab.proc.stderr.read()
    assert len(lab.lines) == 1, "--json prints exactly one line"
    assert not (embedded_postgres_pids() & during), "embedded PostgreSQL left running after SIGTERM"
    with pytest.raises(httpx.TransportError):
        httpx.get(description["bank"]["vulnerable"]["url"] + "/openapi.json", timeout=2)


def test_lab_text_mode_lists_twins_and_stops_on_ctrl_c():
    lab = Background("lab")
    try:
        lab.wait_for(lambda lines: any("Ctrl-C to stop" in line for line in lines))
    finally:
        code = lab.stop(signal.SIGINT)
    output = "".join(lab.lines)
    assert code == 0
    assert output.count("http://127.0.0.1:") == 6  # the four twins, and the moto endpoint in two audit commands
    for twin in ("vulnerable", "hardened"):
        assert f"bank/{twin} alice:" in output and f"records/{twin} bob:" in output
        assert f"bank/{twin}: plumbline audit --dsn 'postgresql://" in output
        assert f"records/{twin}: " in output and f"-{twin}-*'" in output
    assert "lab stopped" in lab.proc.stderr.read()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--backend", "cockroach"], "needs --dsn"),
        (["--dsn", "mysql://root@127.0.0.1/db"], "not a PostgreSQL or CockroachDB URL"),
        (["--backend", "cockroach", "--dsn", "postgresql://u@127.0.0.1:1/db"], "does not match"),
        (["--dsn", "postgresql://postgres:secret@127.0.0.1:1/postgres"], "cannot prepare database"),
        (["--dsn", "cockroachdb://root@127.0.0.1:1/defaultdb?sslmode=disable"], "cannot prepare database"),
        (["--dynamodb-endpoint", "http://127.0.0.1:1"], "records vulnerable twin did not start"),
    ],
)
def test_lab_refuses_unusable_backends_with_a_clear_error(args, expected):
    before = embedded_postgres_pids()
    result = run("lab", "--json", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "secret" not in result.stderr, "passwords never appear in messages"
    assert result.stdout == ""
    assert not (embedded_postgres_pids() - before), "a failed start must stop what it started"


def test_demo_shows_every_failure_and_every_fix(tmp_path: Path):
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run([*PLUMBLINE, "demo"], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = tmp_path / "plumbline-report.html"
    assert str(report) in result.stdout and "confirmed: scan + probe" in report.read_text(encoding="utf-8")
    from plumbline.lab.scenarios import all_scenarios

    for item in all_scenarios():
        assert item.name in result.stdout
    total = len(all_scenarios())
    assert f"{total}/{total} planted failures shown" in result.stdout
    assert f"{total}/{total} invariants held" in result.stdout
    # Each app's races' damage, written into both twins' stores before their audit: the vulnerable twin's take it.
    assert "bank: the races' writes" in result.stdout and "records: the races' writes" in result.stdout
