"""`plumbline demo`: drive every planted failure against both twins and show what each did."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from plumbline.findings import FindingsDocument, at_least
from plumbline.lab.damage import Write
from plumbline.lab.runner import Lab
from plumbline.lab.scenarios import Outcome, Scenario, all_scenarios, reproduce
from plumbline.lab.twin import RunningTwin
from plumbline.report.text import terminal_text


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


# The files `plumbline scan` reads for a twin, besides its own module: its schema and the code both twins share.
SCANNED_WITH = {"bank": ("{twin}.sql", "common.py"), "records": ("common.py", "tables.py")}


def twin_files(app: str, twin: str) -> list[Path]:
    """A twin's own files: its module, its schema and the shared code."""
    from importlib import import_module

    folder = Path(import_module(f"plumbline.lab.{app}").__file__).parent
    return [folder / f"{twin}.py", *(folder / name.format(twin=twin) for name in SCANNED_WITH[app])]


def scan_twin(app: str, twin: str) -> FindingsDocument:
    """`plumbline scan` over a twin's own files."""
    from plumbline.scan import ScanOptions, scan

    return scan(twin_files(app, twin), ScanOptions(backend="cockroachdb" if app == "bank" else "auto",
                                                   cache=False)).document


def audit_bank_twin(lab: Lab, twin: str) -> tuple[list[Write], FindingsDocument]:
    """The races' damage written into a bank twin's database (plumbline.lab.bank.damage), then `plumbline audit
    --scan` of that database with the twin's files: what the database let in, and what the audit finds."""
    from plumbline.audit import Audit, AuditOptions
    from plumbline.lab.bank.damage import seed_damage, twin_database_url

    url = twin_database_url(lab.sql_url, twin)
    writes = seed_damage(url)
    return writes, Audit(AuditOptions(dsn=url, scan=tuple(twin_files("bank", twin)))).run()


def audit_records_twin(lab: Lab, twin: str) -> tuple[list[Write], FindingsDocument]:
    """The damaging writes sent to a records twin through its API (plumbline.lab.records.damage), then `plumbline
    audit --dynamodb --scan` of that twin's tables with its files. Point-in-time recovery is not held against a
    twin whose endpoint refused to turn it on (DynamoDB Local has none)."""
    from plumbline.audit import audit_rule_ids
    from plumbline.audit.dynamodb import DynamoAudit, DynamoOptions
    from plumbline.lab.records.damage import seed_damage

    running = lab.twins["records"][twin]
    writes = seed_damage(running.url, next(iter(running.identities.values())))
    dynamo, names = running.built.internals["dynamo"], running.built.internals["tables"]
    selected = audit_rule_ids(dynamodb=True) - ({"PL314"} if names.recovery_refused else set())
    options = DynamoOptions(endpoint=dynamo.endpoint_url, region=dynamo.region, tables=tuple(names.all()),
                            selected=selected, scan=tuple(twin_files("records", twin)),
                            credentials=dynamo.credentials())
    return writes, DynamoAudit(options).run()


AUDITS = {"bank": audit_bank_twin, "records": audit_records_twin}


def probe_twin(running: RunningTwin, *, active: bool = True, spec_source: str = "/openapi.json"):
    """`plumbline probe` against a running twin as alice and bob: the findings, and the Http that sent them."""
    from plumbline.probe.engine import Probe
    from plumbline.probe.http import Http, Identity
    from plumbline.probe.spec import load
    from plumbline.rules import matching

    identities = {name: Identity(name, "Authorization", f"Bearer {token}") for name, token in running.identities.items()}
    http = Http(running.url, identities)
    try:
        spec = load(spec_source, running.url)
        return Probe(spec, http, active=active, selected=matching(["PL4"])).run(), http
    finally:
        http.close()


def run_engines(lab: Lab, console: Console) -> tuple[dict[tuple[str, str, str], FindingsDocument],
                                                     dict[tuple[str, str], list[Write]]]:
    """(engine, app, twin) -> what the engine reports about that twin; and (app, twin) -> the damaging writes sent
    to it before its audit."""
    results, damage = {}, {}
    for app in (name for name in SCANNED_WITH if name in lab.twins):
        for twin in ("vulnerable", "hardened"):
            with console.status(f"scan: {app} {twin} …"):
                results[("scan", app, twin)] = scan_twin(app, twin)
    for app, twins in lab.twins.items():
        for twin, running in twins.items():
            with console.status(f"probe: {app} {twin} …"):
                results[("probe", app, twin)] = probe_twin(running)[0]
    for app, twins in lab.twins.items():
        for twin in twins:
            with console.status(f"audit: {app} {twin} (after writing its races' damage) …"):
                damage[(app, twin)], results[("audit", app, twin)] = AUDITS[app](lab, twin)
    return results, damage


