"""The `plumbline` command line."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from plumbline import __version__
from plumbline.findings import SEVERITIES, FindingsDocument, at_least
from plumbline.report import FORMATS

# Exit codes, the same for every engine (docs/cli.md).
EXIT_CLEAN = 0  # nothing at or above --fail-on
EXIT_FINDINGS = 1  # at least one finding at or above --fail-on
EXIT_USAGE = 2  # bad command line, unusable target or input, nothing analysed, nothing selected
EXIT_INTERNAL = 3  # an internal analysis error in some file or check: the result may be incomplete
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: a partial report was written

backend_options = [
    click.option(
        "--backend",
        type=click.Choice(["embedded", "postgres", "cockroach"]),
        default="embedded",
        show_default=True,
        help="SQL backend of the bank app: embedded PostgreSQL at SERIALIZABLE, or a server given by --dsn.",
    ),
    click.option("--dsn", metavar="URL", help="postgresql://... or cockroachdb://... of a running server."),
    click.option(
        "--dynamodb-endpoint", metavar="URL", help="DynamoDB-compatible endpoint (default: an embedded moto server)."
    ),
]


def with_backend_options(command):
    for option in reversed(backend_options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="plumbline")
def main() -> None:
    """Find, prove and fix integrity failures in Flask APIs on CockroachDB and DynamoDB."""


def _lab_call(console: Console, call):
    """Run `call()`; a missing 'lab' extra or an unusable backend becomes a clear error and exit 2."""
    from plumbline.lab.backends import BackendError

    try:
        return call()
    except ImportError as exc:
        _error(console, f"the lab needs the 'lab' extra ({exc.name} is missing): pip install 'plumbline[lab]'")
    except BackendError as exc:
        _error(console, str(exc))
    sys.exit(EXIT_USAGE)


def _error(console: Console, message: str) -> None:
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)


def _start_lab(**options):
    from plumbline.lab.runner import Lab

    return Lab(**options).start()


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@main.command()
@with_backend_options
@click.option("--json", "as_json", is_flag=True, help="Print one line of JSON (URLs and tokens) once ready.")
def lab(backend: str, dsn: str | None, dynamodb_endpoint: str | None, as_json: bool) -> None:
    """Serve the lab: two Flask apps, each as a vulnerable and a hardened twin, on 127.0.0.1."""
    err = Console(stderr=True)
    running = _lab_call(err, lambda: _start_lab(backend=backend, dsn=dsn, dynamodb_endpoint=dynamodb_endpoint))
    try:
        if as_json:
            click.echo(json.dumps(running.describe(), separators=(",", ":")))
            sys.stdout.flush()
        else:
            _print_lab(Console(), running)
        _wait_for_stop()
    finally:
        running.stop()
    if not as_json:
        err.print("lab stopped")


def _print_lab(console: Console, running) -> None:
    sql = "embedded PostgreSQL (SERIALIZABLE)" if running.dsn is None else f"{running.backend} at --dsn"
    table = Table(title="plumbline lab", title_justify="left")
    for column in ("app", "twin", "url", "backend"):
        table.add_column(column)
    for app, twins in running.twins.items():
        store = sql if app == "bank" else "DynamoDB" + (" (moto)" if running.dynamodb_endpoint is None else "")
        for twin, info in twins.items():
            table.add_row(app, twin, info.url, store)
    console.print(table)
    console.print("Identities (send as 'Authorization: Bearer TOKEN'; each twin issued its own):")
    for app, twins in running.twins.items():
        for twin, info in twins.items():
            for name, token in info.identities.items():
                console.print(f"  {app}/{twin} {name}: {token}")
    console.print("OpenAPI: <url>/openapi.json. Ctrl-C to stop.")


@main.command()
@with_backend_options
def demo(backend: str, dsn: str | None, dynamodb_endpoint: str | None) -> None:
    """A guided tour: every planted failure, driven against both twins of the lab."""
    console = Console()

    def tour() -> int:
        from plumbline.lab.tour import demo as run_demo

        return run_demo({"backend": backend, "dsn": dsn, "dynamodb_endpoint": dynamodb_endpoint}, console)

    sys.exit(_lab_call(console, tour))


def _comma_list(values: tuple[str, ...] | str | None) -> list[str] | None:
    if not values:
        return None
    items = values if isinstance(values, tuple) else (values,)
    return [part.strip().upper() for item in items for part in item.split(",") if part.strip()]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (PL1,PL203; default: all).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Exit 1 when a finding is at least this severe "
              "[default: low].")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Processes for parsing.")
@click.option("--no-cache", is_flag=True, help="Do not read or write .plumbline-cache/.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files and directories.")
@click.option("--backend", type=click.Choice(["auto", "cockroachdb", "postgres"]),
              help="Database the fixes are written for [default: auto, from the code].")
def scan(paths, select, ignore, output_format, output, fail_on, jobs, no_cache, exclude, backend) -> None:
    """Find integrity failures in Flask code on CockroachDB/PostgreSQL, statically."""
    from plumbline.rules import matching
    from plumbline.scan import ScanOptions, scan as run_scan
    from plumbline.scan.config import ConfigError, load

    err = Console(stderr=True)
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise click.UsageError(f"no such file or directory: {', '.join(missing)}")
    try:
        config, _ = load(paths[0])
    except ConfigError as exc:
        _error(err, str(exc))
        sys.exit(EXIT_USAGE)
    selected = _comma_list(select) or config.select
    ignored = _comma_list(ignore) or config.ignore
    for prefix in [*selected, *ignored]:
        if not matching([prefix]):
            raise click.UsageError(f"no rule matches {prefix!r} (see `plumbline rules`)")
    options = ScanOptions(
        select=selected, ignore=ignored, exclude=[*config.exclude, *exclude],
        per_file_ignores=config.per_file_ignores, backend=backend or config.backend, jobs=jobs, cache=not no_cache,
    )
    started = time.perf_counter()
    result = run_scan(list(paths), options)
    elapsed = time.perf_counter() - started
    document = result.document
    stats = (f"{result.files} files, {result.lines} lines in {elapsed:.2f} s"
             + (f" ({result.cached} from cache)" if result.cached else ""))
    _emit(document, output_format, output, stats, sorted(matching(selected) - matching(ignored)))
    sys.exit(_exit_code(document, fail_on or config.fail_on))


def _validate_output(output: Path | None) -> None:
    """Refuse an --output that cannot be written before any work is done, so no run's result is lost."""
    if output is None:
        return
    if output.is_dir():
        raise click.UsageError(f"--output {output}: is a directory")
    folder = output.absolute().parent
    if not folder.is_dir():
        raise click.UsageError(f"--output {output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or output.exists() and not os.access(output, os.W_OK):
        raise click.UsageError(f"--output {output}: not writable")


def _emit(document: FindingsDocument, output_format: str, output: Path | None, stats: str,
          rule_ids: list[str]) -> None:
    """Write the report in the chosen format, to `output` or stdout; the run's figures go to the user."""
    from plumbline.report import junit, sarif, text

    if output_format == "text":
        if output is not None:
            with open(output, "w", encoding="utf-8") as handle:
                text.render(document, Console(file=handle, no_color=True, width=200), summary_extra=stats)
            Console(stderr=True).print(f"{len(document.findings)} findings; {stats}", highlight=False, soft_wrap=True)
        else:
            text.render(document, Console(highlight=False), summary_extra=stats)
        return
    rendered = {"json": document.to_json, "sarif": lambda: sarif.render(document),
                "junit": lambda: junit.render(document, rule_ids)}[output_format]()
    if output is not None:
        output.write_text(rendered + "\n", encoding="utf-8")
    else:
        click.echo(rendered)
    Console(stderr=True).print(f"[dim]{len(document.findings)} findings; {stats}[/dim]", highlight=False,
                               soft_wrap=True)


def _exit_code(document: FindingsDocument, fail_on: str) -> int:
    return 1 if any(at_least(f.severity, fail_on) for f in document.findings) else 0


@main.command()
@click.argument("base_url")
@click.option("--openapi", "spec_source", required=True, metavar="SPEC",
              help="OpenAPI 3.x document: a file, a URL, or a path on the target such as /openapi.json.")
@click.option("--identity", "identities", multiple=True, metavar="NAME=HEADER",
              help='An identity as one header line, e.g. alice="Authorization: Bearer ..." (repeatable; two '
                   "identities enable cross-identity tests).")
@click.option("--active", is_flag=True, help="Allow state-changing requests (races, writes, invalid input).")
@click.option("--max-requests", type=click.IntRange(1), default=3000, show_default=True, help="Request budget.")
@click.option("--rate", type=click.FloatRange(0.1), default=200.0, show_default=True,
              help="Requests per second between bursts.")
@click.option("--timeout", type=click.FloatRange(0.1), default=15.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (default: all PL4xx).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option("--format", "output_format", type=click.Choice([*FORMATS, "junit"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Exit 1 when a finding is at least this severe.")
def probe(base_url, spec_source, identities, active, max_requests, rate, timeout, select, ignore, output_format,
          output, fail_on) -> None:
    """Prove integrity failures on a running API: synchronized bursts, two identities, state read back."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from plumbline.probe.engine import Probe
    from plumbline.probe.http import Http, Identity, TargetError
    from plumbline.probe.spec import SpecError, load
    from plumbline.rules import matching

    err = Console(stderr=True)
    if not base_url.startswith(("http://", "https://")):
        raise click.UsageError(f"BASE_URL must be an http:// or https:// URL, got {base_url!r}")
    try:
        parsed = [Identity.parse(text) for text in identities]
    except ValueError as exc:
        raise click.UsageError(f"--identity: {exc}") from None
    if len({i.name for i in parsed}) != len(parsed):
        raise click.UsageError("--identity: each identity needs its own name")
    selected = matching(_comma_list(select) or ["PL4"]) - matching(_comma_list(ignore) or [])
    if not selected:
        raise click.UsageError("no probe rule selected (see `plumbline rules`)")
    http = Http(base_url, {i.name: i for i in parsed}, max_requests=max_requests, rate=rate, timeout=timeout)
    started = time.perf_counter()
    try:
        spec = load(spec_source, base_url, timeout=timeout)
        if "://" not in spec_source and not spec_source.startswith("/"):
            http.request("GET", "/", identity=None)
    except (SpecError, TargetError) as exc:
        _error(err, str(exc))
        http.close()
        sys.exit(EXIT_USAGE)
    runner = Probe(spec, http, active=active, selected=selected)
    quiet = output_format != "text" or not err.is_terminal
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      disable=quiet, transient=True) as progress:
            task = progress.add_task("probing", total=None)
            document = runner.run(on_check=lambda name: progress.update(task, description=f"{name} "
                                                                         f"[dim]({http.sent} requests)[/dim]"))
    finally:
        http.close()
    mode = "active" if active else "passive (safe methods only; --active for the rest)"
    stats = f"{http.sent} requests in {time.perf_counter() - started:.1f} s, {mode}"
    _emit(document, output_format, output, stats, sorted(selected))
    sys.exit(_exit_code(document, fail_on))


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(output_format: str) -> None:
    """List every rule: id, name, severity, CWE and OWASP API Top 10 mapping."""
    from plumbline.rules import all_rules

    if output_format == "json":
        click.echo(json.dumps([{"id": r.id, "name": r.name, "engine": r.engine, "severity": r.severity,
                                "cwe": list(r.cwe), "owasp": r.owasp, "summary": r.summary} for r in all_rules()],
                              indent=2))
        return
    table = Table(title="plumbline rules", title_justify="left")
    for column in ("id", "name", "engine", "severity", "CWE", "OWASP", "summary"):
        table.add_column(column)
    for rule in all_rules():
        table.add_row(rule.id, rule.name, rule.engine, rule.severity, ", ".join(map(str, rule.cwe)),
                      rule.owasp or "", rule.summary)
    Console().print(table)


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Show a rule's documentation: what it does, why it is bad, an example, and the fix per backend."""
    from plumbline.rules import get

    try:
        rule = get(rule_id)
    except KeyError:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `plumbline rules`)") from None
    console = Console()
    if console.is_terminal:
        console.print(Markdown(rule.documentation()))
    else:
        click.echo(rule.documentation(), nl=False)
