"""The `plumbline` command line."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plumbline import __version__
from plumbline.findings import SEVERITIES, FindingsDocument, ToolError, at_least
from plumbline.report import FORMATS, terminal_safe_json
from plumbline.report.text import printable, terminal_text

if TYPE_CHECKING:
    from rich.console import Console


def _rich_console(**options) -> Console:
    """rich's Console; rich is imported when a command first prints with it (about 30 ms of every start)."""
    from rich.console import Console

    return Console(**options)


class _LazyConsole:
    """A Console made at its first use: a scan that writes its report to a file prints nothing else through rich
    unless something goes wrong."""

    def __init__(self, **options) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str):
        if self._console is None:
            self._console = _rich_console(**self._options)
        return getattr(self._console, name)

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


def with_baseline_options(command):
    """--baseline and --write-baseline (docs/integrations.md#baseline), the same for every engine."""
    command = click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                           help="Record every finding of this run in FILE for --baseline (the report still lists "
                                "them; the exit code counts none).")(command)
    return click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                        help="Report only the findings that FILE (from --write-baseline) does not hold.")(command)


class _Commands(click.Group):
    """Ctrl-C that a command does not handle itself exits 130, as documented (click's own default is 1: findings)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    console.print(f"[red]error:[/red] {terminal_text(message)}", soft_wrap=True, highlight=False)


def _start_lab(**options):
    from plumbline.lab.runner import Lab

    return Lab(**options).start()


def _stop_on_signals() -> None:
    """Make the first SIGINT or SIGTERM raise KeyboardInterrupt, and ignore any later one.

    Installed before the lab starts anything: a signal during start-up unwinds through Lab.start, which stops
    whatever it had started; once the lab serves, it ends `_wait_for_stop`. Later signals are ignored so they
    cannot cut the clean-up short. SIGKILL reaches no handler: the embedded PostgreSQL's watchdog covers it.
    """

    def interrupt(signum, frame) -> None:
        for name in (signal.SIGINT, signal.SIGTERM):
            signal.signal(name, lambda *_: None)  # a handler, not SIG_IGN, which programs started later inherit
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM, which `_stop_on_signals` turns into KeyboardInterrupt."""
    while True:
        time.sleep(60)


@main.command()
@with_backend_options
@click.option("--json", "as_json", is_flag=True, help="Print one line of JSON (URLs and tokens) once ready.")
def lab(backend: str, dsn: str | None, dynamodb_endpoint: str | None, as_json: bool) -> None:
    """Serve the lab: two Flask apps, each as a vulnerable and a hardened twin, on 127.0.0.1."""
    _stop_on_signals()
    err = _rich_console(stderr=True)
    running = None
    try:
        running = _lab_call(err, lambda: _start_lab(backend=backend, dsn=dsn, dynamodb_endpoint=dynamodb_endpoint))
        if as_json:
            click.echo(json.dumps(running.describe(), separators=(",", ":")))
            sys.stdout.flush()
        else:
            _print_lab(_rich_console(), running)
        _wait_for_stop()
    except KeyboardInterrupt:
        if running is None:
            _error(err, "interrupted during start-up; everything started was stopped")
            sys.exit(EXIT_INTERRUPTED)
    finally:
        if running is not None:
            running.stop()
    if not as_json:
        err.print("lab stopped")


def _print_lab(console: Console, running) -> None:
    sql = "embedded PostgreSQL (SERIALIZABLE)" if running.dsn is None else f"{running.backend} at --dsn"
    from rich.table import Table

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
    console.print("Audit each twin's store (after `plumbline lab-damage`, to see its races' damage):")
    for app, twins in running.twins.items():
        for twin, info in twins.items():
            console.print(f"  {app}/{twin}: {_audit_command(running, info)}", highlight=False, soft_wrap=True)
    console.print("OpenAPI: <url>/openapi.json. Ctrl-C to stop.")


