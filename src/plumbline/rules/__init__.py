"""Rule metadata: ids, names, severities, CWE/OWASP mappings and documentation.

A rule is data. The engines decide *where* a rule applies and call `Rule.finding(...)`; the rule
supplies everything else a finding carries, so the metadata lives in one place.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from plumbline.findings import Confidence, Engine, Finding, Location, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    engine: Engine
    severity: Severity
    summary: str
    cwe: tuple[int, ...]
    owasp: str | None
    what: str
    why: str
    example: str
    # The fix, per backend the rule applies to ("cockroachdb", "postgres", "dynamodb"): prose + code.
    use_instead: dict[str, str] = field(default_factory=dict)
    # One line per backend for a finding's `fix` field.
    fix: dict[str, str] = field(default_factory=dict)

    def fix_for(self, backend: str) -> str:
        return self.fix.get(backend) or next(iter(self.fix.values()), "")

    def finding(
        self,
        *,
        location: Location,
        message: str,
        confidence: Confidence,
        backend: str,
        severity: Severity | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> Finding:
        return Finding(
            rule_id=self.id,
            rule_name=self.name,
            severity=severity or self.severity,
            confidence=confidence,
            engine=self.engine,
            location=location,
            message=message,
            cwe=self.cwe,
            owasp=self.owasp,
            fix=self.fix_for(backend),
            evidence=evidence or {},
        )

    def documentation(self) -> str:
        """The rule's page, in Markdown, in the shape Ruff uses."""
        parts = [
            f"# {self.name} ({self.id})",
            f"Severity: {self.severity}. {self._mapping()}",
            f"## What it does\n{self.what}",
            f"## Why is this bad?\n{self.why}",
            f"## Example\n```python\n{self.example.strip()}\n```",
        ]
        for backend, text in self.use_instead.items():
            parts.append(f"## Use instead ({BACKEND_TITLES[backend]})\n{text.strip()}")
        return "\n\n".join(parts) + "\n"

    def _mapping(self) -> str:
        cwe = ", ".join(f"CWE-{n}" for n in self.cwe)
        return f"{cwe}; OWASP API Security Top 10: {self.owasp}." if self.owasp else f"{cwe}."


BACKEND_TITLES = {"cockroachdb": "CockroachDB", "postgres": "PostgreSQL", "dynamodb": "DynamoDB"}

_FAMILIES = ("sql", "schema", "dynamodb", "probe", "audit")
RULES: dict[str, Rule] = {}


def register(*rules: Rule) -> None:
    for rule in rules:
        if rule.id in RULES:
            raise ValueError(f"duplicate rule id {rule.id}")
        RULES[rule.id] = rule


def all_rules() -> list[Rule]:
    for family in _FAMILIES:
        importlib.import_module(f"plumbline.rules.{family}")
    return sorted(RULES.values(), key=lambda rule: rule.id)


def get(rule_id: str) -> Rule:
    all_rules()
    return RULES[rule_id.upper()]


def matching(prefixes: list[str] | tuple[str, ...]) -> set[str]:
    """Rule ids selected by prefixes such as PL1, PL102 or ALL."""
    ids = {rule.id for rule in all_rules()}
    selected: set[str] = set()
    for prefix in prefixes:
        prefix = prefix.strip().upper()
        if prefix == "ALL":
            selected |= ids
        else:
            selected |= {rule_id for rule_id in ids if rule_id.startswith(prefix)}
    return selected
