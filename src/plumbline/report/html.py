"""The HTML report: one self-contained file from one or more findings documents (scan, probe, audit).

It fetches nothing (inline CSS, JS and SVG; a Content-Security-Policy that forbids any load and lets only the
report's own script and stylesheet run), works offline and in dark mode. A scan finding and a probe finding of
the same defect make one confirmed issue (report/correlate.py). Everything that came from the scanned tree or
the target is escaped by the template (jinja2 autoescape), and characters that would show text in another order
than it is read (bidirectional overrides) or not at all (controls) are written as visible escapes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

from plumbline.findings import SEVERITIES, Finding, FindingsDocument, SourceLocation, severity_rank
from plumbline.report import ACTED_ON
from plumbline.report.correlate import Issue, correlate
from plumbline.report.excerpt import Excerpt, SourceReader
from plumbline.report.text import coverage_lines, location_of
from plumbline.report.timeline import Timeline, timelines
from plumbline.rules import BACKEND_TITLES, RULES, Rule, all_rules

_HIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f{ACTED_ON}]")
_ENGINES = ("scan", "probe", "audit")


def render(documents: list[FindingsDocument], *, root: Path | None = None) -> str:
    """The report of `documents` as one HTML page. `root` is where the scanned tree is, when not where the documents
    say (they were written before they said, or the tree has moved since)."""
    all_rules()
    reader = SourceReader()
    placed = [(finding, _root_of(document, root)) for document in documents for finding in document.findings]
    views = {id(finding): _view(finding, where, reader, f"finding-{number}")
             for number, (finding, where) in enumerate(placed, 1)}
    findings = [finding for finding, _ in placed]
    issues = correlate(findings)
    in_issues = {id(f) for issue in issues for f in issue.findings}
    cards = [_issue_card(issue, views, number) for number, issue in enumerate(issues, 1)]
    cards += [_single_card(views[id(f)]) for f in findings if id(f) not in in_issues]
    cards.sort(key=lambda card: (-severity_rank(card.severity), not card.confirmed))
    stylesheet, script = _asset("report.css"), _asset("report.js")
    return _environment().get_template("report.html.j2").render(
        cards=cards, summary=_summary(findings, issues), sources=[_source(d) for d in documents],
        errors=[error for document in documents for error in document.errors],
        coverage="\n".join(line for document in documents for line in coverage_lines(document)).strip(),
        engines=[e for e in _ENGINES if any(f.engine == e for f in findings)],
        rules=sorted({(f.rule_id, f.rule_name) for f in findings}), stylesheet=Markup(stylesheet),
        script=Markup(script), policy=_policy(stylesheet, script),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=documents[0].tool.version if documents else "",
    )


@dataclass
class FindingView:
    """One finding as the template shows it."""

    finding: Finding
    anchor: str
    place: str
    excerpt: Excerpt | None  # scan findings
    request: str | None  # probe findings: `METHOD url`
    exchange: dict[str, Any] | None  # the request and answer the evidence records, when it records one
    timelines: list[Timeline]
    evidence: str  # the whole evidence as JSON, but the reproducer
    reproducer: str | None


@dataclass
class Card:
    """A confirmed issue (findings of several engines about one defect) or a single finding."""

    anchor: str
    title: str
    headline: str
    confirmed: bool
    views: list[FindingView]
    explanations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return max((view.finding.severity for view in self.views), key=severity_rank)

    @property
    def severities(self) -> str:
        return " ".join(sorted({view.finding.severity for view in self.views}))

    @property
    def confirmed_by(self) -> str:
        """`scan + probe`: the engines whose findings the card shows, in the order the report lists engines."""
        return " + ".join(e for e in _ENGINES if any(view.finding.engine == e for view in self.views))

    @property
    def engines(self) -> str:
        return " ".join(sorted({view.finding.engine for view in self.views}))

    @property
    def rules(self) -> str:
        return " ".join(sorted({view.finding.rule_id for view in self.views}))


def _root_of(document: FindingsDocument, given: Path | None) -> Path | None:
    """Where the document's source paths start: the root given, else the one the document names."""
    if given is not None:
        return given
    return Path(document.root) if document.root else None


def _view(finding: Finding, root: Path | None, reader: SourceReader, anchor: str) -> FindingView:
    location = finding.location
    evidence = dict(finding.evidence)
    reproducer = evidence.pop("reproducer", None)
    return FindingView(
        finding=finding, anchor=anchor, place=location_of(finding),
        excerpt=reader.excerpt(root, location) if isinstance(location, SourceLocation) else None,
        request=f"{location.method} {location.url}" if location.kind == "http" else None,
        exchange=_exchange(evidence), timelines=timelines(evidence),
        evidence=json.dumps(evidence, indent=2, ensure_ascii=False, default=str) if evidence else "",
        reproducer=reproducer if isinstance(reproducer, str) else None,
    )


