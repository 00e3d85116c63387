"""Text output in the style of Ruff and flake8: one line per finding, a summary at the end."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape

from plumbline.findings import SEVERITIES, Finding, FindingsDocument

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def location_of(finding: Finding) -> str:
    location = finding.location
    if location.kind == "source":
        return f"{location.path}:{location.line}:{location.column}"
    if location.kind == "http":
        return f"{location.method} {location.route}"
    return f"{location.table}.{location.column}" if location.column else location.table


def render(document: FindingsDocument, console: Console, *, summary_extra: str = "") -> None:
    for finding in document.findings:
        style = STYLE[finding.severity]
        console.print(
            f"[bold]{escape(location_of(finding))}[/bold]: [{style}]{finding.rule_id}[/{style}] "
            f"[{style}]\\[{finding.severity}][/{style}] {escape(finding.message)}",
            soft_wrap=True, highlight=False,
        )
    for error in document.errors:
        console.print(f"[bold]{escape(error.target)}[/bold]: [magenta]error[/magenta]: {escape(error.message)}",
                      soft_wrap=True, highlight=False)
    if document.findings or document.errors:
        console.print()
    by_rule = Counter((f.rule_id, f.rule_name) for f in document.findings)
    for (rule_id, name), number in sorted(by_rule.items()):
        console.print(f"{number:>5}  {rule_id}  {name}", highlight=False, soft_wrap=True)
    by_severity = Counter(f.severity for f in document.findings)
    counts = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s])
    total = len(document.findings)
    line = f"Found {total} finding{'s' if total != 1 else ''}" + (f" ({counts})" if counts else "")
    if document.errors:
        line += f"; {len(document.errors)} file{'s' if len(document.errors) != 1 else ''} could not be scanned"
    console.print(escape(line + (f". {summary_extra}" if summary_extra else ".")), highlight=False, soft_wrap=True)
