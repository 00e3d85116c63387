"""Tables and their constraints, from DDL text; and one merged view over every source.

A table can be described piecemeal: `CREATE TABLE` in one file, `ALTER TABLE ... ADD CONSTRAINT`
in a migration, an ORM model elsewhere. Each source yields a partial `Table`; `merge` unions them
by name, so a constraint declared anywhere counts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from plumbline.scan.facts import Column, Span, Table
from plumbline.scan.sql import exp, normalise, printed, syntax_tree

# A quote or block comment left open runs to the end of the text, as it does for the database; every
# alternative matches without backtracking, so splitting is linear even in hostile text.
_STATEMENT_END = re.compile(r"'[^']*(?:''[^']*)*(?:'|\Z)|\"[^\"]*(?:\"|\Z)|--[^\n]*|/\*.*?(?:\*/|\Z)|;", re.S)
_DDL_HINT = re.compile(r"\b(create\s+(unique\s+)?(table|index)|alter\s+table)\b", re.I)
# DDL that adds no column, constraint or unique index (a migration's drops and renames, a plain index): not parsed.
_NOTHING_ADDED = re.compile(r"\s*(create\s+index\b|alter\s+table\s+(if\s+exists\s+)?(only\s+)?[^\s(]+\s+"
                            r"(drop|rename|owner\s+to|set\s+(schema|tablespace|logged|unlogged))\b(?![\s\S]*,\s*"
                            r"(add|alter)\b))", re.I)


# DDL only CockroachDB accepts: its STRING type, unique_rowid(), crdb_internal, INTERLEAVE (old versions).
# `[ \t]`, not `\s`: a blank run that crossed lines would be rescanned from every line start (quadratic).
_COCKROACH_DDL = re.compile(r"^[ \t]*\"?\w+\"?[ \t]+STRING\b|\bunique_rowid\s*\(|\bcrdb_internal\b|\bINTERLEAVE\s+IN\b",
                            re.I | re.M)
_UUID_DEFAULT = re.compile(r"\bgen_random_uuid\s*\(", re.I)


def backend_hints(ddl: str) -> set[str]:
    """What a schema's text says about its database: `cockroachdb` for CockroachDB-only DDL, `gen_random_uuid`
    for a default both accept (it tips the balance only in a project that never names PostgreSQL)."""
    hints = {"cockroachdb"} if _COCKROACH_DDL.search(ddl) else set()
    return hints | ({"gen_random_uuid"} if _UUID_DEFAULT.search(ddl) else set())


def looks_like_ddl(text: str) -> bool:
    return bool(_DDL_HINT.search(text))


def statements(text: str) -> list[tuple[str, int]]:
    """Split SQL text at top-level semicolons; each statement with the 0-based line it starts on."""
    pieces, start = [], 0
    for match in _STATEMENT_END.finditer(text):
        if match.group(0) == ";":
            pieces.append((text[start:match.start()], start))
            start = match.end()
    pieces.append((text[start:], start))
    result = []
    line, counted = 0, 0  # newlines in text[:counted], counted as the pieces go (once over the text)
    for piece, offset in pieces:
        stripped = piece.lstrip()
        if not stripped or not _DDL_HINT.search(stripped):
            continue
        start = offset + len(piece) - len(stripped)
        line += text.count("\n", counted, start)
        counted = start
        result.append((stripped, line))
    return result


def split_statements(text: str) -> list[str]:
    """The statements of a text that may hold several (`INSERT ...; UPDATE ...` in one execute), blank ones left out."""
    pieces, start = [], 0
    for match in _STATEMENT_END.finditer(text):
        if match.group(0) == ";":
            pieces.append(text[start:match.start()])
            start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece.strip()]


def tables_from_ddl(text: str, path: str, first_line: int = 1) -> list[Table]:
    """Partial tables from the CREATE TABLE / ALTER TABLE / CREATE UNIQUE INDEX statements in `text`."""
    tables = []
    for statement, line_offset in statements(text):
        if _NOTHING_ADDED.match(statement):
            continue
        short = len(statement) <= MAX_REMEMBERED_STATEMENT
        table = _remembered_table(statement) if short else _statement_table(statement)
        if table is not None:
            tables.append(_placed(table, path, first_line + line_offset))
    return tables


def _statement_table(statement: str) -> Table | None:
    """The partial table one statement describes, at line 1 of no file (see `_placed`); None for DDL we do not
    understand."""
    tree = syntax_tree(normalise(statement)[0])
    return None if isinstance(tree, str) else _table(tree, "", 1)


# Statements repeat: a migration's `op.execute("ALTER TABLE ...")` is read as a string constant (dbapi) and as a
# migration call (alembic), and migrations repeat constraints; parsing is most of what DDL costs. The small tables
# are remembered, not sqlglot's large trees, and only for statements short enough to repeat.
_remembered_table = lru_cache(maxsize=512)(_statement_table)
MAX_REMEMBERED_STATEMENT = 2000


def _placed(table: Table, path: str, line: int) -> Table:
    """A copy of a remembered table at `line` of `path`: never the table itself, as merging changes tables."""
    shift = line - 1

    def moved(span: Span | None) -> Span | None:
        return replace(span, line=span.line + shift) if span is not None else None

    columns = {name: replace(column, span=moved(column.span)) for name, column in table.columns.items()}
    return replace(table, path=path, span=moved(table.span), columns=columns, unique_sets=list(table.unique_sets))


def _column_line(definition: exp.ColumnDef, line: int) -> int:
    """The line the column's name is on: sqlglot records where each identifier token was (1-based)."""
    name_line = definition.this.meta.get("line") if isinstance(definition.this, exp.Expression) else None
    return line + name_line - 1 if isinstance(name_line, int) else line