def _audit_command(running, twin) -> str:
    """The `plumbline audit` command line for a running lab twin's database or tables (its password masked)."""
    tables = twin.built.internals.get("tables")
    if tables is None:
        from plumbline.lab.bank.damage import twin_database_url

        return _dsn_audit_command(twin_database_url(running.sql_url, twin.twin))
    dynamo = twin.built.internals["dynamo"]
    keys = dynamo.credentials()  # the lab's own, when the environment has none: the audit needs the same
    given = f"AWS_ACCESS_KEY_ID={keys[0]} AWS_SECRET_ACCESS_KEY={keys[1]} " if keys else ""
    return (f"{given}plumbline audit --dynamodb --endpoint {terminal_text(dynamo.endpoint_url)} "
            f"--region {dynamo.region} "
            f"--table '{terminal_text(dynamo.table_prefix)}*'")


def _dsn_audit_command(url: str) -> str:
    """`plumbline audit --dsn '<url>'`, the password masked."""
    from plumbline.lab.backends import redact

    return f"plumbline audit --dsn '{terminal_text(redact(url, url))}'"


@main.command()
@with_backend_options
def demo(backend: str, dsn: str | None, dynamodb_endpoint: str | None) -> None:
    """A guided tour: every planted failure, driven against both twins of the lab."""
    console = _rich_console()

    def tour() -> int:
        from plumbline.lab.tour import demo as run_demo

        return run_demo({"backend": backend, "dsn": dsn, "dynamodb_endpoint": dynamodb_endpoint}, console)

    with _sigterm_as_interrupt():  # a cancelled CI job stops the lab's servers as Ctrl-C does
        code = _lab_call(console, tour)
    sys.exit(code)


@main.command("lab-damage")
@click.option("--dsn", metavar="URL",
              help="The server the lab's bank twins ran on: the --dsn given to `plumbline lab` or `plumbline demo`.")
@click.option("--twin", type=click.Choice(["vulnerable", "hardened"]), default="vulnerable", show_default=True,
              help="--dsn: whose database; the hardened twin's refuses every damaging write.")
@click.option("--records", "records_url", metavar="URL",
              help="A records twin's URL, as `plumbline lab` printed it (instead of --dsn).")
@click.option("--token", metavar="TOKEN", help="--records: a bearer token `plumbline lab` printed for that twin.")
def lab_damage(dsn: str | None, twin: str, records_url: str | None, token: str | None) -> None:
    """Write the damage the lab's races cause, for `plumbline audit` to find, while `plumbline lab` runs: into a
    bank twin's database (duplicate e-mails, negative balances, orphaned orders), or through a records twin's API
    (items under an owner who does not exist, versions of the wrong type, negative balances)."""
    if (dsn is None) == (records_url is None):
        raise click.UsageError("give exactly one of --dsn (a bank twin) and --records (a records twin)")
    if (records_url is None) != (token is None):
        raise click.UsageError("--records and --token go together")
    console, err = _rich_console(), _rich_console(stderr=True)

    def seed_bank():
        from plumbline.lab.bank.damage import seed_damage, twin_database_url

        url = twin_database_url(dsn, twin)
        return _dsn_audit_command(url), seed_damage(url)

    def seed_records():
        from plumbline.lab.records.damage import seed_damage

        return ("plumbline audit --dynamodb with the --endpoint and --table `plumbline lab` printed for this twin",
                seed_damage(records_url, token))

    from plumbline.lab.tour import write_verdict

    audit_next, written = _lab_call(err, seed_bank if dsn is not None else seed_records)
    for write in written:
        console.print(f"{write.race}: {write.statement}: {write_verdict(write)}", highlight=False)
    console.print(f"{sum(w.accepted for w in written)}/{len(written)} writes accepted; now: {audit_next}",
                  highlight=False, soft_wrap=True)


def _comma_list(values: tuple[str, ...] | str | None) -> list[str] | None:
    if not values:
        return None
    items = values if isinstance(values, tuple) else (values,)
    return [part.strip().upper() for item in items for part in item.split(",") if part.strip()]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (PL1,PL203; default: all).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Exit 1 when a finding is at least this severe "
              "[default: low].")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Processes for parsing.")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the cache (user cache directory, or $PLUMBLINE_CACHE_DIR).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files and directories.")
@click.option("--backend", type=click.Choice(["auto", "cockroachdb", "postgres"]),
              help="Database the fixes are written for [default: auto, from the code].")
