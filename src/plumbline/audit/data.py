"""PL210-PL213: the rows that prove a schema finding — duplicates, NULLs, negative amounts, orphaned references.

Each check examines about `sample_rows` rows of its table, or every row in exact mode; `Sample` decides which:

- a table no bigger than that (by PostgreSQL's row estimate) is read whole;
- on a bigger PostgreSQL table, the checks of single rows (NULLs, negative amounts, orphans) read a random sample
  of its blocks, `TABLESAMPLE SYSTEM (p) REPEATABLE (seed)`, p sized from the estimate to draw a little under
  sample_rows: the cost does not grow with the table. Duplicates (PL210) cannot be sampled by rows: a pair is
  found only when both of its rows are drawn (with 10% of the rows, 1 pair in 100). They are looked for among a
  share of the column's *values* instead, 1 in k chosen by hash, every row holding a chosen value counted: each
  duplicated value is found with chance 1/k and counted exactly. That reads the whole column (about twice a
  count(*)), so it runs last, and a statement timeout costs only it;
- where no random sample can be drawn (CockroachDB has no TABLESAMPLE; a table PostgreSQL has never analysed has
  no estimate), the first `sample_rows` rows the database returns, and the finding says so.

The draw is the same on every run (a fixed seed, a fixed hash): an unchanged table gives the same findings, and a
CI gate on them does not flap. Only counts and up to five values of the column itself leave the database, never a
whole row; a secret's value (a token, a key) leaves it as a digest.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from psycopg import sql

from plumbline.audit.catalog import LiveTable
from plumbline.audit.connection import Database
from plumbline.audit.schema import Weakness
from plumbline.probe.redact import SECRET_KEYS

SAMPLE_KEYS = 5  # values shown per finding
LONGEST_KEY_SHOWN = 80  # characters of a value shown
SAMPLE_SEED = 0  # TABLESAMPLE's REPEATABLE seed: the same blocks on every run

# What PostgreSQL's planner sizes a table from: the rows and blocks its last ANALYZE (or VACUUM) counted (rows -1:
# never analysed), and the blocks it has now (none of its own for a partitioned table).
_TABLE_SIZE = """
SELECT c.reltuples::float8, c.relpages::int8,
       pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int8
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""
SPREAD = 4  # standard deviations of a draw's size kept under the budget

Method = Literal["all", "blocks", "values", "first"]


@dataclass(frozen=True)
class Sample:
    """How one table's rows are chosen for its data checks. `limit` is the budget of rows per check (None: exact,
    every row); `percent` and `buckets` the random draws of a big PostgreSQL table (blocks for the checks of rows,
    1 value in `buckets` for duplicates); `reason` why the first rows returned are read when there is no draw."""

    limit: int | None
    percent: float | None = None
    buckets: int | None = None
    estimated_rows: int | None = None
    reason: str = ""

    @classmethod
    def of(cls, database: Database, table: LiveTable, sample_rows: int | None) -> Sample:
        if sample_rows is None:
            return cls(None)
        if database.backend == "cockroachdb":
            return cls(sample_rows, reason="CockroachDB has no TABLESAMPLE")
        estimate, blocks = _row_estimate(database, table)
        if estimate is None:
            return cls(sample_rows, reason="the table was never analysed, so its size is unknown")
        if estimate <= sample_rows:  # read whole; more rows than that means its statistics are out of date
            return cls(sample_rows, estimated_rows=round(estimate),
                       reason=f"its statistics say {round(estimate):,} rows, it has more")
        # The blocks a draw holds vary (binomially): it aims SPREAD standard deviations under the budget, so that
        # the LIMIT almost never cuts it, which would drop its last blocks, the end of the table.
        # (A partitioned table has no blocks of its own to count rows per block by: half the budget.)
        spread = SPREAD * math.sqrt(sample_rows * estimate / blocks) if blocks else sample_rows / 2
        aimed = max(sample_rows - spread, sample_rows / 2)
        return cls(sample_rows, percent=100 * aimed / estimate, buckets=math.ceil(estimate / sample_rows),
                   estimated_rows=round(estimate))

    def rows_of(self, table: sql.Composable) -> sql.Composable:
        """`table` as the checks of rows read it: whole, or a random sample of its blocks."""
        if self.percent is None:
            return table
        return sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE ({})").format(
            table, sql.Literal(self.percent), sql.Literal(SAMPLE_SEED))

    def limit_clause(self) -> sql.Composable:
        return sql.SQL("") if self.limit is None else sql.SQL(" LIMIT {}").format(sql.Literal(self.limit))

    def method(self, examined: int, by_values: bool) -> Method:
        """How the `examined` rows of a check were chosen (`by_values`: PL210's draw, else the checks of rows)."""
        if self.limit is None:
            return "all"
        if by_values and self.buckets is not None:
            return "values"
        if self.percent is not None:
            return "blocks"
        return "all" if examined < self.limit else "first"

    def scope(self, examined: int, by_values: bool, with_value: bool) -> tuple[str, dict[str, Any]]:
        """What a finding says it counted among (`with_value`: rows whose column is not NULL), and its evidence:
        `rows_examined`, `sampled` (not every row was read), `sample` (the method) and, for a random draw, its
        `sample_fraction` and the table's `estimated_rows`."""
        method = self.method(examined, by_values)
        rows = count_of(examined, "row") + (" with a value" if with_value else "")
        evidence: dict[str, Any] = {"rows_examined": examined, "sampled": method != "all", "sample": method}
        if method == "all":
            return f"all {rows}", evidence
        exact = "--exact reads every row"
        if method == "first":
            return (f"the first {rows} read (in the database's order, not a random sample: {self.reason}; "
                    f"{exact})"), evidence
        fraction = 1 / self.buckets if method == "values" else self.percent / 100
        evidence |= {"sample_fraction": float(f"{fraction:.3g}"), "estimated_rows": self.estimated_rows}
        if method == "values":
            return (f"the {count_of(examined, 'row')} holding 1 in {self.buckets:,} of its values (chosen by hash, "
                    f"every row of each counted; {exact})"), evidence
        cut = f", cut at {self.limit:,} rows" if examined >= self.limit else ""
        return (f"{rows} from a random {self.percent:.3g}% of the table's blocks (TABLESAMPLE SYSTEM{cut}; "
                f"{exact})"), evidence


