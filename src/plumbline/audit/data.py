"""PL210-PL213: the rows that prove a schema finding — duplicates, NULLs, negative amounts, orphaned references.

Every query reads a bounded sample: the first `sample_rows` rows the database returns for the column (no ORDER BY,
so a cheap sequential read, not a random sample), or every row in exact mode. Only counts and up to five values of
the column itself leave the database, never a whole row; a secret's value (a token, a key) leaves it as a digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

from psycopg import sql

from plumbline.audit.catalog import LiveTable
from plumbline.audit.connection import Database
from plumbline.audit.schema import Weakness
from plumbline.probe.redact import SECRET_KEYS

SAMPLE_KEYS = 5  # values shown per finding
LONGEST_KEY_SHOWN = 80  # characters of a value shown


@dataclass(frozen=True)
class Proof:
    """A data finding: the rule, the schema finding it proves, what was counted."""

    rule_id: str
    weakness: Weakness
    message: str
    evidence: dict[str, Any]


def prove(database: Database, table: LiveTable, found: list[Weakness], sample_rows: int | None) -> Iterator[Proof]:
    """The data findings on `table` for its schema findings `found`, query by query. A query that fails raises
    psycopg's error: the findings yielded before it stand, the rest of the table is not read."""
    reader = _Reader(database, table, sample_rows)
    yield from reader.nulls_and_negatives([w for w in found if w.proof == "PL211"],
                                          [w for w in found if w.proof == "PL212" and w.number])
    for weakness in found:
        if weakness.proof == "PL210":
            yield from reader.duplicates(weakness)
        elif weakness.proof == "PL213" and weakness.references is not None:
            yield from reader.orphans(weakness)


@dataclass
class _Reader:
    database: Database
    table: LiveTable
    sample_rows: int | None

    def nulls_and_negatives(self, nullable: list[Weakness], unchecked: list[Weakness]) -> list[Proof]:
        """PL211 and PL212 in one pass over the sample of the table's rows."""
        if not nullable and not unchecked:
            return []
        counts = [sql.SQL("count(CASE WHEN {} IS NULL THEN 1 END)").format(sql.Identifier(w.column))
                  for w in nullable]
        counts += [sql.SQL("count(CASE WHEN {0} < 0 THEN 1 END), min({0})").format(sql.Identifier(w.column))
                   for w in unchecked]
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in {w.column: w for w in nullable + unchecked})
        query = sql.SQL("SELECT count(*), {counts} FROM (SELECT {columns} FROM {table}{limit}) AS sample").format(
            counts=sql.SQL(", ").join(counts), columns=columns, table=self._table(), limit=self._limit())
        with self.database.reading():
            examined, *values = self.database.rows(query)[0]
        proofs = []
        for weakness, nulls in zip(nullable, values):
            if nulls:
                counted = f"{_count(nulls, 'row')} with {weakness.column} NULL"
                proofs.append(self._proof("PL211", weakness, examined, counted, null_rows=nulls))
        for weakness, negative, lowest in zip(unchecked, values[len(nullable)::2], values[len(nullable) + 1::2]):
            if negative:
                counted = f"{_count(negative, 'row')} with a negative {weakness.column} (lowest {_plain(lowest)})"
                proofs.append(self._proof("PL212", weakness, examined, counted, negative_rows=negative,
                                          lowest=_plain(lowest)))
        return proofs

    def duplicates(self, weakness: Weakness) -> list[Proof]:
        """PL210: values of an identity-like column held by more than one row."""
        grouped = sql.SQL("SELECT value, count(*) AS n FROM sample GROUP BY value HAVING count(*) > 1")
        examined, values, rows, keys = self._grouped(weakness.column, grouped)
        if not values:
            return []
        counted = f"{_count(values, 'value')} held by more than one row ({_count(rows, 'row')} in all)"
        return [self._proof("PL210", weakness, examined, counted, duplicated_values=values, duplicate_rows=rows,
                            sample_keys=shown_values(weakness.column, keys))]

    def orphans(self, weakness: Weakness) -> list[Proof]:
        """PL213: values of a `*_id` column that match no key of the table it refers to."""
        target = weakness.references
        key, value = sql.SQL("r.{}").format(sql.Identifier(target.column)), sql.SQL("s.value")
        if not target.same_type:
            key, value = sql.SQL("{}::text").format(key), sql.SQL("s.value::text")
        grouped = sql.SQL("SELECT value, count(*) AS n FROM sample s WHERE NOT EXISTS "
                          "(SELECT 1 FROM {target} r WHERE {key} = {value}) GROUP BY value").format(
            target=sql.Identifier(target.schema, target.table), key=key, value=value)
        examined, values, rows, keys = self._grouped(weakness.column, grouped)
        if not values:
            return []
        key = f"{target.name}.{target.column}"
        counted = f"{_count(rows, 'row')} point at {_count(values, 'value')} that {key} lacks"
        return [self._proof("PL213", weakness, examined, counted, orphan_rows=rows, orphan_values=values,
                            sample_keys=shown_values(weakness.column, keys), references=key)]

    def _grouped(self, column: str, grouped: sql.Composable) -> tuple[int, int, int, list[str]]:
        """Over the sample of `column`'s non-NULL values, the groups `grouped` selects (`value`, `n`): rows
        examined, groups, rows in them, and the values of the largest groups."""
        query = sql.SQL(
            "WITH sample AS (SELECT {column} AS value FROM {table} WHERE {column} IS NOT NULL{limit}), "
            "grouped AS ({grouped}) "
            "SELECT (SELECT count(*) FROM sample), (SELECT count(*) FROM grouped), "
            "(SELECT coalesce(sum(n), 0) FROM grouped), "
            "ARRAY(SELECT value::text FROM grouped ORDER BY n DESC, value::text LIMIT {keys})").format(
            column=sql.Identifier(column), table=self._table(), limit=self._limit(), grouped=grouped,
            keys=sql.Literal(SAMPLE_KEYS))
        with self.database.reading():
            examined, groups, rows, keys = self.database.rows(query)[0]
        return examined, groups, int(rows), list(keys or [])

    def _table(self) -> sql.Composable:
        return sql.Identifier(self.table.schema, self.table.table)

    def _limit(self) -> sql.Composable:
        return sql.SQL("") if self.sample_rows is None else sql.SQL(" LIMIT {}").format(sql.Literal(self.sample_rows))

    def _proof(self, rule_id: str, weakness: Weakness, examined: int, counted: str, **evidence) -> Proof:
        sampled = self.sample_rows is not None and examined >= self.sample_rows
        scope = f"{_count(examined, 'row')} read"
        if sampled:
            scope += " (the first ones: a sample; --exact reads all)"
        where = f"{self.table.name}.{weakness.column}"
        return Proof(rule_id, weakness, f"{where}: {counted}, among {scope}; this proves {weakness.rule_id}",
                     {"proves": weakness.rule_id, "table": self.table.name, "column": weakness.column,
                      "rows_examined": examined, "sampled": sampled, **evidence})


def shown_values(column: str, keys: list[str]) -> list[str]:
    """Values of `column` as a report may show them: a secret's as a digest, a long one cut."""
    if SECRET_KEYS.search(column):
        return [f"sha256:{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}" for key in keys]
    return [key if len(key) <= LONGEST_KEY_SHOWN else key[:LONGEST_KEY_SHOWN] + "…" for key in keys]


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _plain(value: Any) -> Any:
    """A number as JSON holds it: an int as it is, a decimal as its text (no float rounding of money)."""
    return str(value) if isinstance(value, Decimal) else value