@click.option("--isolated", is_flag=True, help="Trust nothing in the scanned tree: ignore its [tool.plumbline] "
              "settings and its inline suppression comments (for untrusted pull requests).")
@with_baseline_options
def scan(paths, select, ignore, output_format, output, fail_on, jobs, no_cache, exclude, backend, isolated, baseline,
         write_baseline) -> None:
    """Find integrity failures in Flask code on CockroachDB/PostgreSQL, statically."""
    from plumbline.report.sarif import Context
    from plumbline.scan import ScanOptions, scan as run_scan
    from plumbline.scan.config import ConfigError, ScanConfig, load

    err = _LazyConsole(stderr=True)
    _validate_output(output)
    known = _read_baseline(err, baseline, write_baseline)
    given = [scan_path(text) for text in paths]
    try:
        config = ScanConfig() if isolated else load(given[0])[0]
    except ConfigError as exc:
        _error(err, str(exc))
        sys.exit(EXIT_USAGE)
    selected = rule_prefixes("--select", select) or config.select
    ignored = rule_prefixes("--ignore", ignore) or config.ignore
    rule_ids = engine_rules("scan", selected, ignored)
    options = ScanOptions(
        select=selected, ignore=ignored, exclude=[*config.exclude, *exclude],
        per_file_ignores=config.per_file_ignores, backend=backend or config.backend, jobs=jobs, cache=not no_cache,
        inline_suppressions=not isolated,
    )
    started = time.perf_counter()
    try:
        with _sigterm_as_interrupt():
            result = run_scan(given, options)
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - started
        message = f"interrupted after {elapsed:.1f} s, before the checks ended: no finding is reported"
        document = FindingsDocument(errors=(ToolError(engine="scan", target=", ".join(paths), message=message,
                                                      kind="interrupted"),))
        _emit(document, output_format, output, f"interrupted after {elapsed:.1f} s", rule_ids)
        _error(err, "interrupted: the report written is incomplete")
        sys.exit(EXIT_INTERRUPTED)
    elapsed = time.perf_counter() - started
    stats = (f"{result.files} files, {result.lines} lines in {elapsed:.2f} s"
             + (f" ({result.cached} from cache)" if result.cached else ""))
    document, prints = _apply_baseline(err, result.document, result.root, known, write_baseline)
    _emit(document, output_format, output, stats, rule_ids, Context(root=result.root, fingerprints=prints))
    code = _exit_code(_counted(document, write_baseline), fail_on or config.fail_on)
    if result.analysed == 0 and code != EXIT_INTERNAL:
        _error(err, "nothing could be analysed: " + ("every file was skipped (the report lists why)" if result.files
                                                      else "no .py or .sql file under " + ", ".join(paths)))
        code = EXIT_USAGE
    sys.exit(code)


