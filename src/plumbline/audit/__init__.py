"""The audit engine: a live PostgreSQL or CockroachDB database, read-only — the constraints it lacks (PL201-PL205),
those the repository declares that it lacks (PL206, with --scan) and the rows that already prove each missing one
(PL210-PL213).

    catalog.py     the live schema from pg_catalog
    schema.py      the schema findings, with the scan's column heuristics
    code.py        with --scan: what the repository declares and requires, from the scan's extraction
    drift.py       with --scan: the declared schema against the live one (PL206), the required columns
    data.py        the data findings, each proving one schema finding, on a bounded sample
    connection.py  the read-only session, the statement timeout, the masked URL

A database that cannot be used at all raises AuditError (one line, exit 2); a table that cannot be read (no
permission, a statement timeout, dropped during the audit) becomes an error entry of the report, and the audit goes
on with the others. See docs/audit.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg

from plumbline.audit.catalog import LiveTable, read_catalog
from plumbline.audit.code import CodeFacts, place
from plumbline.audit.connection import AuditError, Database, Target
from plumbline.audit.data import prove
from plumbline.audit.drift import drift, judged_by_code, replace_heuristics, required
from plumbline.audit.schema import SCHEMA_RULES, Weakness, weaknesses
from plumbline.findings import Finding, FindingsDocument, SchemaLocation, ToolError
from plumbline.rules import all_rules, get as rule, matching

__all__ = ["Audit", "AuditError", "AuditOptions", "audit_rule_ids", "selected_rules"]

DEFAULT_SAMPLE_ROWS = 100_000
DYNAMODB_PREFIX = "PL31"  # the DynamoDB audit's rules


def audit_rule_ids(dynamodb: bool = False) -> frozenset[str]:
    """Every rule the SQL audit reports: its own (engine `audit`) and the scan's schema rules; or, with
    `dynamodb`, the DynamoDB audit's (PL31x, audit/dynamodb.py)."""
    own = {r.id for r in all_rules() if r.engine == "audit"}
    if dynamodb:
        return frozenset(i for i in own if i.startswith(DYNAMODB_PREFIX))
    return frozenset({i for i in own if not i.startswith(DYNAMODB_PREFIX)} | set(SCHEMA_RULES))


def selected_rules(select: list[str] | None, ignore: list[str] | None, dynamodb: bool = False) -> frozenset[str]:
    """The audit's rules that `--select` (default: all) and `--ignore` prefixes leave; possibly none."""
    return audit_rule_ids(dynamodb) & (matching(select or ["ALL"]) - matching(ignore or []))


@dataclass(frozen=True)
class AuditOptions:
    dsn: str
    selected: frozenset[str] = field(default_factory=audit_rule_ids)
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS  # None: exact, every row
    statement_timeout: float = 30.0  # seconds
    schemas: tuple[str, ...] = ()  # only these schemas (default: every schema of the user's)
    scan: tuple[Path, ...] = ()  # the app's code, whose declared schema and inserts the live database is held against