def _identifiers(nodes) -> tuple[str, ...]:
    return tuple(node.name.lower() for node in nodes if hasattr(node, "name") and node.name)


def _reference(node: exp.Expression) -> str | None:
    reference = node.find(exp.Reference)
    if reference is None:
        return None
    target = reference.this
    table = target.this if isinstance(target, exp.Schema) else target
    columns = _identifiers(target.expressions) if isinstance(target, exp.Schema) else ()
    name = table.name.lower() if isinstance(table, exp.Table) else str(table).lower()
    return f"{name}.{columns[0] if columns else 'id'}"


def _column(definition: exp.ColumnDef, line: int) -> Column:
    data_type = definition.args.get("kind")
    type_text = printed(data_type) if data_type else None
    column = Column(
        name=definition.name.lower(),
        type=type_text.lower() if type_text else None,
        span=Span(_column_line(definition, line)),
    )
    for constraint in definition.args.get("constraints") or []:
        kind = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        if isinstance(kind, exp.NotNullColumnConstraint):
            column.nullable = bool(kind.args.get("allow_null"))
            column.optional = "explicit" if column.nullable else ""
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            column.primary_key, column.nullable, column.unique = True, False, True
        elif isinstance(kind, exp.UniqueColumnConstraint):
            column.unique = True
        elif isinstance(kind, exp.CheckColumnConstraint):
            column.check = True
        elif isinstance(kind, exp.Reference) or kind is not None and kind.find(exp.Reference) is not None:
            column.references = _reference(constraint)
    return column


def _table(tree: exp.Expression, path: str, line: int) -> Table | None:
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        schema = tree.this
        if not isinstance(schema, exp.Schema):
            return None
        table = Table(name=schema.this.name.lower(), path=path, span=Span(line), defined=True)
        for item in schema.expressions:
            _add(table, item, line)
        return table
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "INDEX":
        index = tree.this
        if not tree.args.get("unique") or not isinstance(index, exp.Index):
            return None
        params = index.args.get("params")
        columns = [c for c in (params.args.get("columns") or [])] if params is not None else []
        names = tuple(col.name.lower() for c in columns for col in [c.find(exp.Column)] if col is not None)
        table_name = index.args["table"].name.lower()
        return Table(name=table_name, path=path, span=Span(line), unique_sets=[names] if names else [])
    if isinstance(tree, exp.Alter) and str(tree.args.get("kind", "")).upper() == "TABLE":
        table = Table(name=tree.this.name.lower(), path=path, span=Span(line))
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AlterColumn) and action.args.get("allow_null") is False:
                table.columns[action.name.lower()] = Column(action.name.lower(), nullable=False, span=Span(line),
                                                            declared=False)
            elif isinstance(action, exp.AddConstraint):
                for item in action.expressions:
                    _add(table, item, line)
            else:
                _add(table, action, line)
        return table
    return None


