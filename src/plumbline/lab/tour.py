"""`plumbline demo`: drive every planted failure against both twins and show what each did."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from plumbline.lab.runner import Lab
from plumbline.lab.scenarios import Outcome, Scenario, all_scenarios, reproduce


@dataclass
class TourStop:
    scenario: Scenario
    vulnerable: Outcome
    vulnerable_tries: int
    hardened: Outcome

    @property
    def as_expected(self) -> bool:
        return not self.vulnerable.held and self.hardened.held


def run_tour(lab: Lab, console: Console) -> list[TourStop]:
    stops = []
    for item in all_scenarios():
        if item.app not in lab.twins:
            continue
        twins = lab.twins[item.app]
        with console.status(f"{item.app}: {item.name} …"):
            vulnerable, tries = reproduce(item, twins["vulnerable"])
            hardened = item.run(twins["hardened"])
        stops.append(TourStop(item, vulnerable, tries, hardened))
    return stops


def render(stops: list[TourStop], console: Console) -> None:
    for app in dict.fromkeys(stop.scenario.app for stop in stops):
        table = Table(title=f"lab app: {app}", show_lines=True, expand=True)
        table.add_column("failure planted", ratio=2, overflow="fold")
        table.add_column("invariant", ratio=2)
        table.add_column("vulnerable twin", ratio=3)
        table.add_column("hardened twin", ratio=3)
        for stop in (s for s in stops if s.scenario.app == app):
            table.add_row(
                f"{stop.scenario.failure}\n[dim]{stop.scenario.name}[/dim]",
                stop.scenario.invariant,
                _cell(stop.vulnerable, stop.vulnerable_tries if stop.scenario.race else None),
                _cell(stop.hardened, None),
            )
        console.print(table)


def _cell(outcome: Outcome, tries: int | None) -> str:
    verdict = "[green]held[/green]" if outcome.held else "[red]BROKEN[/red]"
    attempt = f" [dim](on try {tries})[/dim]" if tries else ""
    return f"{verdict}{attempt}\n{outcome.observed}"


def demo(lab_options: dict, console: Console) -> int:
    """Start the lab, run the tour, print it; 0 when every failure showed and every fix held."""
    started = time.perf_counter()
    # The tour crashes handlers on purpose (fault injection); their logged tracebacks are not news here.
    logging.getLogger("plumbline.lab").setLevel(logging.CRITICAL)
    with console.status("starting the lab (embedded PostgreSQL, DynamoDB, four Flask apps) …"):
        lab = Lab(**lab_options).start()
    try:
        stops = run_tour(lab, console)
    finally:
        lab.stop()
    render(stops, console)
    shown = sum(not stop.vulnerable.held for stop in stops)
    held = sum(stop.hardened.held for stop in stops)
    console.print(
        f"{shown}/{len(stops)} planted failures shown on the vulnerable twins; "
        f"{held}/{len(stops)} invariants held on the hardened twins "
        f"[dim]({time.perf_counter() - started:.1f} s)[/dim]"
    )
    return 0 if all(stop.as_expected for stop in stops) else 1