def render_damage(damage: dict[tuple[str, str], list[Write]], console: Console) -> None:
    """What each twin's store made of its races' writes, app by app."""
    for app in dict.fromkeys(app for app, _ in damage):
        twins = {twin: writes for (name, twin), writes in damage.items() if name == app}
        store = "database" if app == "bank" else "tables"
        table = Table(title=f"{app}: the races' writes, then plumbline audit of each twin's {store}", expand=False)
        table.add_column("race")
        table.add_column("write")
        for twin in twins:
            table.add_column(f"{twin} twin")
        for index, write in enumerate(next(iter(twins.values()))):
            table.add_row(write.race, write.statement, *(write_verdict(writes[index]) for writes in twins.values()))
        console.print(table)


def write_verdict(write: Write) -> str:
    """`accepted`, or `refused by <constraint>`, in rich markup."""
    return "[red]accepted[/red]" if write.accepted else f"[green]refused[/green] by {terminal_text(write.refused_by)}"


def render_engines(results: dict[tuple[str, str, str], FindingsDocument], console: Console) -> None:
    for engine in ("scan", "probe", "audit"):
        columns = [key for key in results if key[0] == engine]
        if not columns:
            continue
        table = Table(title=f"plumbline {engine}: findings per rule", expand=False)
        table.add_column("rule")
        for _, app, twin in columns:
            table.add_column(f"{app} {twin}", justify="right")
        rules = sorted({(f.rule_id, f.rule_name) for key in columns for f in results[key].findings})
        for rule_id, name in rules:
            table.add_row(f"{rule_id} {name}", *(
                str(sum(f.rule_id == rule_id for f in results[key].findings)) or "" for key in columns))
        console.print(table)


REPORT_FILE = "plumbline-report.html"


def write_report(results: dict[tuple[str, str, str], FindingsDocument], path: Path) -> Path:
    """The HTML report of what the scan, the probe and the audit found on the vulnerable twins, correlated."""
    from plumbline.report import html

    documents = [document for (_, _, twin), document in results.items() if twin == "vulnerable"]
    path.write_text(html.render(documents), encoding="utf-8")
    return path


def engines_agree(results: dict[tuple[str, str, str], FindingsDocument]) -> bool:
    """Every vulnerable twin is caught, no hardened twin has a finding of medium or above."""
    for (_, _, twin), document in results.items():
        serious = [f for f in document.findings if at_least(f.severity, "medium")]
        if (twin == "vulnerable") != bool(serious):
            return False
    return True


def demo(lab_options: dict, console: Console) -> int:
    """Start the lab, run the tour, print it; 0 when every failure showed and every fix held."""
    started = time.perf_counter()
    # The tour crashes handlers on purpose (fault injection); their logged tracebacks are not news here.
    logging.getLogger("plumbline.lab").setLevel(logging.CRITICAL)
    with console.status("starting the lab (embedded PostgreSQL, DynamoDB, four Flask apps) …"):
        lab = Lab(**lab_options).start()
    try:
        stops = run_tour(lab, console)
        results, damage = run_engines(lab, console)
    finally:
        lab.stop()
    render(stops, console)
    render_damage(damage, console)
    render_engines(results, console)
    shown = sum(not stop.vulnerable.held for stop in stops)
    held = sum(stop.hardened.held for stop in stops)
    console.print(
        f"{shown}/{len(stops)} planted failures shown on the vulnerable twins; "
        f"{held}/{len(stops)} invariants held on the hardened twins "
        f"[dim]({time.perf_counter() - started:.1f} s)[/dim]"
    )
    try:
        report = write_report(results, Path.cwd() / REPORT_FILE)
        console.print(f"HTML report of the vulnerable twins (scan + probe + audit, correlated): "
                      f"[bold]{terminal_text(str(report))}[/bold]", highlight=False, soft_wrap=True)
    except OSError as exc:
        console.print(f"[red]could not write {REPORT_FILE}: {terminal_text(exc.strerror or str(exc))}[/red]")
    caught = engines_agree(results)
    console.print("scan, probe and audit: every vulnerable twin caught, no hardened twin with a finding of medium or "
                  "above" if caught else
                  "[red]scan, probe and audit: a vulnerable twin was missed or a hardened twin was flagged[/red]")
    return 0 if caught and all(stop.as_expected for stop in stops) else 1