def scan_path(text: str) -> Path:
    """A PATH to scan: a directory or a regular file; a FIFO or a device would hang or never end."""
    if not text:
        raise click.UsageError("PATH is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise click.UsageError(f"{printable(text)}: the name is not valid UTF-8; rename it") from None
    try:
        mode = os.stat(text).st_mode
    except OSError as exc:
        raise click.UsageError(f"{printable(text)}: {(exc.strerror or 'cannot read').lower()}") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise click.UsageError(f"{printable(text)}: not a directory or a regular file")
    return Path(text)


def _read_baseline(err: Console, baseline: Path | None, write_baseline: Path | None) -> frozenset[str] | None:
    """The fingerprints of --baseline, read before any work is done (exit 2 when it cannot be used)."""
    from plumbline.baseline import BaselineError, read

    if baseline is not None and write_baseline is not None:
        raise click.UsageError("--baseline and --write-baseline go separately: write the baseline, then use it")
    _validate_output(write_baseline, "--write-baseline")
    if baseline is None:
        return None
    try:
        return read(baseline)
    except BaselineError as exc:
        _error(err, f"--baseline {exc}")
        sys.exit(EXIT_USAGE)


def _apply_baseline(err: Console, document: FindingsDocument, root: Path | None, known: frozenset[str] | None,
                    write_baseline: Path | None) -> tuple[FindingsDocument, list[str] | None]:
    """The document to report, and its findings' fingerprints: without the findings --baseline holds; all of
    them, recorded in the file, with --write-baseline. Without either option, nothing to do (and the
    fingerprints are computed only if SARIF needs them)."""
    from plumbline import baseline
    from plumbline.fingerprints import fingerprints

    if known is None and write_baseline is None:
        return document, None
    prints = fingerprints(document, root)
    if write_baseline is not None:
        try:
            baseline.write(write_baseline, document, prints, root)
        except OSError as exc:
            _error(err, f"--write-baseline {write_baseline}: {(exc.strerror or str(exc)).lower()}")
            sys.exit(EXIT_USAGE)
        err.print(f"wrote {len(prints)} finding{'s' if len(prints) != 1 else ''} to the baseline "
                  f"{terminal_text(str(write_baseline))}; with --baseline, later runs report only new ones",
                  highlight=False, soft_wrap=True)
    if known is None:
        return document, prints
    filtered = baseline.apply(document, prints, known)
    err.print(f"{filtered.known} finding{'s' if filtered.known != 1 else ''} left out: in the baseline"
              + (f"; {filtered.gone} of its entries no longer found (fixed or changed)" if filtered.gone else ""),
              highlight=False, soft_wrap=True)
    return filtered.document, filtered.fingerprints


def _counted(document: FindingsDocument, write_baseline: Path | None) -> FindingsDocument:
    """The document the exit code is taken from: once recorded in a new baseline, no finding counts."""
    return document.model_copy(update={"findings": ()}) if write_baseline is not None else document


def rule_prefixes(option: str, values: tuple[str, ...]) -> list[str] | None:
    """Rule ids or prefixes given with `option` (None when it was not given); each must match a rule."""
    from plumbline.rules import matching

    if not values:
        return None
    prefixes = _comma_list(values)
    if not prefixes:
        raise click.UsageError(f"{option} needs rule ids or prefixes, such as PL1 or PL102")
    for prefix in prefixes:
        if not matching([prefix]):
            raise click.UsageError(f"{option}: no rule matches {prefix!r} (see `plumbline rules`)")
    return prefixes


def engine_rules(engine: str, selected: list[str] | None, ignored: list[str] | None) -> list[str]:
    """The rules of `engine` that will run (all of them unless selected); none at all is a usage error."""
    from plumbline.rules import all_rules, matching

    own = {rule.id for rule in all_rules() if rule.engine == engine}
    chosen = (matching(selected or ["ALL"]) - matching(ignored or [])) & own
    if not chosen:
        raise click.UsageError(f"no {engine} rule is selected: none is left after --select and --ignore (or their "
                               "[tool.plumbline] settings); `plumbline rules` lists each rule's engine")
    return sorted(chosen)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a cancelled CI job) stops the run as Ctrl-C does, so that a partial report is written too."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _validate_output(output: Path | None, option: str = "--output") -> None:
    """Refuse an --output that cannot be written before any work is done, so no run's result is lost."""
    if output is None:
        return
    if output.is_dir():
        raise click.UsageError(f"{option} {printable(str(output))}: is a directory")
    folder = output.absolute().parent
    if not folder.is_dir():
        raise click.UsageError(f"{option} {printable(str(output))}: folder {printable(str(folder))} does not exist")
    if not os.access(folder, os.W_OK) or output.exists() and not os.access(output, os.W_OK):
        raise click.UsageError(f"{option} {printable(str(output))}: not writable")


