"""SARIF 2.1.0, shaped for GitHub code scanning: rule metadata with CWE tags and security-severity.

GitHub rejects a whole file when one result lacks a physical location, when an artifact's URI is absolute with
another scheme than `file` (an `http://` URL), or when a run holds more than 25,000 results; and it keeps one
alert per fingerprint. So every result here has a physical location with a relative URI:
- a scan finding: the source file, relative to the directory plumbline ran in (the repository's root in CI);
- a probe finding: the OpenAPI document, with the line of the operation when it is a local file, and the
  operation's JSON pointer (`/paths/~1accounts~1{id}/post`) as a logical location; a remote document is named
  by its path under the `OPENAPIROOT` base, whose absolute URL `originalUriBaseIds` gives;
- an audit finding: the table under the `DATABASE` base, with `table.column` as a logical location.
Fingerprints are those of the baseline (plumbline/fingerprints.py), one per result. No `automationDetails`: the
uploader's category (upload-sarif's `category`) names the run, and an id in the file would take its place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from plumbline.findings import Finding, FindingsDocument, Severity, severity_rank
from plumbline.fingerprints import VERSION, fingerprints, repository_path
from plumbline.report.correlate import found_in_code
from plumbline.rules import Rule, all_rules
from plumbline.rules.docs import help_uri

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY: dict[Severity, str] = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
                                          "info": "1.0"}
LEVEL: dict[Severity, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
                              "info": "note"}
MAX_RESULTS = 25_000  # per run: GitHub code scanning rejects a file with more
MAX_TEXT = 1024  # characters of a rule's short and full description that GitHub keeps
MAX_SPEC_BYTES = 16 * 2**20  # as the probe reads: a larger document is not searched for operation lines
SOURCE_BASE = "%SRCROOT%"
OPENAPI_BASE = "OPENAPIROOT"
DATABASE_BASE = "DATABASE"


@dataclass(frozen=True)
class Context:
    """What the document alone does not say about where its findings are."""

    root: Path | None = None  # the directory the scan's paths are relative to
    openapi: str | None = None  # the probe's --openapi: a file, a URL, or a path on the target (/openapi.json)
    target: str | None = None  # the probe's base URL, against which a path on the target is read
    fingerprints: list[str] | None = None  # one per finding, as the baseline computed them; else computed here


def render(document: FindingsDocument, context: Context | None = None) -> str:
    context = context or Context()
    prints = context.fingerprints if context.fingerprints is not None else fingerprints(document, context.root)
    findings = list(zip(document.findings, prints))
    dropped = max(0, len(findings) - MAX_RESULTS)
    if dropped:  # the most severe first, as GitHub itself would keep them
        findings = sorted(findings, key=lambda pair: -severity_rank(pair[0].severity))[:MAX_RESULTS]
    rules = [rule for rule in all_rules() if rule.id in {f.rule_id for f, _ in findings}]
    index = {rule.id: position for position, rule in enumerate(rules)}
    places = _Places(context)
    run = {
        "tool": {"driver": {
            "name": "plumbline",
            "version": document.tool.version,
            "semanticVersion": document.tool.version,
            "rules": [_rule(rule) for rule in rules],
        }},
        "results": [_result(finding, fingerprint, index, places) for finding, fingerprint in findings],
        "invocations": [{
            "executionSuccessful": not any(error.kind == "internal" for error in document.errors),
            "toolExecutionNotifications": [*(_notification(error, context) for error in document.errors),
                                           *_dropped(dropped)],
        }],
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": places.bases,
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False)


def _rule(rule: Rule) -> dict:
    tags = ["security", *(f"external/cwe/cwe-{n}" for n in rule.cwe)]
    if rule.owasp:
        tags.append(f"external/owasp/{rule.owasp.lower()}")
    described = {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.name.split("-")),
        "shortDescription": {"text": _cut(rule.summary)},
        "fullDescription": {"text": _cut(rule.what)},
        "help": {"text": rule.documentation(), "markdown": rule.documentation()},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": tags[:20], "security-severity": SECURITY_SEVERITY[rule.severity],
                       "precision": "high"},
    }
    uri = help_uri(rule.id)
    if uri:
        described["helpUri"] = uri
    return described


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _result(finding: Finding, fingerprint: str, index: dict[str, int], places: "_Places") -> dict:
    in_code = found_in_code(finding)
    text = finding.message + (f". Found in code too: {in_code}" if in_code else "")
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": LEVEL[finding.severity],
        "message": {"text": f"{text}. Fix: {finding.fix}" if finding.fix else text},
        "locations": [places.of(finding)],
        "partialFingerprints": {VERSION: fingerprint},
        "properties": {"severity": finding.severity, "confidence": finding.confidence, "engine": finding.engine},
    }
    if finding.location.kind == "http":
        result["properties"]["url"] = finding.location.url
    return result


class _Places:
    """Locations of findings, and the URI bases they use (`originalUriBaseIds`)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.bases: dict[str, dict] = {SOURCE_BASE: {"description": {"text": (
            "The directory plumbline ran in (the repository's root in CI), or the scanned one when outside it.")}}}
        self.operation_lines: dict[str, int] | None = None  # of a local OpenAPI file, read at its first use

    def of(self, finding: Finding) -> dict:
        location = finding.location
        if location.kind == "source":
            region = {"startLine": location.line, "startColumn": location.column}
            if location.end_line:
                region["endLine"] = location.end_line
            return {"physicalLocation": {"artifactLocation": {
                "uri": _uri(repository_path(location.path, self.context.root)), "uriBaseId": SOURCE_BASE},
                "region": region}}
        if location.kind == "http":
            return self._operation(location.method, location.route, location.url)
        name = f"{location.table}.{location.column}" if location.column else location.table
        self.bases[DATABASE_BASE] = {"description": {"text": "The database whose schema was audited."}}
        return {"physicalLocation": {"artifactLocation": {"uri": _uri(location.table), "uriBaseId": DATABASE_BASE}},
                "logicalLocations": [{"name": name, "fullyQualifiedName": name,
                                      "kind": "member" if location.column else "type"}]}

    def _operation(self, method: str, route: str, url: str) -> dict:
        pointer = _operation_pointer(route, method)
        logical = [{"name": f"{method} {route}", "fullyQualifiedName": pointer, "kind": "object"}]
        openapi = self.context.openapi
        if openapi and "://" not in openapi and Path(openapi).is_file():
            physical = {"artifactLocation": {"uri": _uri(repository_path(openapi, Path.cwd())),
                                             "uriBaseId": SOURCE_BASE}}
            if self.operation_lines is None:
                self.operation_lines = operation_lines(Path(openapi))
            line = self.operation_lines.get(pointer)
            if line:
                physical["region"] = {"startLine": line}
            return {"physicalLocation": physical, "logicalLocations": logical}
        # A remote document (a URL, or a path on the target), or none known: a path under the origin.
        remote = self._remote_openapi()
        origin, path = _split(remote) if remote else (_split(url)[0], route)
        self.bases[OPENAPI_BASE] = {"uri": origin, "description": {"text": "The origin of the OpenAPI document."}}
        return {"physicalLocation": {"artifactLocation": {"uri": _uri(path), "uriBaseId": OPENAPI_BASE}},
                "logicalLocations": logical}

    def _remote_openapi(self) -> str | None:
        openapi, target = self.context.openapi, self.context.target
        if openapi and "://" in openapi:
            return openapi
        if openapi and openapi.startswith("/") and target:
            return target.rstrip("/") + openapi
        return None


