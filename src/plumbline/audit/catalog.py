"""The live schema, read from pg_catalog: tables, columns, and the constraints that hold on them.

pg_catalog rather than information_schema: the latter shows only the objects the connected role has privileges
on, and an audit role may be granted SELECT on some tables only; pg_catalog shows every table's definition to
every role, and CockroachDB serves the same views. Only ordinary and partitioned tables of the user's schemas are
read (no system schema, no view, no foreign table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg

from plumbline.audit.connection import Database

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "crdb_internal", "pg_extension", "pg_toast")


@dataclass
class LiveColumn:
    name: str
    type: str
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target: tuple[str, str]  # the referenced table: schema, name
    target_columns: tuple[str, ...]
    validated: bool


@dataclass(frozen=True)
class Check:
    name: str
    columns: tuple[str, ...]
    validated: bool


@dataclass
class LiveTable:
    schema: str
    table: str
    columns: dict[str, LiveColumn] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    unique_sets: list[tuple[str, ...]] = field(default_factory=list)  # UNIQUE constraints and unique indexes
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    # False when the texts of its defaults, CHECKs or expression indexes could not be read: it is not audited,
    # but other tables may still refer to it.
    complete: bool = True

    @property
    def name(self) -> str:
        return shown_name(self.schema, self.table)

    def column_named(self, name: str) -> str | None:
        """The live column the code calls `name`, whatever its case."""
        return next((column for column in self.columns if column.lower() == name.lower()), None)

    def in_unique_set(self, column: str) -> bool:
        """Some unique key (composite ones included) holds the column: the scan's PL201 is silent then too."""
        return column in self.primary_key or any(column in names for names in self.unique_sets)

    def foreign_key_of(self, column: str) -> ForeignKey | None:
        return next((key for key in self.foreign_keys if column in key.columns), None)

    def validated_check_on(self, column: str) -> bool:
        return any(check.validated and column in check.columns for check in self.checks)


def shown_name(schema: str, table: str) -> str:
    """How reports name a table: bare in `public`, else `schema.table`."""
    return table if schema == "public" else f"{schema}.{table}"


_TABLES = """
SELECT c.oid::int8, n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ({system}) AND n.nspname NOT LIKE 'pg\\_temp%'
  AND n.nspname NOT LIKE 'pg\\_toast%'
ORDER BY n.nspname, c.relname
""".format(system=", ".join(f"'{name}'" for name in SYSTEM_SCHEMAS))

_COLUMNS = """
SELECT a.attrelid::int8, a.attnum::int, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.atthasdef
FROM pg_catalog.pg_attribute a
WHERE a.attrelid::int8 = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT con.conrelid::int8, con.conname, con.contype::text, con.conkey::text, con.confrelid::int8,
       con.confkey::text, con.convalidated
FROM pg_catalog.pg_constraint con
WHERE con.conrelid::int8 = ANY(%s) AND con.contype IN ('p', 'u', 'c', 'f')
ORDER BY con.conrelid, con.conname
"""

_UNIQUE_INDEXES = """
SELECT i.indrelid::int8, i.indexrelid::int8, i.indkey::text
FROM pg_catalog.pg_index i
WHERE i.indrelid::int8 = ANY(%s) AND i.indisunique AND NOT i.indisprimary
"""

# The texts of defaults, constraints and indexes: PostgreSQL's pg_get_* functions lock the table (ACCESS SHARE),
# so they are read table by table, and only for tables that need them.
_DEFAULTS = """
SELECT a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attrdef d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid::int8 = %s
"""
_CHECK_TEXTS = """
SELECT conname, pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint
WHERE conrelid::int8 = %s AND conname = ANY(%s)
"""
_INDEX_TEXT = "SELECT pg_catalog.pg_get_indexdef(%s::oid)"


@dataclass(frozen=True)
class Unreadable:
    """A table whose definition could not be read in full, and the database's error."""

    table: LiveTable
    error: psycopg.Error


@dataclass
class _Texts:
    """What a table's definition needs from the locking pg_get_* functions."""

    defaults: bool = False  # some column has a default
    checks: list[str] = field(default_factory=list)  # CHECK constraints whose columns pg_constraint does not list
    # Unique indexes on expressions (`lower(email)`, `(tenant_id, lower(email))`), with their plain columns.
    indexes: dict[int, tuple[str, ...]] = field(default_factory=dict)