def _emit(document: FindingsDocument, output_format: str, output: Path | None, stats: str,
          rule_ids: list[str], context=None) -> None:
    """Write the report in the chosen format, to `output` or stdout; the run's figures and any internal error
    go to the user on stderr (an internal error is never a silent pass, whatever the format). `context` (a
    sarif.Context) says where the findings are, for SARIF."""
    from plumbline.report import junit, sarif, text

    err = _LazyConsole(stderr=True)
    if output_format == "text":
        if output is not None:
            with open(output, "w", encoding="utf-8") as handle:
                text.render(document, _rich_console(file=handle, no_color=True, width=200), summary_extra=stats)
            _note(err, f"{len(document.findings)} findings; {stats}", dim=False)
        else:
            text.render(document, _rich_console(highlight=False), summary_extra=stats)
    else:
        rendered = {"json": lambda: terminal_safe_json(document.to_json()),
                    "sarif": lambda: terminal_safe_json(sarif.render(document, context)),
                    "junit": lambda: junit.render(document, rule_ids),
                    "html": lambda: _html([document])}[output_format]()
        if output is not None:
            output.write_text(rendered + "\n", encoding="utf-8")
        else:
            click.echo(rendered)
        _note(err, f"{len(document.findings)} findings; {stats}")
    internal = [error for error in document.errors if error.kind == "internal"]
    if internal:
        _error(err, f"{len(internal)} internal error{'s' if len(internal) != 1 else ''} in plumbline (first: "
               f"{internal[0].target}: {internal[0].message}); the result may be incomplete")


def _note(err, text: str, *, dim: bool = True) -> None:
    """A line for the user on stderr: through rich on a terminal, else as plain text (rich would print the same
    there, and is not imported for it)."""
    if sys.stderr.isatty():
        err.print(f"[dim]{terminal_text(text)}[/dim]" if dim else terminal_text(text), highlight=False, soft_wrap=True)
    else:
        click.echo(printable(text), err=True)


def _html(documents: list[FindingsDocument], root: Path | None = None) -> str:
    from plumbline.report import html  # jinja2 and the templates: paid only by an HTML report

    return html.render(documents, root=root)


def _exit_code(document: FindingsDocument, fail_on: str) -> int:
    """3 when an internal error may have hidden findings, else 1 for findings at or above `fail_on`, else 0."""
    if any(error.kind == "internal" for error in document.errors):
        return EXIT_INTERNAL
    return EXIT_FINDINGS if any(at_least(f.severity, fail_on) for f in document.findings) else EXIT_CLEAN


@main.command()
@click.argument("base_url")
@click.option("--openapi", "spec_source", required=True, metavar="SPEC",
              help="OpenAPI 3.x document: a file, a URL, or a path on the target such as /openapi.json.")
@click.option("--identity", "identities", multiple=True, metavar="NAME=HEADER",
              help='An identity as one header line, e.g. alice="Authorization: Bearer ..." (repeatable; two '
                   "identities enable cross-identity tests).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Identities that log in ([probe] of a plumbline.toml, [tool.plumbline.probe] of a "
                   "pyproject.toml); default: the first plumbline.toml or pyproject.toml here or above.")
@click.option("--active", is_flag=True, help="Allow state-changing requests (races, writes, invalid input).")
@click.option("--max-requests", type=click.IntRange(1), default=3000, show_default=True, help="Request budget.")
@click.option("--rate", type=click.FloatRange(0.1), default=200.0, show_default=True,
              help="Requests per second between bursts.")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=15.0, show_default=True,
              help="Seconds each request may take in all (connection, answer and body), a burst included.")
