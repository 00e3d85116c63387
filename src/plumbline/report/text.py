"""Text output in the style of Ruff and flake8: one line per finding, a summary at the end.

Paths, messages and routes come from the scanned tree or the target, so they may hold terminal escape
sequences or rich markup: everything printed passes through `terminal_text`.
"""

from __future__ import annotations

import re
from collections import Counter

from typing import TYPE_CHECKING

from plumbline.findings import SEVERITIES, Finding, FindingsDocument
from plumbline.report import ACTED_ON
from plumbline.report.correlate import found_in_code

if TYPE_CHECKING:
    from rich.console import Console

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
ERROR_STYLE = {"skipped": "magenta", "internal": "bold red", "interrupted": "bold yellow"}

# What a terminal acts on instead of showing: the C0 controls (ESC starts every escape sequence), and ACTED_ON.
_UNPRINTABLE = re.compile(f"[\x00-\x1f{ACTED_ON}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    character = match.group()
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that os.fsdecode kept as a surrogate: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return _NAMED.get(character) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` on one line, with every character a terminal would act on shown as an escape (`\\x1b`, `\\n`)."""
    return _UNPRINTABLE.sub(_visible, text)


def terminal_text(text: str) -> str:
    """Outside text made safe to print with rich: controls shown as escapes, `[markup]` printed literally."""
    from rich.markup import escape  # (rich is imported by what prints through it, not by every start)

    return escape(printable(text))


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
        in_code = found_in_code(finding)
        console.print(
            f"[bold]{terminal_text(location_of(finding))}[/bold]: [{style}]{finding.rule_id}[/{style}] "
            f"[{style}]\\[{finding.severity}][/{style}] {terminal_text(finding.message)}"
            + (f" (found in code too: {terminal_text(in_code)})" if in_code else ""),
            soft_wrap=True, highlight=False,
        )
    for error in document.errors:
        style = ERROR_STYLE[error.kind]
        console.print(f"[bold]{terminal_text(error.target)}[/bold]: [{style}]error[/{style}]: "
                      f"{terminal_text(error.message)}", soft_wrap=True, highlight=False)
    if document.findings or document.errors:
        console.print()
    for line in coverage_lines(document):
        console.print(terminal_text(line), highlight=False, soft_wrap=True)
    by_rule = Counter((f.rule_id, f.rule_name) for f in document.findings)
    for (rule_id, name), number in sorted(by_rule.items()):
        console.print(f"{number:>5}  {rule_id}  {name}", highlight=False, soft_wrap=True)
    console.print(terminal_text(summary(document) + (f". {summary_extra}" if summary_extra else ".")),
                  highlight=False, soft_wrap=True)


def coverage_lines(document: FindingsDocument) -> list[str]:
    """What the checks did, compactly: one line per operation (the rules that ran, then the rules skipped,
    grouped by reason), then a count, so that a run that tested almost nothing looks like it."""
    if not document.coverage:
        return []
    by_operation: dict[str, dict[str, list[str]]] = {}
    for entry in document.coverage:
        outcome = "ran" if entry.status == "ran" else f"skipped ({entry.note or 'no reason given'})"
        by_operation.setdefault(entry.operation, {}).setdefault(outcome, []).extend(entry.rules)
    lines = ["Coverage:"]
    for operation, outcomes in by_operation.items():
        parts = [f"{outcome} {' '.join(sorted(set(rules)))}" for outcome, rules in
                 sorted(outcomes.items(), key=lambda item: item[0] != "ran")]
        lines.append(f"  {operation}: {'; '.join(parts)}")
    ran = sum(entry.status == "ran" for entry in document.coverage)
    exercised = len({entry.operation for entry in document.coverage if entry.status == "ran"})
    reasons = Counter(entry.note for entry in document.coverage if entry.status == "skipped")
    line = (f"  {ran} of {len(document.coverage)} checks ran, on {exercised} of {len(by_operation)} operations")
    if reasons:
        line += "; skipped: " + ", ".join(f"{number} {reason}" for reason, number in reasons.most_common())
    lines += [line, ""]
    return lines


def summary(document: FindingsDocument) -> str:
    """One line: the findings by severity, then what was skipped and whether the result may be incomplete."""
    by_severity = Counter(f.severity for f in document.findings)
    counts = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s])
    total = len(document.findings)
    line = f"Found {total} finding{'s' if total != 1 else ''}" + (f" ({counts})" if counts else "")
    errors = Counter(error.kind for error in document.errors)
    if errors["skipped"]:
        line += f"; {errors['skipped']} skipped (see the errors above)"
    if errors["internal"]:
        line += (f"; {errors['internal']} internal error{'s' if errors['internal'] != 1 else ''}: "
                 "the result may be incomplete, please report it")
    if errors["interrupted"]:
        line += "; interrupted before the end: the result is incomplete"
    return line
