"""Baselines: adopt plumbline on legacy code by recording today's findings and reporting only new ones.

`--write-baseline FILE` records the fingerprint of every finding (plumbline/fingerprints.py); `--baseline FILE`
leaves out the findings whose fingerprint it holds. The file is JSON, meant to be committed and reviewed: each
entry also names the rule, the place and the message, which only humans read. See docs/baseline.md.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from plumbline import __version__
from plumbline.findings import Finding, FindingsDocument
from plumbline.fingerprints import VERSION, repository_path

SCHEMA = "plumbline/baseline@1"
MAX_BYTES = 64 * 2**20  # a baseline of a million findings is far smaller
_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


class BaselineError(Exception):
    """The baseline cannot be read or is not one; the message says why, in one line."""


@dataclass(frozen=True)
class Filtered:
    """A document without the findings a baseline holds, with the fingerprints of those that are left."""

    document: FindingsDocument
    fingerprints: list[str]
    known: int  # findings left out: the baseline holds them
    gone: int  # baseline entries that no finding matched any more (fixed, or changed)


def write(path: Path, document: FindingsDocument, fingerprints: list[str], root: Path | None) -> None:
    entries = [{"fingerprint": fingerprint, "rule_id": finding.rule_id, "location": _place(finding, root),
                "message": finding.message}
               for finding, fingerprint in zip(document.findings, fingerprints)]
    content = {"schema": SCHEMA, "fingerprint": VERSION, "tool": {"name": "plumbline", "version": __version__},
               "findings": entries}
    # ASCII only: a path that is not UTF-8 (a surrogate) is written as a \u escape, never refused.
    path.write_text(json.dumps(content, indent=2, ensure_ascii=True) + "\n", encoding="ascii")


def read(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file holds."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device would block or never end
            raise BaselineError(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {(exc.strerror or str(exc)).lower()}") from None
    if len(data) > MAX_BYTES:
        raise BaselineError(f"{path}: larger than {MAX_BYTES // 2**20} MiB: not a plumbline baseline")
    try:
        content = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{path}: not JSON ({str(exc).splitlines()[0] if str(exc) else 'too deeply nested'})") \
            from None
    if not isinstance(content, dict) or content.get("schema") != SCHEMA:
        raise BaselineError(f"{path}: not a plumbline baseline (no \"schema\": \"{SCHEMA}\"); "
                            "write one with --write-baseline")
    if content.get("fingerprint") != VERSION:
        raise BaselineError(f"{path}: fingerprints of another kind ({str(content.get('fingerprint'))[:40]!r}, "
                            f"this plumbline makes {VERSION!r}): write it again with --write-baseline")
    entries = content.get("findings")
    if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
            and _FINGERPRINT.match(entry["fingerprint"]) for entry in entries):
        raise BaselineError(f"{path}: \"findings\" must be a list of entries, each with a 32-hex \"fingerprint\"")
    return frozenset(entry["fingerprint"] for entry in entries)


def apply(document: FindingsDocument, fingerprints: list[str], known: frozenset[str]) -> Filtered:
    kept = [(finding, fingerprint) for finding, fingerprint in zip(document.findings, fingerprints)
            if fingerprint not in known]
    matched = len(document.findings) - len(kept)
    return Filtered(document=document.model_copy(update={"findings": tuple(finding for finding, _ in kept)}),
                    fingerprints=[fingerprint for _, fingerprint in kept], known=matched,
                    gone=len(known) - matched)


def _place(finding: Finding, root: Path | None) -> str:
    location = finding.location
    if location.kind == "source":
        return f"{repository_path(location.path, root)}:{location.line}"
    if location.kind == "http":
        return f"{location.method} {location.route}"
    return f"{location.table}.{location.column}" if location.column else location.table