def operation_lines(path: Path) -> dict[str, int]:
    """The line (1-based) of each operation of an OpenAPI file, by JSON pointer; empty when unreadable."""
    import yaml  # only for a probe's local OpenAPI file: not paid by every scan

    def pairs(node) -> list[tuple[yaml.Node, yaml.Node]]:
        return list(node.value) if isinstance(node, yaml.MappingNode) else []

    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            return {}
        root = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return {}
    by_key = {key.value: value for key, value in pairs(root) if isinstance(key.value, str)}
    lines = {}
    for route_key, operations in pairs(by_key.get("paths")):
        for method_key, _ in pairs(operations):
            if isinstance(route_key.value, str) and isinstance(method_key.value, str):
                lines[_operation_pointer(route_key.value, method_key.value)] = method_key.start_mark.line + 1
    return lines


def _operation_pointer(route: str, method: str) -> str:
    """The JSON pointer (RFC 6901) of an operation in its OpenAPI document: `/paths/~1accounts~1{id}/post`."""
    return "/paths/" + route.replace("~", "~0").replace("/", "~1") + "/" + method.lower()


def _split(url: str) -> tuple[str, str]:
    """`scheme://host:port/` of a URL, without credentials, and its path (a query may hold a secret)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/", parts.path or "/"


def _notification(error, context: Context) -> dict:
    notification = {"level": "error" if error.kind == "internal" else "warning", "message": {"text": error.message}}
    if _is_relative(error.target):
        notification["locations"] = [{"physicalLocation": {"artifactLocation": {
            "uri": _uri(repository_path(error.target, context.root)), "uriBaseId": SOURCE_BASE}}}]
    return notification


def _dropped(count: int) -> list[dict]:
    if not count:
        return []
    return [{"level": "warning", "message": {"text": f"{count} less severe results left out: GitHub code scanning "
                                                     f"accepts {MAX_RESULTS} per run; see the JSON report"}}]


def _uri(path: str) -> str:
    """A path as a URI reference (RFC 3986): spaces, `#`, `%`, `{}` and non-ASCII bytes percent-encoded."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _is_relative(target: str) -> bool:
    return "://" not in target and not target.startswith("/")
