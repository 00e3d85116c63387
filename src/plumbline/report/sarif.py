"""SARIF 2.1.0, shaped for GitHub code scanning: rule metadata with CWE tags and security-severity."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from plumbline.findings import Finding, FindingsDocument, Severity
from plumbline.rules import Rule, all_rules

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY: dict[Severity, str] = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
                                          "info": "1.0"}
LEVEL: dict[Severity, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
                              "info": "note"}


def render(document: FindingsDocument) -> str:
    rules = [rule for rule in all_rules() if rule.id in {f.rule_id for f in document.findings}]
    index = {rule.id: position for position, rule in enumerate(rules)}
    run = {
        "tool": {"driver": {
            "name": "plumbline",
            "version": document.tool.version,
            "semanticVersion": document.tool.version,
            "rules": [_rule(rule) for rule in rules],
        }},
        "results": [_result(finding, index) for finding in document.findings],
        "invocations": [{
            "executionSuccessful": not any(error.kind == "internal" for error in document.errors),
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": error.message},
                 **({"locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(error.target)}}}]}
                    if _is_relative(error.target) else {})}
                for error in document.errors
            ],
        }],
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The directory that was scanned."}}},
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False)


def _rule(rule: Rule) -> dict:
    tags = ["security", *(f"external/cwe/cwe-{n}" for n in rule.cwe)]
    if rule.owasp:
        tags.append(f"external/owasp/{rule.owasp.lower()}")
    return {
        "id": rule.id,
        "name": "".join(part.title() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what},
        "help": {"text": rule.documentation(), "markdown": rule.documentation()},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[rule.severity], "precision": "high"},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict:
    location = finding.location
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": LEVEL[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.fix}" if finding.fix else finding.message},
        "partialFingerprints": {"plumbline/v1": _fingerprint(finding)},
        "properties": {"severity": finding.severity, "confidence": finding.confidence, "engine": finding.engine},
    }
    if location.kind == "source":
        region = {"startLine": location.line, "startColumn": location.column}
        if location.end_line:
            region["endLine"] = location.end_line
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(location.path), "uriBaseId": "%SRCROOT%"}, "region": region}}]
    elif location.kind == "http":
        result["locations"] = [{"logicalLocations": [
            {"name": f"{location.method} {location.route}", "kind": "function"}]}]
        result["properties"]["url"] = location.url
    else:
        name = f"{location.table}.{location.column}" if location.column else location.table
        result["locations"] = [{"logicalLocations": [{"name": name, "kind": "member" if location.column else "type"}]}]
    return result


def _fingerprint(finding: Finding) -> str:
    """Stable across runs and unrelated edits: rule, place (without line numbers) and message."""
    location = finding.location
    place = {"source": lambda: location.path, "http": lambda: f"{location.method} {location.route}",
             "schema": lambda: f"{location.table}.{location.column}"}[location.kind]()
    message = re.sub(r"\blines? \d+", "line", finding.message)
    text = f"{finding.rule_id}\0{place}\0{message}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]  # a path may not be UTF-8


def _uri(path: str) -> str:
    """A relative path as a URI reference (RFC 3986): spaces, `#`, `%` and non-ASCII bytes percent-encoded."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _is_relative(target: str) -> bool:
    return "://" not in target and not target.startswith("/")
