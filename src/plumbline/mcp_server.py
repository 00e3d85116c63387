"""`plumbline mcp`: the scan, the probe and the rule catalogue as the tools of an MCP server on stdio, so that an
AI assistant in an editor can check the code it has just written (docs/mcp.md).

Safe by default, whatever the client asks:
- every path (what to scan, a spec file) is resolved, symlinks followed, and must lie under an allowed root: the
  folders given with --root, else the folder the server was started in;
- the probe only reads (safe methods) unless the server itself was started with --allow-active;
- bad input and engine failures come back as tool errors, never as a crash of the server;
- one analysis runs at a time: the machine is usually the developer's own.

The engines are called through their Python APIs, with the command line's own checks of paths and rule ids.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import click
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from plumbline import __version__
from plumbline.cli import engine_rules, rule_prefixes, scan_path, rule_catalogue
from plumbline.configfile import ConfigError
from plumbline.findings import FindingsDocument
from plumbline.report.text import location_of, summary

log = logging.getLogger(__name__)
LISTED_FINDINGS = 25  # findings named one per line in a tool's text summary; the JSON has them all
INSTRUCTIONS = (
    "plumbline finds integrity failures (race conditions, lost updates, broken object-level authorization, "
    "missing idempotency) in Flask APIs on CockroachDB/PostgreSQL and DynamoDB. Use `scan` on code you wrote or "
    "changed, `explain` for a rule's fix, and `probe` against a running development server."
)

RuleList = Annotated[list[str] | None, Field(description="Rule ids or prefixes, such as PL1 or PL102.")]


class RefusedError(Exception):
    """A request the server will not carry out; the message says why and what to do instead."""


@dataclass(frozen=True)
class Policy:
    """What the tools may touch: paths under `roots` (resolved folders), and state-changing requests only when
    `allow_active`."""

    roots: tuple[Path, ...]
    allow_active: bool

    @classmethod
    def create(cls, roots: list[Path], allow_active: bool) -> Policy:
        """The policy for folders given with --root, else the working directory, which must not be the file
        system's root (editors may start a server there): ValueError says why a root cannot be used."""
        if not roots:
            here = Path.cwd().resolve()
            if here == Path(here.anchor):
                raise ValueError(f"the server was started in {here}: give the project's folder with --root DIR, "
                                 "so that the tools cannot read the whole file system")
            roots = [here]
        resolved = []
        for root in roots:
            folder = Path(root).resolve()
            if not folder.is_dir():
                raise ValueError(f"--root {root}: not a folder")
            resolved.append(folder)
        return cls(tuple(resolved), allow_active)

    def path(self, text: str, what: str) -> Path:
        """`text` (relative paths start at the first root) as an existing directory or regular file under a
        root, resolved."""
        if not text:
            raise RefusedError(f"{what} is empty")
        candidate = self.roots[0] / text  # an absolute `text` stays as it is
        scan_path(str(candidate))  # exists, and is a folder or a regular file (click.UsageError otherwise)
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(root) for root in self.roots):
            raise RefusedError(f"{what} {text!r} is outside the folders this server may read "
                               f"({', '.join(map(str, self.roots))}); start it with --root to allow another")
        return resolved

    def spec_source(self, text: str) -> str:
        """An OpenAPI source as the probe takes it: a URL and a path on the target (/openapi.json) as given,
        a file checked as any path."""
        if "://" in text:
            return text
        candidate = self.roots[0] / text
        if text.startswith("/") and not os.path.lexists(candidate):
            return text  # a path on the target
        return str(self.path(text, "openapi"))