def _exchange(evidence: dict[str, Any]) -> dict[str, Any] | None:
    """What was sent, as whom, and the answer, where the evidence records them: an `exchange`, or the body sent
    and the answer or state read back of checks that record no exchange."""
    exchange = evidence.get("exchange")
    if isinstance(exchange, dict):
        return {"identity": exchange.get("as"), "status": exchange.get("status"),
                "sent": _pretty(exchange.get("request_body")), "answer": _pretty(exchange.get("response_body"))}
    sent = next((evidence[key] for key in ("body", "sent") if key in evidence), None)
    answer = next((key for key in _ANSWERS if key in evidence), None)
    if sent is None and answer is None:
        return None
    return {"identity": evidence.get("other"), "status": _ANSWERS.get(answer, "answer"), "sent": _pretty(sent),
            "answer": _pretty(evidence.get(answer))}


# Evidence keys that hold what came back, and what to call it.
_ANSWERS = {"response": "answer", "other_view": "what they read", "read_back": "read back", "sample_error": "answer"}


def _pretty(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _issue_card(issue: Issue, views: dict[int, FindingView], number: int) -> Card:
    return Card(anchor=f"issue-{number}", title=f"{issue.proof.rule_name} on {issue.operation}",
                headline=issue.headline(),
                confirmed=True, views=[views[id(f)] for f in issue.findings],
                explanations=_explanations(issue.findings))


def _single_card(view: FindingView) -> Card:
    finding = view.finding
    return Card(anchor=f"card-{view.anchor}", title=f"{finding.rule_name} at {view.place}", headline=finding.message,
                confirmed=False, views=[view], explanations=_explanations([finding]))


_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def _explanations(findings) -> list[dict[str, Any]]:
    """Each rule's documentation once per card: what, why, an example, and the fix for the findings' backend."""
    shown = []
    for rule_id in dict.fromkeys(f.rule_id for f in findings):
        rule = RULES.get(rule_id)
        if rule is None:  # a document from a newer plumbline
            continue
        backends = _backends(rule, [f for f in findings if f.rule_id == rule_id])
        parts = [f"**What it does.** {rule.what}", f"**Why is this bad?** {rule.why}",
                 f"**Example**\n\n```python\n{rule.example.strip()}\n```"]
        parts += [f"**Use instead ({BACKEND_TITLES[b]})**\n\n{rule.use_instead[b].strip()}" for b in backends]
        shown.append({"rule": rule, "html": Markup(_MARKDOWN.render("\n\n".join(parts)))})
    return shown


def _backends(rule: Rule, findings: list[Finding]) -> list[str]:
    """The backends whose fix the findings carry (the scan writes the fix for the project's), else all of them."""
    chosen = [b for b in rule.use_instead if rule.fix.get(b) and any(f.fix == rule.fix[b] for f in findings)]
    return chosen or list(rule.use_instead)


def _summary(findings: list[Finding], issues: list[Issue]) -> dict[str, Any]:
    by_rule = Counter((f.rule_id, f.rule_name) for f in findings)
    return {
        "total": len(findings),
        "confirmed": len(issues),
        "severity": [(s, sum(f.severity == s for f in findings)) for s in SEVERITIES],
        "engine": [(e, n) for e in _ENGINES if (n := sum(f.engine == e for f in findings))],
        "rule": sorted(by_rule.items()),
    }


def _source(document: FindingsDocument) -> dict[str, Any]:
    engines = sorted({f.engine for f in document.findings} | {e.engine for e in document.errors if e.engine}
                     | {c.engine for c in document.coverage})
    urls = sorted({urlsplit(f.location.url).netloc for f in document.findings if f.location.kind == "http"} - {""})
    return {"engines": ", ".join(engines) or "no engine named", "root": document.root,
            "targets": ", ".join(urls), "findings": len(document.findings), "errors": len(document.errors),
            "version": document.tool.version}


def _asset(name: str) -> str:
    return files("plumbline.report").joinpath("templates", name).read_text(encoding="utf-8")


def _policy(stylesheet: str, script: str) -> str:
    """Nothing may load, and only the report's own stylesheet and script may run: a tag that escaped escaping
    would still do nothing."""

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    return (f"default-src 'none'; style-src {digest(stylesheet)}; script-src {digest(script)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _visible(value: Any) -> Any:
    """Every value the template writes: outside text with hidden characters made visible (`\\u202e`)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", value)
    return value


def _environment() -> Environment:
    return Environment(loader=PackageLoader("plumbline.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, finalize=_visible, trim_blocks=True, lstrip_blocks=True)