@click.option("--max-body-mib", type=click.IntRange(1, 1024), default=4, show_default=True,
              help="MiB of each response body kept, after decompression; the rest is not read.")
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (default: all PL4xx).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Exit 1 when a finding is at least this severe.")
@with_baseline_options
def probe(base_url, spec_source, identities, config_file, active, max_requests, rate, timeout, max_body_mib, select, ignore,
          output_format, output, fail_on, baseline, write_baseline) -> None:
    """Prove integrity failures on a running API: synchronized bursts, two identities, state read back."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from plumbline.probe import config
    from plumbline.probe.engine import Probe
    from plumbline.probe.http import Http, Identity, TargetError
    from plumbline.probe.spec import SpecError, load
    from plumbline.report.sarif import Context

    err = _rich_console(stderr=True)
    _validate_output(output)
    known = _read_baseline(err, baseline, write_baseline)
    try:
        configured = config.load(config_file)
    except config.ConfigError as exc:
        raise click.UsageError(f"--config: {exc}") from None
    try:
        parsed = [*configured.values(), *(Identity.parse(text) for text in identities)]
    except ValueError as exc:
        raise click.UsageError(f"--identity: {exc}") from None
    if len({i.name for i in parsed}) != len(parsed):
        raise click.UsageError("--identity: each identity needs its own name (the configuration file's included)")
    selected = set(engine_rules("probe", rule_prefixes("--select", select), rule_prefixes("--ignore", ignore)))
    try:
        http = Http(base_url, {i.name: i for i in parsed}, max_requests=max_requests, rate=rate, timeout=timeout,
                    max_body=max_body_mib * 2**20)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    started = time.perf_counter()
    runner = None
    try:
        with _sigterm_as_interrupt():
            try:
                spec = load(spec_source, http.base_url, timeout=timeout)
                http.request("GET", "/", identity=None)  # the target answers HTTP, wherever the spec came from
                http.log_in()  # identities that register or log in obtain their credentials
            except (SpecError, TargetError) as exc:
                _error(err, str(exc))
                sys.exit(EXIT_USAGE)
            runner = Probe(spec, http, active=active, selected=selected)
            quiet = output_format != "text" or not err.is_terminal
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                          disable=quiet, transient=True) as progress:
                task = progress.add_task("probing", total=None)
                document = runner.run(on_check=lambda name: progress.update(
                    task, description=f"{name} [dim]({http.sent} requests)[/dim]"))
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - started
        so_far = runner.document() if runner else FindingsDocument()
        stop = ToolError(engine="probe", target=http.base_url, kind="interrupted",
                         message=f"interrupted after {http.sent} requests in {elapsed:.1f} s: the findings so far")
        _emit(so_far.model_copy(update={"errors": (*so_far.errors, stop)}), output_format, output,
              f"interrupted after {http.sent} requests in {elapsed:.1f} s", sorted(selected),
              Context(openapi=spec_source, target=http.base_url))
        _error(err, "interrupted: the report written is incomplete")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        http.close()
    mode = "active" if active else "passive (safe methods only; --active for the rest)"
    stats = "; ".join([f"{http.sent} requests in {time.perf_counter() - started:.1f} s, {mode}", *runner.notes])
    document, prints = _apply_baseline(err, document, None, known, write_baseline)
    _emit(document, output_format, output, stats, sorted(selected),
          Context(openapi=spec_source, target=http.base_url, fingerprints=prints))
    sys.exit(_exit_code(_counted(document, write_baseline), fail_on))


@main.command()
@click.option("--dsn", metavar="URL", envvar="PLUMBLINE_AUDIT_DSN",
              help="postgresql://... or cockroachdb://... of the database (or $PLUMBLINE_AUDIT_DSN, which keeps the "
                   "password out of the process list). Use a role that may only read.")
@click.option("--dynamodb", is_flag=True, help="Audit DynamoDB tables instead of a SQL database (docs/audit.md), "
              "with the usual AWS credentials; IAM read actions suffice.")
@click.option("--endpoint", metavar="URL", help="--dynamodb: the endpoint (a local DynamoDB, moto) [default: AWS's].")
@click.option("--region", metavar="NAME", help="--dynamodb: the AWS region [default: the AWS configuration's].")
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help="--dynamodb: audit only this table, or the tables a pattern matches ('shop-prod-*'); "
              "repeatable [default: every table].")
@click.option("--read-budget", type=click.FloatRange(1), default=20_000, show_default=True,
              help="--dynamodb: read capacity units each table's Scan may consume; past it, item findings are on "
                   "part of the table.")
@click.option("--segments", type=click.IntRange(1, 64), default=4, show_default=True,
              help="--dynamodb: parallel Scan segments per table.")
@click.option("--schema", "schemas", multiple=True, metavar="NAME", help="Audit only this schema (repeatable; "
              "default: every schema but the system ones).")
@click.option("--sample-rows", type=click.IntRange(1), default=100_000, show_default=True,
              help="Rows each data check examines per table: a table no bigger is read whole, a bigger one sampled at "
              "random on PostgreSQL (TABLESAMPLE SYSTEM; for duplicates, a share of the values by hash), its first "
              "rows read on CockroachDB.")
@click.option("--exact", is_flag=True, help="Read every row (no sample): exact counts, slower on big tables.")
@click.option("--scan", "scan_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="The app's code (repeatable): its declared schema is compared with the live one (PL206), the "
                   "columns its inserts require are checked for NULLs, and findings cite the scan's on the same "
                   "column; with --dynamodb, items are checked for the version attribute its writes condition on "
                   "(PL311).")
@click.option("--statement-timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
              help="Seconds any one query may run; a table whose query runs longer is reported as not examined.")
@click.option("--select", multiple=True, help="Rule ids or prefixes to report (default: PL201-PL206, PL210-PL213).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option("--format", "output_format", type=click.Choice([*FORMATS, "junit"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Exit 1 when a finding is at least this severe.")
def audit(dsn, dynamodb, endpoint, region, tables, read_budget, segments, schemas, sample_rows, exact, scan_paths,
          statement_timeout, select, ignore, output_format, output, fail_on) -> None:
    """Audit a live PostgreSQL or CockroachDB database, or DynamoDB tables, read-only: missing constraints and the
    rows they let in."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = _rich_console(stderr=True)
    try:
        from plumbline.audit import Audit, AuditError, AuditOptions, selected_rules
    except ImportError as exc:
        _error(err, f"the audit needs the 'audit' extra ({exc.name} is missing): pip install 'plumbline[audit]'")
        sys.exit(EXIT_USAGE)
    _validate_output(output)
    if dynamodb and click.get_current_context().get_parameter_source("dsn").name == "ENVIRONMENT":
        dsn = None  # $PLUMBLINE_AUDIT_DSN names the SQL database, not a second target
    if (dsn is not None) == dynamodb:
        raise click.UsageError("give either --dsn URL (PostgreSQL, CockroachDB) or --dynamodb, not both"
                               if dynamodb else "give --dsn URL (PostgreSQL, CockroachDB) or --dynamodb")
    other_targets = {"--schema": schemas, "--exact": exact} if dynamodb else {
        "--endpoint": endpoint, "--region": region, "--table": tables}
    if misplaced := [name for name, value in other_targets.items() if value]:
        raise click.UsageError(f"{', '.join(misplaced)} does not apply to {'--dynamodb' if dynamodb else '--dsn'}")
    selected = selected_rules(rule_prefixes("--select", select), rule_prefixes("--ignore", ignore), dynamodb)
    if not selected:
        raise click.UsageError("no audit rule is selected: none is left after --select and --ignore; "
                               "`plumbline rules` lists each rule's engine")
    started = time.perf_counter()
    try:
        if dynamodb:
            from plumbline.audit.dynamodb import DynamoAudit, DynamoOptions

            run = DynamoAudit(DynamoOptions(endpoint=endpoint, region=region, tables=tables, selected=selected,
                                            read_budget=read_budget, segments=segments, scan=tuple(scan_paths)))
        else:
            run = Audit(AuditOptions(dsn=dsn, selected=selected, sample_rows=None if exact else sample_rows,
                                     statement_timeout=statement_timeout, schemas=tuple(schemas),
                                     scan=tuple(scan_paths)))
    except AuditError as exc:
        _error(err, str(exc))
        sys.exit(EXIT_USAGE)
    try:
        with _sigterm_as_interrupt(), Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                               TimeElapsedColumn(), console=err, disable=not err.is_terminal,
                                               transient=True) as progress:
            task = progress.add_task("reading the schema", total=None)

            def on_table(name: str, position: int, total: int) -> None:
                progress.update(task, description=f"auditing {terminal_text(name)}", completed=position, total=total)

            document = run.run(on_table)
    except AuditError as exc:
        _error(err, str(exc))
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - started
        so_far = run.document()
        stop = ToolError(engine="audit", target=run.target if dynamodb else run.target.shown, kind="interrupted",
                         message=f"interrupted after {elapsed:.1f} s: the findings so far")
        _emit(so_far.model_copy(update={"errors": (*so_far.errors, stop)}), output_format, output,
              f"interrupted after {elapsed:.1f} s", sorted(selected))
        _error(err, "interrupted: the report written is incomplete")
        sys.exit(EXIT_INTERRUPTED)
    elapsed = time.perf_counter() - started
    if dynamodb:
        stats = (f"{run.tables} tables audited, {run.tables_examined} of them read to the end, on {run.target} in "
                 f"{elapsed:.1f} s, read-only; {run.consumed:,g} read capacity units consumed (budget "
                 f"{read_budget:,g} per table)")
    else:
        mode = ("every row" if exact else
                f"about {sample_rows:,} per table and check (each finding says how they were chosen)")
        stats = (f"{run.tables} tables audited, {run.tables_examined} of them to the end, on {run.backend} in "
                 f"{elapsed:.1f} s, read-only; rows examined: {mode}")
    _emit(document, output_format, output, stats, sorted(selected))
    sys.exit(_exit_code(document, fail_on))


