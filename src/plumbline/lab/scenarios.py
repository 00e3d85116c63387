"""Workloads that drive each planted failure against a running twin and check the invariant.

A scenario is a plain function registered with `@scenario`. It runs a workload through the
HTTP API (and, where the failure lives behind it, through the database or stream), re-reads
the state and says whether the invariant held. The lab tests assert on these outcomes and
`plumbline demo` prints them, so both tell the same story.
"""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from plumbline.lab.twin import RunningTwin

T = TypeVar("T")


@dataclass
class Outcome:
    held: bool
    observed: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    app: str
    name: str
    failure: str
    invariant: str
    run: Callable[[RunningTwin], Outcome]
    # A race shows only under some interleavings: on the vulnerable twin, try it a few times.
    race: bool = False


SCENARIOS: list[Scenario] = []


def scenario(*, app: str, name: str, failure: str, invariant: str, race: bool = False):
    def register(run: Callable[[RunningTwin], Outcome]) -> Callable[[RunningTwin], Outcome]:
        SCENARIOS.append(Scenario(app=app, name=name, failure=failure, invariant=invariant, run=run, race=race))
        return run

    return register


def all_scenarios() -> list[Scenario]:
    for app in ("bank", "records"):
        importlib.import_module(f"plumbline.lab.{app}.scenarios")
    return list(SCENARIOS)


# A planted race breaks in most single runs (the least reliable, 20 concurrent registrations, in about 80%):
# ten tries leave a chance of the order of 1e-7 that it never shows.
ATTEMPTS = 10


def reproduce(item: Scenario, twin: RunningTwin, attempts: int = ATTEMPTS) -> tuple[Outcome, int]:
    """Run until the invariant breaks (at most `attempts` times); return the last outcome and the tries used.

    On a hardened twin this is a stress run: every one of the `attempts` runs must hold."""
    tries = attempts if item.race else 1
    for attempt in range(1, tries + 1):
        outcome = item.run(twin)
        if not outcome.held:
            return outcome, attempt
    return outcome, tries


def burst(count: int, call: Callable[[int], T], *, threads: int | None = None) -> list[T | BaseException]:
    """Run `call(i)` for i in range(count) from a thread pool whose workers start together.

    Each worker waits at a barrier until all are ready, so the first `threads` calls are in
    flight at the same moment. Exceptions are returned in place of results.
    """
    workers = min(threads or count, count)
    barrier = threading.Barrier(workers)

    def guarded(index: int) -> T | BaseException:
        if index < workers:
            barrier.wait(timeout=30)
        try:
            return call(index)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(guarded, range(count)))