@dataclass
class Tools:
    """The tools' work, without the protocol: each returns a result or raises an exception that `guarded`
    turns into a tool error."""

    policy: Policy
    busy: threading.Lock = field(default_factory=threading.Lock)

    def scan(self, path: str, select: list[str] | None, ignore: list[str] | None) -> CallToolResult:
        from plumbline.scan import ScanOptions
        from plumbline.scan import scan as run_scan
        from plumbline.scan.config import load

        target = self.policy.path(path, "path")
        config = load(target)[0]  # the project's [tool.plumbline] settings, as the command line reads them
        selected = rule_prefixes("select", tuple(select or ())) or config.select
        ignored = rule_prefixes("ignore", tuple(ignore or ())) or config.ignore
        engine_rules("scan", selected, ignored)  # a selection that leaves no scan rule is refused
        options = ScanOptions(select=selected, ignore=ignored, exclude=config.exclude,
                              per_file_ignores=config.per_file_ignores, backend=config.backend)
        with self.busy:
            result = run_scan([target], options)
        internal = any(error.kind == "internal" for error in result.document.errors)
        if result.analysed == 0 and not internal:
            raise RefusedError(f"nothing could be analysed under {target}: " + (
                "every file was skipped: " + "; ".join(f"{e.target}: {e.message}" for e in result.document.errors[:5])
                if result.files else "no .py or .sql file"))
        return _result(result.document, f"scanned {target}: {result.files} files, {result.lines} lines")

    def probe(self, base_url: str, openapi: str, active: bool, identities: list[str] | None,
              select: list[str] | None, ignore: list[str] | None, max_requests: int, timeout: float) -> CallToolResult:
        from plumbline.probe import config
        from plumbline.probe.engine import Probe
        from plumbline.probe.http import Http, Identity
        from plumbline.probe.spec import load

        if active and not self.policy.allow_active:
            raise RefusedError("active probing is disabled: this MCP server was started without --allow-active, "
                               "so it sends only safe requests (GET, HEAD, OPTIONS). Call probe with active=false, "
                               "or ask the user to restart the server as `plumbline mcp --allow-active`.")
        source = self.policy.spec_source(openapi)
        found = config.find(self.policy.roots[0])  # identities that log in, as the command line finds them
        try:
            parsed = [*(config.load(found[0]) if found else {}).values(),
                      *(Identity.parse(text) for text in identities or ())]
        except ValueError as exc:
            raise RefusedError(f"identities: {exc}") from None
        if len({i.name for i in parsed}) != len(parsed):
            raise RefusedError("identities: each identity needs its own name (the configuration file's included)")
        selected = set(engine_rules("probe", rule_prefixes("select", tuple(select or ())),
                                     rule_prefixes("ignore", tuple(ignore or ()))))
        try:
            http = Http(base_url, {i.name: i for i in parsed}, max_requests=max_requests, timeout=timeout)
        except ValueError as exc:  # a base URL the probe cannot use
            raise RefusedError(str(exc)) from None
        try:
            with self.busy:
                spec = load(source, http.base_url, timeout=timeout)
                http.request("GET", "/", identity=None)  # the target answers HTTP, wherever the spec came from
                http.log_in()
                runner = Probe(spec, http, active=active, selected=selected)
                document = runner.run()
        finally:
            http.close()
        mode = "active" if active else "passive (safe methods only)"
        return _result(document, "; ".join([f"probed {http.base_url}: {http.sent} requests, {mode}",
                                            *runner.notes]))

    @staticmethod
    def explain(rule_id: str) -> str:
        from plumbline.rules import get

        try:
            return get(rule_id).documentation()
        except KeyError:
            raise RefusedError(f"unknown rule {rule_id!r} (the rules tool lists them)") from None

    @staticmethod
    def rules() -> CallToolResult:
        catalogue = rule_catalogue()
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(catalogue, indent=2))],
                              structured_content={"rules": catalogue})


def _result(document: FindingsDocument, stats: str) -> CallToolResult:
    """A short text summary (the findings, the errors, one line of counts), then the findings document as JSON
    text and as structured content."""
    lines = [f"{f.severity} {f.rule_id} {location_of(f)}: {f.message}" for f in document.findings[:LISTED_FINDINGS]]
    if len(document.findings) > LISTED_FINDINGS:
        lines.append(f"... and {len(document.findings) - LISTED_FINDINGS} more in the findings document")
    lines += [f"{error.kind}: {error.target}: {error.message}" for error in document.errors[:LISTED_FINDINGS]]
    lines.append(f"{summary(document)}; {stats}")
    return CallToolResult(content=[TextContent(type="text", text="\n".join(lines)),
                                   TextContent(type="text", text=document.to_json())],
                          structured_content=document.model_dump(mode="json", by_alias=True))


