"""What the repository says about its database (`audit --scan PATH`), from the scan engine's own extraction.

- the declared schema: the tables and columns the code's DDL and models define, with their constraints, merged as
  the scan merges them (`Project.tables`);
- the columns the code treats as required: those the scan's PL202 reports (written by every insert, set by every
  construction, an owner or identity), and the column that says whose a row is in each table the code treats as
  owned (`users.id` by `rentals.renter_id`), which NULL would leave to nobody, unless some insert leaves it out;
- the scan's findings about tables and columns, which the audit's findings on the same place cite;
- for DynamoDB, the attribute each table's optimistic locking conditions on (PL311): a PynamoDB model's
  `VersionAttribute`, or else an attribute named like a version that a write's ConditionExpression compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plumbline.audit.connection import AuditError
from plumbline.findings import Finding, ToolError
from plumbline.scan import ScanOptions, build_project, scan
from plumbline.scan.checks import (  # the scan's own answers: one source of truth
    owner_column,  # whose row is this
    written_by_code,  # which columns the code's inserts write
)
from plumbline.scan.checks_dynamodb import schemas_of
from plumbline.scan.facts import Column, Table
from plumbline.scan.project import Project
from plumbline.vocabulary import VERSION_COLUMN, is_version, words

# Schema tables the migration tools keep for themselves: not the app's.
_TOOL_TABLES = ("alembic", "django_migrations", "flyway_", "schema_migrations")


@dataclass(frozen=True)
class Required:
    """A column the code needs in every row: why, and where the code says so."""

    reason: str  # "is written by every insert in the code"
    at: str  # "app/models.py:12"


@dataclass(frozen=True)
class Version:
    """The attribute a DynamoDB table's writes condition on (optimistic locking), and where the code says so."""

    attribute: str
    at: str = ""  # "app/models.py:4"; empty when the caller gave the attribute
    how: str = ""  # "the VersionAttribute of PynamoDB model Order", "the ConditionExpression of a write"


@dataclass
class CodeFacts:
    root: Path
    tables: dict[str, Table] = field(default_factory=dict)  # lower-case name -> fully defined table
    required: dict[tuple[str, str], Required] = field(default_factory=dict)  # (table, column), lower-case
    findings: list[Finding] = field(default_factory=list)  # the scan's findings on a table (and column)
    errors: list[ToolError] = field(default_factory=list)  # files the scan could not analyse
    versions: dict[str, Version] = field(default_factory=dict)  # DynamoDB table, as the code names it -> version

    @classmethod
    def read(cls, paths: list[Path]) -> "CodeFacts":
        """Scan `paths` (directories or files of one app) once; AuditError when nothing there could be analysed."""
        for path in paths:
            if not path.exists():
                raise AuditError(f"--scan {path}: no such file or directory")
        result = scan(paths, ScanOptions())
        if not result.analysed:
            raise AuditError(f"--scan {' '.join(map(str, paths))}: no Python or SQL file could be analysed there")
        project = build_project(paths, ScanOptions())  # facts from the scan's cache: extracted once
        facts = cls(root=result.root, errors=list(result.document.errors))
        facts.versions = versions(project)
        facts.tables = {name.lower(): table for name, table in project.tables.items()
                        if table.defined and not name.lower().startswith(_TOOL_TABLES)}
        facts.findings = [f for f in result.document.findings if isinstance(f.evidence.get("table"), str)]
        for finding in facts.findings:
            column = finding.evidence.get("column")
            if finding.rule_id == "PL202" and isinstance(column, str):
                # The scan's reason: "users.email <is written by every insert in the code> but is nullable".
                reason = said_of(finding).removesuffix(" but is nullable")
                facts.required[(finding.evidence["table"].lower(), column.lower())] = Required(
                    reason or "is required by the code", place(finding))
        written = written_by_code(project)
        for name, table in facts.tables.items():
            owner = owner_column(project, table, project.tables)
            column = table.columns.get(owner) if owner else None  # `cart_id -> carts.user_id`: owned through a parent
            # An owner some insert leaves out is optional by design (unclaimed tickets), as the scan's PL202 judges.
            if column is not None and (name, owner.lower()) not in facts.required and not written.left_out(name, owner):
                facts.required[(name, owner.lower())] = Required("says whose row it is", declared_at(table, column))
        return facts

    def about(self, table: str, column: str | None) -> list[Finding]:
        """The scan's findings on this table and column (on the table itself when `column` is None)."""
        bare = table.lower().rsplit(".", 1)[-1]
        return [f for f in self.findings if f.evidence["table"].lower().rsplit(".", 1)[-1] == bare
                and str(f.evidence.get("column") or "").lower() == (column or "").lower()]


def versions(project: Project) -> dict[str, Version]:
    """Each DynamoDB table's version attribute: a PynamoDB model's VersionAttribute (every save is conditional on
    it), else the first attribute named like a version (vocabulary: `version`, `revision`, `lock_version`...) that
    a write's ConditionExpression compares with a value."""
    found: dict[str, Version] = {}
    for module in project.modules:
        for schema in module.key_schemas:
            if schema.version:
                found.setdefault(schema.name, Version(schema.version, f"{schema.path}:{schema.span.line}",
                                                      f"the VersionAttribute of PynamoDB model {schema.model}"))
    schemas = schemas_of(project)
    for module in project.modules:
        for function in module.functions:
            for op in function.ops:
                if op.api != "dynamodb" or not op.mutates or "compare" not in op.condition:
                    continue
                attribute = next((name for name in op.condition_values if is_version(name) or
                                  VERSION_COLUMN.match(words(name).replace(" ", "_"))), None)
                declared = schemas.of(op)
                table = declared.name if declared is not None else op.table
                if attribute and table:
                    found.setdefault(table, Version(attribute, f"{module.path}:{op.span.line}",
                                                    "the ConditionExpression of a write"))
    return found


def said_of(finding: Finding) -> str:
    """What a scan finding on a column says of it: "holds a money ... value but no CHECK bounds it" of the message
    "accounts.balance holds a money ... value but no CHECK bounds it"."""
    return finding.message.partition(f".{finding.evidence.get('column')} ")[2]


def place(finding: Finding) -> str:
    return f"{finding.location.path}:{finding.location.line}"


def declared_at(table: Table, column: Column | None = None) -> str:
    """Where the code declares a table (or one of its columns): `path:line`."""
    if column is not None and column.span is not None:
        return f"{column.path or table.path}:{column.span.line}"
    return f"{table.path}:{table.span.line}"
