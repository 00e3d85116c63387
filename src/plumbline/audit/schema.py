"""PL201-PL205 on the live schema, with the scan's own column heuristics (plumbline.vocabulary).

Each check yields `Weakness`es: a schema finding, and what the data checks need to prove it on the rows (the
referenced table of a `*_id`, whether a money column is a number). What the scan learns from the code (which
columns every insert writes, which tables the code treats as its users) is not known here: a table is a table of
people when its name says so (`PRINCIPAL_TABLE`), and only owner and identity columns count as required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plumbline.audit.catalog import LiveTable, shown_name
from plumbline.scan.checks import referenced_table  # the scan's resolution of `<entity>_id`: one source of truth
from plumbline.vocabulary import (
    COUNTED_AMOUNT,
    EVENT_TABLE,
    IDENTITY_LIKE,
    MONEY_COLUMN,
    NUMERIC_TYPE,
    OWNER_COLUMN,
    PERSON_IDENTIFIER,
    PRINCIPAL_TABLE,
    RANDOM_VALUE,
)

# Live column types that compare with 0 (`format_type` spellings, PostgreSQL's and CockroachDB's).
_NUMBER = re.compile(r"^(smallint|integer|bigint|int[248]?|numeric|decimal|real|double precision|float[48]?)\b(?!.*\[)")


@dataclass(frozen=True)
class Reference:
    """The key a reference points at: schema, table and column."""

    schema: str
    table: str
    column: str
    same_type: bool = True  # the `*_id` column has the key's type: compared as it is, else as text

    @property
    def name(self) -> str:
        return shown_name(self.schema, self.table)


# The data rule that counts the rows each schema rule's missing constraint let in.
PROOF_OF = {"PL201": "PL210", "PL202": "PL211", "PL203": "PL212", "PL204": "PL213"}
SCHEMA_RULES = tuple(PROOF_OF)  # the scan's column rules (rules/schema.py), checked against the live schema too


@dataclass
class Weakness:
    """A constraint the live schema lacks, at one table (and column)."""

    rule_id: str
    table: LiveTable
    column: str | None
    message: str
    references: Reference | None = None  # PL213's proof: the key the `*_id` should refer to
    number: bool = False  # PL212's proof: the column holds numbers (negative values can be counted)
    proof: str | None = None  # the data rule that counts its damage (PROOF_OF by default; None: no data check)
    evidence: dict = field(default_factory=dict)  # what the finding carries besides its table and column

    def __post_init__(self) -> None:
        if self.proof is None:
            self.proof = PROOF_OF.get(self.rule_id)


def weaknesses(tables: list[LiveTable]) -> list[Weakness]:
    """Every schema finding of the audit, table by table, in rule order within a table."""
    found: list[Weakness] = []
    for table in tables:
        if not table.complete:
            continue  # its defaults or unique expressions are unknown: nothing said about it could be trusted
        siblings = {other.table: other for other in tables if other.schema == table.schema}
        found += _missing_primary_key(table)
        for column in table.columns:
            for check in (_missing_unique, _missing_not_null, _missing_check):
                found += check(table, column)
            found += _missing_foreign_key(table, column, siblings)
    return found


def _missing_primary_key(table: LiveTable) -> list[Weakness]:
    if table.primary_key:
        return []
    return [Weakness("PL205", table, None, f"{table.name} has no PRIMARY KEY")]


def _missing_unique(table: LiveTable, column: str) -> list[Weakness]:
    spec = table.columns[column]
    if not IDENTITY_LIKE.match(column) or EVENT_TABLE.search(table.table) or table.foreign_key_of(column):
        return []  # a foreign key (invoices.customer_id -> customers) points at a row, it does not name this one
    if PERSON_IDENTIFIER.match(column) and not PRINCIPAL_TABLE.search(table.table):
        return []  # posts.username is the author's name, not the post's identity
    if spec.default and RANDOM_VALUE.search(spec.default) or table.in_unique_set(column):
        return []  # a random token drawn for each row, or unique (alone or with other columns)
    return [Weakness("PL201", table, column, f"{table.name}.{column} identifies a row but has no UNIQUE constraint "
                                             "or unique index")]


def _missing_not_null(table: LiveTable, column: str) -> list[Weakness]:
    if not table.columns[column].nullable or column in table.primary_key:
        return []
    if IDENTITY_LIKE.match(column) and not EVENT_TABLE.search(table.table) or OWNER_COLUMN.match(column):
        return [Weakness("PL202", table, column, f"{table.name}.{column} identifies its row or its owner but is "
                                                 "nullable")]
    return []


def _missing_check(table: LiveTable, column: str) -> list[Weakness]:
    type_ = table.columns[column].type
    amount = MONEY_COLUMN.match(column) or NUMERIC_TYPE.search(type_) and COUNTED_AMOUNT.match(column)
    if not amount or table.validated_check_on(column) or column in table.primary_key or table.foreign_key_of(column):
        return []
    unchecked = next((check.name for check in table.checks if column in check.columns), None)
    message = (f"{table.name}.{column} holds a money or quantity value but its CHECK {unchecked} is NOT VALID: "
               "rows written before it were never checked" if unchecked else
               f"{table.name}.{column} holds a money or quantity value but no CHECK bounds it")
    return [Weakness("PL203", table, column, message, number=bool(_NUMBER.match(type_)))]


def _missing_foreign_key(table: LiveTable, column: str, siblings: dict[str, LiveTable]) -> list[Weakness]:
    if not column.endswith("_id") or column in table.primary_key:
        return []
    key = table.foreign_key_of(column)
    if key is not None:
        if key.validated or len(key.columns) != 1 or len(key.target_columns) != 1:
            return []
        target = Reference(*key.target, key.target_columns[0])
        return [Weakness("PL204", table, column, f"{table.name}.{column} refers to {target.name} by FOREIGN KEY "
                                                 f"{key.name}, added NOT VALID: rows written before it were never "
                                                 "checked", references=target)]
    target = referenced_table(siblings, _by_suffix(siblings), table.table, column[:-3])
    if target is None:
        return []
    referenced = siblings[target]
    key = None  # without a single-column primary key there is nothing to count orphans against
    if len(referenced.primary_key) == 1:
        key_column = referenced.columns[referenced.primary_key[0]]
        key = Reference(referenced.schema, referenced.table, key_column.name,
                        same_type=key_column.type == table.columns[column].type)
    return [Weakness("PL204", table, column, f"{table.name}.{column} refers to {referenced.name} but has no FOREIGN "
                                             "KEY", references=key)]


def _by_suffix(tables: dict[str, LiveTable]) -> dict[str, set[str]]:
    """The tables by every `_`-suffix of their name (`account_user` under `user`), as the scan indexes them."""
    suffixes: dict[str, set[str]] = {}
    for name, table in tables.items():
        if table.columns:
            for position, character in enumerate(name):
                if character == "_":
                    suffixes.setdefault(name[position + 1:], set()).add(name)
    return suffixes