def read_catalog(database: Database, schemas: tuple[str, ...] = ()) -> tuple[list[LiveTable], list[Unreadable]]:
    """Every table of the user's schemas (of `schemas` only, when given), with its columns and constraints; and
    the tables whose definition could not be read in full (locked past the statement timeout, dropped meanwhile),
    each with the database's error (they are in the first list too, not `complete`)."""
    with database.reading(snapshot=False):
        found = database.rows(_TABLES)
        tables = {oid: LiveTable(schema=schema, table=name) for oid, schema, name in found
                  if not schemas or schema in schemas}
        if not tables:
            return [], []
        oids = list(tables)
        texts = {oid: _Texts() for oid in oids}
        by_number: dict[int, dict[int, str]] = {oid: {} for oid in oids}
        for oid, number, name, type_, not_null, has_default in database.rows(_COLUMNS, (oids,)):
            tables[oid].columns[name] = LiveColumn(name, type_, not not_null, None)
            by_number[oid][number] = name
            texts[oid].defaults |= bool(has_default)
        names = {oid: (schema, table) for oid, schema, table in found}  # foreign keys may lead out of `schemas`
        for oid, name, kind, keys, target, target_keys, validated in database.rows(_CONSTRAINTS, (oids,)):
            table, columns = tables[oid], _named(keys, by_number[oid])
            if kind == "p":
                table.primary_key = columns
            elif kind == "u":
                table.unique_sets.append(columns)
            elif kind == "c":
                table.checks.append(Check(name, columns, bool(validated)))
                if not columns:
                    texts[oid].checks.append(name)
            elif kind == "f":
                table.foreign_keys.append(ForeignKey(name, columns, names.get(target, ("", str(target))),
                                                     _target_columns(database, target, target_keys), bool(validated)))
        for oid, index, keys in database.rows(_UNIQUE_INDEXES, (oids,)):
            if "0" in (keys or "").split():
                texts[oid].indexes[index] = _named(keys, by_number[oid])
            else:
                tables[oid].unique_sets.append(_named(keys, by_number[oid]))
    unreadable = []
    for oid, table in tables.items():
        try:
            _read_texts(database, oid, table, texts[oid])
        except psycopg.Error as exc:
            table.complete = False
            unreadable.append(Unreadable(table, exc))
    return [_without_hidden_key(table, database.backend) for table in tables.values()], unreadable


def _read_texts(database: Database, oid: int, table: LiveTable, texts: _Texts) -> None:
    """Column defaults, the columns of CHECKs pg_constraint lists none for, and those of expression indexes."""
    if not (texts.defaults or texts.checks or texts.indexes):
        return
    with database.reading(snapshot=False):
        if texts.defaults:
            for name, default in database.rows(_DEFAULTS, (oid,)):
                table.columns[name].default = default
        if texts.checks:
            definitions = dict(database.rows(_CHECK_TEXTS, (oid, texts.checks)))
            table.checks = [Check(check.name, _mentioned(definitions.get(check.name, ""), table), check.validated)
                            if check.name in texts.checks else check for check in table.checks]
        for index, plain in texts.indexes.items():
            definition = database.rows(_INDEX_TEXT, (index,))[0][0]
            indexed = definition.partition(" USING ")[2].partition(" WHERE ")[0]  # not a partial index's condition
            table.unique_sets.append(tuple(dict.fromkeys((*plain, *_mentioned(indexed, table)))))


def _named(numbers: str | None, columns: dict[int, str]) -> tuple[str, ...]:
    """Column names for a `conkey`/`indkey` as text (`{1,2}` or `1 2`); 0 (an expression) is left out."""
    found = (int(part) for part in re.findall(r"-?\d+", numbers or ""))
    return tuple(columns[number] for number in found if number in columns)


def _mentioned(definition: str, table: LiveTable) -> tuple[str, ...]:
    """The table's columns a constraint or index expression names (`CHECK (balance >= 0)`, `lower(email)`)."""
    words = set(re.findall(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)', definition))
    named = {quoted.replace('""', '"') or bare.lower() for quoted, bare in words}
    return tuple(name for name in table.columns if name in named)


def _target_columns(database: Database, target: int, keys: str | None) -> tuple[str, ...]:
    numbers = [int(part) for part in re.findall(r"-?\d+", keys or "")]
    if not numbers:
        return ()
    found = dict(database.rows("SELECT attnum::int, attname FROM pg_catalog.pg_attribute WHERE attrelid::int8 = %s "
                               "AND attnum = ANY(%s)", (target, numbers)))
    return tuple(found[number] for number in numbers if number in found)


def _without_hidden_key(table: LiveTable, backend: str) -> LiveTable:
    """CockroachDB gives a table created without a primary key a hidden `rowid` one: that is no key of the
    application's, and the table is reported as having none."""
    rowid = table.columns.get("rowid")
    if backend == "cockroachdb" and table.primary_key == ("rowid",) and rowid is not None and \
            "unique_rowid" in (rowid.default or ""):
        table.primary_key = ()
        del table.columns["rowid"]
    return table