@contextmanager
def guarded(tool: str) -> Iterator[None]:
    """Any failure of a tool becomes a tool error with a one-line message; the server goes on."""
    from plumbline.probe.http import TargetError
    from plumbline.probe.spec import SpecError

    try:
        yield
    except click.UsageError as exc:
        raise McpToolError(exc.message) from None
    except (RefusedError, ConfigError, SpecError, TargetError) as exc:
        raise McpToolError(str(exc)) from None
    except Exception as exc:
        log.exception("plumbline's %s tool failed", tool)
        raise McpToolError(f"internal error in plumbline's {tool} ({type(exc).__name__}: {exc}); "
                           "the server goes on, please report it") from None


def build_server(policy: Policy) -> MCPServer:
    """An MCP server whose tools work within `policy`."""
    tools = Tools(policy)
    # WARNING: the editor's log gets failures of plumbline, not a line per request of the probe (httpx logs at INFO)
    server = MCPServer("plumbline", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=reads)
    def scan(path: Annotated[str, Field(description="A folder or file to scan; relative to the project folder.")],
             select: RuleList = None, ignore: RuleList = None) -> CallToolResult:
        """Scan Flask code statically for integrity failures (races, lost updates, missing ownership checks,
        unsafe transactions). Returns a summary and the findings document (JSON): each finding has a rule id,
        a location, a message, evidence and a fix."""
        with guarded("scan"):
            return tools.scan(path, select, ignore)

    mode = ("This server allows active mode: active=true sends state-changing requests (races, writes, invalid "
            "input) to the target; use it only against a disposable development server." if policy.allow_active
            else "This server only reads: it refuses active=true (it was started without --allow-active).")

    @server.tool(description=(
        "Probe a running API over HTTP, guided by its OpenAPI 3 document, to prove integrity failures. Passive by "
        f"default (safe methods only). {mode} Returns a summary and the findings document (JSON)."),
        annotations=ToolAnnotations(read_only_hint=not policy.allow_active,
                                    destructive_hint=policy.allow_active, open_world_hint=True))
    def probe(base_url: Annotated[str, Field(description="The API's base URL, such as http://127.0.0.1:5000.")],
              openapi: Annotated[str, Field(description="The OpenAPI document: a file in the project, a URL, or a "
                                                        "path on the target such as /openapi.json.")],
              active: Annotated[bool, Field(description="Send state-changing requests too (needs a server started "
                                                        "with --allow-active).")] = False,
              identities: Annotated[list[str] | None, Field(description=(
                  'Identities as NAME=HEADER lines, e.g. alice=Authorization: Bearer ...; two enable '
                  "cross-identity tests. The project's plumbline.toml identities are always loaded."))] = None,
              select: RuleList = None, ignore: RuleList = None,
              max_requests: Annotated[int, Field(ge=1, le=100_000, description="Request budget.")] = 3000,
              timeout: Annotated[float, Field(ge=0.1, le=3600, description="Seconds each request may take.")] = 15.0,
              ) -> CallToolResult:
        with guarded("probe"):
            return tools.probe(base_url, openapi, active, identities, select, ignore, max_requests, timeout)

    @server.tool(annotations=reads)
    def explain(rule_id: Annotated[str, Field(description="A rule id such as PL101.")]) -> str:
        """A rule's documentation in Markdown: what it detects, why it is bad, an example, and the fix for each
        backend (CockroachDB, PostgreSQL, DynamoDB)."""
        with guarded("explain"):
            return tools.explain(rule_id)

    @server.tool(annotations=reads)
    def rules() -> CallToolResult:
        """The rule catalogue: each rule's id, name, engine (scan or probe), severity, CWE, OWASP API Top 10
        mapping and summary."""
        with guarded("rules"):
            return tools.rules()

    return server


def serve(policy: Policy) -> None:
    """Serve the tools on stdin/stdout until the client closes them."""
    build_server(policy).run("stdio")