class Audit:
    """One audit run. `run()` returns the report; after an interrupt, `document()` has what was found so far."""

    def __init__(self, options: AuditOptions) -> None:
        self.options = options
        self.target = Target.parse(options.dsn)  # AuditError for a URL that is no database's
        # The code is read first: a wrong --scan path is said before any connection is made.
        self.code = CodeFacts.read(list(options.scan)) if options.scan else None
        self.findings: list[Finding] = []
        self.errors: list[ToolError] = []
        self.tables = 0  # tables found
        self.tables_examined = 0  # tables whose data checks all ran
        self.backend = "postgres"

    def run(self, on_table: Callable[[str, int, int], None] | None = None) -> FindingsDocument:
        """Connect, read the schema, report it, then prove its findings on the data table by table.
        `on_table(name, position, total)` is called before each table's rows are read (progress)."""
        database = Database.connect(self.target, self.options.statement_timeout)
        try:
            self.backend = database.backend
            tables = self._catalog(database)
            self.tables = len(tables)
            found = self._weaknesses(tables)
            self.findings += [self._finding(w.rule_id, w.table, w.column, w.message,
                                            {"table": w.table.name, **({"column": w.column} if w.column else {}),
                                             **w.evidence})
                              for w in found]
            for position, table in enumerate(tables):
                if on_table is not None:
                    on_table(table.name, position, len(tables))
                if not table.complete:
                    continue  # reported by _catalog
                if database.broken:
                    self._skip(table, "the connection to the database was lost before this table was read")
                    continue
                self._prove(database, table, [w for w in found if w.table is table])
        finally:
            database.close()
        return self.document()

    def document(self) -> FindingsDocument:
        """The selected findings, table by table and column by column, each schema finding before its proof."""
        selected = sorted((f for f in self.findings if f.rule_id in self.options.selected),
                          key=lambda f: (f.location.table, f.location.column or "", f.rule_id))
        errors = (*self.code.errors, *self.errors) if self.code is not None else self.errors
        return FindingsDocument(findings=tuple(selected), errors=tuple(errors))

    def _weaknesses(self, tables: list[LiveTable]) -> list[Weakness]:
        """The schema findings: the heuristics' and, with --scan, the drift from the declared schema and the
        columns the code requires."""
        found = weaknesses(tables)
        if self.code is None:
            return found
        drifted = drift(tables, self.code, (self.options.schemas or ("public",))[0])
        found = replace_heuristics(judged_by_code(found, tables, self.code), drifted) + drifted
        return found + required(tables, self.code, found)

    def _catalog(self, database: Database) -> list[LiveTable]:
        try:
            tables, unreadable = read_catalog(database, self.options.schemas)
        except psycopg.Error as exc:
            raise AuditError(f"cannot read the schema of {self.target.shown}: "
                             f"{self.target.masked(str(exc))}") from None
        for entry in unreadable:
            self._skip(entry.table, f"its definition could not be read, it is not audited: "
                                    f"{self._reason(entry.error, database)}")
        if not tables:
            where = f"schema {', '.join(self.options.schemas)}" if self.options.schemas else "any user schema"
            raise AuditError(f"nothing to audit: {self.target.shown} has no table in {where}")
        return tables

    def _prove(self, database: Database, table: LiveTable, found: list[Weakness]) -> None:
        """The table's data findings; a table that cannot be read is reported as an error entry."""
        wanted = [w for w in found if w.proof in self.options.selected]
        try:
            for proof in prove(database, table, wanted, self.options.sample_rows):
                self.findings.append(self._finding(proof.rule_id, table, proof.weakness.column, proof.message,
                                                   proof.evidence))
        except psycopg.Error as exc:
            self._skip(table, f"its rows were not all examined (its schema was): {self._reason(exc, database)}")
        except Exception as exc:  # a bug of ours costs this table, not the audit
            self.errors.append(ToolError(engine="audit", target=table.name, kind="internal",
                                         message=f"internal error ({type(exc).__name__}: {exc}); please report it"))
        else:
            self.tables_examined += 1

    def _reason(self, error: psycopg.Error, database: Database) -> str:
        """Why a query failed, in the user's terms; the password masked in anything the database said."""
        if isinstance(error, psycopg.errors.QueryCanceled):
            return (f"a query ran past the statement timeout ({self.options.statement_timeout:g} s): a lock held on "
                    "the table, or a table too big for it (raise --statement-timeout)")
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            return "the audit's role may not SELECT from it"
        if isinstance(error, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                              psycopg.errors.UndefinedObject)):
            return "it was dropped or altered during the audit"
        return "the connection to the database was lost" if database.broken else self.target.masked(str(error))

    def _skip(self, table: LiveTable, message: str) -> None:
        self.errors.append(ToolError(engine="audit", target=table.name, message=message))

    def _finding(self, rule_id: str, table: LiveTable, column: str | None, message: str, evidence: dict) -> Finding:
        if self.code is not None:
            scanned = self.code.about(table.table, column)
            if scanned:  # the scan's findings on the same place: a report shows them together
                evidence = {**evidence, "scan_findings": [{"rule": f.rule_id, "at": place(f)} for f in scanned]}
        found = rule(rule_id).finding(location=SchemaLocation(table=table.name, column=column), message=message,
                                      confidence="high", backend=self.backend, evidence=evidence)
        return found.model_copy(update={"engine": "audit"})  # PL201-PL204 are the scan's rules, found live here
