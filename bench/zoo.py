"""The probe on the zoo (tests/probe/zoo/), run after run: detection per planted failure, false alarms per
hardened twin, wall time per probe. Measured, printed, never asserted.

    .venv/bin/python bench/zoo.py [--runs 10] [--apps catalogue,wallet]

Each run serves one twin on fresh storage (embedded PostgreSQL, moto's DynamoDB, both started here) and runs
`plumbline probe URL --openapi /openapi.json --active --config plumbline.toml --format json` as a user does.
Targets (issue 10, Numbers): every planted failure found in every run; no finding of medium or above on a
hardened twin (nor a SOUND look-alike reported on either twin); each full --active probe under 30 s.

Exit status 0 unless something could not run; missed targets are printed, not failed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "probe"))  # the zoo is test support code: tests/probe/zoo/

from plumbline.lab.backends import EmbeddedDynamoDB, EmbeddedPostgres
from zoo import APPS, TWINS, Backends, app_module
from zoo.harness import ProbeRun, Verdict, judge, probe, serving

WALL_TIME_LIMIT = 30.0


def run_twin(app: str, twin: str, backends: Backends, runs: int) -> tuple[list[tuple[ProbeRun, Verdict]], list[str]]:
    """The judged runs, and how each run that did not end with a report failed."""
    results, crashes = [], []
    for _ in range(runs):
        with serving(app, twin, backends) as running, tempfile.TemporaryDirectory() as workdir:
            try:
                run = probe(running, Path(workdir))
            except AssertionError as exc:  # the probe ended without a report: a crash, counted as a miss
                crashes.append(str(exc).strip().splitlines()[-1])
                print("x", end="", flush=True)
                continue
        results.append((run, judge(app, twin, run.document)))
        print(".", end="", flush=True)
    return results, crashes


def report(app: str, results: dict[str, list[tuple[ProbeRun, Verdict]]], crashes: dict[str, list[str]],
           runs: int) -> list[str]:
    """Print one app's figures; return the targets it missed."""
    missed_targets = []
    module = app_module(app)
    print(f"\n{app}")
    for twin in TWINS:
        for crash, times in sorted(Counter(crashes[twin]).items()):
            print(f"  {twin}: {times}/{runs} runs ended without a report: {crash}")
            missed_targets.append(f"{app} {twin}: {times} probe runs crashed")
    vulnerable = results["vulnerable"]
    for planted in module.PLANTED:
        detected = sum(planted in verdict.found or planted in verdict.now_found for _, verdict in vulnerable)
        mark = f"  [known miss: {planted.known_miss}]" if planted.known_miss else ""
        print(f"  detected {detected:>2}/{runs}  {planted.label}{mark}")
        if detected < runs:
            missed_targets.append(f"{app}: {planted.label} detected {detected}/{runs}")
    for twin in TWINS:
        alarms = Counter(alarm.split(": ", 1)[0] for _, verdict in results[twin] for alarm in verdict.false_alarms)
        known = Counter(alarm.split(": ", 1)[0] for _, verdict in results[twin]
                        for alarm in verdict.known_false_alarms)
        dirty_runs = sum(bool(verdict.false_alarms or verdict.known_false_alarms) for _, verdict in results[twin])
        if twin == "hardened" or alarms or known:
            print(f"  {twin}: false alarms in {dirty_runs}/{runs} runs")
        for alarm, times in sorted(alarms.items()):
            print(f"    {times:>2}x {alarm}")
        for alarm, times in sorted(known.items()):
            print(f"    {times:>2}x {alarm}  [known false alarm]")
        if dirty_runs:
            missed_targets.append(f"{app} {twin}: false alarms in {dirty_runs}/{runs} runs")
        errors = Counter(error for _, verdict in results[twin] for error in verdict.internal_errors)
        for error, times in sorted(errors.items()):
            print(f"    {times:>2}x internal error: {error}")
            missed_targets.append(f"{app} {twin}: internal error")
        seconds = [run.seconds for run, _ in results[twin]] or [0.0]
        print(f"  {twin}: wall time per --active probe: median {statistics.median(seconds):.1f} s, "
              f"max {max(seconds):.1f} s")
        if max(seconds) >= WALL_TIME_LIMIT:
            missed_targets.append(f"{app} {twin}: a probe took {max(seconds):.1f} s (limit {WALL_TIME_LIMIT:g} s)")
    return missed_targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="probe runs per twin (default 10)")
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated zoo apps (default {','.join(APPS)})")
    options = parser.parse_args(argv)
    apps = [name.strip() for name in options.apps.split(",") if name.strip()]
    unknown = sorted(set(apps) - set(APPS))
    if unknown or options.runs < 1:
        parser.error(f"unknown app {unknown[0]!r}" if unknown else "--runs must be at least 1")
    missed_targets: list[str] = []
    with EmbeddedPostgres() as postgres, EmbeddedDynamoDB() as dynamodb:
        backends = Backends(postgres.url, dynamodb.endpoint_url)
        for app in apps:
            results, crashes = {}, {}
            for twin in TWINS:
                print(f"{app} {twin} ", end="", flush=True)
                results[twin], crashes[twin] = run_twin(app, twin, backends, options.runs)
                print()
            missed_targets += report(app, results, crashes, options.runs)
    print()
    if missed_targets:
        print(f"{len(missed_targets)} target(s) missed:")
        for target in missed_targets:
            print(f"  {target}")
    else:
        print(f"every target met over {options.runs} runs per twin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