def _add(table: Table, item: exp.Expression, line: int) -> None:
    """Add a column definition or a table constraint to `table`."""
    if isinstance(item, exp.ColumnDef):
        column = _column(item, line)
        table.columns[column.name] = column
        return
    node = item.expressions[0] if isinstance(item, exp.Constraint) and item.expressions else item
    if isinstance(node, exp.UniqueColumnConstraint):
        schema = node.this
        names = _identifiers(schema.expressions) if isinstance(schema, exp.Schema) else _identifiers([schema])
        if names:
            table.unique_sets.append(names)
    elif isinstance(node, exp.PrimaryKey):
        names = _identifiers(node.expressions)
        table.unique_sets.append(names)
        for name in names:
            table.columns.setdefault(name, Column(name, declared=False)).primary_key = True
    elif isinstance(node, exp.ForeignKey):
        target = _reference(node)
        for name in _identifiers(node.expressions):
            table.columns.setdefault(name, Column(name, span=Span(line), declared=False)).references = target
    elif isinstance(node, (exp.CheckColumnConstraint, exp.Check)):
        for column in node.find_all(exp.Column):
            table.columns.setdefault(column.name.lower(),
                                     Column(column.name.lower(), span=Span(line), declared=False)).check = True


def name_models_as_defined(tables: list[Table]) -> None:
    """A model whose table name the scan derived (`CSRState` -> `csr_state`) takes the name DDL or a migration
    defines for its class (`csrstate`) when only that one exists: a base class may name tables its own way
    (`__tablename__ = cls.__name__.lower()` in a `declared_attr`)."""
    defined = {table.name for table in tables if table.model is None and table.defined}
    for table in tables:
        own_name = table.model.lower() if table.model else None
        if own_name and table.name not in defined and own_name in defined and table.name.replace("_", "") == own_name:
            table.name = own_name


def merge(tables: list[Table]) -> dict[str, Table]:
    """One table per name: the first full definition, with every constraint from every source."""
    merged: dict[str, Table] = {}
    for table in sorted(tables, key=lambda t: not t.defined):
        current = merged.get(table.name)
        if current is None:
            merged[table.name] = Table(
                name=table.name, path=table.path, span=table.span, model=table.model, versioned=table.versioned,
                relationships=dict(table.relationships),
                columns={name: _copy(column, table) for name, column in table.columns.items()},
                unique_sets=list(table.unique_sets), defined=table.defined,
            )
            continue
        current.model = current.model or table.model
        current.relationships = {**table.relationships, **current.relationships}
        current.versioned = current.versioned or table.versioned
        current.defined = current.defined or table.defined
        current.unique_sets.extend(table.unique_sets)
        current.relationships = {**table.relationships, **current.relationships}
        for name, column in table.columns.items():
            existing = current.columns.get(name)
            if existing is None:
                current.columns[name] = _copy(column, table)
                continue
            existing.nullable = existing.nullable and column.nullable
            existing.optional = max(existing.optional, column.optional, key=("", "typed", "explicit").index)
            existing.required = existing.required or column.required
            existing.unique = existing.unique or column.unique
            existing.primary_key = existing.primary_key or column.primary_key
            existing.references = existing.references or column.references
            existing.check = existing.check or column.check
            existing.type = existing.type or column.type
            existing.default = existing.default or column.default
            if column.declared and not existing.declared:
                existing.declared, existing.span, existing.path = True, column.span, column.path or table.path
    return merged


def _copy(column: Column, table: Table) -> Column:
    return replace(column, path=column.path or table.path)


def primary_key(table: Table) -> tuple[str, ...]:
    """The columns of the table's primary key: one, or several for a composite key (each marked `primary_key`)."""
    return tuple(name for name, column in table.columns.items() if column.primary_key)


def is_unique(table: Table, column: str) -> bool:
    """The column alone is unique: declared so, or the whole primary key (one column of a composite key is not)."""
    spec = table.columns.get(column)
    if spec is not None and (spec.unique or spec.primary_key and primary_key(table) == (column,)):
        return True
    return any(names == (column,) for names in table.unique_sets)


def unique_covering(table: Table, columns: set[str]) -> bool:
    """Some unique key is made only of `columns` (so rows agreeing on them cannot be duplicated)."""
    if any(is_unique(table, column) for column in columns):
        return True
    return any(names and set(names) <= columns for names in (*table.unique_sets, primary_key(table)))