def rule_catalogue() -> list[dict]:
    """Every rule as `rules --format json` lists it (the MCP server's `rules` tool too)."""
    from plumbline.rules import all_rules

    return [{"id": r.id, "name": r.name, "engine": r.engine, "severity": r.severity, "cwe": list(r.cwe),
             "owasp": r.owasp, "summary": r.summary} for r in all_rules()]


@main.command()
@click.argument("documents", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the HTML report to FILE [default: standard output].")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Where the scanned tree is [default: the root each scan document names].")
def report(documents: tuple[Path, ...], output: Path | None, root: Path | None) -> None:
    """Merge findings documents (--format json of scan, probe...) into one HTML report; a defect both the scan
    and the probe found shows as one confirmed issue."""
    from plumbline.report.documents import DocumentError, read_document

    _validate_output(output)
    try:
        read = [read_document(path) for path in documents]
    except DocumentError as exc:
        raise click.UsageError(str(exc)) from None
    rendered = _html(read, root)
    if output is None:
        click.echo(rendered)
        return
    output.write_text(rendered, encoding="utf-8")
    total = sum(len(document.findings) for document in read)
    _rich_console(stderr=True).print(f"{total} findings from {len(read)} documents: {terminal_text(str(output))}",
                               highlight=False, soft_wrap=True)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(output_format: str) -> None:
    """List every rule: id, name, severity, CWE and OWASP API Top 10 mapping."""
    from plumbline.rules import all_rules

    if output_format == "json":
        click.echo(json.dumps(rule_catalogue(), indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="plumbline rules", title_justify="left")
    for column in ("id", "name", "engine", "severity", "CWE", "OWASP", "summary"):
        table.add_column(column)
    for rule in all_rules():  # cells are rich markup: a `[` in a summary must print as it is
        table.add_row(*map(escape, (rule.id, rule.name, rule.engine, rule.severity, ", ".join(map(str, rule.cwe)),
                                    rule.owasp or "", rule.summary)))
    _rich_console().print(table)


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Show a rule's documentation: what it does, why it is bad, an example, and the fix per backend."""
    from plumbline.rules import get

    try:
        rule = get(rule_id)
    except KeyError:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `plumbline rules`)") from None
    from plumbline.rules.docs import help_uri, page_path

    console = _rich_console()
    where = f"Documentation: {help_uri(rule.id) or page_path(rule.id) + ' in the plumbline repository'}"
    if console.is_terminal:
        from rich.markdown import Markdown  # only `explain` renders Markdown: not paid by every start

        console.print(Markdown(rule.documentation()))
        from rich.markup import escape

        console.print(escape(where), style="dim", highlight=False)
    else:
        click.echo(rule.documentation() + "\n" + where)


@main.command("mcp")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              metavar="DIR", help="A folder the tools may read (repeatable; relative paths start at the first) "
              "[default: the current folder]. Paths outside every root are refused.")
@click.option("--allow-active", is_flag=True,
              help="Let a client ask the probe tool for active mode (state-changing requests); without it the "
              "probe only reads.")
def mcp_command(roots: tuple[Path, ...], allow_active: bool) -> None:
    """Serve scan, probe, explain and rules to an AI assistant over MCP on stdio (docs/mcp.md)."""
    try:
        from plumbline.mcp_server import Policy, serve
    except ImportError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        _error(_rich_console(stderr=True), "the MCP server needs the 'mcp' extra (mcp 2 or later): "
               "pip install 'plumbline[mcp]'")
        sys.exit(EXIT_USAGE)
    try:
        policy = Policy.create(list(roots), allow_active)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    serve(policy)
