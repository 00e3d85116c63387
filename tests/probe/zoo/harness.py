"""Serve a zoo twin on 127.0.0.1, run `plumbline probe --active` on it (the command), and judge the findings.

Shared by tests/probe/test_probe_zoo.py and bench/zoo.py, so both judge a run the same way.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from werkzeug.serving import make_server

from plumbline.cli import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL
from plumbline.findings import FindingsDocument, at_least
from zoo import Backends, KnownFalseAlarm, Planted, app_module


@dataclass
class RunningTwin:
    app: str
    twin: str
    url: str
    identities: dict[str, dict]  # the [probe.identities] table, with ${NAME} for each secret
    secrets: dict[str, str]  # environment variable -> value


@contextmanager
def serving(app: str, twin: str, backends: Backends) -> Iterator[RunningTwin]:
    """One twin on a free loopback port, on fresh storage, for the duration of the block."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    built = app_module(app).build(twin, backends)
    try:
        server = make_server("127.0.0.1", 0, built.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"zoo-{app}-{twin}", daemon=True)
        thread.start()
        try:
            host, port = server.server_address[:2]
            yield RunningTwin(app, twin, f"http://{host}:{port}", built.identities, built.secrets)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)
    finally:
        built.close()


@dataclass
class ProbeRun:
    document: FindingsDocument
    exit_code: int
    seconds: float  # wall time of the whole `plumbline probe --active` command
    stderr: str


def probe(running: RunningTwin, workdir: Path, *, timeout: float = 120) -> ProbeRun:
    """`plumbline probe URL --openapi /openapi.json --active --config plumbline.toml --format json`, as a user
    runs it, with the twin's identities in the configuration file and their secrets in the environment."""
    config = workdir / "plumbline.toml"
    config.write_text(toml_identities(running.identities), encoding="utf-8")
    report = workdir / "findings.json"
    command = [sys.executable, "-m", "plumbline", "probe", running.url, "--openapi", "/openapi.json", "--active",
               "--config", str(config), "--format", "json", "--output", str(report)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env={**os.environ, **running.secrets}, capture_output=True,
                          text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL) or not report.is_file():
        raise AssertionError(f"plumbline probe exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return ProbeRun(FindingsDocument.from_json(report.read_bytes()), done.returncode, seconds, done.stderr)


def toml_identities(identities: dict[str, dict]) -> str:
    """The `[probe]` section of a plumbline.toml that describes `identities`."""
    lines = []
    for name, table in identities.items():
        lines.append(f"[probe.identities.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a JSON string (\uXXXX escapes included) is a TOML basic string


Key = tuple[str, str, str]  # (rule, method, route)


@dataclass
class Verdict:
    """One probe run of one twin, judged against what the app module says."""

    found: list[Planted] = field(default_factory=list)  # planted and reported
    missed: list[Planted] = field(default_factory=list)  # planted, not reported, not a known miss
    known_missed: list[Planted] = field(default_factory=list)
    now_found: list[Planted] = field(default_factory=list)  # marked known miss, yet reported: drop the mark
    false_alarms: list[str] = field(default_factory=list)  # a hardened twin's finding of medium or above, or a SOUND
    known_false_alarms: list[str] = field(default_factory=list)  # written down in KNOWN_FALSE_ALARMS, and raised
    no_longer_raised: list[KnownFalseAlarm] = field(default_factory=list)  # written down, not raised: drop it
    internal_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return ([f"missed      {p.label}: {p.what}" for p in self.missed]
                + [f"now found   {p.label} is marked known-miss: drop the mark" for p in self.now_found]
                + [f"false alarm {alarm}" for alarm in self.false_alarms]
                + [f"not raised  {a.rule} {a.method} {a.route} is a known false alarm: drop it"
                   for a in self.no_longer_raised]
                + [f"error       {error}" for error in self.internal_errors])


def judge(app: str, twin: str, document: FindingsDocument) -> Verdict:
    module = app_module(app)
    reported = {(f.rule_id, f.location.method, f.location.route): f for f in document.findings}
    verdict = Verdict(internal_errors=[e.message for e in document.errors if e.kind == "internal"])
    if twin == "vulnerable":
        for planted in module.PLANTED:
            hit = any((rule, planted.method, planted.route) in reported for rule in planted.rules)
            if hit:
                (verdict.now_found if planted.known_miss else verdict.found).append(planted)
            else:
                (verdict.known_missed if planted.known_miss else verdict.missed).append(planted)
    known = {(a.rule, a.method, a.route): a for a in module.KNOWN_FALSE_ALARMS if twin in a.twins}
    sound = {(s.rule, s.method, s.route) for s in module.SOUND}
    for key, finding in sorted(reported.items()):
        if key in sound or twin == "hardened" and at_least(finding.severity, "medium"):
            text = f"{' '.join(key)} on the {twin} twin: {finding.message}"
            (verdict.known_false_alarms if key in known else verdict.false_alarms).append(text)
    verdict.no_longer_raised = [alarm for key, alarm in known.items() if key not in reported]
    return verdict