@dataclass(frozen=True)
class Proof:
    """A data finding: the rule, the schema finding it proves, what was counted."""

    rule_id: str
    weakness: Weakness
    message: str
    evidence: dict[str, Any]


def prove(database: Database, table: LiveTable, found: list[Weakness], sample_rows: int | None) -> Iterator[Proof]:
    """The data findings on `table` for its schema findings `found`, query by query. A query that fails raises
    psycopg's error: the findings yielded before it stand, the rest of the table is not read. Duplicates come last:
    on a big PostgreSQL table, theirs is the query that reads the whole column."""
    nullable = [w for w in found if w.proof == "PL211"]
    unchecked = [w for w in found if w.proof == "PL212" and w.number]
    referring = [w for w in found if w.proof == "PL213" and w.references is not None]
    identities = [w for w in found if w.proof == "PL210"]
    if not (nullable or unchecked or referring or identities):
        return
    reader = _Reader(database, table, Sample.of(database, table, sample_rows))
    yield from reader.nulls_and_negatives(nullable, unchecked)
    for weakness in referring:
        yield from reader.orphans(weakness)
    for weakness in identities:
        yield from reader.duplicates(weakness)


@dataclass
class _Reader:
    database: Database
    table: LiveTable
    sample: Sample

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
            counts=sql.SQL(", ").join(counts), columns=columns, table=self.sample.rows_of(self._table()),
            limit=self.sample.limit_clause())
        with self.database.reading():
            examined, *values = self.database.rows(query)[0]
        proofs = []
        for weakness, nulls in zip(nullable, values):
            if nulls:
                counted = f"{count_of(nulls, 'row')} with {weakness.column} NULL"
                proofs.append(self._proof("PL211", weakness, examined, counted, null_rows=nulls))
        for weakness, negative, lowest in zip(unchecked, values[len(nullable)::2], values[len(nullable) + 1::2]):
            if negative:
                counted = f"{count_of(negative, 'row')} with a negative {weakness.column} (lowest {_plain(lowest)})"
                proofs.append(self._proof("PL212", weakness, examined, counted, negative_rows=negative,
                                          lowest=_plain(lowest)))
        return proofs

    def duplicates(self, weakness: Weakness) -> list[Proof]:
        """PL210: values of an identity-like column held by more than one row."""
        grouped = sql.SQL("SELECT value, count(*) AS n FROM sample GROUP BY value HAVING count(*) > 1")
        examined, values, rows, keys = self._grouped(weakness.column, grouped, by_values=True)
        if not values:
            return []
        counted = f"{count_of(values, 'value')} held by more than one row ({count_of(rows, 'row')} in all)"
        return [self._proof("PL210", weakness, examined, counted, by_values=True, with_value=True,
                            duplicated_values=values, duplicate_rows=rows,
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
        examined, values, rows, keys = self._grouped(weakness.column, grouped, by_values=False)
        if not values:
            return []
        key = f"{target.name}.{target.column}"
        verb = "points" if rows == 1 else "point"
        counted = f"{count_of(rows, 'row')} {verb} at {count_of(values, 'value')} that {key} lacks"
        return [self._proof("PL213", weakness, examined, counted, by_values=False, with_value=True,
                            orphan_rows=rows, orphan_values=values, sample_keys=shown_values(weakness.column, keys),
                            references=key)]

    def _grouped(self, column: str, grouped: sql.Composable, by_values: bool) -> tuple[int, int, int, list[str]]:
        """Over the sample of `column`'s non-NULL values (`by_values`: PL210's draw of values), the groups `grouped`
        selects (`value`, `n`): rows examined, groups, rows in them, and the values of the largest groups."""
        if by_values and self.sample.buckets is not None:
            # No LIMIT: it would stop the scan part-way, and copies of a chosen value past it would go uncounted.
            sample = sql.SQL("SELECT {column} AS value FROM {table} WHERE {column} IS NOT NULL "
                             "AND pg_catalog.mod(pg_catalog.hashtext({column}::text), {buckets}) = 0").format(
                column=sql.Identifier(column), table=self._table(), buckets=sql.Literal(self.sample.buckets))
        else:
            sample = sql.SQL("SELECT {column} AS value FROM {table} WHERE {column} IS NOT NULL{limit}").format(
                column=sql.Identifier(column), table=self.sample.rows_of(self._table()),
                limit=self.sample.limit_clause())
        query = sql.SQL(
            "WITH sample AS ({sample}), grouped AS ({grouped}) "
            "SELECT (SELECT count(*) FROM sample), (SELECT count(*) FROM grouped), "
            "(SELECT coalesce(sum(n), 0) FROM grouped), "
            "ARRAY(SELECT value::text FROM grouped ORDER BY n DESC, value::text LIMIT {keys})").format(
            sample=sample, grouped=grouped, keys=sql.Literal(SAMPLE_KEYS))
        with self.database.reading():
            examined, groups, rows, keys = self.database.rows(query)[0]
        return examined, groups, int(rows), list(keys or [])

    def _table(self) -> sql.Composable:
        return sql.Identifier(self.table.schema, self.table.table)

    def _proof(self, rule_id: str, weakness: Weakness, examined: int, counted: str, by_values: bool = False,
               with_value: bool = False, **evidence) -> Proof:
        """`by_values`: counted over PL210's draw of values; `with_value`: over the rows whose column is not NULL."""
        scope, read = self.sample.scope(examined, by_values, with_value)
        where = f"{self.table.name}.{weakness.column}"
        return Proof(rule_id, weakness, f"{where}: {counted}, among {scope}; this proves {weakness.rule_id}",
                     {"proves": weakness.rule_id, "table": self.table.name, "column": weakness.column, **read,
                      **evidence})


def _row_estimate(database: Database, table: LiveTable) -> tuple[float | None, int]:
    """PostgreSQL's estimate of the table's rows as its planner makes it (None: never analysed), and its blocks:
    the rows per block of the last ANALYZE times the blocks now, so that rows added since count."""
    with database.reading(snapshot=False):
        found = database.rows(_TABLE_SIZE, (table.schema, table.table))
    if not found:  # dropped meanwhile: the next query says so
        return None, 0
    rows, analysed_blocks, blocks = found[0]
    if rows < 0:
        return None, blocks
    return (rows / analysed_blocks * blocks if analysed_blocks > 0 else rows), blocks


def shown_values(column: str, keys: list[str]) -> list[str]:
    """Values of `column` as a report may show them: a secret's as a digest, a long one cut."""
    if SECRET_KEYS.search(column):
        return [f"sha256:{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}" for key in keys]
    return [key if len(key) <= LONGEST_KEY_SHOWN else key[:LONGEST_KEY_SHOWN] + "…" for key in keys]


def count_of(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _plain(value: Any) -> Any:
    """A number as JSON holds it: an int as it is, a decimal as its text (no float rounding of money)."""
    return str(value) if isinstance(value, Decimal) else value
